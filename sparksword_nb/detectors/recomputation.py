"""recomputation: the same work computed again by a later job because nothing was cached.

Rules: (SQL) the map side of a shuffle (the plan subtree under an Exchange, with expression ids removed)
is identical in >= 2 SQL executions and is not read from a cache (no InMemoryTableScan above it);
(RDD) the same RDD id was computed by non-skipped stages of >= 2 jobs and was never persisted.
Impact: the wall time of every repeat after the first (its stages' wall time).
"""
from __future__ import annotations

from ._common import DOCS_CACHING, DOCS_PERSIST, human_ms
from .model import Insight
from .registry import AppContext, Detector, register

REPEATED_PLANS = """
WITH tree AS (SELECT * FROM ssw_plan_tree),
cached AS (  -- nodes under a cache read describe the cached plan, which is not run again
  SELECT DISTINCT d.execution_id, d.node_id FROM tree d
  JOIN sql_plan_nodes a ON a.execution_id = d.execution_id AND a.node_id = d.ancestor_id
  WHERE a.node_name IN ('InMemoryTableScan', 'InMemoryRelation') AND d.dist > 0
),
map_sides AS (
  SELECT c.execution_id, e.node_id AS exchange_id, c.node_id AS root_id
  FROM sql_plan_nodes e JOIN sql_plan_nodes c ON c.execution_id = e.execution_id AND c.parent_node_id = e.node_id
  WHERE e.node_name = 'Exchange'
    AND NOT EXISTS (SELECT 1 FROM cached x WHERE x.execution_id = e.execution_id AND x.node_id = e.node_id)
),
signatures AS (
  SELECT m.execution_id, m.exchange_id, count(*) AS nodes,
    md5(string_agg(d.dist || ':' || regexp_replace(regexp_replace(n.simple_string, '#\\d+L?', '', 'g'),
                                                   'plan_id=\\d+', '', 'g'), '|' ORDER BY d.node_id)) AS signature,
    bool_or(n.node_name IN ('InMemoryTableScan', 'ReusedExchange')) AS reads_cache,
    arg_min(n.simple_string, d.node_id) AS root_string
  FROM map_sides m
  JOIN tree d ON d.execution_id = m.execution_id AND d.ancestor_id = m.root_id
  JOIN sql_plan_nodes n ON n.execution_id = d.execution_id AND n.node_id = d.node_id
  GROUP BY m.execution_id, m.exchange_id
),
mv AS (SELECT * FROM ssw_sql_metric_values),
runs AS (
  SELECT s.*, (SELECT any_value(x.stage_ids) FROM mv x WHERE x.execution_id = s.execution_id
                 AND x.node_id = s.exchange_id AND x.name = 'shuffle records written') AS stage_ids
  FROM signatures s WHERE NOT s.reads_cache
),
walls AS (
  SELECT r.execution_id, r.exchange_id,
    COALESCE(sum(st.completed_ms - COALESCE(st.first_task_launched_ms, st.submitted_ms)), 0) AS wall_ms
  FROM runs r LEFT JOIN stages st ON list_contains(r.stage_ids, st.stage_id) AND st.status = 'COMPLETE'
  GROUP BY ALL
)
SELECT r.signature, any_value(r.root_string) AS root_string, any_value(r.nodes) AS nodes,
  list(r.execution_id ORDER BY r.execution_id) AS executions,
  list(w.wall_ms ORDER BY r.execution_id) AS walls,
  flatten(list(COALESCE(r.stage_ids, []::BIGINT[]) ORDER BY r.execution_id)) AS stage_ids
FROM runs r JOIN walls w USING (execution_id, exchange_id)
GROUP BY r.signature
HAVING count(DISTINCT r.execution_id) >= 2
ORDER BY min(r.execution_id), r.signature
"""

REPEATED_RDDS = """
WITH computed AS (
  SELECT r.rdd_id, r.name, r.call_site, s.stage_id, unnest(s.job_ids) AS job_id,
    COALESCE(s.completed_ms - COALESCE(s.first_task_launched_ms, s.submitted_ms), 0) AS wall_ms,
    COALESCE(r.use_memory, false) OR COALESCE(r.use_disk, false) OR COALESCE(r.num_cached_partitions, 0) > 0 AS persisted
  FROM rdds r JOIN stages s USING (stage_id, stage_attempt_id)
  WHERE s.status = 'COMPLETE' AND s.sql_execution_id IS NULL
),
per_rdd AS (
  SELECT rdd_id, any_value(name) AS name, any_value(call_site) AS call_site,
    list(DISTINCT stage_id ORDER BY stage_id) AS stage_ids, count(DISTINCT job_id) AS jobs
  FROM computed GROUP BY rdd_id HAVING count(DISTINCT job_id) >= 2 AND NOT bool_or(persisted)
)
SELECT stage_ids, list(rdd_id ORDER BY rdd_id) AS rdd_ids, list(name ORDER BY rdd_id) AS names,
  list(call_site ORDER BY rdd_id) AS call_sites,
  (SELECT list(wall_ms ORDER BY stage_id) FROM (SELECT DISTINCT stage_id, wall_ms FROM computed c
     WHERE list_contains(p.stage_ids, c.stage_id))) AS walls,
  (SELECT list(DISTINCT job_id ORDER BY job_id) FROM computed c WHERE list_contains(p.stage_ids, c.stage_id)) AS job_ids
FROM per_rdd p GROUP BY stage_ids ORDER BY stage_ids
"""


@register
class Recomputation(Detector):
    """Work done twice: a later job recomputed a plan or RDD an earlier job had already computed."""

    type = "recomputation"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per repeated shuffle map side and per repeatedly computed RDD lineage."""
        found = []
        for r in ctx.rows(REPEATED_PLANS):
            repeats = len(r["executions"]) - 1
            impact = sum(r["walls"][1:])
            found.append(ctx.insight(
                self.type,
                title=f"The same {r['nodes']}-operator plan ran in {len(r['executions'])} queries without a cache",
                description=(
                    f"The map side of a shuffle, starting at `{(r['root_string'] or '')[:120]}`, is identical in SQL "
                    f"executions {r['executions']}: Spark computed it {len(r['executions'])} times. The {repeats} "
                    f"repeat(s) took {human_ms(impact)} of stage wall time."),
                evidence={"sql_execution_ids": r["executions"], "operators": r["nodes"], "repeats": repeats,
                          "stage_wall_ms_per_run": r["walls"], "repeated_wall_ms": impact},
                confidence="medium",
                confidence_reason=("the plans are identical once expression ids are removed; the log cannot tell "
                                   "whether the input changed between the runs (then recomputing is intended)"),
                impact_ms=impact,
                suggestion=("If the input does not change between the actions, cache the shared DataFrame "
                            "(df.cache() or df.persist() before the first action, unpersist() after the last), or "
                            "compute the result once and reuse it. A cache holds executor memory (and disk with "
                            "MEMORY_AND_DISK) and pays off only when reused."),
                docs_url=DOCS_CACHING,
                stage_ids=list(r["stage_ids"] or []),
                job_ids=sorted({j for e in r["executions"] for j in ctx.jobs_of_query(e)}),
                sql_ids=list(r["executions"]),
            ))
        for r in ctx.rows(REPEATED_RDDS):
            impact = sum((r["walls"] or [])[1:])
            names = [n or f"RDD {i}" for n, i in zip(r["names"], r["rdd_ids"])]
            found.append(ctx.insight(
                self.type,
                title=f"RDD lineage computed by {len(r['job_ids'])} jobs without persist",
                description=(
                    f"RDD(s) {r['rdd_ids']} ({', '.join(names[:4])}; created at {(r['call_sites'] or [''])[-1]}) were "
                    f"computed by stages {r['stage_ids']} of jobs {r['job_ids']} and never persisted, so each job "
                    f"recomputed them from their source. The repeats took {human_ms(impact)} of stage wall time."),
                evidence={"rdd_ids": r["rdd_ids"], "stage_ids": r["stage_ids"], "job_ids": r["job_ids"],
                          "stage_wall_ms": r["walls"], "repeated_wall_ms": impact},
                confidence="medium",
                confidence_reason=("the same RDD ids appear in completed stages of different jobs with no storage "
                                   "level; the repeat's cost is its stages' whole wall time"),
                impact_ms=impact,
                suggestion=("Persist the RDD that several actions use (rdd.cache() or rdd.persist(StorageLevel."
                            "MEMORY_AND_DISK)) before the first action and unpersist() it after the last; the cache "
                            "takes executor memory or disk."),
                docs_url=DOCS_PERSIST,
                stage_ids=list(r["stage_ids"]), job_ids=list(r["job_ids"]),
            ))
        return found
