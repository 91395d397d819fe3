"""aqe_disabled_or_mitigated: what adaptive query execution did, or would have done.

Rules: (mitigated) an AQEShuffleRead node split skewed partitions ("number of skewed partitions" > 0) or
coalesced shuffle partitions ("number of coalesced partitions" > 0): AQE already handled it, so it is
reported here and not as a problem (impact 0). (disabled) spark.sql.adaptive.enabled=false while this run
had findings AQE acts on: too_many_small_tasks on a shuffle read (coalescing), data_skew (skew join),
broadcast_join_candidate (join conversion). Impact: the largest of those findings' impacts: the same
time, not additional.
"""
from __future__ import annotations

from ..text import stage_list
from ._common import DOCS_AQE, DOCS_COALESCE, DOCS_SKEW, human_bytes, human_ms
from .model import Insight
from .registry import AppContext, Detector, register

AQE_READS = """
WITH desc_exchange AS (
  -- the Exchange under each AQEShuffleRead (through its ShuffleQueryStage)
  SELECT r.execution_id, r.node_id AS read_id, min(e.node_id) AS exchange_id
  FROM sql_plan_nodes r
  JOIN sql_plan_nodes q ON q.execution_id = r.execution_id AND q.parent_node_id = r.node_id
  JOIN sql_plan_nodes e ON e.execution_id = q.execution_id AND e.parent_node_id IN (q.node_id, r.node_id)
  WHERE r.node_name = 'AQEShuffleRead' AND e.node_name = 'Exchange'
  GROUP BY ALL
),
mv AS (SELECT * FROM ssw_sql_metric_values)
SELECT r.execution_id, r.node_id, any_value(r.simple_string) AS simple_string,
  max(m.value) FILTER (WHERE m.name = 'number of skewed partitions') AS skewed_partitions,
  max(m.value) FILTER (WHERE m.name = 'number of skewed partition splits') AS skew_splits,
  max(m.value) FILTER (WHERE m.name = 'number of coalesced partitions') AS coalesced_partitions,
  max(m.value) FILTER (WHERE m.name = 'number of partitions') AS partitions_after,
  max(m.value) FILTER (WHERE m.name = 'partition data size') AS partition_bytes,
  (SELECT max(x.value) FROM mv x WHERE x.execution_id = r.execution_id AND x.node_id = d.exchange_id
     AND x.name = 'number of partitions') AS partitions_before,
  (SELECT any_value(x.stage_ids) FROM mv x WHERE x.execution_id = r.execution_id AND x.node_id = d.exchange_id
     AND x.name = 'records read') AS read_stage_ids
FROM sql_plan_nodes r
JOIN mv m ON m.execution_id = r.execution_id AND m.node_id = r.node_id
LEFT JOIN desc_exchange d ON d.execution_id = r.execution_id AND d.read_id = r.node_id
WHERE r.node_name = 'AQEShuffleRead'
GROUP BY r.execution_id, r.node_id, d.exchange_id
HAVING COALESCE(max(m.value) FILTER (WHERE m.name = 'number of skewed partitions'), 0) > 0
    OR COALESCE(max(m.value) FILTER (WHERE m.name = 'number of coalesced partitions'), 0) > 0
ORDER BY r.execution_id, r.node_id
"""


@register
class AqeDisabledOrMitigated(Detector):
    """AQE's part in this run: skew it split, partitions it coalesced, or work it would do if it were on."""

    type = "aqe_disabled_or_mitigated"
    depends_on = ("data_skew", "too_many_small_tasks", "broadcast_join_candidate")

    def detect(self, ctx: AppContext) -> list[Insight]:
        """Mitigations AQE made (one per shuffle read), or one insight when AQE was off where it would act."""
        if ctx.aqe_enabled:
            return self._mitigated(ctx)
        return self._disabled(ctx)

    def _mitigated(self, ctx: AppContext) -> list[Insight]:
        found = []
        for r in ctx.rows(AQE_READS):
            skewed = r["skewed_partitions"] or 0
            did = []
            if skewed:
                did.append(f"split {skewed} skewed partition(s) into {r['skew_splits'] or 0} tasks")
            if r["coalesced_partitions"]:
                did.append(f"coalesced {r['partitions_before'] or '?'} shuffle partitions into {r['partitions_after']}")
            found.append(ctx.insight(
                self.type,
                title=f"AQE {' and '.join(did)} in query {r['execution_id']}",
                description=(
                    f"Adaptive query execution adjusted this shuffle read at run time: it {' and '.join(did)} "
                    f"({human_bytes(r['partition_bytes'])} read). "
                    + ("The skew it split is handled, so it is not reported as data skew. " if skewed else "")
                    + "This is a mitigation already in place, not a problem; it is listed so the plan's shape "
                      "is explained."),
                evidence={
                    "sql_execution_id": r["execution_id"], "node_id": r["node_id"], "mitigated": True,
                    "skewed_partitions": skewed, "skewed_partition_splits": r["skew_splits"] or 0,
                    "coalesced_partitions": r["coalesced_partitions"] or 0,
                    "partitions_before": r["partitions_before"], "partitions_after": r["partitions_after"],
                    "partition_data_bytes": r["partition_bytes"],
                },
                confidence="high",
                confidence_reason="the AQEShuffleRead node and its counters are in the final plan Spark logged",
                impact_ms=0,
                suggestion=(
                    "Nothing to fix. To tune it: spark.sql.adaptive.advisoryPartitionSizeInBytes sets the target "
                    "partition size (default 64MB), spark.sql.adaptive.skewJoin.skewedPartitionFactor and "
                    "...skewedPartitionThresholdInBytes decide what counts as skewed."),
                docs_url=DOCS_SKEW if skewed else DOCS_COALESCE,
                stage_ids=list(r["read_stage_ids"] or []), job_ids=ctx.jobs_of_query(r["execution_id"]),
                sql_ids=[r["execution_id"]],
            ))
        return found

    def _disabled(self, ctx: AppContext) -> list[Insight]:
        related = [
            i for i in ctx.findings
            if i.type == "broadcast_join_candidate"
            # AQE splits skew only where the what-if confirmed it would (a sort-merge join's reduce stage)
            or (i.type == "data_skew" and i.evidence.get("aqe_would_split") is True)
            # AQE coalesces shuffles planned with spark.sql.shuffle.partitions, not repartition(n)
            or (i.type == "too_many_small_tasks" and i.evidence.get("read_metric") == "shuffle read"
                and str(i.evidence.get("tasks")) == ctx.conf("spark.sql.shuffle.partitions", "200"))
        ]
        related = [i for i in related if i.sql_ids]  # AQE only acts on SQL/DataFrame queries
        if not related:
            return []
        acts = {
            "too_many_small_tasks": "coalesce small shuffle partitions",
            "data_skew": "split skewed sort-merge-join partitions",
            "broadcast_join_candidate": "turn a sort-merge join with a small side into a broadcast join",
        }
        kinds = sorted({i.type for i in related})
        top = max(related, key=lambda i: (i.impact_ms, i.type))
        return [ctx.insight(
            self.type,
            title="AQE was off where it would act: " + ", ".join(acts[k] for k in kinds),
            description=(
                "spark.sql.adaptive.enabled=false, and this run had findings adaptive query execution handles at run "
                "time: " + "; ".join(f"{i.type} on {stage_list(i.stage_ids)} ({human_ms(i.impact_ms)})" for i in related)
                + f". The impact is the largest of them ({top.type}), the same time, not in addition."),
            evidence={
                "spark.sql.adaptive.enabled": ctx.conf("spark.sql.adaptive.enabled", "true"),
                "related_findings": [f"{i.type}:{','.join(map(str, i.stage_ids))}" for i in related],
                "largest_related_impact_ms": top.impact_ms,
            },
            confidence="medium",
            confidence_reason=("AQE was disabled in the configuration and the related findings are measured; whether "
                               "AQE would act depends on its thresholds (e.g. skewedPartitionThresholdInBytes)"),
            impact_ms=top.impact_ms,
            suggestion=(
                "Turn AQE on: spark.sql.adaptive.enabled=true (the default since Spark 3.2), with "
                "spark.sql.adaptive.coalescePartitions.enabled and spark.sql.adaptive.skewJoin.enabled (both default "
                "true). AQE re-plans at each shuffle from measured sizes; it adds a short planning step per stage and "
                "only splits skew above spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes (256MB default)."),
            docs_url=DOCS_AQE,
            stage_ids=sorted({s for i in related for s in i.stage_ids}),
            job_ids=sorted({j for i in related for j in i.job_ids}),
            sql_ids=sorted({q for i in related for q in i.sql_ids}),
        )]
