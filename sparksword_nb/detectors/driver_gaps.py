"""driver_gaps: wall time between jobs (and after the last one) when no job ran: driver-side work.

Rule: the gaps of >= 1 s between the union of job intervals, and from the last job's end to the
application's end, add up to >= 1 s and >= 10% of the application's wall time. The gap before the first
job (session start-up, planning) is reported as evidence but not counted.
Impact: the counted gaps.
"""
from __future__ import annotations

from ._common import DOCS_MONITORING, human_ms, pct
from .model import Insight
from .registry import AppContext, Detector, register

GAP_FLOOR_MS = 1000
APP_SHARE = 0.10

GAPS = """
WITH iv AS (
  SELECT job_id, name, submitted_ms AS s, COALESCE(completed_ms, $end_ms) AS e FROM jobs WHERE submitted_ms IS NOT NULL
),
ordered AS (
  SELECT *, max(e) OVER (ORDER BY s, e, job_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_end,
    arg_max(job_id, e) OVER (ORDER BY s, e, job_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_job
  FROM iv
),
gaps AS (
  SELECT 'before the first job' AS kind, $start_ms AS gap_start, min(s) AS gap_end, NULL::BIGINT AS after_job,
         arg_min(job_id, s) AS before_job FROM iv
  UNION ALL
  SELECT 'between jobs', prev_end, s, prev_job, job_id FROM ordered WHERE s > prev_end
  UNION ALL
  SELECT 'after the last job', max(e), $end_ms, arg_max(job_id, e), NULL FROM iv
)
SELECT g.kind, g.gap_start, g.gap_end, g.gap_end - g.gap_start AS gap_ms, g.after_job, g.before_job,
  (SELECT name FROM jobs WHERE job_id = g.after_job) AS after_name,
  (SELECT name FROM jobs WHERE job_id = g.before_job) AS before_name
FROM gaps g WHERE g.gap_end - g.gap_start >= $floor
ORDER BY gap_ms DESC, g.gap_start
"""


@register
class DriverGaps(Detector):
    """Stretches of the run where no job was running: the driver was busy (or waiting) on its own."""

    type = "driver_gaps"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """At most one insight listing the application's gaps."""
        if ctx.start_ms is None or ctx.end_ms is None or ctx.duration_ms <= 0:
            return []
        gaps = ctx.rows(GAPS, {"start_ms": ctx.start_ms, "end_ms": ctx.end_ms, "floor": GAP_FLOOR_MS})
        counted = [g for g in gaps if g["kind"] != "before the first job"]
        total = sum(g["gap_ms"] for g in counted)
        if not counted or total < GAP_FLOOR_MS or total < APP_SHARE * ctx.duration_ms:
            return []
        startup = next((g["gap_ms"] for g in gaps if g["kind"] == "before the first job"), 0)

        def where(g: dict) -> str:
            after = f"after job {g['after_job']} ({g['after_name']})" if g["after_job"] is not None else ""
            before = f"before job {g['before_job']} ({g['before_name']})" if g["before_job"] is not None else ""
            return f"{human_ms(g['gap_ms'])} {' '.join(x for x in (after, before) if x) or g['kind']}"

        listed = [where(g) for g in counted[:5]]
        return [ctx.insight(
            self.type,
            title=f"{human_ms(total)} ({pct(total / ctx.duration_ms)} of the run) passed with no job running",
            description=(
                f"{len(counted)} gap(s) of at least {human_ms(GAP_FLOOR_MS)} between or after jobs add up to "
                f"{human_ms(total)}: " + "; ".join(listed) + ". In these stretches the executors had no work: the "
                "driver was running code of its own (Python/pandas on collected results, planning, file listing), "
                "waiting (sleeps, external calls), or idle in an interactive session."),
            evidence={
                "gap_ms_total": total, "gaps_counted": len(counted), "largest_gap_ms": counted[0]["gap_ms"],
                "gaps": listed, "gap_before_first_job_ms": startup, "application_ms": ctx.duration_ms,
            },
            confidence="medium",
            confidence_reason=("job start and end times are measured; the log does not record what the driver did "
                               "in between"),
            impact_ms=total,
            suggestion=(
                "Look at the driver code between the jobs named above: keep heavy work in Spark instead of "
                "collect()/toPandas() followed by local processing, run independent actions concurrently (a thread "
                "pool, each with its own job group), and for many input paths let Spark list them in parallel "
                "(spark.sql.sources.parallelPartitionDiscovery.threshold). For an interactive session, stop it (or "
                "use dynamic allocation) when idle."),
            docs_url=DOCS_MONITORING,
            job_ids=sorted({j for g in counted for j in (g["after_job"], g["before_job"]) if j is not None}),
        )]
