"""broadcast_join_candidate: a sort-merge join whose one side is small enough to broadcast.

Rule (per SortMergeJoin / ShuffledHashJoin node): the shuffle feeding one side wrote <= 10 MiB of rows
("data size" of its Exchange), the other side is >= 4x larger, and the join type allows broadcasting
that side; or DataFlint's larger tiers (small < 100 MiB and large > 10 GiB, small < 1 GiB and large > 300 GiB).
Impact (an estimate): the large side's shuffle write time plus the sort time under the join, spread
over the cores: the work a broadcast hash join would not do.
"""
from __future__ import annotations

from ..spark.joins import broadcastable_sides, join_type
from ._common import DOCS_JOIN_HINTS, JOIN_SIDES, human_bytes, human_ms
from .model import Insight
from .registry import AppContext, Detector, register

MIB, GIB = 1024 * 1024, 1024 * 1024 * 1024
SMALL_SIDE = 10 * MIB
LARGER_BY = 4

SIDES = f"""
WITH tree AS (SELECT * FROM ssw_plan_tree),
mv AS (SELECT * FROM ssw_sql_metric_values),
sides AS ({JOIN_SIDES}),
side_exchange AS (
  SELECT s.execution_id, s.join_id, s.join_string, s.side, arg_min(d.node_id, d.dist) AS exchange_id
  FROM sides s JOIN tree d ON d.execution_id = s.execution_id AND d.ancestor_id = s.side_root
  JOIN sql_plan_nodes n ON n.execution_id = d.execution_id AND n.node_id = d.node_id
  WHERE n.node_name = 'Exchange'
  GROUP BY ALL
),
sort_time AS (
  SELECT s.execution_id, s.join_id, sum(mv.value) AS sort_ms
  FROM sides s JOIN tree d ON d.execution_id = s.execution_id AND d.ancestor_id = s.side_root
  JOIN mv ON mv.execution_id = d.execution_id AND mv.node_id = d.node_id
  WHERE mv.node_name = 'Sort' AND mv.name = 'sort time'
  GROUP BY ALL
)
SELECT e.execution_id, e.join_id, e.join_string, e.side, e.exchange_id,
  max(mv.value) FILTER (WHERE mv.name = 'data size') AS data_size,
  max(mv.value) FILTER (WHERE mv.name = 'shuffle records written') AS rows,
  max(mv.value) FILTER (WHERE mv.name = 'shuffle write time') AS write_ns,
  any_value(mv.stage_ids) FILTER (WHERE mv.name = 'shuffle records written') AS map_stage_ids,
  any_value(st.sort_ms) AS sort_ms,
  (SELECT any_value(m2.stage_ids) FROM mv m2 WHERE m2.execution_id = e.execution_id AND m2.node_id = e.join_id
     AND m2.name = 'number of output rows') AS join_stage_ids
FROM side_exchange e
JOIN mv ON mv.execution_id = e.execution_id AND mv.node_id = e.exchange_id
LEFT JOIN sort_time st ON st.execution_id = e.execution_id AND st.join_id = e.join_id
GROUP BY ALL
ORDER BY e.execution_id, e.join_id, e.side
"""


def _qualifies(small: int, large: int) -> bool:
    return ((small <= SMALL_SIDE and large >= LARGER_BY * max(small, 1))
            or (small < 100 * MIB and large > 10 * GIB) or (small < GIB and large > 300 * GIB))


@register
class BroadcastJoinCandidate(Detector):
    """A shuffle join where broadcasting the small side would skip shuffling and sorting the large one."""

    type = "broadcast_join_candidate"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per join node with a small, broadcastable side."""
        by_join: dict[tuple[int, int], dict[int, dict]] = {}
        for r in ctx.rows(SIDES, {"join_names": ["SortMergeJoin", "ShuffledHashJoin"]}):
            by_join.setdefault((r["execution_id"], r["join_id"]), {})[r["side"]] = r
        threshold = ctx.conf("spark.sql.autoBroadcastJoinThreshold", "10MB (default)")
        found = []
        for (execution_id, join_id), sides in sorted(by_join.items()):
            if set(sides) != {1, 2} or any(s["data_size"] is None for s in sides.values()):
                continue
            jt = join_type(sides[1]["join_string"])
            small_side = min(sides, key=lambda k: (sides[k]["data_size"], k))
            large_side = 3 - small_side
            small, large = sides[small_side], sides[large_side]
            if small_side not in broadcastable_sides(jt) or not _qualifies(small["data_size"], large["data_size"]):
                continue
            avoided_ms = (large["write_ns"] or 0) / 1e6 + (small["sort_ms"] or 0)
            impact = avoided_ms / max(ctx.total_cores, 1)
            disabled = threshold.strip() == "-1"
            why = ("spark.sql.autoBroadcastJoinThreshold=-1 disabled automatic broadcasts"
                   if disabled else f"the small side's measured size is far below the threshold ({threshold}), "
                                    "so the planner's size estimate was probably off")
            why_sentence = ("Here spark.sql.autoBroadcastJoinThreshold=-1 disabled automatic broadcasts."
                            if disabled else f"Its measured size is below the threshold ({threshold}), so the "
                                             "planner's size estimate was probably off.")
            side_name = "left" if small_side == 1 else "right"
            stage_ids = sorted(set((small["map_stage_ids"] or []) + (large["map_stage_ids"] or [])
                                   + (small["join_stage_ids"] or [])))
            found.append(ctx.insight(
                self.type,
                title=f"Sort-merge join in query {execution_id} could broadcast its {human_bytes(small['data_size'])} side",
                description=(
                    f"The {jt} join `{sides[1]['join_string'][:120]}` shuffled and sorted both sides: the {side_name} "
                    f"side is {small['rows']} rows ({human_bytes(small['data_size'])}), the other "
                    f"{large['rows']} rows ({human_bytes(large['data_size'])}). A broadcast hash join would send the "
                    f"small side to every executor instead; the large side's shuffle write "
                    f"({human_ms((large['write_ns'] or 0) / 1e6)}) and the sorts ({human_ms(small['sort_ms'] or 0)}) "
                    f"summed over tasks are the work it would skip. {why_sentence}"),
                evidence={
                    "sql_execution_id": execution_id, "join_node_id": join_id, "join_type": jt,
                    "small_side": side_name, "small_side_rows": small["rows"], "small_side_bytes": small["data_size"],
                    "large_side_rows": large["rows"], "large_side_bytes": large["data_size"],
                    "large_side_shuffle_write_ms": round((large["write_ns"] or 0) / 1e6),
                    "sort_time_ms": small["sort_ms"] or 0,
                    "spark.sql.autoBroadcastJoinThreshold": threshold, "aqe_enabled": ctx.aqe_enabled,
                },
                confidence="high" if disabled or small["data_size"] <= MIB else "medium",
                confidence_reason=(
                    f"both sides' shuffled sizes were measured ({human_bytes(small['data_size'])} vs "
                    f"{human_bytes(large['data_size'])}); {why}; the saving is the measured shuffle and sort work "
                    "spread over the cores, an estimate"),
                impact_ms=impact,
                suggestion=(
                    f"Broadcast the small side: df.join(broadcast(small_df), ...) or a /*+ BROADCAST(t) */ hint, or "
                    f"set spark.sql.autoBroadcastJoinThreshold (now {threshold}) above "
                    f"{human_bytes(small['data_size'])}; "
                    + ("AQE was on and did not switch this join at run time: its own threshold, "
                       "spark.sql.adaptive.autoBroadcastJoinThreshold (now "
                       f"{ctx.conf('spark.sql.adaptive.autoBroadcastJoinThreshold', 'that of autoBroadcastJoinThreshold')}"
                       "), decides that. " if ctx.aqe_enabled else
                       "with AQE on (spark.sql.adaptive.enabled=true) Spark can also switch at run time "
                       "(spark.sql.adaptive.autoBroadcastJoinThreshold). ")
                    + "The broadcast copy is built on the driver and held by every executor, so keep it to small "
                      "tables."),
                docs_url=DOCS_JOIN_HINTS,
                stage_ids=stage_ids, job_ids=ctx.jobs_of_query(execution_id), sql_ids=[execution_id],
            ))
        return found

