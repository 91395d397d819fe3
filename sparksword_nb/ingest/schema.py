"""The typed shape in which DuckDB's `read_json` parses event-log lines, in one pass.

Every event is one JSON line; all events share one wide row type whose columns are the union of the
top-level fields of the events we read. Fields missing from a line (another event type, an older Spark
version) come out NULL, and unknown fields are skipped, as Spark's own reader does. Where Spark renamed
a field over the years both spellings are listed, and the loader's SQL takes whichever is present.
Rarely used or free-form parts (plan trees, stack traces, property maps) stay JSON text, parsed later
only for the few events that have them.
"""
from __future__ import annotations

from ..spark.task_metrics import metrics_struct

# Only what the tables use: each field of these lists costs parse time on every task line, and a
# Spark 4 task carries ~30 of them. Numbers and strings both arrive as text ("10" for SQL metrics);
# internal accumulators are told by their "internal.metrics." name, as Spark's InternalAccumulator does.
ACCUMULABLE = 'STRUCT("ID" BIGINT, "Name" VARCHAR, "Update" VARCHAR, "Value" VARCHAR, "Metadata" VARCHAR)'


STORAGE_LEVEL = (
    'STRUCT("Use Disk" BOOLEAN, "Use Memory" BOOLEAN, "Use Off Heap" BOOLEAN, "Use Tachyon" BOOLEAN, '
    '"Deserialized" BOOLEAN, "Replication" INTEGER)'
)

RDD_INFO = (
    f'STRUCT("RDD ID" BIGINT, "Name" VARCHAR, "Scope" VARCHAR, "Callsite" VARCHAR, "Parent IDs" BIGINT[], '
    f'"Storage Level" {STORAGE_LEVEL}, "Barrier" BOOLEAN, "DeterministicLevel" VARCHAR, '
    f'"Number of Partitions" BIGINT, "Number of Cached Partitions" BIGINT, "Memory Size" BIGINT, '
    f'"Disk Size" BIGINT)'
)

STAGE_INFO = (
    f'STRUCT("Stage ID" BIGINT, "Stage Attempt ID" BIGINT, "Stage Name" VARCHAR, "Number of Tasks" BIGINT, '
    f'"RDD Info" {RDD_INFO}[], "Parent IDs" BIGINT[], "Details" VARCHAR, "Submission Time" BIGINT, '
    f'"Completion Time" BIGINT, "Failure Reason" VARCHAR, "Accumulables" {ACCUMULABLE}[], '
    f'"Resource Profile Id" BIGINT, "Shuffle Push Enabled" BOOLEAN, "Shuffle Push Mergers Count" BIGINT)'
)

TASK_INFO = (
    f'STRUCT("Task ID" BIGINT, "Index" BIGINT, "Attempt" BIGINT, "Partition ID" BIGINT, "Launch Time" BIGINT, '
    f'"Executor ID" VARCHAR, "Host" VARCHAR, "Locality" VARCHAR, "Speculative" BOOLEAN, '
    f'"Getting Result Time" BIGINT, "Finish Time" BIGINT, "Failed" BOOLEAN, "Killed" BOOLEAN, '
    f'"Accumulables" {ACCUMULABLE}[])'
)

# Every task metric of the catalogue, plus the blocks a task updated (kept as JSON).
TASK_METRICS = metrics_struct({"Updated Blocks": "JSON"})

# ExecutorMetricType.metricToOffset, in Spark's order (the History Server prints them in this order).
EXECUTOR_METRIC_NAMES: tuple[str, ...] = (
    "JVMHeapMemory", "JVMOffHeapMemory", "OnHeapExecutionMemory", "OffHeapExecutionMemory",
    "OnHeapStorageMemory", "OffHeapStorageMemory", "OnHeapUnifiedMemory", "OffHeapUnifiedMemory",
    "DirectPoolMemory", "MappedPoolMemory", "ProcessTreeJVMVMemory", "ProcessTreeJVMRSSMemory",
    "ProcessTreePythonVMemory", "ProcessTreePythonRSSMemory", "ProcessTreeOtherVMemory",
    "ProcessTreeOtherRSSMemory", "MinorGCCount", "MinorGCTime", "MajorGCCount", "MajorGCTime",
    "TotalGCTime", "ConcurrentGCCount", "ConcurrentGCTime",
)
EXECUTOR_METRICS = "STRUCT(" + ", ".join(f'"{n}" BIGINT' for n in EXECUTOR_METRIC_NAMES) + ")"

TASK_END_REASON = (
    'STRUCT("Reason" VARCHAR, "Class Name" VARCHAR, "Description" VARCHAR, "Full Stack Trace" VARCHAR, '
    '"Stack Trace" JSON, "Message" VARCHAR, "Kill Reason" VARCHAR, "Executor ID" VARCHAR, '
    '"Exit Caused By App" BOOLEAN, "Loss Reason" VARCHAR, "Shuffle ID" BIGINT, "Map ID" BIGINT, '
    '"Map Index" BIGINT, "Reduce ID" BIGINT, "Block Manager Address" JSON, "Job ID" BIGINT, '
    '"Partition ID" BIGINT, "Attempt Number" BIGINT, "Accumulator Updates" JSON, "Metrics" JSON)'
)

BLOCK_MANAGER_ID = 'STRUCT("Executor ID" VARCHAR, "Host" VARCHAR, "Port" BIGINT)'

# Column name -> DuckDB type, for read_json(columns=...). Order is irrelevant to DuckDB.
EVENT_COLUMNS: dict[str, str] = {
    "Event": "VARCHAR",
    # SparkListenerLogStart
    "Spark Version": "VARCHAR",
    # ApplicationStart / End
    "App Name": "VARCHAR",
    "App ID": "VARCHAR",
    "App Attempt ID": "VARCHAR",
    "User": "VARCHAR",
    "Timestamp": "BIGINT",
    "ExitCode": "BIGINT",
    "Driver Logs": "JSON",
    "Driver Attributes": "JSON",
    # EnvironmentUpdate
    "JVM Information": "JSON",
    "Spark Properties": "JSON",
    "Hadoop Properties": "JSON",
    "System Properties": "JSON",
    "Metrics Properties": "JSON",
    "Classpath Entries": "JSON",
    # ResourceProfileAdded
    "Resource Profile Id": "BIGINT",
    "Executor Resource Requests": "JSON",
    "Task Resource Requests": "JSON",
    # Jobs
    "Job ID": "BIGINT",
    "Submission Time": "BIGINT",
    "Completion Time": "BIGINT",
    "Stage IDs": "BIGINT[]",
    "Stage Infos": f"{STAGE_INFO}[]",
    "Properties": "JSON",
    "Job Result": 'STRUCT("Result" VARCHAR, "Exception" STRUCT("Message" VARCHAR, "Stack Trace" JSON))',
    # Stages
    "Stage Info": STAGE_INFO,
    # Tasks
    "Stage ID": "BIGINT",
    "Stage Attempt ID": "BIGINT",
    "Task Type": "VARCHAR",
    "Task End Reason": TASK_END_REASON,
    "Task Info": TASK_INFO,
    "Task Metrics": TASK_METRICS,
    "Task Executor Metrics": EXECUTOR_METRICS,
    # Executors and block managers
    "Executor ID": "VARCHAR",
    "Executor Info": (
        'STRUCT("Host" VARCHAR, "Total Cores" BIGINT, "Log Urls" JSON, "Attributes" JSON, "Resources" JSON, '
        '"Resource Profile Id" BIGINT, "Registration Time" BIGINT, "Request Time" BIGINT)'
    ),
    "Removed Reason": "VARCHAR",
    "Block Manager ID": BLOCK_MANAGER_ID,
    "Maximum Memory": "BIGINT",
    "Maximum Onheap Memory": "BIGINT",
    "Maximum Offheap Memory": "BIGINT",
    "Executor Metrics": EXECUTOR_METRICS,
    "RDD ID": "BIGINT",
    # Jackson-written events (exclusion, misc processes, SQL): camelCase fields
    "time": "BIGINT",
    "executorId": "VARCHAR",
    "hostId": "VARCHAR",
    "stageId": "BIGINT",
    "stageAttemptId": "BIGINT",
    "taskFailures": "BIGINT",
    "executorFailures": "BIGINT",
    "processId": "VARCHAR",
    "info": "JSON",
    "executionId": "BIGINT",
    "rootExecutionId": "BIGINT",
    "description": "VARCHAR",
    "details": "VARCHAR",
    "physicalPlanDescription": "VARCHAR",
    "sparkPlanInfo": "JSON",
    "modifiedConfigs": "JSON",
    "jobTags": "VARCHAR[]",
    "jobGroupId": "VARCHAR",
    "errorMessage": "VARCHAR",
    "queryId": "VARCHAR",
    "accumUpdates": "JSON",
    "sqlPlanMetrics": "JSON",
}


TASK_EVENTS: tuple[str, ...] = ("SparkListenerTaskStart", "SparkListenerTaskEnd")
TASK_EVENTS_SQL = "(" + ", ".join(f"'{e}'" for e in TASK_EVENTS) + ")"

# The columns only task events have. Task events are ~99% of a big log's lines, so they are kept apart from the
# other events' ~70 columns: stored side by side in one wide row, those would be NULL on every task line yet
# still take their room (three quarters of the memory a load needed).
TASK_ONLY_COLUMNS: tuple[str, ...] = (
    "Task Type", "Task End Reason", "Task Info", "Task Metrics", "Task Executor Metrics",
)
# ... and the ones both kinds have
SHARED_COLUMNS: tuple[str, ...] = ("Event", "Stage ID", "Stage Attempt ID")
OTHER_EVENT_COLUMNS: tuple[str, ...] = tuple(c for c in EVENT_COLUMNS if c not in TASK_ONLY_COLUMNS and c != "Event")

# A task's "Task Info" as it is kept: its accumulables without the internal.metrics.* copies of the task metrics
# (~90% of the list; "Task Metrics" has them), dropped while the line is parsed so they are never stored.
TASK_INFO_KEPT = (
    'struct_update("Task Info", "Accumulables" := list_filter("Task Info"."Accumulables", '
    "lambda a: NOT starts_with(COALESCE(a.\"Name\", ''), 'internal.metrics.')))"
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_json_columns_sql() -> str:
    """The `columns=` argument of read_json as SQL text (a struct literal of name -> type)."""
    def quote(s: str) -> str:
        return "'" + s.replace("'", "''") + "'"

    return "{" + ", ".join(f"{quote(k)}: {quote(v)}" for k, v in EVENT_COLUMNS.items()) + "}"


def lines_select_sql() -> str:
    """The projection of read_json's rows into `_lines`: the task columns, and the other events' columns packed
    into one JSON text `other` on the lines that are no task event (NULL, taking no room, on task lines)."""
    packed = ", ".join(f"{_quote(c)} := {_quote(c)}" for c in OTHER_EVENT_COLUMNS)
    kept = [_quote(c) for c in SHARED_COLUMNS + TASK_ONLY_COLUMNS if c != "Task Info"]
    return (
        f"{', '.join(kept)}, {TASK_INFO_KEPT} AS \"Task Info\", "
        f"CASE WHEN Event NOT IN {TASK_EVENTS_SQL} THEN to_json(struct_pack({packed})) END AS other"
    )


def other_events_type_sql() -> str:
    """The STRUCT type `other` is read back into, for `_events`."""
    return "STRUCT(" + ", ".join(f"{_quote(c)} {EVENT_COLUMNS[c]}" for c in OTHER_EVENT_COLUMNS) + ")"
