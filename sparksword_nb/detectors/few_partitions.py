"""too_few_partitions: a heavy stage ran fewer tasks than the application had cores.

Rule (per stage attempt): num_tasks < total executor cores, the stage ran >= 1 s of wall time and
>= 10% of the application's, and its tasks' summed time was >= 1 s (idle cores waited on it).
Impact: the stage's wall time times (1 - tasks / cores): the part an even split over all cores would save.
"""
from __future__ import annotations

from ..text import plural
from ._common import DOCS_PARALLELISM, human_ms
from .model import Insight
from .registry import AppContext, Detector, register

WALL_FLOOR_MS = 1000
APP_SHARE_FLOOR = 0.10

FEW_TASK_STAGES = f"""
WITH st AS (SELECT * FROM ssw_stage_stats)
SELECT * FROM st
WHERE num_tasks < $cores AND wall_ms >= {WALL_FLOOR_MS} AND wall_ms >= {APP_SHARE_FLOOR} * $app_ms
  AND sum_duration_ms >= {WALL_FLOOR_MS}
ORDER BY stage_id, stage_attempt_id
"""


@register
class TooFewPartitions(Detector):
    """A heavy stage that could not use all cores because it had fewer tasks than cores."""

    type = "too_few_partitions"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per heavy stage attempt with fewer tasks than cores."""
        if ctx.total_cores < 2:
            return []
        found = []
        for s in ctx.rows(FEW_TASK_STAGES, {"cores": ctx.total_cores, "app_ms": ctx.duration_ms}):
            n, cores = s["num_tasks"], ctx.total_cores
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            if s["read_kind"] == "shuffle read":
                knob = (f"raise spark.sql.shuffle.partitions (now {ctx.conf('spark.sql.shuffle.partitions', '200')}) "
                        f"to at least {cores}, or with AQE lower spark.sql.adaptive.advisoryPartitionSizeInBytes so "
                        "coalescing keeps more partitions")
            elif s["read_kind"] == "input":
                knob = (f"lower spark.sql.files.maxPartitionBytes (now {ctx.conf('spark.sql.files.maxPartitionBytes', '128MB')}) "
                        f"or set spark.sql.files.minPartitionNum to {cores} so the scan makes more splits")
            else:
                knob = (f"create more partitions at the source (e.g. parallelize(data, {cores}), "
                        f"range(..., numPartitions={cores})) "
                        f"or repartition({cores}) before the heavy step")
            found.append(ctx.insight(
                self.type,
                title=f"Stage {stage} ran {plural(n, 'task')} on {cores} cores",
                description=(
                    f"Stage {stage} took {human_ms(s['wall_ms'])} of wall time "
                    f"({s['wall_ms'] / max(ctx.duration_ms, 1) * 100:.0f}% "
                    f"of the application) with only {plural(n, 'task')}, so {cores - n} of {cores} cores had "
                    "nothing to do in it."),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"], "num_tasks": n,
                    "total_cores": cores, "stage_wall_ms": s["wall_ms"], "task_time_ms": s["sum_duration_ms"],
                    "duration_ms_max": s["dur_max"], "duration_ms_median": s["dur_med"],
                    "read_metric": s["read_kind"], "stage_bytes": s["sum_task_bytes"],
                },
                confidence="medium",
                confidence_reason=(
                    "the stage had fewer tasks than cores, measured; the saving assumes its work splits evenly "
                    "into more tasks, which the log cannot prove"),
                impact_ms=s["wall_ms"] * (1 - n / cores),
                suggestion=f"Give the stage at least one task per core: {knob}. More tasks add per-task overhead, "
                           "so aim for a few per core, not thousands.",
                docs_url=DOCS_PARALLELISM,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
