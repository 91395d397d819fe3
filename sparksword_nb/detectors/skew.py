"""data_skew: a task of a stage reads far more bytes than the stage's median task, and takes longer for it.

Rule (per stage attempt with >= 3 successful tasks): the task that read the most read >= 5x the median task's
bytes and >= 256 KiB more, and it ran >= 2x the median task duration and >= 100 ms more.
A skew of the data alone (>= 10x the median bytes and >= 256 KiB more) is reported even when it costs little
today, at the severity its small impact gives: it grows with the data.
Impact: that task's duration minus the median duration (the time the stage waited for it), at least 0.
Skew that AQE already split is not reported here (see `aqe.py`). AQE settings are suggested only when the
what-if (`simulate.whatif`) confirms that AQE would split the partition with them.
"""
from __future__ import annotations

from typing import NamedTuple

from ..errors import SparkswordError
from ._common import DOCS_SKEW, human_bytes, human_ms, ratio
from .model import Confidence, Insight
from .registry import AppContext, Detector, register

MIN_TASKS = 3
BYTES_RATIO = 5.0
BYTES_FLOOR = 256 * 1024
DURATION_RATIO = 2.0
DURATION_FLOOR_MS = 100
DATA_ONLY_RATIO = 10.0

SKEWED_STAGES = f"""
WITH st AS (
  SELECT *, heaviest.duration_ms >= {DURATION_RATIO} * dur_med AND heaviest.duration_ms - dur_med >= {DURATION_FLOOR_MS}
    AS costly
  FROM ssw_stage_stats
)
SELECT * FROM st
WHERE n_ok >= {MIN_TASKS} AND read_kind IS NOT NULL AND read_max - read_med >= {BYTES_FLOOR}
  AND ((costly AND read_max >= {BYTES_RATIO} * read_med) OR read_max >= {DATA_ONLY_RATIO} * read_med)
ORDER BY stage_id, stage_attempt_id
"""

THRESHOLD_KEY = "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes"
ADVISORY_KEY = "spark.sql.adaptive.advisoryPartitionSizeInBytes"


def size_setting(n: int) -> str:
    """The largest power-of-two size at most `n` (at least 1 KiB), as a Spark size string: '64k', '2m'."""
    size = 1 << max(10, int(n).bit_length() - 1)
    return f"{size >> 20}m" if size >= 1 << 20 else f"{size >> 10}k"


def times_median(ratio_x: float | None, median_bytes: int) -> str:
    """'30.1x the median' or, when the median task read nothing, 'far more than the median (0 B)'."""
    return f"{ratio_x}x the median" if ratio_x is not None else f"far more than the median ({human_bytes(median_bytes)})"


class SplitCheck(NamedTuple):
    """The what-if's verdict on AQE skew splitting for one stage."""

    splits: bool
    settings: dict[str, str]
    outcome: str
    is_join: bool


def aqe_split_check(ctx: AppContext, stage_id: int, heavy_bytes: int) -> SplitCheck:
    """Whether the what-if has AQE split this stage's heavy partition, under which settings, and what it does.

    Only settings the run does not already have are returned. When the what-if splits nothing, the
    text says why (the stage is no sort-merge join, a single map task, ...).
    """
    from ..simulate import whatif
    from ..spark.units import parse_bytes

    settings: dict[str, str] = {}
    if not ctx.aqe_enabled:
        settings["spark.sql.adaptive.enabled"] = "true"
    if not ctx.conf_true("spark.sql.adaptive.skewJoin.enabled", True):
        settings["spark.sql.adaptive.skewJoin.enabled"] = "true"
    if parse_bytes(ctx.conf(THRESHOLD_KEY) or "256MB") >= heavy_bytes:
        settings[THRESHOLD_KEY] = size_setting(heavy_bytes // 2)
    if parse_bytes(ctx.conf(ADVISORY_KEY) or "64MB") >= heavy_bytes:
        settings[ADVISORY_KEY] = size_setting(heavy_bytes // 4)
    try:
        estimate = whatif(ctx.log, stage_id, settings)
    except SparkswordError as err:
        return SplitCheck(False, {}, str(err).splitlines()[0], False)
    split = estimate.skew_join
    # the what-if sizes a skew split (thresholds) only for the reduce stage of a two-sided join
    is_join = split is not None and bool(split.thresholds)
    if split is None or not split.skewed_partitions:
        return SplitCheck(False, {}, (split.why_none if split is not None and split.why_none else
                                      "this stage is not the reduce stage of a sort-merge join, the only place AQE "
                                      "splits skew"), is_join)
    tasks = split.tasks_from_splits + len(split.skewed_partitions)
    return SplitCheck(True, settings, f"the what-if has AQE split partition(s) "
                      f"{', '.join(map(str, split.skewed_partitions))} into {tasks} tasks with them", True)


def _suggestion(check: SplitCheck) -> str:
    splits, settings, outcome = check.splits, check.settings, check.outcome
    others = ("If the other side is small, broadcast it (broadcast(df)) so no shuffle partition holds the hot key; "
              "this costs driver and executor memory for the broadcast copy. Otherwise salt the hot key (append a "
              "random suffix 0..n-1 on the big side and replicate the other side n times), at the cost of n-fold "
              "rows on the replicated side and an extra aggregation step.")
    if not check.is_join:
        others = ("The hot key lands in one partition of this shuffle (a repartition or aggregation by key): spread "
                  "it by adding a random salt 0..n-1 to the key (repartition by key and salt, or aggregate by key and "
                  "salt, then by key), at the cost of an extra shuffle step.")
    if splits and settings:
        listed = ", ".join(f"{k}={v}" for k, v in settings.items())
        return (f"Let AQE split the skewed partition: {listed} ({outcome}; the split pieces re-read the other side's "
                f"matching rows, and a small advisory size also makes other shuffles' partitions smaller). " + others)
    if splits:
        return f"With this run's own settings AQE would split it ({outcome}). " + others
    return f"AQE would not split this partition: {outcome}. " + others


@register
class DataSkew(Detector):
    """A few tasks read far more data than the median: one key or partition holds too much."""

    type = "data_skew"
    supersedes = ("straggler", "large_partition", "too_few_partitions")

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per skewed stage attempt."""
        return [self._finding(ctx, s) for s in ctx.rows(SKEWED_STAGES)]

    def _finding(self, ctx: AppContext, s: dict) -> Insight:
        heavy, longest = s["heaviest"], s["longest"]
        check = aqe_split_check(ctx, int(s["stage_id"]), int(s["read_max"]))
        bytes_x = ratio(s["read_max"], s["read_med"]) if s["read_med"] else None
        time_x = ratio(heavy["duration_ms"], s["dur_med"])
        stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
        share = ratio(s["read_max"], s["sum_read_bytes"], 3) or 0.0
        delay = max(int(heavy["duration_ms"] or 0) - int(s["dur_med"] or 0), 0)
        confidence: Confidence
        if not s["costly"]:
            confidence, why = "medium", (
                f"the bytes are measured ({times_median(bytes_x, s['read_med'])}), but the heavy task ran only "
                f"{human_ms(delay)} longer than the median: the imbalance is in the data and costs little today")
        elif (bytes_x is None or bytes_x >= 10) and (time_x or 0) >= 3:
            confidence, why = "high", (
                f"the task that read the most ({human_bytes(heavy['read_bytes'])}, {times_median(bytes_x, s['read_med'])}) "
                f"also ran {time_x}x the median duration: bytes and time point at the same task")
        else:
            confidence, why = "medium", (
                f"the heaviest task read {times_median(bytes_x, s['read_med'])} and ran {time_x}x the median duration; "
                "a moderate ratio may also come from uneven record cost")
        if longest["task_id"] != heavy["task_id"]:
            why += (f"; the stage's longest task (index {longest['index']}, {human_ms(longest['duration_ms'])}) "
                    "is another one, so only the heavy task's own delay is counted")
        aqe_note = ""
        if ctx.aqe_enabled and ctx.conf_true("spark.sql.adaptive.skewJoin.enabled", True):
            aqe_note = (" AQE skew-join handling was on but did not split this stage: it only acts on sort-merge "
                        f"joins, and only above {THRESHOLD_KEY} (now {ctx.conf(THRESHOLD_KEY, '256MB')}) with "
                        f"pieces of at least {ADVISORY_KEY} (now {ctx.conf(ADVISORY_KEY, '64MB')}).")
        cheap = ("" if s["costly"] else
                 f" Today it costs little ({human_ms(delay)}), but the imbalance belongs to the data: the heavy "
                 "partition grows with it while the others stay small.")
        return ctx.insight(
            self.type,
            title=(f"Data skew in stage {stage}: one task read {times_median(bytes_x, s['read_med'])} {s['read_kind']}"
                   + ("" if s["costly"] else " (cheap today, grows with the data)")),
            description=(
                f"Task {heavy['index']} of stage {stage} read {human_bytes(heavy['read_bytes'])} of "
                f"{s['read_kind']} while the median task read {human_bytes(s['read_med'])}; it holds "
                f"{share * 100:.0f}% of the stage's {human_bytes(s['sum_read_bytes'])}. That task ran "
                f"{human_ms(heavy['duration_ms'])} against a median of {human_ms(s['dur_med'])}"
                + (", and the stage could not finish before it." if s["costly"] else ".") + cheap + aqe_note),
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
                "costs_time_today": bool(s["costly"]),
                "aqe_would_split": check.splits,
                "aqe_enabled": ctx.aqe_enabled,
            },
            confidence=confidence, confidence_reason=why,
            impact_ms=delay,
            suggestion=_suggestion(check),
            docs_url=DOCS_SKEW,
            stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
            sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
        )
