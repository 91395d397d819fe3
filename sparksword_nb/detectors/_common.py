"""SQL and wording the detectors share: per-stage task statistics, SQL plan metric values, units.

`STAGE_STATS` computes a stage's task quantiles the way the History Server's taskSummary does (over the
stage attempt's successful tasks, value at index min(floor(q * n), n - 1) of the sorted values), so the
numbers in an insight's evidence are the ones a user sees on the stage page.
"""
from __future__ import annotations

from ..spark.quantiles import quantile_sql
from ..text import human_bytes, human_ms, ratio  # noqa: F401  (one formatter for the whole package)

# One row per stage attempt that has successful tasks. `read` is what a task of that stage reads:
# shuffle bytes for a stage after a shuffle, input bytes for a scan stage. dur_med / dur_max are the
# History Server's duration quantiles; longest_ok_ms is the longest successful task.
# Bytes a scan served from a disk cache (Databricks' IO cache, Photon's "cache hits size") are missing from
# a task's input bytes; a scan task reads them all the same.
CACHED_SCAN_METRICS = ("cache hits size",)

STAGE_STATS = f"""
WITH cached AS (
  SELECT task_id, sum(TRY_CAST("update" AS BIGINT)) AS bytes FROM task_accumulables
  WHERE accumulator_id IN (SELECT accumulator_id FROM sql_metrics
                           WHERE name IN ({", ".join(f"'{m}'" for m in CACHED_SCAN_METRICS)}))
  GROUP BY task_id
),
stage_cached AS (
  SELECT t.stage_id, t.stage_attempt_id, sum(c.bytes) AS bytes FROM tasks t JOIN cached c USING (task_id)
  GROUP BY ALL
),
kinds AS (  -- what a task of the stage reads: the larger of its shuffle read and its scan (input and cache hits)
  SELECT s.stage_id, s.stage_attempt_id,
    CASE WHEN s.shuffle_read_bytes > 0
              AND s.shuffle_read_bytes >= s.input_bytes + COALESCE(sc.bytes, 0)
           THEN 'shuffle read'
         WHEN s.input_bytes + COALESCE(sc.bytes, 0) > 0 THEN 'input' END AS read_kind
  FROM stages s LEFT JOIN stage_cached sc USING (stage_id, stage_attempt_id)
),
first_done AS (  -- tasks launched before their executor finished its first task ran on a cold JVM/worker
  SELECT executor_id, min(finish_ms) AS first_finish_ms FROM tasks GROUP BY executor_id
),
ok AS (
  SELECT t.*, k.read_kind, t.status = 'SUCCESS' AS success,
    COALESCE(t.launch_ms < fd.first_finish_ms, false) AS warmup,
    CASE k.read_kind WHEN 'shuffle read' THEN t.shuffle_read_bytes
                     WHEN 'input' THEN t.input_bytes + COALESCE(c.bytes, 0) ELSE 0 END AS read_bytes,
    greatest(t.input_bytes + COALESCE(c.bytes, 0) + t.shuffle_read_bytes,
             t.output_bytes + t.shuffle_write_bytes) AS task_bytes
  FROM tasks t JOIN kinds k USING (stage_id, stage_attempt_id)
  LEFT JOIN first_done fd ON fd.executor_id = t.executor_id
  LEFT JOIN cached c ON c.task_id = t.task_id
  WHERE t.status <> 'RUNNING' AND t.duration_ms IS NOT NULL
),
agg AS (
  SELECT stage_id, stage_attempt_id, any_value(read_kind) AS read_kind,
    count(*) FILTER (WHERE success) AS n_ok,
    count(DISTINCT executor_id) AS executors_used,
    -- the History Server's duration quantiles also sort failed and killed attempts' durations (their
    -- metrics are stored negated and drop out, their durations do not), at successful-task indices
    list_sort(list(duration_ms)) AS dur_sorted,
    list_sort(list(read_bytes) FILTER (WHERE success)) AS read_sorted,
    list_sort(list(task_bytes) FILTER (WHERE success)) AS bytes_sorted,
    sum(duration_ms) FILTER (WHERE success) AS sum_duration_ms,
    sum(read_bytes) FILTER (WHERE success) AS sum_read_bytes,
    sum(task_bytes) FILTER (WHERE success) AS sum_task_bytes,
    sum(duration_ms - executor_run_time_ms) FILTER (WHERE success) AS sum_overhead_ms,
    sum(read_bytes - input_bytes) FILTER (WHERE success AND read_kind = 'input') AS sum_cached_bytes,
    -- ties go to the lowest task id, so the same log always names the same task
    arg_max(struct_pack(task_id, "index", executor_id, host, duration_ms, read_bytes, executor_run_time_ms,
                        jvm_gc_time_ms, shuffle_fetch_wait_time_ms, executor_deserialize_time_ms,
                        executor_cpu_ns, launch_ms, warmup),
            struct_pack(v := duration_ms, t := -task_id)) FILTER (WHERE success) AS longest,
    arg_max(struct_pack(task_id, "index", executor_id, host, duration_ms, read_bytes, executor_run_time_ms,
                        jvm_gc_time_ms, shuffle_fetch_wait_time_ms, executor_deserialize_time_ms,
                        executor_cpu_ns, launch_ms, warmup),
            struct_pack(v := duration_ms, t := -task_id)) FILTER (WHERE success AND NOT warmup) AS longest_warm,
    arg_max(struct_pack(task_id, "index", executor_id, duration_ms, read_bytes, task_bytes),
            struct_pack(v := read_bytes, t := -task_id)) FILTER (WHERE success) AS heaviest,
    arg_max(struct_pack(task_id, "index", duration_ms, task_bytes),
            struct_pack(v := task_bytes, t := -task_id)) FILTER (WHERE success) AS biggest
  FROM ok GROUP BY stage_id, stage_attempt_id
  HAVING count(*) FILTER (WHERE success) > 0
)
SELECT s.stage_id, s.stage_attempt_id, s.status, s.name, s.num_tasks, s.job_ids, s.sql_execution_id,
  s.parent_ids, s.submitted_ms, s.completed_ms,
  COALESCE(s.completed_ms - COALESCE(s.first_task_launched_ms, s.submitted_ms), 0) AS wall_ms,
  a.read_kind, a.n_ok, a.executors_used,
  {quantile_sql('a.dur_sorted', 0.5, 'a.n_ok')} AS dur_med, a.dur_sorted[a.n_ok] AS dur_max,
  a.longest.duration_ms AS longest_ok_ms,
  {quantile_sql('a.read_sorted', 0.5, 'a.n_ok')} AS read_med, a.read_sorted[a.n_ok] AS read_max,
  {quantile_sql('a.bytes_sorted', 0.5, 'a.n_ok')} AS bytes_med, a.bytes_sorted[a.n_ok] AS bytes_max,
  a.sum_duration_ms, a.sum_read_bytes, a.sum_task_bytes, a.sum_overhead_ms, a.longest, a.longest_warm, a.heaviest, a.biggest,
  s.executor_run_time_ms, s.jvm_gc_time_ms, s.memory_bytes_spilled, s.disk_bytes_spilled,
  s.input_bytes + COALESCE(a.sum_cached_bytes, 0) AS input_bytes, s.output_bytes, s.shuffle_write_bytes,
  COALESCE(a.sum_cached_bytes, 0) AS cached_input_bytes,
  s.shuffle_read_bytes AS shuffle_read_bytes,
  s.shuffle_write_time_ns, s.shuffle_fetch_wait_time_ms
FROM agg a JOIN stages s USING (stage_id, stage_attempt_id)
"""

# The final value of every SQL plan metric: the last stage-completion value of its accumulator (task
# updates summed by Spark), or the driver's own update; with the stages that updated it.
SQL_METRIC_VALUES = """
WITH stage_vals AS (
  SELECT accumulator_id, max(TRY_CAST(value AS BIGINT)) AS value,
         list(DISTINCT stage_id ORDER BY stage_id) AS stage_ids
  FROM stage_accumulables GROUP BY accumulator_id
),
driver_vals AS (
  SELECT accumulator_id, arg_max(TRY_CAST(value AS BIGINT), event_ord) AS value
  FROM sql_driver_accum_updates GROUP BY accumulator_id
)
SELECT m.execution_id, m.node_id, n.node_name, n.simple_string, n.parent_node_id, m.name, m.metric_type,
  COALESCE(sv.value, dv.value) AS value, COALESCE(sv.stage_ids, []::BIGINT[]) AS stage_ids
FROM sql_metrics m
JOIN sql_plan_nodes n USING (execution_id, node_id)
LEFT JOIN stage_vals sv USING (accumulator_id)
LEFT JOIN driver_vals dv USING (accumulator_id)
"""

# Spark's documentation pages the suggestions point at.
DOCS = "https://spark.apache.org/docs/latest/"
DOCS_AQE = DOCS + "sql-performance-tuning.html#adaptive-query-execution"
DOCS_SKEW = DOCS + "sql-performance-tuning.html#optimizing-skew-join"
DOCS_COALESCE = DOCS + "sql-performance-tuning.html#coalescing-post-shuffle-partitions"
DOCS_JOIN_HINTS = DOCS + "sql-performance-tuning.html#join-strategy-hints-for-sql-queries"
DOCS_SQL_OPTIONS = DOCS + "sql-performance-tuning.html#other-configuration-options"
DOCS_PARTITION_HINTS = DOCS + "sql-performance-tuning.html#coalesce-hints-for-sql-queries"
DOCS_CACHING = DOCS + "sql-performance-tuning.html#caching-data-in-memory"
DOCS_PARALLELISM = DOCS + "tuning.html#level-of-parallelism"
DOCS_REDUCE_MEMORY = DOCS + "tuning.html#memory-usage-of-reduce-tasks"
DOCS_GC = DOCS + "tuning.html#garbage-collection-tuning"
DOCS_BROADCAST_VARS = DOCS + "tuning.html#broadcasting-large-variables"
DOCS_SHUFFLE = DOCS + "rdd-programming-guide.html#shuffle-operations"
DOCS_PERSIST = DOCS + "rdd-programming-guide.html#rdd-persistence"
DOCS_SCHEDULING = DOCS + "configuration.html#scheduling"
DOCS_DYNAMIC_ALLOCATION = DOCS + "job-scheduling.html#dynamic-resource-allocation"
DOCS_MEMORY = DOCS + "configuration.html#memory-management"
DOCS_SERIALIZATION = DOCS + "tuning.html#data-serialization"
DOCS_MONITORING = DOCS + "monitoring.html"
DOCS_ARROW_UDF = DOCS + "api/python/tutorial/sql/arrow_python_udf.html"


def pct(share: float) -> str:
    """A share as a percentage for text: 0.3456 -> '35%'."""
    return f"{share * 100:.0f}%"

# Every (ancestor, descendant) pair of each SQL plan tree, with the distance between them (0 = itself).
PLAN_DESCENDANTS = """
WITH RECURSIVE d(execution_id, ancestor_id, node_id, dist) AS (
  SELECT execution_id, node_id, node_id, 0 FROM sql_plan_nodes
  UNION ALL
  SELECT d.execution_id, d.ancestor_id, n.node_id, d.dist + 1
  FROM d JOIN sql_plan_nodes n ON n.execution_id = d.execution_id AND n.parent_node_id = d.node_id
)
SELECT * FROM d
"""

# The two input sides of each join node (`$join_names`): side 1 is the first child (left), side 2 the second.
JOIN_SIDES = """
SELECT j.execution_id, j.node_id AS join_id, j.node_name AS join_name, j.simple_string AS join_string,
  c.node_id AS side_root, row_number() OVER (PARTITION BY j.execution_id, j.node_id ORDER BY c.node_id) AS side
FROM sql_plan_nodes j
JOIN sql_plan_nodes c ON c.execution_id = j.execution_id AND c.parent_node_id = j.node_id
WHERE list_contains($join_names, j.node_name)
"""


# Tables every detector reads, derived once per `run_detectors` call as temporary tables of the
# application's cursor (name -> SELECT). Detectors refer to them by name.
DERIVED_TABLES: dict[str, str] = {
    "ssw_stage_stats": STAGE_STATS,
    "ssw_sql_metric_values": SQL_METRIC_VALUES,
    "ssw_plan_tree": PLAN_DESCENDANTS,
}
