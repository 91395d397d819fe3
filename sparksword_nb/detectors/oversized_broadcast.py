"""oversized_broadcast: a broadcast join whose broadcast table is large.

Rule (per BroadcastExchange node): its "data size" is >= 32 MiB and collecting, building and sending it
took >= 1 s, or it is >= 1 GiB (DataFlint's alert). Spark's automatic limit is 10 MiB; a tiny hash
relation can report a preallocated 64 MiB page, which the time floor keeps out.
Impact: the time to collect, build and broadcast it on the driver (the join waits for all three).
"""
from __future__ import annotations

from ._common import DOCS_JOIN_HINTS, human_bytes, human_ms
from .model import Insight
from .registry import AppContext, Detector, register

SIZE_FLOOR = 32 * 1024 * 1024
TIME_FLOOR_MS = 1000
ALWAYS_BYTES = 1024 * 1024 * 1024

BROADCASTS = f"""
WITH mv AS (SELECT * FROM ssw_sql_metric_values)
SELECT execution_id, node_id, any_value(simple_string) AS simple_string,
  max(value) FILTER (WHERE name = 'data size') AS data_size,
  max(value) FILTER (WHERE name = 'number of output rows') AS rows,
  max(value) FILTER (WHERE name = 'time to collect') AS collect_ms,
  max(value) FILTER (WHERE name = 'time to build') AS build_ms,
  max(value) FILTER (WHERE name = 'time to broadcast') AS broadcast_ms,
  list(DISTINCT sid ORDER BY sid) FILTER (WHERE sid IS NOT NULL) AS stage_ids
FROM mv LEFT JOIN unnest(mv.stage_ids) AS u(sid) ON true
WHERE node_name = 'BroadcastExchange'
GROUP BY execution_id, node_id
HAVING (max(value) FILTER (WHERE name = 'data size') >= {SIZE_FLOOR}
        AND COALESCE(max(value) FILTER (WHERE name = 'time to collect'), 0)
          + COALESCE(max(value) FILTER (WHERE name = 'time to build'), 0)
          + COALESCE(max(value) FILTER (WHERE name = 'time to broadcast'), 0) >= {TIME_FLOOR_MS})
    OR max(value) FILTER (WHERE name = 'data size') >= {ALWAYS_BYTES}
ORDER BY execution_id, node_id
"""


@register
class OversizedBroadcast(Detector):
    """A broadcast table big enough to cost driver time and executor memory."""

    type = "oversized_broadcast"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per large broadcast."""
        found = []
        for b in ctx.rows(BROADCASTS):
            spent = sum(b[k] or 0 for k in ("collect_ms", "build_ms", "broadcast_ms"))
            found.append(ctx.insight(
                self.type,
                title=f"Query {b['execution_id']} broadcast {human_bytes(b['data_size'])} to every executor",
                description=(
                    f"A broadcast join in query {b['execution_id']} collected {b['rows']} rows "
                    f"({human_bytes(b['data_size'])}) on the driver, built a hash table of them and sent it to every "
                    f"executor: {human_ms(b['collect_ms'] or 0)} to collect, {human_ms(b['build_ms'] or 0)} to build, "
                    f"{human_ms(b['broadcast_ms'] or 0)} to broadcast. Each executor keeps a copy in memory."),
                evidence={
                    "sql_execution_id": b["execution_id"], "node_id": b["node_id"],
                    "broadcast_bytes": b["data_size"], "broadcast_rows": b["rows"],
                    "time_to_collect_ms": b["collect_ms"], "time_to_build_ms": b["build_ms"],
                    "time_to_broadcast_ms": b["broadcast_ms"],
                    "spark.sql.autoBroadcastJoinThreshold": ctx.conf("spark.sql.autoBroadcastJoinThreshold", "10MB (default)"),
                },
                confidence="high" if spent > 0 else "medium",
                confidence_reason=("the broadcast size and its collect/build/broadcast times are Spark's own metrics"
                                   if spent > 0 else "the size is measured; Spark recorded no broadcast timings"),
                impact_ms=spent,
                suggestion=(
                    "Broadcast only small tables: remove the broadcast hint, or lower "
                    "spark.sql.autoBroadcastJoinThreshold so Spark uses a sort-merge or shuffled hash join for this "
                    "size; filter or project the table to the columns the join needs before broadcasting. A shuffle "
                    "join moves both sides over the network instead, but needs no driver memory "
                    "(spark.driver.maxResultSize) and no per-executor copy."),
                docs_url=DOCS_JOIN_HINTS,
                stage_ids=list(b["stage_ids"] or []), job_ids=ctx.jobs_of_query(b["execution_id"]),
                sql_ids=[b["execution_id"]],
            ))
        return found
