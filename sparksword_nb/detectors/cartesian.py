"""cartesian_join: a CartesianProduct or BroadcastNestedLoopJoin compares every row with every row.

Rule (per such node): rows(left) x rows(right) >= 1 million (the input rows are the nearest "number of
output rows" below each side). DataFlint calls it an error at 10 billion.
Impact: the wall time of the stages that ran the join.
"""
from __future__ import annotations

from ._common import DOCS_JOIN_HINTS, JOIN_SIDES
from .model import Insight
from .registry import AppContext, Detector, register

PAIRS_FLOOR = 1_000_000

CROSS_JOINS = f"""
WITH tree AS (SELECT * FROM ssw_plan_tree),
mv AS (SELECT * FROM ssw_sql_metric_values),
sides AS ({JOIN_SIDES}),
side_rows AS (
  SELECT s.execution_id, s.join_id, s.join_name, s.join_string, s.side, arg_min(mv.value, d.dist) AS rows
  FROM sides s JOIN tree d ON d.execution_id = s.execution_id AND d.ancestor_id = s.side_root
  JOIN mv ON mv.execution_id = d.execution_id AND mv.node_id = d.node_id
  WHERE mv.name = 'number of output rows' AND mv.value IS NOT NULL
  GROUP BY ALL
),
joined AS (
  SELECT execution_id, join_id, any_value(join_name) AS join_name, any_value(join_string) AS join_string,
    max(rows) FILTER (WHERE side = 1) AS left_rows, max(rows) FILTER (WHERE side = 2) AS right_rows
  FROM side_rows GROUP BY execution_id, join_id
),
out AS (
  SELECT execution_id, node_id AS join_id, value AS output_rows, stage_ids FROM mv WHERE name = 'number of output rows'
)
SELECT j.*, o.output_rows, COALESCE(o.stage_ids, []::BIGINT[]) AS stage_ids,
  (SELECT COALESCE(sum(s.completed_ms - COALESCE(s.first_task_launched_ms, s.submitted_ms)), 0) FROM stages s
   WHERE list_contains(o.stage_ids, s.stage_id) AND s.completed_ms IS NOT NULL) AS stage_wall_ms
FROM joined j LEFT JOIN out o USING (execution_id, join_id)
WHERE j.left_rows::HUGEINT * j.right_rows >= {PAIRS_FLOOR}
ORDER BY j.execution_id, j.join_id
"""


@register
class CartesianJoin(Detector):
    """A join without an equality key: every left row meets every right row."""

    type = "cartesian_join"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per cross-join node over >= 1 million row pairs."""
        found = []
        for j in ctx.rows(CROSS_JOINS, {"join_names": ["CartesianProduct", "BroadcastNestedLoopJoin"]}):
            pairs = int(j["left_rows"]) * int(j["right_rows"])
            found.append(ctx.insight(
                self.type,
                title=f"{j['join_name']} in query {j['execution_id']} compared {pairs:,} row pairs",
                description=(
                    f"`{j['join_string'][:160]}` has no equality key, so Spark paired each of {j['left_rows']:,} left "
                    f"rows with each of {j['right_rows']:,} right rows ({pairs:,} pairs) and kept "
                    f"{(j['output_rows'] or 0):,}. The work grows with the product of both sides."),
                evidence={
                    "sql_execution_id": j["execution_id"], "node_id": j["join_id"], "operator": j["join_name"],
                    "left_rows": j["left_rows"], "right_rows": j["right_rows"], "row_pairs": pairs,
                    "output_rows": j["output_rows"], "join_stage_wall_ms": j["stage_wall_ms"],
                },
                confidence="high",
                confidence_reason=(f"the physical plan holds a {j['join_name']} and its input row counts are Spark's "
                                   "metrics; the impact is the wall time of the stage(s) that ran it"),
                impact_ms=j["stage_wall_ms"] or 0,
                suggestion=(
                    "Give the join an equality key: for a range condition (a < b, a BETWEEN x AND y) add a bucketed "
                    "key both sides share (e.g. floor(value / width)) and join on it plus the range, or pre-filter "
                    "both sides. If one side is small, a broadcast nested loop join avoids the shuffle but still "
                    "compares every pair. spark.sql.crossJoin.enabled only allows cross joins; it does not make them cheaper."),
                docs_url=DOCS_JOIN_HINTS,
                stage_ids=list(j["stage_ids"]), job_ids=ctx.jobs_of_query(j["execution_id"]),
                sql_ids=[j["execution_id"]],
            ))
        return found
