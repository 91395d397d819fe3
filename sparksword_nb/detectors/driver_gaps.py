"""driver_gaps: wall time when no job ran: before the first job, between jobs, after the last one.

The parts come from the application's time breakdown (`timeline.time_account`), so a finding and the
breakdown always name the same stretches.
Rules: (start-up) the time before the first job is >= 1 s and >= 10% of the run; (gaps) the gaps of
>= 1 s between jobs and after the last one add up to >= 1 s and >= 10% of the run.
Impact: that time. In an interactive session (a shell or notebook) the gaps are mostly a person.
"""
from __future__ import annotations

from ..text import plural
from ..timeline import TimeAccount, TimePart
from ._common import DOCS_MONITORING, human_ms, pct
from .model import Confidence, Insight
from .registry import AppContext, Detector, register

GAP_FLOOR_MS = 1000
APP_SHARE = 0.10

# When the driver got its task slots and its first SQL query, relative to the application's start.
STARTUP_EVENTS = """
SELECT
  (SELECT min(added_ms) FROM executors WHERE executor_id <> 'driver') AS first_executor_ms,
  (SELECT count(*) FROM executors WHERE executor_id <> 'driver' AND added_ms <= $first_job_ms) AS executors_before_job,
  (SELECT min(start_ms) FROM sql_executions) AS first_query_ms,
  (SELECT arg_min(description, start_ms) FROM sql_executions) AS first_query
"""


@register
class DriverGaps(Detector):
    """Stretches of the run where no job was running: the driver was busy (or waiting) on its own."""

    type = "driver_gaps"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """A start-up finding and a gaps finding, each when its time is large enough."""
        account = ctx.account
        if account.duration_ms <= 0 or account.start_ms is None:
            return []
        found = []
        before = next((p for p in account.parts if p.kind == "before_first_job"), None)
        if before is not None and before.ms >= GAP_FLOOR_MS and before.ms >= APP_SHARE * account.duration_ms:
            found.append(self._startup(ctx, account, before))
        gaps = sorted((p for p in account.parts if p.kind in ("between_jobs", "after_last_job") and p.ms >= GAP_FLOOR_MS),
                      key=lambda p: (-p.ms, p.start_ms))
        total = sum(p.ms for p in gaps)
        if gaps and total >= GAP_FLOOR_MS and total >= APP_SHARE * account.duration_ms:
            found.append(self._gaps(ctx, account, gaps, total))
        return found

    def _startup(self, ctx: AppContext, account: TimeAccount, before: TimePart) -> Insight:
        start = int(account.start_ms or 0)
        first_job = next((p for p in account.parts if p.kind == "jobs"), None)
        facts = ctx.rows(STARTUP_EVENTS, {"first_job_ms": before.end_ms})[0]
        evidence: dict = {"before_first_job_ms": before.ms, "application_ms": account.duration_ms,
                          "first_job": first_job.part if first_job else None, "interactive": account.interactive}
        timeline = ["the application started at 0 s"]
        if facts["first_executor_ms"] is not None:
            evidence["first_executor_registered_after_ms"] = int(facts["first_executor_ms"]) - start
            evidence["executors_registered_before_first_job"] = int(facts["executors_before_job"])
            timeline.append(f"the first executor registered at {human_ms(int(facts['first_executor_ms']) - start)}")
        if facts["first_query_ms"] is not None and int(facts["first_query_ms"]) <= before.end_ms:
            evidence["first_sql_query_after_ms"] = int(facts["first_query_ms"]) - start
            timeline.append(f"the first SQL query started at {human_ms(int(facts['first_query_ms']) - start)}")
        timeline.append(f"{first_job.part if first_job else 'the first job'} was submitted at {human_ms(before.ms)}")
        confidence: Confidence
        if account.interactive:
            suggestion = ("This is an interactive session: most of this time is a person before the first command, "
                          "not Spark. Nothing to tune in Spark; measure a job's own time in its job span.")
            confidence, why = "low", "the session is interactive: the log cannot tell start-up from a person's pause"
        else:
            dynamic = ctx.conf_true("spark.dynamicAllocation.enabled", False)
            suggestion = (
                "Look at the driver code before the first action: schema inference over many files (give the "
                "schema explicitly), listing large directories, reading metadata, imports and Python set-up. If the "
                "driver waits for executors, that is the cluster's time to grant them"
                + (" (dynamic allocation is on: spark.dynamicAllocation.initialExecutors sets how many are asked "
                   "for at start)" if dynamic else "")
                + ". A short local run spends most of its time here: JVM and SparkContext start-up is a fixed cost.")
            confidence, why = "medium", ("job and executor times are measured; the log does not record what the "
                                         "driver ran before its first job")
        return ctx.insight(
            self.type,
            title=f"{human_ms(before.ms)} ({pct(before.share)} of the run) passed before the first job",
            description=(f"No job ran for the first {human_ms(before.ms)} of the run: " + ", ".join(timeline) + ". "
                         f"This is {before.what}."),
            evidence=evidence, confidence=confidence, confidence_reason=why, impact_ms=before.ms,
            suggestion=suggestion, docs_url=DOCS_MONITORING, time_parts=[before.part],
            job_ids=first_job.job_ids if first_job else [],
        )

    def _gaps(self, ctx: AppContext, account: TimeAccount, gaps: list[TimePart], total: int) -> Insight:
        listed = [f"{human_ms(p.ms)} {p.part}" for p in gaps[:5]]
        confidence: Confidence
        if account.interactive:
            suggestion = ("This is an interactive session: the gaps are mostly a person between commands. Release "
                          "idle executors while nobody runs anything"
                          + (" (dynamic allocation is on: lower spark.dynamicAllocation.executorIdleTimeout, now "
                             f"{ctx.conf('spark.dynamicAllocation.executorIdleTimeout', '60s')})"
                             if ctx.conf_true("spark.dynamicAllocation.enabled", False)
                             else " (spark.dynamicAllocation.enabled=true)")
                          + ", or stop the session when done.")
            confidence, why = "low", "the session is interactive: the log cannot tell driver work from a person's pause"
        else:
            suggestion = (
                "Look at the driver code between the jobs named above: keep heavy work in Spark instead of "
                "collect()/toPandas() followed by local processing, run independent actions concurrently (a thread "
                "pool, each with its own job group), and let Spark list many input paths in parallel "
                "(spark.sql.sources.parallelPartitionDiscovery.threshold).")
            confidence, why = "medium", ("job start and end times are measured; the log does not record what the "
                                         "driver did in between")
        return ctx.insight(
            self.type,
            title=f"{human_ms(total)} ({pct(total / account.duration_ms)} of the run) passed between or after jobs "
                  "with no job running",
            description=(
                f"{plural(len(gaps), 'stretch', 'stretches')} of at least {human_ms(GAP_FLOOR_MS)} with no job running add up to "
                f"{human_ms(total)}: " + "; ".join(listed) + ". In them the executors had no work: "
                + (gaps[0].what if account.interactive else "the driver ran code of its own (Python/pandas on "
                   "collected results, planning, file listing) or waited (sleeps, external calls).")),
            evidence={"gap_ms_total": total, "gaps_counted": len(gaps), "largest_gap_ms": gaps[0].ms,
                      "gaps": listed, "application_ms": account.duration_ms, "interactive": account.interactive},
            confidence=confidence, confidence_reason=why, impact_ms=total,
            suggestion=suggestion, docs_url=DOCS_MONITORING, time_parts=[p.part for p in gaps],
            job_ids=_neighbour_jobs(account, gaps),
        )


def _neighbour_jobs(account: TimeAccount, gaps: list[TimePart]) -> list[int]:
    """The jobs that ended just before and started just after each gap."""
    index = {p.part: i for i, p in enumerate(account.parts)}
    jobs: set[int] = set()
    for gap in gaps:
        i = index[gap.part]
        for j in (i - 1, i + 1):
            if 0 <= j < len(account.parts):
                jobs.update(account.parts[j].job_ids)
    return sorted(jobs)
