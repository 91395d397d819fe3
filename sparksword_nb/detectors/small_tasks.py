"""too_many_small_tasks: a stage split into so many tiny tasks that per-task overhead dominates it.

Rule (per stage attempt): >= 100 successful tasks and >= 4 tasks per core, median task duration < 200 ms
and median task bytes < 32 MiB.
Impact (an estimate): each task beyond a target of max(cores, bytes / 128 MiB) costs about one median task
of fixed overhead, spread over the cores; capped at the stage's wall time.
"""
from __future__ import annotations

from ..text import plural
from ._common import DOCS_COALESCE, DOCS_PARALLELISM, human_bytes, human_ms
from .model import Insight
from .registry import AppContext, Detector, register

MIN_TASKS = 100
TASKS_PER_CORE = 4
MEDIAN_MS = 200
MEDIAN_BYTES = 32 * 1024 * 1024
TARGET_BYTES = 128 * 1024 * 1024

SMALL_TASK_STAGES = f"""
WITH st AS (SELECT * FROM ssw_stage_stats)
SELECT *, greatest($cores, ceil(sum_task_bytes / {TARGET_BYTES}))::BIGINT AS target_tasks FROM st
WHERE n_ok >= {MIN_TASKS} AND n_ok >= {TASKS_PER_CORE} * $cores
  AND dur_med < {MEDIAN_MS} AND bytes_med < {MEDIAN_BYTES}
ORDER BY stage_id, stage_attempt_id
"""


def overhead_estimate_ms(tasks: int, target: int, median_ms: float, cores: int, wall_ms: float) -> float:
    """Time the tasks beyond `target` cost if each is about a median task of fixed overhead (capped at the wall)."""
    return min(float(wall_ms), max(0, tasks - target) * float(median_ms) / max(cores, 1))


@register
class TooManySmallTasks(Detector):
    """Hundreds or thousands of tasks that each do almost nothing."""

    type = "too_many_small_tasks"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per stage attempt of tiny tasks."""
        cores = max(ctx.total_cores, 1)
        shuffle_partitions = ctx.conf("spark.sql.shuffle.partitions", "200")
        found = []
        for s in ctx.rows(SMALL_TASK_STAGES, {"cores": cores}):
            n, target = s["n_ok"], int(s["target_tasks"])
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            impact = overhead_estimate_ms(n, target, s["dur_med"], cores, s["wall_ms"])
            overhead_share = (s["sum_overhead_ms"] or 0) / max(s["sum_duration_ms"] or 0, 1)
            if s["read_kind"] == "shuffle read":
                same = " (its value, the number of tasks here)" if str(s["num_tasks"]) == shuffle_partitions else ""
                fix = (f"This stage reads a shuffle: set spark.sql.shuffle.partitions{same} from {shuffle_partitions} "
                       f"to about {target}, or {ctx.aqe_coalescing_advice()}.")
                docs = DOCS_COALESCE
            elif s["read_kind"] == "input":
                fix = ("This stage scans input: raise spark.sql.files.maxPartitionBytes / spark.sql.files.openCostInBytes "
                       "so each task reads more files, or compact the input into fewer, larger files.")
                docs = DOCS_PARALLELISM
            else:
                fix = (f"This stage creates its partitions itself (range/parallelize/repartition): ask for about {target} "
                       f"partitions there (e.g. numSlices / numPartitions, spark.default.parallelism), or coalesce({target}).")
                docs = DOCS_PARALLELISM
            found.append(ctx.insight(
                self.type,
                title=f"Stage {stage} ran {n} tasks with a median of {human_ms(s['dur_med'])}",
                description=(
                    f"Stage {stage} split {human_bytes(s['sum_task_bytes'])} into {n} tasks: the median task ran "
                    f"{human_ms(s['dur_med'])} and handled {human_bytes(s['bytes_med'])}. "
                    f"{overhead_share * 100:.0f}% of the task time was outside the executor's run time (scheduling, "
                    f"deserialization, result handling). About {plural(target, 'task')} would cover this data with "
                    f"{ctx.total_cores} cores; the impact is an estimate assuming each extra task costs about a median "
                    "task of fixed overhead."),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"], "tasks": n,
                    "duration_ms_median": s["dur_med"], "duration_ms_max": s["dur_max"],
                    "task_bytes_median": s["bytes_med"], "stage_bytes": s["sum_task_bytes"],
                    "stage_wall_ms": s["wall_ms"], "total_cores": ctx.total_cores, "target_tasks": target,
                    "overhead_share_of_task_time": round(overhead_share, 3), "read_metric": s["read_kind"],
                    "spark.sql.shuffle.partitions": shuffle_partitions,
                },
                confidence="high" if s["dur_med"] < 50 else "medium",
                confidence_reason=(
                    f"{n} tasks with a median of {human_ms(s['dur_med'])} were measured; the time saved by fewer "
                    "tasks is estimated from the median task, not measured"),
                impact_ms=impact,
                suggestion=fix + " Fewer partitions mean larger tasks: keep at least one per core, and check spill "
                                 "if the data grows.",
                docs_url=docs,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
