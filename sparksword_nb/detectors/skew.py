"""data_skew: a task of a stage reads far more bytes than the stage's median task, and takes longer for it.

Rule (per stage attempt with >= 3 successful tasks): the task that read the most read >= 5x the median task's
bytes and >= 256 KiB more, and it ran >= 2x the median task duration and >= 100 ms more.
Impact: that task's duration minus the median duration (the time the stage waited for it).
Skew that AQE already split is not reported here (see `aqe.py`).
"""
from __future__ import annotations

from ._common import DOCS_SKEW, human_bytes, human_ms, ratio
from .model import Insight
from .registry import AppContext, Detector, register

MIN_TASKS = 3
BYTES_RATIO = 5.0
BYTES_FLOOR = 256 * 1024
DURATION_RATIO = 2.0
DURATION_FLOOR_MS = 100

SKEWED_STAGES = f"""
WITH st AS (SELECT * FROM ssw_stage_stats)
SELECT * FROM st
WHERE n_ok >= {MIN_TASKS} AND read_kind IS NOT NULL
  AND read_max >= {BYTES_RATIO} * read_med AND read_max - read_med >= {BYTES_FLOOR}
  AND heaviest.duration_ms >= {DURATION_RATIO} * dur_med AND heaviest.duration_ms - dur_med >= {DURATION_FLOOR_MS}
ORDER BY stage_id, stage_attempt_id
"""


@register
class DataSkew(Detector):
    """A few tasks read far more data than the median: one key or partition holds too much."""

    type = "data_skew"
    supersedes = ("straggler", "large_partition", "too_few_partitions")

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per skewed stage attempt."""
        found = []
        for s in ctx.rows(SKEWED_STAGES):
            heavy, longest = s["heaviest"], s["longest"]
            bytes_x = ratio(s["read_max"], s["read_med"]) if s["read_med"] else None
            time_x = ratio(heavy["duration_ms"], s["dur_med"])
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            share = ratio(s["read_max"], s["sum_read_bytes"], 3) or 0.0
            if (bytes_x is None or bytes_x >= 10) and (time_x or 0) >= 3:
                confidence, why = "high", (
                    f"the task that read the most ({human_bytes(heavy['read_bytes'])}, {bytes_x or 'far'}x the median) "
                    f"also ran {time_x}x the median duration: bytes and time point at the same task")
            else:
                confidence, why = "medium", (
                    f"the heaviest task read {bytes_x or 'far'}x the median and ran {time_x}x the median duration; "
                    "a moderate ratio may also come from uneven record cost")
            if longest["task_id"] != heavy["task_id"]:
                why += (f"; the stage's longest task (index {longest['index']}, {human_ms(longest['duration_ms'])}) "
                        "is another one, so only the heavy task's own delay is counted")
            aqe_note = ""
            if ctx.aqe_enabled and ctx.conf_true("spark.sql.adaptive.skewJoin.enabled", True):
                aqe_note = (" AQE skew-join handling was on but did not split this stage: it only acts on sort-merge "
                            "joins, and only above spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes "
                            f"(now {ctx.conf('spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes', '256MB')}).")
            found.append(ctx.insight(
                self.type,
                title=f"Data skew in stage {stage}: one task read {bytes_x or 'far'}x the median {s['read_kind']}",
                description=(
                    f"Task {heavy['index']} of stage {stage} read {human_bytes(heavy['read_bytes'])} of "
                    f"{s['read_kind']} while the median task read {human_bytes(s['read_med'])}; it holds "
                    f"{share * 100:.0f}% of the stage's {human_bytes(s['sum_read_bytes'])}. That task ran "
                    f"{human_ms(heavy['duration_ms'])} against a median of {human_ms(s['dur_med'])}, and the stage "
                    f"could not finish before it.{aqe_note}"),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"],
                    "successful_tasks": s["n_ok"], "read_metric": s["read_kind"],
                    "read_bytes_max": s["read_max"], "read_bytes_median": s["read_med"],
                    "read_bytes_ratio": bytes_x, "read_bytes_total": s["sum_read_bytes"],
                    "heaviest_task_share": share,
                    "duration_ms_max": s["dur_max"], "duration_ms_median": s["dur_med"],
                    "longest_task_ms": longest["duration_ms"],
                    "heaviest_task_id": heavy["task_id"], "heaviest_task_index": heavy["index"],
                    "heaviest_task_ms": heavy["duration_ms"], "heaviest_task_duration_ratio": time_x,
                    "longest_task_id": longest["task_id"],
                    "aqe_enabled": ctx.aqe_enabled,
                },
                confidence=confidence, confidence_reason=why,
                impact_ms=heavy["duration_ms"] - s["dur_med"],
                suggestion=(
                    "If this stage is a sort-merge join, let AQE split the skewed partition: "
                    "spark.sql.adaptive.enabled=true and spark.sql.adaptive.skewJoin.enabled=true, with "
                    "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes below the heavy partition's size "
                    f"(here {human_bytes(s['read_max'])}); the split partitions re-read the other side's matching rows. "
                    "If the other side is small, broadcast it (broadcast(df)) so no shuffle partition holds the hot key; "
                    "this costs driver and executor memory for the broadcast copy. Otherwise salt the hot key "
                    "(append a random suffix 0..n-1 on the big side and replicate the other side n times), at the "
                    "cost of n-fold rows on the replicated side and an extra aggregation step."),
                docs_url=DOCS_SKEW,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
