"""straggler: a task runs far longer than its stage's median without reading more data.

Rule (per stage attempt with >= 3 successful tasks): the longest successful task ran >= 3x the median
task duration and >= 500 ms more, and read at most 1.5x the median task's bytes (+64 KiB): its time did
not come from its data. A stage where a task does read far more is data skew (see `skew.py`). Tasks that
started before their executor finished any task (cold JVM / Python worker) are considered only when no
warm task qualifies, with low confidence.
Impact: that task's duration minus the median duration.
"""
from __future__ import annotations

from ._common import DOCS_SCHEDULING, human_bytes, human_ms, ratio
from .model import Confidence, Insight
from .registry import AppContext, Detector, register

MIN_TASKS = 3
DURATION_RATIO = 3.0
DURATION_FLOOR_MS = 500
BYTES_SLACK_RATIO = 1.5
BYTES_SLACK = 64 * 1024

STRAGGLING_STAGES = f"""
WITH st AS (SELECT * FROM ssw_stage_stats),
candidates AS (  -- prefer a slow task on a warm executor; a cold-start task only when no other qualifies
  SELECT st.*, c.task AS slow, c.pref FROM st,
    unnest([struct_pack(task := st.longest_warm, pref := 1), struct_pack(task := st.longest, pref := 2)]) AS u(c)
  WHERE c.task IS NOT NULL
)
SELECT * EXCLUDE (pref) FROM candidates
WHERE n_ok >= {MIN_TASKS}
  AND slow.duration_ms >= {DURATION_RATIO} * dur_med AND slow.duration_ms - dur_med >= {DURATION_FLOOR_MS}
  AND slow.read_bytes <= {BYTES_SLACK_RATIO} * read_med + {BYTES_SLACK}
QUALIFY row_number() OVER (PARTITION BY stage_id, stage_attempt_id ORDER BY pref) = 1
ORDER BY stage_id, stage_attempt_id
"""


def _likely_cause(t: dict, cold_start: bool) -> str:
    """What the slow task's own metrics say about where its time went."""
    duration = max(t["duration_ms"] or 0, 1)
    run = max(t["executor_run_time_ms"] or 0, 1)
    cpu_ms = (t["executor_cpu_ns"] or 0) / 1e6
    if (t["jvm_gc_time_ms"] or 0) >= 0.3 * run:
        return f"garbage collection ({human_ms(t['jvm_gc_time_ms'])} of its {human_ms(run)} run time)"
    if (t["shuffle_fetch_wait_time_ms"] or 0) >= 0.3 * duration:
        return f"waiting for shuffle blocks ({human_ms(t['shuffle_fetch_wait_time_ms'])} fetch wait)"
    if (t["executor_deserialize_time_ms"] or 0) >= 0.3 * duration:
        return f"task start-up ({human_ms(t['executor_deserialize_time_ms'])} deserializing the task)"
    if cold_start:
        return ("start-up of its executor: it started before that executor had finished any task "
                "(JVM warm-up, Python worker start)")
    if cpu_ms >= 0.7 * run:
        return "CPU work on its records (it was busy on CPU most of its run time): expensive records or a slow core"
    return "waiting off-CPU (I/O, locks or external calls): a slow node or a slow external system"


# The speculative copies of one task (same stage attempt and index), with how each ended.
COPIES = """
SELECT task_id, executor_id, status, speculative, launch_ms, duration_ms,
  COALESCE(end_reason_detail."Kill Reason", '') AS kill_reason
FROM tasks WHERE stage_id = $stage AND stage_attempt_id = $attempt AND "index" = $index AND task_id <> $task
ORDER BY launch_ms, task_id
"""


def _speculation_text(ctx: AppContext, s: dict, t: dict) -> str:
    """What speculation did for this task, read from the run's settings and tasks; never asks for what is set."""
    if not ctx.conf_true("spark.speculation", False):
        return ("Let Spark re-run slow tasks elsewhere: spark.speculation=true; speculative copies use extra slots "
                "and must not be used with output that is not idempotent.")
    settings = ", ".join(f"{k.rsplit('.', 1)[-1]} {ctx.conf(k)}" for k in
                         ("spark.speculation.multiplier", "spark.speculation.quantile",
                          "spark.speculation.minTaskRuntime") if ctx.conf(k) is not None)
    on = f"Speculation was on ({settings or 'multiplier and quantile at their defaults'})"
    copies = ctx.rows(COPIES, {"stage": s["stage_id"], "attempt": s["stage_attempt_id"], "index": t["index"],
                               "task": t["task_id"]})
    spec = [c for c in copies if c["speculative"]]
    if spec:
        c = spec[0]
        started = human_ms(int(c["launch_ms"]) - int(t["launch_ms"])) if c["launch_ms"] and t["launch_ms"] else "later"
        ended = (f"was killed after {human_ms(c['duration_ms'])} because the original finished first"
                 if c["status"] == "KILLED" else f"ended {c['status'].lower()} after {human_ms(c['duration_ms'])}")
        return (f"{on} and it acted: a speculative copy (task id {c['task_id']}) started {started} after the original "
                f"on executor {c['executor_id']} and {ended}. The copy was no faster, so the slowness came with the "
                "task's work or its input's location rather than one bad node; look at what this partition does "
                "differently.")
    return (f"{on} but it did not re-run this task: a copy starts only once the quantile share of the stage's "
            "tasks has finished and the task has run past multiplier x their median; in a stage with few tasks, "
            "spark.speculation.task.duration.threshold lets a long task be copied earlier.")


def _suggestion(ctx: AppContext, s: dict, t: dict) -> str:
    parts = ["If slow tasks recur on one executor or host, look at that node (disk, noisy neighbours).",
             _speculation_text(ctx, s, t),
             "If the task's records are expensive (CPU-bound), spread the costly keys over more partitions."]
    if t["warmup"]:
        if ctx.conf_true("spark.dynamicAllocation.enabled", False):
            parts.append("For start-up cost on fresh executors, keep executors alive between jobs (raise "
                         "spark.dynamicAllocation.executorIdleTimeout, now "
                         f"{ctx.conf('spark.dynamicAllocation.executorIdleTimeout', '60s')}).")
        if (ctx.conf("spark.python.worker.reuse") or "").strip().lower() == "false":
            parts.append("Python workers are started anew for every task: spark.python.worker.reuse=true reuses them.")
    return " ".join(parts)


@register
class Straggler(Detector):
    """A task much slower than its peers although it did not get more data."""

    type = "straggler"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per stage attempt with a straggling task."""
        found = []
        for s in ctx.rows(STRAGGLING_STAGES):
            t = s["slow"]
            x = ratio(t["duration_ms"], s["dur_med"])
            cause = _likely_cause(t, bool(t["warmup"]))
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            confidence: Confidence
            if t["warmup"]:
                confidence, why = "low", (
                    "the slow task started before its executor had finished any task (cold JVM / Python worker), "
                    "so start-up cost may explain it; warm executors may not show it")
            elif s["n_ok"] >= 10 and (x or 0) >= 5:
                confidence, why = "high", (
                    f"{s['n_ok']} tasks give a stable median, and the slow task took {x}x it "
                    "while reading no more than its peers")
            else:
                confidence, why = "medium", (
                    f"the slow task took {x}x the median of {s['n_ok']} tasks while reading no more than its peers")
            found.append(ctx.insight(
                self.type,
                title=f"Straggler in stage {stage}: one task ran {x}x the median without more data",
                description=(
                    f"Task {t['index']} (id {t['task_id']}) of stage {stage} ran {human_ms(t['duration_ms'])} on "
                    f"executor {t['executor_id']} ({t['host']}) while the median task ran {human_ms(s['dur_med'])}. "
                    f"It read {human_bytes(t['read_bytes'])} against a median of {human_bytes(s['read_med'])}, so its "
                    f"time did not come from its data. Its metrics point at {cause}."),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"],
                    "successful_tasks": s["n_ok"],
                    "duration_ms_max": s["dur_max"], "duration_ms_median": s["dur_med"],
                    "longest_task_ms": t["duration_ms"], "duration_ratio": x,
                    "longest_task_id": t["task_id"], "longest_task_index": t["index"],
                    "longest_task_executor": t["executor_id"], "longest_task_host": t["host"],
                    "longest_task_read_bytes": t["read_bytes"], "read_bytes_median": s["read_med"],
                    "read_metric": s["read_kind"],
                    "longest_task_gc_ms": t["jvm_gc_time_ms"], "longest_task_fetch_wait_ms": t["shuffle_fetch_wait_time_ms"],
                    "longest_task_deserialize_ms": t["executor_deserialize_time_ms"],
                    "longest_task_cpu_ms": round((t["executor_cpu_ns"] or 0) / 1e6),
                    "longest_task_run_ms": t["executor_run_time_ms"],
                    "started_on_cold_executor": bool(t["warmup"]),
                    "executors_in_stage": s["executors_used"],
                },
                confidence=confidence, confidence_reason=why,
                impact_ms=t["duration_ms"] - s["dur_med"],
                suggestion=_suggestion(ctx, s, t),
                docs_url=DOCS_SCHEDULING,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
