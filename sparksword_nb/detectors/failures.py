"""task_failures: failed or killed task attempts, failed or retried stages, failed jobs, with the reasons.

Rule (per stage): any FAILED task attempt, any KILLED one that was not a speculative duplicate ("another
attempt succeeded"), any FAILED stage attempt or any retried attempt (attempt id > 0).
Impact: the wall time of failed stage attempts (their work was thrown away) plus the time of failed and
killed task attempts spread over the cores.
"""
from __future__ import annotations

import re

from ..text import plural
from ._common import DOCS_SCHEDULING, human_ms
from .model import Insight
from .registry import AppContext, Detector, register

# A killed copy whose twin succeeded (speculation) lost nothing: it is not a failure.
LOST_ATTEMPT = """(status = 'FAILED'
   OR (status = 'KILLED' AND COALESCE(end_reason_detail."Kill Reason", '') NOT ILIKE '%another attempt succeeded%'))"""

FAILED_TASKS = f"""
SELECT stage_id, status, COALESCE(end_reason, status) AS reason,
  COALESCE(end_reason_detail."Class Name", '') AS class_name,
  COALESCE(end_reason_detail."Description", end_reason_detail."Kill Reason", end_reason_detail."Loss Reason",
           end_reason_detail."Message", '') AS detail,
  count(*) AS attempts, sum(COALESCE(duration_ms, 0)) AS task_ms, min(task_id) AS first_task_id,
  list(DISTINCT executor_id ORDER BY executor_id) AS executors
FROM tasks
WHERE {LOST_ATTEMPT}
GROUP BY ALL
ORDER BY stage_id, attempts DESC, reason, class_name, detail
"""

STAGE_ATTEMPTS = f"""
SELECT stage_id, count(*) AS attempts, max(stage_attempt_id) AS last_attempt,
  count(*) FILTER (WHERE status = 'FAILED') AS failed_attempts,
  COALESCE(sum(completed_ms - COALESCE(first_task_launched_ms, submitted_ms)) FILTER (WHERE status = 'FAILED'), 0)
    AS failed_wall_ms,
  list(failure_reason ORDER BY stage_attempt_id) FILTER (WHERE failure_reason IS NOT NULL) AS failure_reasons,
  flatten(list(job_ids)) AS job_ids, any_value(sql_execution_id) AS sql_execution_id
FROM stages GROUP BY stage_id
HAVING count(*) FILTER (WHERE status = 'FAILED') > 0 OR max(stage_attempt_id) > 0
   OR stage_id IN (SELECT stage_id FROM tasks WHERE {LOST_ATTEMPT})
ORDER BY stage_id
"""

FAILED_JOBS = "SELECT job_id, failure_reason, stage_ids FROM jobs WHERE status = 'FAILED' ORDER BY job_id"

_EXCEPTION_LINE = re.compile(r"^\s*([A-Za-z_][\w.$]*(?:Error|Exception|Exit|Interrupt)\b.*)$", re.M)


def short_reason(reason: str, class_name: str, detail: str) -> str:
    """One line for a task's end reason: the exception's own last line beats a long Python traceback."""
    lines = [m.group(1).strip() for m in _EXCEPTION_LINE.finditer(detail or "")]
    text = lines[-1] if lines else (detail or "").strip().splitlines()[0] if (detail or "").strip() else ""
    label = class_name.rsplit(".", 1)[-1] if class_name else reason
    return f"{label}: {text[:200]}" if text else label


@register
class TaskFailures(Detector):
    """Work that failed and was retried or lost."""

    type = "task_failures"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per stage with failed/killed tasks or failed/retried attempts."""
        tasks: dict[int, list[dict]] = {}
        for r in ctx.rows(FAILED_TASKS):
            tasks.setdefault(r["stage_id"], []).append(r)
        failed_jobs = ctx.rows(FAILED_JOBS)
        cores = max(ctx.total_cores, 1)
        found = []
        for s in ctx.rows(STAGE_ATTEMPTS):
            sid = s["stage_id"]
            groups = tasks.get(sid, [])
            failed = sum(g["attempts"] for g in groups if g["status"] == "FAILED")
            killed = sum(g["attempts"] for g in groups if g["status"] == "KILLED")
            fetch = sum(g["attempts"] for g in groups if g["reason"] == "FetchFailed")
            lost = sum(g["attempts"] for g in groups if g["reason"] == "ExecutorLostFailure")
            task_ms = sum(g["task_ms"] for g in groups)
            reasons = [f"{g['attempts']}x {short_reason(g['reason'], g['class_name'], g['detail'])}" for g in groups]
            jobs = [j for j in failed_jobs if sid in (j["stage_ids"] or [])]
            impact = float(s["failed_wall_ms"] or 0) + task_ms / cores
            what = []
            if failed:
                what.append(plural(failed, "failed task attempt"))
            if killed:
                what.append(plural(killed, "killed task attempt"))
            if s["failed_attempts"]:
                what.append(plural(s["failed_attempts"], "failed stage attempt"))
            if s["last_attempt"]:
                what.append(f"{s['last_attempt']} stage retr{'y' if s['last_attempt'] == 1 else 'ies'}")
            if not what:
                continue
            stage_reasons = [r for r in (s["failure_reasons"] or []) if r]
            text_reasons = reasons + [f"stage: {r.splitlines()[0][:200]}" for r in stage_reasons]
            text_reasons += [f"job {j['job_id']}: {(j['failure_reason'] or 'failed').splitlines()[0][:200]}" for j in jobs]
            if fetch or lost:
                fix = ("Fetch failures and lost executors point at executors that died or were removed: check their "
                       "logs for OOM kills and raise spark.executor.memoryOverhead or spark.executor.memory; with "
                       "dynamic allocation keep shuffle files available (spark.shuffle.service.enabled=true or "
                       "spark.dynamicAllocation.shuffleTracking.enabled=true).")
            elif failed:
                fix = ("Fix the cause in the error above (code or data). Spark retries a task up to "
                       "spark.task.maxFailures times (default 4); retries hide flaky failures but repeat the work, so "
                       "a task that always fails only delays the job's failure.")
            else:
                fix = ("The stage or job was cancelled or aborted (e.g. the application was stopped or a sibling "
                       "stage failed): its finished work was lost. Look at why the job ended (above); re-running "
                       "repeats the lost work unless it was cached or checkpointed.")
            found.append(ctx.insight(
                self.type,
                title=f"Stage {sid}: " + ", ".join(what),
                description=(f"Stage {sid} had " + ", ".join(what) + "."
                             + (" Reasons: " + "; ".join(text_reasons) + "." if text_reasons else "")
                             + f" Failed stage attempts ran {human_ms(s['failed_wall_ms'] or 0)} of wall time and "
                               f"failed or killed tasks {human_ms(task_ms)} of task time that produced nothing."),
                evidence={
                    "stage_id": sid, "stage_attempts": s["attempts"], "failed_stage_attempts": s["failed_attempts"],
                    "failed_task_attempts": failed, "killed_task_attempts": killed,
                    "fetch_failures": fetch, "executor_lost_failures": lost,
                    "failed_task_time_ms": task_ms, "failed_stage_wall_ms": s["failed_wall_ms"] or 0,
                    "reasons": text_reasons[:10],
                    "failed_job_ids": [j["job_id"] for j in jobs],
                    "executors": sorted({e for g in groups for e in (g["executors"] or [])}),
                },
                confidence="high",
                confidence_reason="the failures and their reasons are recorded in the event log; the impact counts "
                                  "the time of attempts that produced nothing",
                impact_ms=impact, suggestion=fix, docs_url=DOCS_SCHEDULING,
                stage_ids=[sid], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
