"""The History Server's stage resources: `stages`, `stages/{id}`, `stages/{id}/{attempt}`, `taskSummary`, `taskList`.

The rules follow Spark's AppStatusListener (how stage and task records are built while a log is replayed)
and AppStatusStore (how the REST layer reads them back), because the History Server's answers are the
reference: counts and sums come from the canonical tables, the per-task fields (duration, scheduler delay,
error message) and the quantiles are computed here exactly as Spark computes them.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError
from ..ingest.schema import EXECUTOR_METRIC_NAMES
from ..spark.quantiles import quantile_indices
from ..spark.task_metrics import TASK_METRIC_FIELDS
from .format import spark_date

if TYPE_CHECKING:
    from ..store import EventLog

Query = dict[str, list[str]]

_STAGE_STATUSES = ("ACTIVE", "COMPLETE", "FAILED", "PENDING", "SKIPPED")
_TASK_STATUSES = ("RUNNING", "KILLED", "FAILED", "SUCCESS", "UNKNOWN")
_DEFAULT_STAGE_QUANTILES = "0.0,0.25,0.5,0.75,1.0"
_DEFAULT_SUMMARY_QUANTILES = "0.05,0.25,0.5,0.75,0.95"

# Stage JSON field -> `stages` column (the sums of the task metrics of the stage attempt).
_STAGE_METRIC_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (f.stage_field, f.column) for f in TASK_METRIC_FIELDS if f.stage_field)

# Push-based shuffle read metrics: API name -> `tasks` column (same names in TaskMetrics and the distributions).
_PUSH_READ_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (f.push_field, f.column) for f in TASK_METRIC_FIELDS if f.push_field)

_TASK_COLUMNS = (
    "task_id", "index", "attempt", "partition_id", "launch_ms", "finish_ms", "getting_result_ms", "executor_id",
    "host", "locality", "speculative", "status", "end_reason_detail", "has_metrics",
    *(f.column for f in TASK_METRIC_FIELDS if f.stage_field),
)


# ---- query parameters -------------------------------------------------------------------------------------
def _flag(query: Query, name: str, default: bool) -> bool:
    values = query.get(name)
    if not values:
        return default
    # JAX-RS reads booleans with Boolean.valueOf: only "true" (any case) is true
    return values[0].strip().lower() == "true"


def _int_param(query: Query, name: str, default: int) -> int:
    values = query.get(name)
    if not values or values[0] == "":
        return default
    try:
        return int(values[0])
    except ValueError:
        raise SparkswordError(f'Bad value for parameter "{name}".  Expected an int, got "{values[0]}"') from None


def _quantiles(query: Query, default: str) -> list[float]:
    text = query.get("quantiles", [default])[0]
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise SparkswordError(
                f'Bad value for parameter "quantiles".  Expected a double, got "{part}"'
            ) from None
    if any(not q >= 0 for q in values):
        # Spark would index before the first task; refuse instead of answering something arbitrary
        raise SparkswordError(f'Bad value for parameter "quantiles".  Expected values from 0, got "{text}"')
    return sorted(values)


def _enum_values(query: Query, name: str, allowed: tuple[str, ...]) -> list[str]:
    out = []
    for value in query.get(name, []):
        upper = value.strip().upper()
        if upper not in allowed:
            raise SparkswordError(f"Illegal type='{value}'. Supported type values: {', '.join(allowed)}")
        out.append(upper)
    return out


def _task_sorting(query: Query) -> str:
    """ID, INCREASING_RUNTIME or DECREASING_RUNTIME, accepting Spark's short names `runtime` / `-runtime`."""
    value = query.get("sortBy", ["ID"])[0]
    short = {"runtime": "INCREASING_RUNTIME", "-runtime": "DECREASING_RUNTIME"}
    if value.lower() in short:
        return short[value.lower()]
    upper = value.upper()
    if upper in ("ID", "INCREASING_RUNTIME", "DECREASING_RUNTIME"):
        return upper
    raise SparkswordError(
        f"Illegal type='{value}'. Supported type values: ID, INCREASING_RUNTIME, DECREASING_RUNTIME"
    )


# ---- tasks ------------------------------------------------------------------------------------------------
@dataclass
class _Task:
    """One task attempt as Spark's TaskDataWrapper holds it (metrics as reported, not negated)."""

    row: dict[str, Any]
    duration: int  # ms; for a running task, time since launch at the log's last update (as Spark does)

    @property
    def task_id(self) -> int:
        return self.row["task_id"]

    @property
    def status(self) -> str:
        return self.row["status"]

    @property
    def outcome(self) -> str:
        """running, succeeded, killed or failed: how Spark's listener counts the task's end (by its reason)."""
        if self.status == "RUNNING":
            return "running"
        reason = (self.row["end_reason_detail"] or {}).get("Reason")
        if reason == "Success":
            return "succeeded"
        return "killed" if reason in ("TaskKilled", "TaskCommitDenied") else "failed"

    @property
    def has_metrics(self) -> bool:
        return bool(self.row["has_metrics"])

    @property
    def shows_metrics(self) -> bool:
        """Whether the History Server shows metrics for the task (and ranks its scheduler delay).

        A failed task whose end carries no metrics (ExecutorLostFailure, FetchFailed) is shown with metrics of
        0, so its scheduler delay is its duration, while its summed-metric indices stay empty: observed on two
        real logs (our executor_lost, and an external YARN log with lost executors and fetch failures).
        """
        return self.has_metrics or self.status == "FAILED"

    @property
    def result_fetch_start(self) -> int:
        # Spark keeps the getting-result time only while it is set (TaskInfo.gettingResult)
        value = self.row["getting_result_ms"] or 0
        return value if value != 0 else -1

    def metric(self, column: str) -> int:
        return int(self.row[column] or 0)

    def index_value(self, column: str) -> int:
        """The value Spark's metric index holds: -1 without metrics, -(v)-1 for tasks that did not succeed."""
        if not self.has_metrics:
            return -1
        value = self.metric(column)
        return value if self.status == "SUCCESS" else -value - 1

    def getting_result_time(self) -> int:
        return _getting_result_time(self.row["launch_ms"], self.result_fetch_start, self.duration)

    def scheduler_delay(self) -> int:
        """AppStatusUtils.schedulerDelay over the wrapper's fields (what the taskSummary index sorts by)."""
        return max(
            0,
            self.duration
            - self.metric("executor_run_time_ms")
            - self.metric("executor_deserialize_time_ms")
            - self.metric("result_serialization_time_ms")
            - self.getting_result_time(),
        )


def _getting_result_time(launch_ms: int, fetch_start: int, duration: int) -> int:
    if fetch_start > 0:
        if duration > 0:
            return launch_ms + duration - fetch_start
        return _now_ms() - fetch_start
    return 0


def _now_ms() -> int:
    import time

    return int(time.time() * 1000)


def _last_update_ms(log: EventLog) -> int:
    """The attempt's lastUpdated: Spark measures still-running tasks up to this moment.

    The History Server gives its listener the attempt's lastUpdated (SPARK-21922): the modification time of
    the log's last event file when the log has ApplicationEnd, and the moment it listed the log (now, for a
    query asked now) when it has none.
    """
    rows = log.sql("SELECT source_paths, has_application_end FROM applications").fetchall()
    if rows and not rows[0][1]:
        return _now_ms()
    paths = rows[0][0] if rows and rows[0][0] else []
    try:
        return int(os.stat(paths[-1]).st_mtime * 1000)
    except (IndexError, OSError):
        return _now_ms()


def _load_tasks(log: EventLog, stage_id: int, attempt: int, *, for_json: bool = False) -> list[_Task]:
    """The task attempts of one stage attempt, by task id; `for_json` adds what TaskData shows besides the
    metrics: the accumulator updates (without SQL metrics, which Spark's status store drops) and the log
    links of the executor (the driver's come from ApplicationStart)."""
    cols = ", ".join(f't."{c}"' for c in _TASK_COLUMNS)
    extra, joins = "", ""
    if for_json:
        extra = """, a.accumulators,
          CASE WHEN t.executor_id = 'driver' AND e.executor_id IS NOT NULL AND app.driver_logs IS NOT NULL
               THEN app.driver_logs ELSE e.log_urls END AS executor_logs"""
        joins = """
        LEFT JOIN (
          SELECT task_id, list(struct_pack(id := accumulator_id, name := name, "update" := "update",
                                           value := value) ORDER BY pos) AS accumulators
          FROM task_accumulables
          WHERE stage_id = $stage AND stage_attempt_id = $attempt AND metadata IS DISTINCT FROM 'sql'
          GROUP BY task_id
        ) a ON a.task_id = t.task_id
        LEFT JOIN executors e ON e.executor_id = t.executor_id
        CROSS JOIN (SELECT driver_logs FROM applications LIMIT 1) app"""
    rows = log.rows(
        f"""SELECT {cols}{extra} FROM tasks t {joins}
            WHERE t.stage_id = $stage AND t.stage_attempt_id = $attempt ORDER BY t.task_id""",
        {"stage": stage_id, "attempt": attempt},
    )
    last_update: int | None = None
    tasks = []
    for row in rows:
        if row["finish_ms"]:
            duration = row["finish_ms"] - row["launch_ms"]
        else:
            if last_update is None:
                last_update = _last_update_ms(log)
            duration = last_update - row["launch_ms"]
        tasks.append(_Task(row=row, duration=duration))
    return tasks


def _accumulable(acc_id: int, name: str | None, update: str | None, value: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": acc_id}
    if name is not None:
        item["name"] = name
    if update is not None:
        item["update"] = update
    if value is not None:
        item["value"] = value
    return item


def _task_metrics_json(task: _Task) -> dict[str, Any]:
    m = task.metric
    return {
        "executorDeserializeTime": m("executor_deserialize_time_ms"),
        "executorDeserializeCpuTime": m("executor_deserialize_cpu_ns"),
        "executorRunTime": m("executor_run_time_ms"),
        "executorCpuTime": m("executor_cpu_ns"),
        "resultSize": m("result_size_bytes"),
        "jvmGcTime": m("jvm_gc_time_ms"),
        "resultSerializationTime": m("result_serialization_time_ms"),
        "memoryBytesSpilled": m("memory_bytes_spilled"),
        "diskBytesSpilled": m("disk_bytes_spilled"),
        "peakExecutionMemory": m("peak_execution_memory"),
        "inputMetrics": {"bytesRead": m("input_bytes"), "recordsRead": m("input_records")},
        "outputMetrics": {"bytesWritten": m("output_bytes"), "recordsWritten": m("output_records")},
        "shuffleReadMetrics": {
            "remoteBlocksFetched": m("shuffle_remote_blocks_fetched"),
            "localBlocksFetched": m("shuffle_local_blocks_fetched"),
            "fetchWaitTime": m("shuffle_fetch_wait_time_ms"),
            "remoteBytesRead": m("shuffle_remote_bytes_read"),
            "remoteBytesReadToDisk": m("shuffle_remote_bytes_read_to_disk"),
            "localBytesRead": m("shuffle_local_bytes_read"),
            "recordsRead": m("shuffle_records_read"),
            "remoteReqsDuration": m("shuffle_remote_reqs_duration_ms"),
            "shufflePushReadMetrics": {name: m(col) for name, col in _PUSH_READ_FIELDS},
        },
        "shuffleWriteMetrics": {
            "bytesWritten": m("shuffle_write_bytes"),
            "writeTime": m("shuffle_write_time_ns"),
            "recordsWritten": m("shuffle_write_records"),
        },
    }


def _task_json(task: _Task) -> dict[str, Any]:
    """One TaskData as AppStatusStore.constructTaskDataList returns it."""
    row = task.row
    out: dict[str, Any] = {
        "taskId": row["task_id"],
        "index": row["index"],
        "attempt": row["attempt"],
        "partitionId": row["partition_id"],
        "launchTime": spark_date(row["launch_ms"]),
    }
    fetch_start = task.result_fetch_start
    if fetch_start > 0:
        out["resultFetchStart"] = spark_date(fetch_start)
    if task.duration > 0:
        out["duration"] = task.duration
    out.update({
        "executorId": row["executor_id"],
        "host": row["host"],
        "status": row["status"],
        "taskLocality": row["locality"],
        "speculative": bool(row["speculative"]),
        "accumulatorUpdates": [
            _accumulable(a["id"], a["name"], a["update"], a["value"]) for a in row.get("accumulators") or []
        ],
    })
    error = _error_message(row["end_reason_detail"])
    if error is not None:
        out["errorMessage"] = error
    if task.shows_metrics:
        out["taskMetrics"] = _task_metrics_json(task)
    out["executorLogs"] = json.loads(row["executor_logs"]) if row.get("executor_logs") else {}
    # The API's scheduler delay needs a known duration and metrics; a running task shows 0
    if task.shows_metrics and task.duration > 0:
        out["schedulerDelay"] = task.scheduler_delay()
    else:
        out["schedulerDelay"] = 0
    out["gettingResultTime"] = _getting_result_time(
        row["launch_ms"], fetch_start, task.duration if task.duration > 0 else -1
    )
    return out


# ---- error messages (TaskEndReason.toErrorString) ---------------------------------------------------------
def _stack_frame(frame: dict[str, Any]) -> str:
    """java.lang.StackTraceElement.toString for a frame rebuilt from the log (no module or class loader)."""
    line = frame.get("Line Number")
    line = -1 if line is None else int(line)
    file_name = frame.get("File Name")
    where = (
        "Native Method" if line == -2
        else f"{file_name}:{line}" if file_name is not None and line >= 0
        else file_name if file_name is not None
        else "Unknown Source"
    )
    return f"{frame.get('Declaring Class')}.{frame.get('Method Name')}({where})"


def _json_value(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _error_message(reason: dict[str, Any] | None) -> str | None:
    """The task's errorMessage: what Spark's listener stores for each Task End Reason."""
    if not reason:
        return None
    kind = reason.get("Reason")
    if kind == "Success" or kind is None:
        return None
    if kind == "TaskKilled":
        return reason.get("Kill Reason") or "unknown reason"
    if kind == "ExceptionFailure":
        full = reason.get("Full Stack Trace")
        if full is not None:
            return full
        frames = _json_value(reason.get("Stack Trace")) or []
        stack = "\n".join("        " + _stack_frame(f) for f in frames)
        return f"{reason.get('Class Name')}: {reason.get('Description') or ''}\n{stack}"
    if kind == "FetchFailed":
        address = _json_value(reason.get("Block Manager Address"))
        where = (
            f"BlockManagerId({address.get('Executor ID')}, {address.get('Host')}, {address.get('Port')}, None)"
            if isinstance(address, dict) else "null"
        )
        map_index = reason.get("Map Index")
        map_index_text = "Unknown" if map_index is None or map_index == -(2**31) else str(map_index)
        return (
            f"FetchFailed({where}, shuffleId={reason.get('Shuffle ID')}, mapIndex={map_index_text}, "
            f"mapId={reason.get('Map ID')}, reduceId={reason.get('Reduce ID')}, message=\n{reason.get('Message')}\n)"
        )
    if kind == "ExecutorLostFailure":
        caused_by_app = reason.get("Exit Caused By App") is not False  # JsonProtocol's default is true
        behaviour = "caused by one of the running tasks" if caused_by_app else "unrelated to the running tasks"
        loss = reason.get("Loss Reason")
        return f"ExecutorLostFailure (executor {reason.get('Executor ID')} exited {behaviour})" + (
            f" Reason: {loss}" if loss is not None else ""
        )
    if kind == "TaskCommitDenied":
        return (
            f"TaskCommitDenied (Driver denied task commit) for job: {reason.get('Job ID')}, "
            f"partition: {reason.get('Partition ID')}, attemptNumber: {reason.get('Attempt Number')}"
        )
    if kind == "Resubmitted":
        return "Resubmitted (resubmitted due to lost executor)"
    if kind == "TaskResultLost":
        return "TaskResultLost (result lost from block manager)"
    return "UnknownReason"


# ---- quantiles (AppStatusStore.taskSummary) ---------------------------------------------------------------
def _pick(values: list[int], indices: list[int]) -> list[float]:
    """Spark scans a metric's index from 0 upwards and takes the values at the quantile positions."""
    ordered = sorted(v for v in values if v >= 0)
    # an index shorter than the task count (Spark counts successful tasks) reads past its end: NaN
    return [float(ordered[i]) if i < len(ordered) else math.nan for i in indices]


def _task_summary(tasks: list[_Task], quantiles: list[float]) -> dict[str, Any] | None:
    """TaskMetricDistributions over the successful tasks, or None when no task reported metrics yet."""
    # Spark stores the metrics of tasks that did not succeed negated (-v-1) and those of tasks without
    # metrics as -1, and scans each metric index from 0: only successful tasks with metrics take part.
    succeeded = [t.row for t in tasks if t.has_metrics and t.status == "SUCCESS"]
    count = sum(1 for row in succeeded if (row["executor_run_time_ms"] or 0) >= 0)
    if count <= 0:
        return None
    idx = quantile_indices(quantiles, count)

    def dist(column: str) -> list[float]:
        return _pick([row[column] or 0 for row in succeeded], idx)

    with_metrics = [t for t in tasks if t.has_metrics]

    def abs_sum(*columns: str) -> list[float]:
        # These indices hold the real (not negated) values, so tasks that failed take part too
        return _pick([sum(t.row[c] or 0 for c in columns) for t in with_metrics], idx)

    return {
        "quantiles": quantiles,
        "duration": _pick([t.duration for t in tasks], idx),
        "executorDeserializeTime": dist("executor_deserialize_time_ms"),
        "executorDeserializeCpuTime": dist("executor_deserialize_cpu_ns"),
        "executorRunTime": dist("executor_run_time_ms"),
        "executorCpuTime": dist("executor_cpu_ns"),
        "resultSize": dist("result_size_bytes"),
        "jvmGcTime": dist("jvm_gc_time_ms"),
        "resultSerializationTime": dist("result_serialization_time_ms"),
        "gettingResultTime": _pick([t.getting_result_time() for t in with_metrics], idx),
        "schedulerDelay": _pick([t.scheduler_delay() for t in tasks if t.shows_metrics], idx),
        "peakExecutionMemory": dist("peak_execution_memory"),
        "memoryBytesSpilled": dist("memory_bytes_spilled"),
        "diskBytesSpilled": dist("disk_bytes_spilled"),
        "inputMetrics": {"bytesRead": dist("input_bytes"), "recordsRead": dist("input_records")},
        "outputMetrics": {"bytesWritten": dist("output_bytes"), "recordsWritten": dist("output_records")},
        "shuffleReadMetrics": {
            "readBytes": abs_sum("shuffle_local_bytes_read", "shuffle_remote_bytes_read"),
            "readRecords": dist("shuffle_records_read"),
            "remoteBlocksFetched": dist("shuffle_remote_blocks_fetched"),
            "localBlocksFetched": dist("shuffle_local_blocks_fetched"),
            "fetchWaitTime": dist("shuffle_fetch_wait_time_ms"),
            "remoteBytesRead": dist("shuffle_remote_bytes_read"),
            "remoteBytesReadToDisk": dist("shuffle_remote_bytes_read_to_disk"),
            "totalBlocksFetched": abs_sum("shuffle_local_blocks_fetched", "shuffle_remote_blocks_fetched"),
            "remoteReqsDuration": dist("shuffle_remote_reqs_duration_ms"),
            "shufflePushReadMetricsDist": {name: dist(col) for name, col in _PUSH_READ_FIELDS},
        },
        "shuffleWriteMetrics": {
            "writeBytes": dist("shuffle_write_bytes"),
            "writeRecords": dist("shuffle_write_records"),
            "writeTime": dist("shuffle_write_time_ns"),
        },
    }


# ---- stages -----------------------------------------------------------------------------------------------
def _peaks_sql(keys: str, where: str) -> str:
    """SQL of the peak executor metrics per `keys`, over the task ends and the executors' stage peaks
    (SparkListenerStageExecutorMetrics) matching `where`; one list column `peaks` in Spark's metric order."""
    per_source = ", ".join(f'max(COALESCE(executor_metrics."{n}", 0)) AS "{n}"' for n in EXECUTOR_METRIC_NAMES)
    overall = ", ".join(f'max("{n}")' for n in EXECUTOR_METRIC_NAMES)
    return f"""
        SELECT {keys}, [{overall}] AS peaks FROM (
          SELECT {keys}, {per_source} FROM tasks WHERE {where} AND status <> 'RUNNING' GROUP BY ALL
          UNION ALL
          SELECT {keys}, {per_source} FROM stage_executor_metrics WHERE {where} GROUP BY ALL
        ) GROUP BY ALL"""


def _peak_metrics(values: tuple | list | None) -> dict[str, int] | None:
    """Spark's ExecutorMetrics start unset and only an update sets them; then no metric is below 0."""
    if values is None:
        return None
    return dict(zip(EXECUTOR_METRIC_NAMES, (max(0, v or 0) for v in values)))


# Spark's listener counts a task end by its reason, not by the task's status: a commit denial is a kill.
_ENDED = "status <> 'RUNNING'"
_COMPLETED = "end_reason = 'Success'"
_KILLED = "end_reason IN ('TaskKilled', 'TaskCommitDenied')"


def _stage_rows(log: EventLog, where: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Stage attempts with what StageData adds to the `stages` columns, newest stage first.

    `peaks`: the peak executor metrics over the task ends and the executors' stage peaks (NULL when
    there are none), `kill_reasons`: the end reasons of the killed tasks, `accumulators`: the stage's
    accumulables.
    """
    return log.rows(
        f"""
        WITH chosen AS (SELECT * FROM stages WHERE {where}),
        peaks AS ({_peaks_sql("stage_id, stage_attempt_id", where)}),
        ends AS (
          SELECT stage_id, stage_attempt_id,
                 count(*) FILTER (WHERE {_ENDED} AND {_COMPLETED}) AS completed_ends,
                 count(*) FILTER (WHERE {_ENDED} AND {_KILLED}) AS killed_ends,
                 -- a task resubmitted after its executor was lost ended once more, as a failure
                 count(*) FILTER (WHERE {_ENDED} AND NOT {_COMPLETED} AND NOT {_KILLED}) + count(resubmitted_ord)
                   AS failed_ends,
                 list(end_reason_detail ORDER BY event_ord) FILTER (WHERE {_ENDED} AND {_KILLED}) AS kill_reasons
          FROM tasks WHERE {where} GROUP BY ALL
        ),
        accs AS (
          SELECT stage_id, stage_attempt_id,
                 list(struct_pack(id := accumulator_id, name := name, value := value, internal := internal,
                                  metadata := metadata) ORDER BY pos) AS accumulators
          FROM stage_accumulables WHERE {where} GROUP BY ALL
        )
        SELECT c.*, p.peaks, COALESCE(k.completed_ends, 0) AS completed_ends,
               COALESCE(k.killed_ends, 0) AS killed_ends, COALESCE(k.failed_ends, 0) AS failed_ends,
               k.kill_reasons, a.accumulators
        FROM chosen c
        LEFT JOIN peaks p USING (stage_id, stage_attempt_id)
        LEFT JOIN ends k USING (stage_id, stage_attempt_id)
        LEFT JOIN accs a USING (stage_id, stage_attempt_id)
        ORDER BY stage_id DESC, stage_attempt_id DESC
        """,
        params,
    )


def _stage_accumulators(accumulables: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The stage's accumulables in the order Spark's StageInfo.accumulables (a Scala HashMap) yields them,
    without internal and SQL ones, which Spark's status store drops."""
    unique: dict[int, dict[str, Any]] = {}
    for acc in accumulables or []:
        unique[acc["id"]] = acc  # a later entry with the same id replaces the earlier one
    return [
        _accumulable(acc_id, unique[acc_id]["name"], None, unique[acc_id]["value"])
        for acc_id in _scala_hash_map_order(list(unique))
        if not unique[acc_id]["internal"] and unique[acc_id]["metadata"] != "sql"
    ]


def _killed_summary(reasons: list[dict[str, Any]] | None) -> dict[str, int]:
    """Kill reason -> number of tasks (TaskKilled reasons and task commit denials), as Spark counts them."""
    summary: dict[str, int] = {}
    for reason in reasons or []:
        text = _error_message(reason) or "unknown reason"
        summary[text] = summary.get(text, 0) + 1
    return summary


def _scala_hash_map_order(keys: list[int]) -> list[int]:
    """Iteration order of a Scala 2.13 mutable.HashMap[Long, _] after inserting `keys` (distinct) in order:
    by bucket (improved hash masked by the table size), then by hash within a bucket."""
    size = 16  # the default table; it doubles when an insert would reach 3/4 of it
    for count in range(len(keys)):
        if count + 1 >= int(size * 0.75):
            size *= 2

    def improved_hash(key: int) -> int:
        # Long.## is the Int value when the Long fits, else (l ^ (l >>> 32)).toInt; then h ^ (h >>> 16)
        if -(2**31) <= key < 2**31:
            h = key & 0xFFFFFFFF
        else:
            unsigned = key & 0xFFFFFFFFFFFFFFFF
            h = (unsigned ^ (unsigned >> 32)) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & 0xFFFFFFFF

    def signed(h: int) -> int:
        return h - 2**32 if h >= 2**31 else h

    return sorted(keys, key=lambda k: (improved_hash(k) & (size - 1), signed(improved_hash(k))))


def _stage_json(row: dict[str, Any]) -> dict[str, Any]:
    """One StageData without details, from a `_stage_rows` row (LiveStage.toApi)."""
    out: dict[str, Any] = {
        "status": row["status"],
        "stageId": row["stage_id"],
        "attemptId": row["stage_attempt_id"],
        "numTasks": row["num_tasks"],
        "numActiveTasks": row["num_active_tasks"],
        "numCompleteTasks": row["completed_ends"],
        "numFailedTasks": row["failed_ends"],
        "numKilledTasks": row["killed_ends"],
        "numCompletedIndices": row["num_completed_indices"],
    }
    if row["submitted_ms"] is not None:
        out["submissionTime"] = spark_date(row["submitted_ms"])
    if row["first_task_launched_ms"] is not None:
        out["firstTaskLaunchedTime"] = spark_date(row["first_task_launched_ms"])
    if row["completed_ms"] is not None:
        out["completionTime"] = spark_date(row["completed_ms"])
    if row["failure_reason"] is not None:
        out["failureReason"] = row["failure_reason"]
    for field, column in _STAGE_METRIC_FIELDS:
        out[field] = int(row[column] or 0)
    out["shuffleReadBytes"] = int(row["shuffle_read_bytes"] or 0)
    out["name"] = row["name"]
    if row["description"] is not None:
        out["description"] = row["description"]
    out["details"] = row["details"] or ""
    out["schedulingPool"] = row["scheduling_pool"] or "default"
    out["rddIds"] = list(row["rdd_ids"] or [])
    out["accumulatorUpdates"] = _stage_accumulators(row["accumulators"])
    out["killedTasksSummary"] = _killed_summary(row["kill_reasons"])
    out["resourceProfileId"] = row["resource_profile_id"]
    peaks = _peak_metrics(row["peaks"])
    if peaks is not None:
        out["peakExecutorMetrics"] = peaks
    out["isShufflePushEnabled"] = bool(row.get("shuffle_push_enabled") or False)
    out["shuffleMergersCount"] = int(row.get("shuffle_mergers_count") or 0)
    return out


def _stages(log: EventLog, where: str = "true", params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Stage attempts as StageData (no details), newest stage first, as the History Server lists them."""
    return [_stage_json(row) for row in _stage_rows(log, where, params or {})]


def _with_details(
    log: EventLog, stage: dict[str, Any], *, details: bool, task_statuses: list[str], with_summaries: bool,
    quantiles: list[float],
) -> dict[str, Any]:
    """AppStatusStore.newStageData: add tasks, executor summaries and distributions on request."""
    if not details and not with_summaries:
        return stage
    stage_id, attempt = stage["stageId"], stage["attemptId"]
    tasks = _load_tasks(log, stage_id, attempt, for_json=details)
    if details:
        shown = [t for t in tasks if not task_statuses or t.status in task_statuses]
        stage["tasks"] = {str(t.task_id): _task_json(t) for t in reversed(shown)}
    summaries = _executor_stage_summaries(log, stage_id, attempt, tasks) if details or with_summaries else {}
    if details:
        stage["executorSummary"] = summaries
        speculation = _speculation_summary(tasks)
        if speculation is not None:
            stage["speculationSummary"] = speculation
    if with_summaries:
        distribution = _task_summary(tasks, quantiles)
        if distribution is not None:
            stage["taskMetricsDistributions"] = distribution
        executor_distribution = _executor_metrics_distributions(summaries, quantiles)
        if executor_distribution is not None:
            stage["executorMetricsDistributions"] = executor_distribution
    return stage


def _speculation_summary(tasks: list[_Task]) -> dict[str, int] | None:
    """Speculative task counts; Spark stores them only for stages that launched a speculative task."""
    outcomes = [t.outcome for t in tasks if t.row["speculative"]]
    if not outcomes:
        return None
    return {
        "numTasks": len(outcomes),
        "numActiveTasks": outcomes.count("running"),
        "numCompletedTasks": outcomes.count("succeeded"),
        "numFailedTasks": outcomes.count("failed"),
        "numKilledTasks": outcomes.count("killed"),
    }


def _executor_stage_summaries(
    log: EventLog, stage_id: int, attempt: int, tasks: list[_Task]
) -> dict[str, dict[str, Any]]:
    """ExecutorStageSummary per executor that ran a task of the stage attempt, reported its peaks, or was
    excluded for it."""
    params = {"stage": stage_id, "attempt": attempt}
    where = "stage_id = $stage AND stage_attempt_id = $attempt"
    peaks = {
        executor_id: _peak_metrics(values)
        for executor_id, values in log.sql(_peaks_sql("executor_id", where), params=params).fetchall()
    }
    excluded = _excluded_executors(log, stage_id, attempt)

    summaries: dict[str, dict[str, Any]] = {}

    def summary(executor_id: str) -> dict[str, Any]:
        if executor_id not in summaries:
            summaries[executor_id] = {
                "taskTime": 0, "failedTasks": 0, "succeededTasks": 0, "killedTasks": 0,
                "inputBytes": 0, "inputRecords": 0, "outputBytes": 0, "outputRecords": 0,
                "shuffleRead": 0, "shuffleReadRecords": 0, "shuffleWrite": 0, "shuffleWriteRecords": 0,
                "memoryBytesSpilled": 0, "diskBytesSpilled": 0,
            }
        return summaries[executor_id]

    for task in tasks:
        if task.outcome == "running":
            continue
        s = summary(task.row["executor_id"])
        s["taskTime"] += task.duration
        s[f"{task.outcome}Tasks"] += 1
        if task.has_metrics:
            m = task.metric
            s["inputBytes"] += m("input_bytes")
            s["inputRecords"] += m("input_records")
            s["outputBytes"] += m("output_bytes")
            s["outputRecords"] += m("output_records")
            s["shuffleRead"] += m("shuffle_remote_bytes_read") + m("shuffle_local_bytes_read")
            s["shuffleReadRecords"] += m("shuffle_records_read")
            s["shuffleWrite"] += m("shuffle_write_bytes")
            s["shuffleWriteRecords"] += m("shuffle_write_records")
            s["memoryBytesSpilled"] += m("memory_bytes_spilled")
            s["diskBytesSpilled"] += m("disk_bytes_spilled")
    for executor_id in peaks:
        summary(executor_id)
    for executor_id in excluded:
        summary(executor_id)
    for executor_id, s in summaries.items():
        s["isBlacklistedForStage"] = executor_id in excluded
        s["isExcludedForStage"] = executor_id in excluded
        if executor_id in peaks:
            s["peakMemoryMetrics"] = peaks[executor_id]
    return summaries


def _excluded_executors(log: EventLog, stage_id: int, attempt: int) -> set[str]:
    """Executors excluded for the stage attempt: named, or (a node exclusion) every executor then alive on
    that host except the driver, as AppStatusListener marks them."""
    rows = log.sql(
        """SELECT x.executor_id, e.executor_id FROM exclusions x
           LEFT JOIN executors e ON starts_with(x.kind, 'Node') AND e.host = x.host AND e.executor_id <> 'driver'
             AND e.added_ms <= x.time_ms AND (e.removed_ms IS NULL OR e.removed_ms > x.time_ms)
           WHERE x.stage_id = $stage AND x.stage_attempt_id = $attempt""",
        params={"stage": stage_id, "attempt": attempt},
    ).fetchall()
    return {executor for pair in rows for executor in pair if executor is not None}


def _executor_metrics_distributions(
    summaries: dict[str, dict[str, Any]], quantiles: list[float]
) -> dict[str, Any] | None:
    """AppStatusStore.stageExecutorSummary: quantiles over the executors' stage summaries."""
    if not summaries:
        return None
    values = list(summaries.values())
    idx = quantile_indices(quantiles, len(values))

    def dist(field: str) -> list[float]:
        ordered = sorted(float(v[field]) for v in values)
        return [ordered[i] for i in idx]

    fields = (
        "taskTime", "failedTasks", "succeededTasks", "killedTasks", "inputBytes", "inputRecords", "outputBytes",
        "outputRecords", "shuffleRead", "shuffleReadRecords", "shuffleWrite", "shuffleWriteRecords",
        "memoryBytesSpilled", "diskBytesSpilled",
    )
    out: dict[str, Any] = {"quantiles": quantiles, **{f: dist(f) for f in fields}}
    peaks = [v["peakMemoryMetrics"] for v in values if "peakMemoryMetrics" in v]
    peak_idx = quantile_indices(quantiles, len(peaks))
    out["peakMemoryMetrics"] = {
        name: [float(sorted(p[name] for p in peaks)[i]) for i in peak_idx] if peaks else []
        for name in EXECUTOR_METRIC_NAMES
    }
    return out


# ---- the REST resources -----------------------------------------------------------------------------------
def _detail_options(query: Query, details_default: bool) -> dict[str, Any]:
    return {
        "details": _flag(query, "details", details_default),
        "task_statuses": _enum_values(query, "taskStatus", _TASK_STATUSES),
        "with_summaries": _flag(query, "withSummaries", False),
        "quantiles": _quantiles(query, _DEFAULT_STAGE_QUANTILES),
    }


def _has_tasks_in(stage: dict[str, Any], status: str) -> bool:
    """Whether the stage attempt counts a task in `status` (UNKNOWN: tasks not yet launched)."""
    counted = {
        "FAILED": stage["numFailedTasks"], "KILLED": stage["numKilledTasks"],
        "RUNNING": stage["numActiveTasks"], "SUCCESS": stage["numCompleteTasks"],
    }
    if status == "UNKNOWN":
        return stage["numTasks"] - sum(counted.values()) > 0
    return counted[status] > 0


def stage_list(log: EventLog, query: Query) -> list[dict[str, Any]]:
    """`stages`: every stage attempt, newest first; `status=` filters, `details`/`withSummaries` add more."""
    statuses = _enum_values(query, "status", _STAGE_STATUSES)
    options = _detail_options(query, details_default=False)
    stages = [s for s in _stages(log) if not statuses or s["status"] in statuses]
    wanted = options["task_statuses"]
    if options["details"] and wanted:
        # with details, a task-status filter also drops the stages that have no task in that state
        stages = [s for s in stages if any(_has_tasks_in(s, status) for status in wanted)]
    return [_with_details(log, s, **options) for s in stages]


def stage_attempts(log: EventLog, query: Query, stage_id: int) -> list[dict[str, Any]]:
    """`stages/{id}`: the attempts of one stage (with task details unless `details=false`)."""
    options = _detail_options(query, details_default=True)
    attempts = sorted(
        _stages(log, "stage_id = $stage", {"stage": stage_id}), key=lambda s: s["attemptId"]
    )
    if not attempts:
        raise SparkswordError(f"unknown stage: {stage_id}")
    return [_with_details(log, s, **options) for s in attempts]


def one_stage_attempt(log: EventLog, query: Query, stage_id: int, attempt: int) -> dict[str, Any]:
    """`stages/{id}/{attempt}`: one stage attempt (with task details unless `details=false`)."""
    options = _detail_options(query, details_default=True)
    found = _stages(log, "stage_id = $stage AND stage_attempt_id = $attempt", {"stage": stage_id, "attempt": attempt})
    if not found:
        _raise_unknown_attempt(log, stage_id)
    return _with_details(log, found[0], **options)


def _raise_unknown_attempt(log: EventLog, stage_id: int) -> None:
    attempts = [
        r[0] for r in log.sql(
            "SELECT stage_attempt_id FROM stages WHERE stage_id = $stage ORDER BY 1", params={"stage": stage_id}
        ).fetchall()
    ]
    if attempts:
        raise SparkswordError(
            f"unknown attempt for stage {stage_id}.  Found attempts: [{','.join(map(str, attempts))}]"
        )
    raise SparkswordError(f"unknown stage: {stage_id}")


def task_summary(log: EventLog, query: Query, stage_id: int, attempt: int) -> dict[str, Any]:
    """`taskSummary`: metric quantiles over the successful tasks (default quantiles 0.05,0.25,0.5,0.75,0.95)."""
    quantiles = _quantiles(query, _DEFAULT_SUMMARY_QUANTILES)
    summary = _task_summary(_load_tasks(log, stage_id, attempt), quantiles)
    if summary is None:
        raise SparkswordError(f"No tasks reported metrics for {stage_id} / {attempt} yet.")
    return summary


def task_list(log: EventLog, query: Query, stage_id: int, attempt: int) -> list[dict[str, Any]]:
    """`taskList`: tasks of a stage attempt; `offset`, `length` (default 20), `sortBy`, `status` filters."""
    offset = _int_param(query, "offset", 0)
    length = _int_param(query, "length", 20)
    sorting = _task_sorting(query)
    statuses = _enum_values(query, "status", _TASK_STATUSES)
    tasks = _load_tasks(log, stage_id, attempt, for_json=True)
    if sorting != "ID":
        # Spark sorts by its run-time index (negated for tasks that did not succeed), ties by task id
        tasks.sort(key=lambda t: (t.index_value("executor_run_time_ms"), t.task_id))
        if sorting == "DECREASING_RUNTIME":
            tasks.reverse()
    if statuses:
        tasks = [t for t in tasks if t.status in statuses]
    page = tasks[max(offset, 0):max(offset, 0) + max(length, 0)]
    return [_task_json(t) for t in page]
