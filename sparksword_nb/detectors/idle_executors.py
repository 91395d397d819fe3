"""idle_executors: executor cores were allocated for long stretches with no task running on them.

Rule: over the executors' lifetimes (added until removed or the application's end), idle core time is
>= 50% of allocated core time (DataFlint's idleCoresTooHigh) and >= one core-minute.
Impact: 0 ms. Idle cores cost resources (core-hours), not wall time; driver_gaps and the stage findings
carry the time.
"""
from __future__ import annotations

from ._common import DOCS_DYNAMIC_ALLOCATION, human_ms, pct
from .model import Insight
from .registry import AppContext, Detector, register

IDLE_SHARE = 0.5
IDLE_FLOOR_MS = 60_000

# Core time allocated (each executor's cores over its lifetime, until removed or `$end_ms`) and used by tasks;
# the fleet view reports the same numbers as core-hours used and idle.
CORE_TIME = """
WITH alloc AS (
  SELECT count(*) AS executors, sum(cores) AS cores,
    sum(cores * greatest(COALESCE(removed_ms, $end_ms) - added_ms, 0)) AS allocated_core_ms
  FROM executors WHERE cores IS NOT NULL AND added_ms IS NOT NULL
),
busy AS (SELECT COALESCE(sum(duration_ms), 0) AS busy_core_ms, count(*) AS task_attempts FROM tasks)
SELECT * FROM alloc, busy
"""

IDLE = CORE_TIME + """
WHERE allocated_core_ms > 0
  AND allocated_core_ms - busy_core_ms >= $idle_share * allocated_core_ms
  AND allocated_core_ms - busy_core_ms >= $idle_floor
"""


@register
class IdleExecutors(Detector):
    """Cores held by the application but running nothing."""

    type = "idle_executors"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """At most one insight for the application."""
        if ctx.end_ms is None:
            return []
        found = []
        for r in ctx.rows(IDLE, {"end_ms": ctx.end_ms, "idle_share": IDLE_SHARE, "idle_floor": IDLE_FLOOR_MS}):
            idle = r["allocated_core_ms"] - r["busy_core_ms"]
            share = idle / r["allocated_core_ms"]
            dynamic = ctx.conf_true("spark.dynamicAllocation.enabled", False)
            found.append(ctx.insight(
                self.type,
                title=f"{pct(share)} of allocated executor core time was idle",
                description=(
                    f"{r['executors']} executor(s) with {r['cores']} cores in total were allocated for "
                    f"{r['allocated_core_ms'] / 3_600_000:.2f} core-hours; tasks used "
                    f"{r['busy_core_ms'] / 3_600_000:.2f} of them, so {human_ms(idle)} of core time ran nothing. "
                    "This costs resources rather than wall time: it shows up as driver-side gaps, stages with fewer "
                    "tasks than cores, or long tails."),
                evidence={
                    "executors": r["executors"], "total_cores": r["cores"],
                    "allocated_core_ms": r["allocated_core_ms"], "busy_core_ms": r["busy_core_ms"],
                    "idle_core_ms": idle, "idle_share": round(share, 3), "task_attempts": r["task_attempts"],
                    "dynamic_allocation": dynamic,
                },
                confidence="medium",
                confidence_reason=("executor lifetimes and task times are measured; a task's duration includes its "
                                   "scheduling and result handling, so busy time is slightly overstated"),
                impact_ms=0,
                suggestion=(
                    "Hold fewer cores while there is nothing to run: enable dynamic allocation "
                    "(spark.dynamicAllocation.enabled=true with spark.dynamicAllocation.shuffleTracking.enabled=true) "
                    "and a short spark.dynamicAllocation.executorIdleTimeout, or request fewer executors/cores "
                    "(spark.executor.instances, spark.executor.cores). Executors released early must be requested "
                    "again (seconds each) when the next job needs them."
                    if not dynamic else
                    "Dynamic allocation is on: lower spark.dynamicAllocation.executorIdleTimeout or "
                    "spark.dynamicAllocation.minExecutors so idle executors are released sooner, at the cost of "
                    "re-acquiring them for the next job."),
                docs_url=DOCS_DYNAMIC_ALLOCATION,
            ))
        return found
