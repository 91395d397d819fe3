"""SQL that turns the parsed lines of one application's log into the canonical tables.

The loader leaves two tables (see `schema`): `_lines`, every line with the task events' columns (`rowid` = the
line's place in the log), and `_events`, every other event with its own columns (`ord` = the line's place).
Each entry of `TASK_SQL` and `EVENT_SQL` is a SELECT over them producing one canonical table's rows for that application;
`$app_id` and `$attempt_id` are bound as parameters. The rules follow Spark's AppStatusListener where it decides
a status or a total, so that the numbers equal the History Server's. Field names Spark changed over versions are
COALESCEd, and numeric task metrics that are absent default to 0 as JsonProtocol does.
"""
from __future__ import annotations

from ..spark.task_metrics import SHUFFLE_READ_BYTES, TASK_METRIC_FIELDS, metric_sql
from .schema import EXECUTOR_METRIC_NAMES

# Task metric columns of the `tasks` table: (column, SQL over the TaskEnd row `e`), from the catalogue.
_TM = '"Task Metrics"'
TASK_METRIC_COLUMNS: tuple[tuple[str, str], ...] = tuple((f.column, metric_sql(f)) for f in TASK_METRIC_FIELDS)
# ... and the derived shuffle read (local + remote bytes), stored beside them and summed per stage the same way
METRIC_NAMES: tuple[str, ...] = (*(name for name, _ in TASK_METRIC_COLUMNS), SHUFFLE_READ_BYTES)


def _task_metric_select() -> str:
    # A task whose TaskEnd has no "Task Metrics" keeps NULLs (the History Server shows no metrics for
    # it); inside a present metrics object a missing field is 0, as JsonProtocol reads it.
    columns = [(name, f"COALESCE({expr}, 0)") for name, expr in TASK_METRIC_COLUMNS]
    paths = dict(TASK_METRIC_COLUMNS)
    columns.append((SHUFFLE_READ_BYTES, f"COALESCE({paths['shuffle_local_bytes_read']}, 0) + "
                                        f"COALESCE({paths['shuffle_remote_bytes_read']}, 0)"))
    return ",\n    ".join(f"CASE WHEN {_TM} IS NULL THEN NULL ELSE {expr} END::BIGINT AS {name}" for name, expr in columns)


def _executor_metrics_struct(col: str) -> str:
    return "struct_pack(" + ", ".join(f'"{n}" := {col}."{n}"' for n in EXECUTOR_METRIC_NAMES) + ")"


# `{dedupe}` and `{resubmitted}` are filled in by the loader (see TASK_DEDUPE): only when a task id really
# repeats, because ranking 200k wide rows costs seconds and most logs never need it.
_TASKS = f"""
WITH ends AS (
  SELECT rowid AS ord, "Stage ID", "Stage Attempt ID", "Task Type", "Task End Reason", "Task Info",
         "Task Metrics", "Task Executor Metrics", {{resubmitted}} AS resubmitted_ord
  FROM _lines WHERE Event = 'SparkListenerTaskEnd'
  {{dedupe}}
),
starts AS (
  SELECT rowid AS ord, "Stage ID", "Stage Attempt ID", "Task Info" FROM _lines WHERE Event = 'SparkListenerTaskStart'
  {{dedupe}}
),
-- `ends` is read once, streaming: a CTE read twice is materialized, and its wide rows took seconds and 300 MB
ended AS (SELECT "Task Info"."Task ID" AS task_id FROM _lines WHERE Event = 'SparkListenerTaskEnd')
SELECT
  $app_id AS app_id, $attempt_id AS attempt_id,
  e."Stage ID" AS stage_id, COALESCE(e."Stage Attempt ID", 0) AS stage_attempt_id,
  e."Task Info"."Task ID" AS task_id, e."Task Info"."Index" AS "index",
  COALESCE(e."Task Info"."Attempt", 0) AS attempt,
  COALESCE(e."Task Info"."Partition ID", -1) AS partition_id,
  e."Task Info"."Launch Time" AS launch_ms,
  NULLIF(e."Task Info"."Finish Time", 0) AS finish_ms,
  COALESCE(e."Task Info"."Getting Result Time", 0) AS getting_result_ms,
  CASE WHEN COALESCE(e."Task Info"."Finish Time", 0) > 0
       THEN e."Task Info"."Finish Time" - e."Task Info"."Launch Time" END AS duration_ms,
  e."Task Info"."Executor ID" AS executor_id, e."Task Info"."Host" AS host,
  e."Task Info"."Locality" AS locality, COALESCE(e."Task Info"."Speculative", false) AS speculative,
  CASE WHEN e."Task Info"."Failed" THEN 'FAILED'
       WHEN COALESCE(e."Task Info"."Killed", false) THEN 'KILLED'
       ELSE 'SUCCESS' END AS status,
  e."Task Type" AS task_type,
  e."Task End Reason"."Reason" AS end_reason,
  e."Task End Reason" AS end_reason_detail,
  e."Task Metrics" IS NOT NULL AS has_metrics,
  {_task_metric_select()},
  CASE WHEN e."Task Executor Metrics" IS NULL THEN NULL
       ELSE {_executor_metrics_struct('e."Task Executor Metrics"')} END AS executor_metrics,
  e.ord AS event_ord, st.ord AS start_ord, e.resubmitted_ord
FROM ends e
LEFT JOIN (SELECT ord, "Task Info"."Task ID" AS task_id FROM starts) st ON st.task_id = e."Task Info"."Task ID"
UNION ALL BY NAME
SELECT
  $app_id AS app_id, $attempt_id AS attempt_id,
  s."Stage ID" AS stage_id, COALESCE(s."Stage Attempt ID", 0) AS stage_attempt_id,
  s."Task Info"."Task ID" AS task_id, s."Task Info"."Index" AS "index",
  COALESCE(s."Task Info"."Attempt", 0) AS attempt,
  COALESCE(s."Task Info"."Partition ID", -1) AS partition_id,
  s."Task Info"."Launch Time" AS launch_ms, NULL::BIGINT AS finish_ms,
  COALESCE(s."Task Info"."Getting Result Time", 0) AS getting_result_ms, NULL::BIGINT AS duration_ms,
  s."Task Info"."Executor ID" AS executor_id, s."Task Info"."Host" AS host,
  s."Task Info"."Locality" AS locality, COALESCE(s."Task Info"."Speculative", false) AS speculative,
  'RUNNING' AS status, NULL AS task_type, NULL AS end_reason, NULL AS end_reason_detail,
  false AS has_metrics, s.ord AS event_ord, s.ord AS start_ord
FROM starts s ANTI JOIN ended e ON e.task_id = s."Task Info"."Task ID"
"""

# A task id that ends twice: a duplicated event, or (the real case) a task that succeeded on an executor lost
# afterwards, which Spark ends again as `Resubmitted` with no metrics. The History Server keeps showing the task
# as it succeeded (the listener forgot it at its first end) while its stage and executor count a failure. So the
# last end that is no `Resubmitted` is kept, and `resubmitted_ord` says where the Resubmitted end came.
_REASON = '"Task End Reason"."Reason"'
TASK_DEDUPE = ('QUALIFY row_number() OVER (PARTITION BY "Task Info"."Task ID" '
               f"ORDER BY COALESCE({_REASON} = 'Resubmitted', false), rowid DESC) = 1")
TASK_RESUBMITTED_ORD = (f"max(CASE WHEN {_REASON} = 'Resubmitted' THEN rowid END) "
                        'OVER (PARTITION BY "Task Info"."Task ID")')

# Stage infos from every place Spark writes them; the most complete one wins per (stage, attempt).
_STAGE_INFOS = """
stage_infos AS (
  SELECT ord, 3 AS src, "Stage Info" AS si, NULL::JSON AS props FROM _events
    WHERE Event = 'SparkListenerStageCompleted'
  UNION ALL
  SELECT ord, 2, "Stage Info", Properties FROM _events WHERE Event = 'SparkListenerStageSubmitted'
  UNION ALL
  SELECT ord, 1, unnest("Stage Infos"), NULL::JSON FROM _events WHERE Event = 'SparkListenerJobStart'
),
-- the most complete info per stage attempt: StageCompleted, else StageSubmitted, else the JobStart's
best AS (
  SELECT * FROM stage_infos
  QUALIFY row_number() OVER (PARTITION BY si."Stage ID", COALESCE(si."Stage Attempt ID", 0)
                             ORDER BY src DESC, ord DESC) = 1
),
"""

_STAGES = f"""
WITH {_STAGE_INFOS.strip().rstrip(',')},
submitted AS (
  SELECT si."Stage ID" AS stage_id, COALESCE(si."Stage Attempt ID", 0) AS stage_attempt_id,
         last(props ORDER BY ord) AS props, min(ord) AS submitted_ord
  FROM stage_infos WHERE src = 2 GROUP BY ALL
),
job_stages AS (
  SELECT unnest("Stage IDs") AS stage_id, "Job ID" AS job_id FROM _events WHERE Event = 'SparkListenerJobStart'
),
ended_jobs AS (SELECT DISTINCT "Job ID" AS job_id FROM _events WHERE Event = 'SparkListenerJobEnd'),
stage_jobs AS (
  SELECT stage_id, list(DISTINCT job_id ORDER BY job_id) AS job_ids,
         bool_and(job_id IN (SELECT job_id FROM ended_jobs)) AS all_jobs_ended
  FROM job_stages GROUP BY stage_id
),
ever_submitted AS (SELECT DISTINCT stage_id FROM submitted),
completed_ords AS (
  SELECT si."Stage ID" AS stage_id, COALESCE(si."Stage Attempt ID", 0) AS stage_attempt_id, max(ord) AS completed_ord
  FROM stage_infos WHERE src = 3 GROUP BY ALL
)
SELECT
  $app_id AS app_id, $attempt_id AS attempt_id,
  b.si."Stage ID" AS stage_id, COALESCE(b.si."Stage Attempt ID", 0) AS stage_attempt_id,
  b.si."Stage Name" AS name, b.si."Details" AS details, b.si."Number of Tasks" AS num_tasks,
  b.si."Submission Time" AS submitted_ms, b.si."Completion Time" AS completed_ms,
  CASE
    WHEN b.src = 3 AND b.si."Failure Reason" IS NOT NULL THEN 'FAILED'
    WHEN b.src = 3 THEN 'COMPLETE'
    WHEN b.src = 2 THEN 'ACTIVE'
    WHEN COALESCE(sj.all_jobs_ended, false) THEN 'SKIPPED'
    ELSE 'PENDING'
  END AS status,
  b.si."Failure Reason" AS failure_reason,
  COALESCE(b.si."Parent IDs", []::BIGINT[]) AS parent_ids,
  [r."RDD ID" FOR r IN COALESCE(b.si."RDD Info", [])] AS rdd_ids,
  COALESCE(b.si."Resource Profile Id", 0) AS resource_profile_id,
  COALESCE(b.si."Shuffle Push Enabled", false) AS shuffle_push_enabled,
  COALESCE(b.si."Shuffle Push Mergers Count", 0) AS shuffle_mergers_count,
  COALESCE(sj.job_ids, []::BIGINT[]) AS job_ids,
  json_extract_string(s.props, '$."spark.scheduler.pool"') AS scheduling_pool,
  json_extract_string(s.props, '$."spark.job.description"') AS description,
  TRY_CAST(json_extract_string(s.props, '$."spark.sql.execution.id"') AS BIGINT) AS sql_execution_id,
  s.submitted_ord, co.completed_ord
FROM best b
LEFT JOIN submitted s ON s.stage_id = b.si."Stage ID" AND s.stage_attempt_id = COALESCE(b.si."Stage Attempt ID", 0)
LEFT JOIN stage_jobs sj ON sj.stage_id = b.si."Stage ID"
LEFT JOIN completed_ords co ON co.stage_id = b.si."Stage ID" AND co.stage_attempt_id = COALESCE(b.si."Stage Attempt ID", 0)
-- a stage known only from a JobStart is listed once; if an attempt of it ran, that attempt stands for it
WHERE b.src > 1 OR b.si."Stage ID" NOT IN (SELECT stage_id FROM ever_submitted)
"""

_RDDS = f"""
WITH {_STAGE_INFOS.strip().rstrip(',')},
rdds AS (
  SELECT si."Stage ID" AS stage_id, COALESCE(si."Stage Attempt ID", 0) AS stage_attempt_id,
         unnest(si."RDD Info") AS r FROM best
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, stage_id, stage_attempt_id,
  r."RDD ID" AS rdd_id, r."Name" AS name,
  json_extract_string(r."Scope", '$.id') AS scope_id, json_extract_string(r."Scope", '$.name') AS scope_name,
  r."Callsite" AS call_site, COALESCE(r."Parent IDs", []::BIGINT[]) AS parent_ids,
  r."Number of Partitions" AS num_partitions, r."Number of Cached Partitions" AS num_cached_partitions,
  r."Storage Level"."Use Disk" AS use_disk, r."Storage Level"."Use Memory" AS use_memory,
  COALESCE(r."Storage Level"."Use Off Heap", r."Storage Level"."Use Tachyon") AS use_off_heap,
  r."Storage Level"."Deserialized" AS deserialized, r."Storage Level"."Replication" AS replication,
  r."Barrier" AS barrier, r."DeterministicLevel" AS deterministic_level,
  r."Memory Size" AS memory_size, r."Disk Size" AS disk_size
FROM rdds
"""

_STAGE_ACCUMULABLES = """
WITH completed AS (
  SELECT ord, "Stage Info" AS si FROM _events WHERE Event = 'SparkListenerStageCompleted'
  QUALIFY row_number() OVER (PARTITION BY "Stage Info"."Stage ID", "Stage Info"."Stage Attempt ID"
                             ORDER BY ord DESC) = 1
),
accs AS (
  SELECT si."Stage ID" AS stage_id, COALESCE(si."Stage Attempt ID", 0) AS stage_attempt_id,
         generate_subscripts(si."Accumulables", 1) AS pos, unnest(si."Accumulables") AS a
  FROM completed
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, stage_id, stage_attempt_id, pos,
  a."ID" AS accumulator_id, a."Name" AS name,
  a."Value" AS value, starts_with(COALESCE(a."Name", ''), 'internal.metrics.') AS internal,
  a."Metadata" AS metadata
FROM accs
"""

# Accumulator updates that are not copies of the task metrics: SQL metrics and user accumulators (the
# internal.metrics.* copies, ~90% of the list, are dropped as the lines are parsed: see schema.TASK_INFO_KEPT).
_TASK_ACCUMULABLES = """
WITH flat AS (
  SELECT "Stage ID" AS stage_id, COALESCE("Stage Attempt ID", 0) AS stage_attempt_id,
         "Task Info"."Task ID" AS task_id, generate_subscripts("Task Info"."Accumulables", 1) AS pos,
         unnest("Task Info"."Accumulables") AS a
  FROM _lines WHERE Event = 'SparkListenerTaskEnd' AND len("Task Info"."Accumulables") > 0
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, stage_id, stage_attempt_id, task_id, pos,
  a."ID" AS accumulator_id, a."Name" AS name,
  a."Update" AS "update", a."Value" AS value,
  a."Metadata" AS metadata
FROM flat
"""

_JOBS = """
WITH starts AS (
  SELECT * FROM _events WHERE Event = 'SparkListenerJobStart'
  QUALIFY row_number() OVER (PARTITION BY "Job ID" ORDER BY ord DESC) = 1
),
ends AS (
  SELECT * FROM _events WHERE Event = 'SparkListenerJobEnd'
  QUALIFY row_number() OVER (PARTITION BY "Job ID" ORDER BY ord DESC) = 1
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, s."Job ID" AS job_id,
  TRY_CAST(json_extract_string(s.Properties, '$."spark.sql.execution.id"') AS BIGINT) AS sql_execution_id,
  s."Submission Time" AS submitted_ms, e."Completion Time" AS completed_ms,
  CASE WHEN e."Job ID" IS NULL THEN 'RUNNING'
       WHEN e."Job Result"."Result" = 'JobSucceeded' THEN 'SUCCEEDED' ELSE 'FAILED' END AS status,
  e."Job Result"."Exception"."Message" AS failure_reason,
  COALESCE(s."Stage IDs", []::BIGINT[]) AS stage_ids,
  -- Spark names a job after the stage with the highest id among its stages
  (SELECT si."Stage Name" FROM (SELECT unnest(s."Stage Infos") AS si) ORDER BY si."Stage ID" DESC LIMIT 1) AS name,
  json_extract_string(s.Properties, '$."spark.job.description"') AS description,
  json_extract_string(s.Properties, '$."spark.jobGroup.id"') AS job_group,
  json_extract_string(s.Properties, '$."spark.job.tags"') AS job_tags,
  s.Properties AS properties, s.ord AS start_ord, e.ord AS end_ord,
  [struct_pack(stage_id := si."Stage ID", stage_attempt_id := COALESCE(si."Stage Attempt ID", 0),
               num_tasks := si."Number of Tasks", submission_ms := si."Submission Time",
               completion_ms := si."Completion Time")
   FOR si IN COALESCE(s."Stage Infos", [])] AS stage_infos
FROM starts s LEFT JOIN ends e ON e."Job ID" = s."Job ID"
"""

_EXECUTORS = """
WITH added AS (
  SELECT * FROM _events WHERE Event = 'SparkListenerExecutorAdded'
  QUALIFY row_number() OVER (PARTITION BY "Executor ID" ORDER BY ord DESC) = 1
),
removed AS (
  SELECT * FROM _events WHERE Event = 'SparkListenerExecutorRemoved'
  QUALIFY row_number() OVER (PARTITION BY "Executor ID" ORDER BY ord DESC) = 1
),
bm AS (
  SELECT * FROM _events WHERE Event = 'SparkListenerBlockManagerAdded'
  QUALIFY row_number() OVER (PARTITION BY "Block Manager ID"."Executor ID" ORDER BY ord DESC) = 1
),
bm_removed AS (
  SELECT * FROM _events WHERE Event = 'SparkListenerBlockManagerRemoved'
  QUALIFY row_number() OVER (PARTITION BY "Block Manager ID"."Executor ID" ORDER BY ord DESC) = 1
),
ids AS (
  SELECT "Executor ID" AS executor_id FROM added
  UNION SELECT "Block Manager ID"."Executor ID" FROM bm
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, ids.executor_id,
  COALESCE(a."Executor Info"."Host", b."Block Manager ID"."Host") AS host,
  b."Block Manager ID"."Port" AS port,
  a."Executor Info"."Total Cores" AS cores,
  COALESCE(a."Timestamp", b."Timestamp") AS added_ms,
  r."Timestamp" AS removed_ms, r."Removed Reason" AS removed_reason,
  b."Maximum Memory" AS max_memory, b."Maximum Onheap Memory" AS max_onheap_memory,
  b."Maximum Offheap Memory" AS max_offheap_memory, br."Timestamp" AS block_manager_removed_ms,
  COALESCE(a."Executor Info"."Resource Profile Id", 0) AS resource_profile_id,
  a."Executor Info"."Log Urls" AS log_urls, a."Executor Info"."Attributes" AS attributes,
  a."Executor Info"."Resources" AS resources,
  a."Executor Info"."Registration Time" AS registration_ms, a."Executor Info"."Request Time" AS request_ms,
  a."Executor ID" IS NOT NULL AS has_executor_added,
  a.ord AS added_ord, r.ord AS removed_ord, b.ord AS bm_added_ord, b."Timestamp" AS bm_added_ms,
  b."Block Manager ID"."Host" AS bm_host
FROM ids
LEFT JOIN added a ON a."Executor ID" = ids.executor_id
LEFT JOIN removed r ON r."Executor ID" = ids.executor_id
LEFT JOIN bm b ON b."Block Manager ID"."Executor ID" = ids.executor_id
LEFT JOIN bm_removed br ON br."Block Manager ID"."Executor ID" = ids.executor_id
"""

_STAGE_EXECUTOR_METRICS = f"""
SELECT $app_id AS app_id, $attempt_id AS attempt_id, "Stage ID" AS stage_id,
  COALESCE("Stage Attempt ID", 0) AS stage_attempt_id, "Executor ID" AS executor_id,
  {_executor_metrics_struct('"Executor Metrics"')} AS executor_metrics, ord AS event_ord
FROM _events WHERE Event = 'SparkListenerStageExecutorMetrics'
"""

# Spark 3.1 renamed "blacklist" to "exclude" and logs both spellings of each event: keep one of each pair.
_EXCLUSIONS = """
WITH ev AS (
  SELECT *,
    regexp_replace(regexp_replace(regexp_extract(Event, '[^.$]+$'), 'Blacklisted', 'Excluded'),
                   'Unblacklisted', 'Unexcluded') AS kind0
  FROM _events
  WHERE Event ILIKE 'org.apache.spark.scheduler.SparkListener%Blacklisted%'
     OR Event ILIKE 'org.apache.spark.scheduler.SparkListener%Excluded%'
),
norm AS (SELECT *, replace(kind0, 'UnExcluded', 'Unexcluded') AS kind FROM ev)
SELECT $app_id AS app_id, $attempt_id AS attempt_id,
  regexp_replace(kind, '^SparkListener', '') AS kind, time AS time_ms, executorId AS executor_id,
  hostId AS host, stageId AS stage_id, stageAttemptId AS stage_attempt_id,
  taskFailures AS task_failures, executorFailures AS executor_failures, ord AS event_ord
FROM norm
QUALIFY row_number() OVER (PARTITION BY kind, time, executorId, hostId, stageId, stageAttemptId ORDER BY ord) = 1
"""

_RESOURCE_PROFILES = """
SELECT $app_id AS app_id, $attempt_id AS attempt_id, "Resource Profile Id" AS resource_profile_id,
  "Executor Resource Requests" AS executor_resource_requests, "Task Resource Requests" AS task_resource_requests
FROM _events WHERE Event = 'SparkListenerResourceProfileAdded'
"""

_MISC_PROCESSES = """
SELECT $app_id AS app_id, $attempt_id AS attempt_id, processId AS process_id, time AS added_ms, info
FROM _events WHERE Event = 'org.apache.spark.scheduler.SparkListenerMiscellaneousProcessAdded'
"""

# Environment sections as key/value rows, in the order Spark wrote them.
_CONFIG = """
WITH env AS (
  SELECT * FROM _events WHERE Event = 'SparkListenerEnvironmentUpdate'
  QUALIFY row_number() OVER (ORDER BY ord DESC) = 1
),
sections AS (
  SELECT 'jvm' AS section, "JVM Information" AS j FROM env
  UNION ALL SELECT 'spark', "Spark Properties" FROM env
  UNION ALL SELECT 'hadoop', "Hadoop Properties" FROM env
  UNION ALL SELECT 'system', "System Properties" FROM env
  UNION ALL SELECT 'metrics', "Metrics Properties" FROM env
  UNION ALL SELECT 'classpath', "Classpath Entries" FROM env
),
-- MAP(VARCHAR, JSON) splits each section once; json_each copied the whole section text per key
-- (a 60 MB property value took gigabytes).
split AS (
  SELECT section, j, TRY_CAST(j AS MAP(VARCHAR, JSON)) AS m FROM sections WHERE j IS NOT NULL
),
entries AS (
  SELECT section, unnest(map_entries(m)) AS e FROM split WHERE m IS NOT NULL
  UNION ALL
  -- a section naming a key twice (valid JSON, though Spark does not write it) cannot be a MAP: its keys one by
  -- one, the last value of a key winning as in Spark's own reader (json4s extract to a Map)
  SELECT section, {'key': x.key, 'value': x.value} FROM split, json_each(split.j) AS x
  WHERE m IS NULL AND json_type(j) = 'OBJECT'
  QUALIFY row_number() OVER (PARTITION BY section, x.key ORDER BY x.id DESC) = 1
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, section, e.key AS key,
  CASE WHEN json_type(e.value) = 'VARCHAR' THEN e.value->>'$' ELSE e.value::VARCHAR END AS value
FROM entries
"""

_SQL_EXECUTIONS = """
WITH starts AS (
  SELECT * FROM _events WHERE Event = 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart'
  QUALIFY row_number() OVER (PARTITION BY executionId ORDER BY ord DESC) = 1
),
ends AS (
  SELECT * FROM _events WHERE Event = 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionEnd'
  QUALIFY row_number() OVER (PARTITION BY executionId ORDER BY ord DESC) = 1
),
updates AS (
  SELECT executionId, physicalPlanDescription, sparkPlanInfo FROM _events
  WHERE Event = 'org.apache.spark.sql.execution.ui.SparkListenerSQLAdaptiveExecutionUpdate'
  QUALIFY row_number() OVER (PARTITION BY executionId ORDER BY ord DESC) = 1
),
job_ids AS (
  SELECT TRY_CAST(json_extract_string(Properties, '$."spark.sql.execution.id"') AS BIGINT) AS execution_id,
         list("Job ID" ORDER BY "Job ID") AS job_ids
  FROM _events WHERE Event = 'SparkListenerJobStart' GROUP BY ALL
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, s.executionId AS execution_id,
  s.rootExecutionId AS root_execution_id, s.description, s.details,
  COALESCE(u.physicalPlanDescription, s.physicalPlanDescription) AS physical_plan_description,
  COALESCE(u.sparkPlanInfo, s.sparkPlanInfo) AS plan_json,
  s.time AS start_ms, e.time AS end_ms, e.time - s.time AS duration_ms, e.errorMessage AS error_message,
  COALESCE(j.job_ids, []::BIGINT[]) AS job_ids, s.modifiedConfigs AS modified_configs,
  s.jobTags AS job_tags, s.jobGroupId AS job_group, s.queryId AS query_id, s.ord AS start_ord, e.ord AS end_ord
FROM starts s LEFT JOIN ends e USING (executionId) LEFT JOIN updates u USING (executionId)
LEFT JOIN job_ids j ON j.execution_id = s.executionId
"""

_SQL_DRIVER_ACCUM_UPDATES = """
WITH ev AS (
  SELECT ord, executionId, unnest(CAST(accumUpdates AS JSON[])) AS pair FROM _events
  WHERE Event = 'org.apache.spark.sql.execution.ui.SparkListenerDriverAccumUpdates'
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, executionId AS execution_id,
  (pair->>'$[0]')::BIGINT AS accumulator_id, pair->>'$[1]' AS value, ord AS event_ord
FROM ev
"""

_SQL_ADAPTIVE_METRICS = """
WITH ev AS (
  SELECT ord, executionId, unnest(CAST(sqlPlanMetrics AS JSON[])) AS m FROM _events
  WHERE Event = 'org.apache.spark.sql.execution.ui.SparkListenerSQLAdaptiveSQLMetricUpdates'
)
SELECT $app_id AS app_id, $attempt_id AS attempt_id, executionId AS execution_id,
  (m->>'accumulatorId')::BIGINT AS accumulator_id, m->>'name' AS name, m->>'metricType' AS metric_type,
  ord AS event_ord
FROM ev
"""

# A stage attempt's own columns; the loader adds its task counts and metric sums (from the staged tasks).
STAGES_BASE_SQL = _STAGES

# table name -> SELECT producing that table's rows for one application: first those over the task lines (`_lines`,
# dropped once they are made: it is the bulk of a load's memory), then those over the other events (`_events`).
TASK_SQL: dict[str, str] = {
    "tasks": _TASKS,
    "task_accumulables": _TASK_ACCUMULABLES,
}
EVENT_SQL: dict[str, str] = {
    "rdds": _RDDS,
    "stage_accumulables": _STAGE_ACCUMULABLES,
    "jobs": _JOBS,
    "executors": _EXECUTORS,
    "stage_executor_metrics": _STAGE_EXECUTOR_METRICS,
    "exclusions": _EXCLUSIONS,
    "resource_profiles": _RESOURCE_PROFILES,
    "misc_processes": _MISC_PROCESSES,
    "config": _CONFIG,
    "sql_executions": _SQL_EXECUTIONS,
    "sql_driver_accum_updates": _SQL_DRIVER_ACCUM_UPDATES,
    "sql_adaptive_metrics": _SQL_ADAPTIVE_METRICS,
}
