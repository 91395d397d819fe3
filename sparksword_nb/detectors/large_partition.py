"""large_partition: one task carries most of a stage's bytes and those bytes are large (e.g. repartition(1)).

Rule (per stage attempt): the task that processed the most bytes (max of input + shuffle read and
output + shuffle write) processed >= 128 MiB and >= 50% of the stage's bytes, it is the stage's only task
or >= 2x the median task's bytes (two equal halves are balanced, not large), and the application had
more than one core to spread it over.
Impact: that task's duration minus the stage's task time spread evenly over all cores.
"""
from __future__ import annotations

from ..text import plural
from ._common import DOCS_PARTITION_HINTS, human_bytes, human_ms, ratio
from .model import Insight
from .registry import AppContext, Detector, register

BYTES_FLOOR = 128 * 1024 * 1024
SHARE_FLOOR = 0.5
MEDIAN_RATIO = 2

LARGE_PARTITION_STAGES = f"""
WITH st AS (SELECT * FROM ssw_stage_stats)
SELECT * FROM st
WHERE biggest.task_bytes >= {BYTES_FLOOR} AND biggest.task_bytes >= {SHARE_FLOOR} * sum_task_bytes
  AND (n_ok = 1 OR bytes_max >= {MEDIAN_RATIO} * bytes_med)
ORDER BY stage_id, stage_attempt_id
"""


@register
class LargePartition(Detector):
    """A partition so large that one task does most of a stage's work."""

    type = "large_partition"
    supersedes = ("too_few_partitions",)

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per stage attempt whose biggest task dominates it."""
        if ctx.total_cores < 2:
            return []
        found = []
        for s in ctx.rows(LARGE_PARTITION_STAGES):
            b = s["biggest"]
            share = ratio(b["task_bytes"], s["sum_task_bytes"], 3) or 0.0
            balanced_ms = (s["sum_duration_ms"] or 0) / ctx.total_cores
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            target = max(2, -(-int(s["sum_task_bytes"]) // BYTES_FLOOR))
            found.append(ctx.insight(
                self.type,
                title=f"Large partition in stage {stage}: one task processed {human_bytes(b['task_bytes'])} "
                      f"({share * 100:.0f}% of the stage)",
                description=(
                    f"Task {b['index']} of stage {stage} processed {human_bytes(b['task_bytes'])} of the stage's "
                    f"{human_bytes(s['sum_task_bytes'])} across {plural(s['n_ok'], 'task')}, "
                    f"and ran {human_ms(b['duration_ms'])}. "
                    f"With {ctx.total_cores} cores, the same work spread evenly would take about "
                    f"{human_ms(balanced_ms)} of wall time (an estimate that assumes the work splits evenly)."),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"],
                    "tasks": s["n_ok"], "biggest_task_bytes": b["task_bytes"], "stage_bytes": s["sum_task_bytes"],
                    "biggest_task_share": share, "biggest_task_ms": b["duration_ms"],
                    "biggest_task_index": b["index"], "total_cores": ctx.total_cores,
                    "balanced_estimate_ms": round(balanced_ms),
                    "duration_ms_max": s["dur_max"], "duration_ms_median": s["dur_med"],
                },
                confidence="high" if s["n_ok"] == 1 or share >= 0.8 else "medium",
                confidence_reason=(
                    f"one task carried {share * 100:.0f}% of the stage's bytes ({human_bytes(b['task_bytes'])}); "
                    "the saving assumes the work divides evenly, which holds for repartition/coalesce but not "
                    "for a single hot key"),
                impact_ms=b["duration_ms"] - balanced_ms,
                suggestion=(
                    f"Split the work: repartition({target}) (about 128 MiB per partition) instead of "
                    "repartition(1)/coalesce(1), or partition by a column with many values. If a single output file "
                    "is required, coalesce only after the heavy work (at the write), accepting one writer task; "
                    "more partitions cost a shuffle and more, smaller output files."),
                docs_url=DOCS_PARTITION_HINTS,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
