"""The History Server's SQL resources: `applications/{app}/sql` and `applications/{app}/sql/{executionId}`.

The answer follows Spark's SqlResource over what SQLAppStatusListener stores while it replays a log:

* status: RUNNING until the SQLExecutionEnd event; then FAILED when the end event carries a non-empty
  errorMessage (or, for logs older than that field, when one of the execution's jobs failed), else COMPLETED;
* nodes and edges: the final plan (the last AQE update, else the start event's plan) laid out as Spark's
  SparkPlanGraph (see `spark.plan_graph.spark_plan_graph`), each node showing the metrics that have a value;
* a metric's value is aggregated when the execution ends (or, for a log without the end, when the replay
  stops) from the accumulator updates of the tasks of the execution's stages plus the driver's updates, and
  printed as SQLMetrics/MetricUtils.stringValue prints it.

Which task updates count follows LiveStageMetrics: per stage, only the tasks of the attempt being tracked
(a JobStart that lists the stage restarts the tracking at attempt 0, a StageSubmitted of another attempt
switches to it); per task index, every attempt counts until one succeeds (the last update of an index is its
value), attempts that end after a success of their index are ignored; the "max (stageId: taskId)" is the
first task reaching the highest update, failed attempts included.
"""
from __future__ import annotations

import bisect
import json
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError
from ..spark.units import bytes_to_string, ms_duration_to_string
from .format import Query, spark_date

if TYPE_CHECKING:
    from ..store import EventLog

# SQLAppStatusListener keeps this many executions (spark.sql.ui.retainedExecutions, read from the History
# Server's own configuration, whose default it is); beyond it the oldest finished ones are dropped.
RETAINED_EXECUTIONS = 1000

SUM_METRIC = "sum"
SIZE_METRIC = "size"
TIMING_METRIC = "timing"
NS_TIMING_METRIC = "nsTiming"
AVERAGE_METRIC = "average"
_CUSTOM_METRIC_PREFIX = "v2Custom_"
_METRICS_NAME_SUFFIX = "(min, med, max (stageId: taskId))"
_WHOLE_STAGE_CODEGEN = "WholeStageCodegen"
_NO_END = 2**62  # event order of "the replay stopped" for executions without an end event


# ---- endpoints ------------------------------------------------------------------------------------------


def sql_list(log: EventLog, query: Query) -> list[dict[str, Any]]:
    """`applications/{app}/sql?details=&planDescription=&offset=&length=`: the SQL executions by id.

    As SqlResource: `length` <= 0 (the default) lists every execution and then ignores `offset`.
    """
    details = _flag(query, "details")
    plan_description = _flag(query, "planDescription")
    offset = _int_param(query, "offset", 0)
    length = _int_param(query, "length", -1)
    jobs = _sql_jobs(log)
    executions = _retained(_executions(log, jobs))
    if length > 0:
        executions = executions[max(offset, 0):max(offset, 0) + length]
    return _execution_data(log, executions, jobs, details, plan_description)


def one_sql(log: EventLog, query: Query, execution_id: int) -> dict[str, Any]:
    """`applications/{app}/sql/{executionId}?details=&planDescription=`: one SQL execution."""
    details = _flag(query, "details")
    plan_description = _flag(query, "planDescription")
    jobs = _sql_jobs(log)
    executions = [e for e in _retained(_executions(log, jobs)) if e.execution_id == execution_id]
    if not executions:
        raise SparkswordError(f"unknown query execution id: {execution_id}")
    return _execution_data(log, executions, jobs, details, plan_description)[0]


def _flag(query: Query, name: str) -> bool:
    """A JAX-RS boolean query parameter defaulting to true: only "true" (any case) is true."""
    values = query.get(name)
    if not values:
        return True
    return values[0].lower() == "true"


def _int_param(query: Query, name: str, default: int) -> int:
    """An int query parameter, parsed as Java's Integer.parseInt accepts it."""
    values = query.get(name)
    if not values or values[0] == "":
        return default
    if not re.fullmatch(r"[+-]?[0-9]+", values[0]) or not -(2**31) <= int(values[0]) < 2**31:
        raise SparkswordError(f"query parameter {name} is not an integer: {values[0]!r}")
    return int(values[0])


# ---- what the listener knows about each execution -------------------------------------------------------


@dataclass
class _Execution:
    execution_id: int
    root_execution_id: int
    query_id: str | None
    description: str | None
    plan_description: str | None
    modified_configs: dict[str, str]
    start_ms: int
    end_ms: int | None
    error_message: str | None
    start_ord: int
    end_ord: int | None
    jobs: list[_Job] = field(default_factory=list)

    @property
    def aggregation_ord(self) -> int:
        """When the listener fixed the metric values: at the end event, else when the replay stopped."""
        return self.end_ord if self.end_ord is not None else _NO_END


@dataclass
class _Job:
    job_id: int
    execution_id: int
    status: str
    start_ord: int
    stage_ids: list[int]
    num_tasks: dict[int, int]  # stage id -> its number of tasks in this job's JobStart


def _executions(log: EventLog, jobs: list[_Job]) -> list[_Execution]:
    """The SQL executions of the log, by id, with their jobs (of `jobs`, in JobStart order)."""
    rows = log.sql(
        "SELECT execution_id, root_execution_id, query_id, description, physical_plan_description, "
        "modified_configs, start_ms, end_ms, error_message, start_ord, end_ord "
        "FROM sql_executions ORDER BY execution_id"
    ).fetchall()
    executions: dict[int, _Execution] = {}
    for (execution_id, root_id, query_id, description, plan_description, configs, start_ms, end_ms, error,
         start_ord, end_ord) in rows:
        parsed = json.loads(configs) if configs else {}
        executions[execution_id] = _Execution(
            execution_id=execution_id,
            root_execution_id=root_id if root_id is not None else execution_id,
            query_id=query_id,
            description=description,
            plan_description=plan_description,
            modified_configs=parsed if isinstance(parsed, dict) else {},
            start_ms=start_ms,
            end_ms=end_ms,
            error_message=error,
            start_ord=start_ord,
            end_ord=end_ord,
        )
    for job in jobs:
        if job.execution_id in executions:
            executions[job.execution_id].jobs.append(job)
    return list(executions.values())


def _sql_jobs(log: EventLog) -> list[_Job]:
    """Every job run for a SQL execution, in JobStart order."""
    rows = log.sql(
        "SELECT job_id, sql_execution_id, status, start_ord, stage_ids, stage_infos FROM jobs "
        "WHERE sql_execution_id IS NOT NULL ORDER BY start_ord"
    ).fetchall()
    return [
        _Job(job_id, execution_id, status, start_ord, list(stage_ids or []),
             {info["stage_id"]: info["num_tasks"] or 0 for info in infos or []})
        for job_id, execution_id, status, start_ord, stage_ids, infos in rows
    ]


def _retained(executions: list[_Execution]) -> list[_Execution]:
    """Drop the oldest finished executions beyond spark.sql.ui.retainedExecutions, as the listener does."""
    excess = len(executions) - RETAINED_EXECUTIONS
    if excess <= 0:
        return executions
    finished = sorted((e for e in executions if e.end_ms is not None), key=lambda e: (e.end_ms, e.execution_id))
    dropped = {e.execution_id for e in finished[:excess]}
    return [e for e in executions if e.execution_id not in dropped]


def _status(execution: _Execution) -> str:
    """SQLExecutionUIData's status (as the SQL tab's AllExecutionsPage decides it)."""
    if execution.end_ms is None:
        return "RUNNING"
    if execution.error_message is not None:
        failed = execution.error_message != ""
    else:  # logs of Spark before 3.4 have no errorMessage: a failed job means a failed query
        failed = any(job.status == "FAILED" for job in execution.jobs)
    return "FAILED" if failed else "COMPLETED"


def _execution_data(
    log: EventLog, executions: list[_Execution], jobs: list[_Job], details: bool, plan_description: bool
) -> list[dict[str, Any]]:
    graphs = _plan_graphs(log, [e.execution_id for e in executions]) if details else {}
    values = _metric_values(log, executions, jobs) if details else {}
    now_ms = int(time.time() * 1000)
    answers = []
    for execution in executions:
        running: list[int] = []
        succeeded: list[int] = []
        failed: list[int] = []
        for job in _scala_map_order(execution.jobs, key=lambda j: j.job_id):
            {"RUNNING": running, "SUCCEEDED": succeeded, "FAILED": failed}.get(job.status, []).append(job.job_id)
        end_ms = execution.end_ms if execution.end_ms is not None else now_ms
        nodes, edges = graphs.get(execution.execution_id, ([], []))
        answer = {
            "id": execution.execution_id,
            "status": _status(execution),
            "description": execution.description,
            "planDescription": execution.plan_description if plan_description else "",
            "submissionTime": spark_date(execution.start_ms),
            "duration": end_ms - execution.start_ms,
            "runningJobIds": running,
            "successJobIds": succeeded,
            "failedJobIds": failed,
            "nodes": _printable_nodes(nodes, values.get(execution.execution_id, {})) if details else [],
            "edges": edges if details else [],
            "queryId": execution.query_id,
            "errorMessage": execution.error_message,
            "rootExecutionId": execution.root_execution_id,
            "modifiedConfigs": execution.modified_configs,
        }
        # the History Server's JSON leaves out fields without a value
        answers.append({k: v for k, v in answer.items() if v is not None})
    return answers


# ---- the plan graph -------------------------------------------------------------------------------------


@dataclass
class _Node:
    node_id: int
    name: str
    desc: str
    cluster_id: int | None
    metrics: list[tuple[int, str, str]] = field(default_factory=list)  # (accumulator id, name, type)


def _plan_graphs(
    log: EventLog, execution_ids: list[int]
) -> dict[int, tuple[list[_Node], list[dict[str, int]]]]:
    """execution id -> (graph nodes, edges in Spark's order) of its final plan."""
    if not execution_ids:
        return {}
    nodes: dict[tuple[int, int], _Node] = {}
    edges: dict[int, list[tuple[int, int, int]]] = {}
    for execution_id, node_id, name, desc, cluster_id, out_edges in log.sql(
        "SELECT execution_id, node_id, node_name, simple_string, codegen_cluster_id, out_edges "
        "FROM sql_plan_nodes WHERE list_contains($ids, execution_id) ORDER BY execution_id, node_id",
        {"ids": execution_ids},
    ).fetchall():
        nodes[(execution_id, node_id)] = _Node(node_id, name or "", desc or "", cluster_id)
        for edge in out_edges or []:
            edges.setdefault(execution_id, []).append((edge["edge_order"], node_id, edge["to_node_id"]))
    for execution_id, node_id, accumulator_id, name, metric_type in log.sql(
        "SELECT execution_id, node_id, accumulator_id, name, metric_type FROM sql_metrics "
        "WHERE list_contains($ids, execution_id) ORDER BY execution_id, node_id, metric_order",
        {"ids": execution_ids},
    ).fetchall():
        node = nodes.get((execution_id, node_id))
        if node is not None and accumulator_id is not None:
            node.metrics.append((accumulator_id, name or "", metric_type or ""))
    graphs: dict[int, tuple[list[_Node], list[dict[str, int]]]] = {}
    for (execution_id, _), node in nodes.items():
        graphs.setdefault(execution_id, ([], []))[0].append(node)
    for execution_id, listed in edges.items():
        graphs[execution_id][1].extend({"fromId": f, "toId": t} for _, f, t in sorted(listed))
    return graphs


def _java_trim(text: str) -> str:
    """String.trim: strips characters up to U+0020 (not Python's wider idea of whitespace)."""
    return text.strip("".join(chr(c) for c in range(0x21)))


def _printable_nodes(nodes: list[_Node], metric_values: dict[int, str]) -> list[dict[str, Any]]:
    """SqlResource.printableMetrics: every graph node, highest id first, with the metrics that have a value."""
    by_id = {node.node_id: node for node in nodes}
    printable = []
    for node in sorted(nodes, key=lambda n: n.node_id, reverse=True):
        metrics = []
        for accumulator_id, name, _ in node.metrics:
            value = metric_values.get(accumulator_id)
            if value is not None:
                metrics.append({"name": _java_trim(name), "value": value[1:] if value.startswith("\n") else value})
        entry: dict[str, Any] = {"nodeId": node.node_id, "nodeName": _java_trim(node.name)}
        cluster = by_id.get(node.cluster_id) if node.cluster_id is not None else None
        codegen_id = _whole_stage_codegen_id(cluster.name) if cluster is not None else None
        if codegen_id is not None:
            entry["wholeStageCodegenId"] = codegen_id
        entry["metrics"] = metrics
        entry["desc"] = node.desc
        printable.append(entry)
    return printable


def _whole_stage_codegen_id(cluster_name: str) -> int | None:
    """`WholeStageCodegen (3)` -> 3, as SqlResource.getWholeStageCodegenId (None when it does not parse)."""
    name = _java_trim(cluster_name)
    if not name.startswith(_WHOLE_STAGE_CODEGEN):
        return None
    inner = name[len(_WHOLE_STAGE_CODEGEN + " ("):len(name) - 1]
    return int(inner) if re.fullmatch(r"[+-]?[0-9]+", inner) else None


# ---- metric values --------------------------------------------------------------------------------------


@dataclass
class _StageWindow:
    """What LiveStageMetrics tracks for one stage of one execution when the execution's metrics are fixed."""

    execution_id: int
    stage_id: int
    attempt: int
    num_tasks: int
    after_ord: int  # the JobStart or StageSubmitted that started the tracking
    before_ord: int  # the aggregation


def _metric_values(log: EventLog, executions: list[_Execution], jobs: list[_Job]) -> dict[int, dict[int, str]]:
    """execution id -> {accumulator id: value string} as SQLAppStatusListener.aggregateMetrics makes it."""
    if not executions:
        return {}
    ids = [e.execution_id for e in executions]
    metric_types = _execution_metric_types(log, ids)
    windows = _stage_windows(log, executions, jobs)
    stage_values = _task_metric_values(log, windows, metric_types)
    driver_values = _driver_values(log, executions, metric_types)
    result: dict[int, dict[int, str]] = {}
    for execution in executions:
        types = metric_types.get(execution.execution_id, {})
        per_stage = stage_values.get(execution.execution_id, {})
        drivers = driver_values.get(execution.execution_id, {})
        stage_order = _scala_set_order(
            [s for job in execution.jobs if job.start_ord < execution.aggregation_ord for s in job.stage_ids]
        )
        values: dict[int, str] = {}
        for accumulator_id in set().union(*(per_stage.get(s, {}) for s in stage_order), drivers):
            metric_type = types.get(accumulator_id)
            if metric_type is None:
                continue
            all_values: list[int] = []
            best: tuple[int, int, int, int] | None = None  # (value, stage id, attempt, task id)
            for stage_id in stage_order:
                stage = per_stage.get(stage_id, {}).get(accumulator_id)
                if stage is None:
                    continue
                all_values.extend(stage.values)
                if stage.max_task is not None and (best is None or stage.max_value > best[0]):
                    best = (stage.max_value, stage_id, stage.attempt, stage.max_task)
            driver = drivers.get(accumulator_id, [])
            if best is not None and any(v > best[0] for v in driver):
                best = None  # the driver's value is the highest: shown as "(driver)"
            all_values.extend(driver)
            text = string_value(metric_type, all_values, best[1:] if best else None)
            if text is not None:
                values[accumulator_id] = text
        result[execution.execution_id] = values
    return result


def _execution_metric_types(log: EventLog, execution_ids: list[int]) -> dict[int, dict[int, str]]:
    """execution id -> {accumulator id: metric type} of its plan's metrics and its adaptive metric updates."""
    types: dict[int, dict[int, str]] = {}
    for execution_id, accumulator_id, metric_type in log.sql(
        "SELECT execution_id, accumulator_id, metric_type FROM sql_metrics WHERE list_contains($ids, execution_id) "
        "UNION ALL SELECT execution_id, accumulator_id, metric_type FROM sql_adaptive_metrics "
        "WHERE list_contains($ids, execution_id)",
        {"ids": execution_ids},
    ).fetchall():
        if accumulator_id is not None:
            types.setdefault(execution_id, {})[accumulator_id] = metric_type or ""
    return types


def _stage_windows(log: EventLog, executions: list[_Execution], jobs: list[_Job]) -> list[_StageWindow]:
    """Per execution and stage: the attempt and the event range whose task updates count.

    A JobStart of a SQL execution with metrics (re)creates the tracking of each of its stages at attempt 0,
    whichever execution the stage was tracked for before (so a stage's tasks that ran in an earlier job are
    forgotten); a StageSubmitted of another attempt replaces it. (Spark then keeps the updates of the
    accumulators of the execution whose JobStart created the tracking; here: of the execution asked about.)
    """
    with_metrics = {
        row[0] for row in log.sql(
            "SELECT execution_id FROM sql_metrics UNION SELECT execution_id FROM sql_adaptive_metrics"
        ).fetchall()
    }
    starts: dict[int, list[tuple[int, int]]] = {}  # stage id -> [(JobStart order, number of tasks)]
    for job in jobs:  # in JobStart order
        if job.execution_id in with_metrics:
            for stage_id, num_tasks in job.num_tasks.items():
                starts.setdefault(stage_id, []).append((job.start_ord, num_tasks))
    submissions: dict[int, list[tuple[int, int]]] = {}  # stage id -> [(StageSubmitted order, attempt)]
    for stage_id, attempt, ord_ in log.sql(
        "SELECT stage_id, stage_attempt_id, submitted_ord FROM stages WHERE submitted_ord IS NOT NULL "
        "ORDER BY submitted_ord"
    ).fetchall():
        submissions.setdefault(stage_id, []).append((ord_, attempt))
    windows = []
    for execution in executions:
        limit = execution.aggregation_ord
        stage_ids = {s for job in execution.jobs if job.start_ord < limit for s in job.stage_ids}
        for stage_id in sorted(stage_ids):
            stage_starts = starts.get(stage_id, [])
            last = bisect.bisect_left(stage_starts, (limit,)) - 1
            if last < 0:
                continue  # never tracked: its tasks' updates are dropped
            after, num_tasks = stage_starts[last]
            attempt = 0
            for ord_, submitted_attempt in submissions.get(stage_id, []):
                if after < ord_ < limit and submitted_attempt != attempt:
                    attempt, after = submitted_attempt, ord_
            windows.append(_StageWindow(execution.execution_id, stage_id, attempt, num_tasks, after, limit))
    return windows


@dataclass
class _StageMetric:
    attempt: int
    values: list[int]  # a sum metric: its total; else one value per task index (0 where no task reported)
    max_value: int
    max_task: int | None


def _task_metric_values(
    log: EventLog, windows: list[_StageWindow], metric_types: dict[int, dict[int, str]]
) -> dict[int, dict[int, dict[int, _StageMetric]]]:
    """execution id -> stage id -> accumulator id -> the values LiveStageMetrics holds."""
    accumulators = [(e, a, t == SUM_METRIC) for e, types in metric_types.items() for a, t in types.items()]
    if not windows or not accumulators:
        return {}
    rows = log.sql(
        """
        WITH win AS (
          SELECT unnest($w_exec) AS execution_id, unnest($w_stage) AS stage_id,
                 unnest($w_attempt) AS stage_attempt_id, unnest($w_tasks) AS num_tasks,
                 unnest($w_after) AS after_ord, unnest($w_before) AS before_ord
        ),
        accs AS (
          SELECT unnest($m_exec) AS execution_id, unnest($m_acc) AS accumulator_id, unnest($m_sum) AS is_sum
        ),
        considered AS (
          -- a task index stops counting once an attempt of it succeeded
          SELECT w.execution_id, t.stage_id, t."index" AS idx, t.task_id, t.event_ord
          FROM tasks t JOIN win w ON t.stage_id = w.stage_id AND t.stage_attempt_id = w.stage_attempt_id
            AND t.event_ord > w.after_ord AND t.event_ord < w.before_ord
          WHERE t.status <> 'RUNNING' AND t."index" >= 0 AND t."index" < w.num_tasks
          QUALIFY t.event_ord <= COALESCE(
            min(t.event_ord) FILTER (WHERE t.status = 'SUCCESS')
              OVER (PARTITION BY w.execution_id, t.stage_id, t."index"),
            t.event_ord)
        ),
        task_updates AS (
          SELECT c.execution_id, c.stage_id, c.idx, c.task_id, c.event_ord,
                 struct_pack(accumulator_id := ta.accumulator_id, "update" := TRY_CAST(ta."update" AS BIGINT)) AS a
          FROM considered c JOIN task_accumulables ta ON ta.task_id = c.task_id
        ),
        updates AS (
          SELECT u.execution_id, u.stage_id, u.idx, u.task_id, u.event_ord, u.a.accumulator_id, u.a."update" AS v,
                 m.is_sum
          FROM task_updates u
          JOIN accs m ON m.execution_id = u.execution_id AND m.accumulator_id = u.a.accumulator_id
          WHERE u.a."update" IS NOT NULL
        ),
        per_index AS (  -- a later attempt of an index overwrites its value
          SELECT execution_id, stage_id, accumulator_id, idx, any_value(is_sum) AS is_sum,
                 arg_max(v, event_ord) AS v
          FROM updates GROUP BY ALL
        ),
        highest AS (
          SELECT execution_id, stage_id, accumulator_id, max(v) AS max_v FROM updates GROUP BY ALL
        ),
        first_highest AS (  -- the first task to reach the highest value
          SELECT u.execution_id, u.stage_id, u.accumulator_id, any_value(h.max_v) AS max_v,
                 arg_min(u.task_id, u.event_ord) AS max_task
          FROM updates u JOIN highest h USING (execution_id, stage_id, accumulator_id)
          WHERE u.v = h.max_v GROUP BY ALL
        )
        SELECT p.execution_id, p.stage_id, p.accumulator_id, any_value(p.is_sum), count(*), sum(p.v),
               list(p.v), any_value(f.max_v), any_value(f.max_task)
        FROM per_index p JOIN first_highest f USING (execution_id, stage_id, accumulator_id)
        GROUP BY ALL
        """,
        {
            "w_exec": [w.execution_id for w in windows],
            "w_stage": [w.stage_id for w in windows],
            "w_attempt": [w.attempt for w in windows],
            "w_tasks": [w.num_tasks for w in windows],
            "w_after": [w.after_ord for w in windows],
            "w_before": [w.before_ord for w in windows],
            "m_exec": [e for e, _, _ in accumulators],
            "m_acc": [a for _, a, _ in accumulators],
            "m_sum": [is_sum for _, _, is_sum in accumulators],
        },
    ).fetchall()
    by_key = {(w.execution_id, w.stage_id): w for w in windows}
    result: dict[int, dict[int, dict[int, _StageMetric]]] = {}
    for execution_id, stage_id, accumulator_id, is_sum, reported, total, values, max_value, max_task in rows:
        window = by_key[(execution_id, stage_id)]
        if is_sum:
            metric = _StageMetric(window.attempt, [int(total)], max_value, None)  # MetricUtils keeps no max
        else:
            # LiveStageMetrics keeps an array of numTasks values: the indices no task reported stay 0
            metric = _StageMetric(window.attempt, values + [0] * (window.num_tasks - reported), max_value, max_task)
        result.setdefault(execution_id, {}).setdefault(stage_id, {})[accumulator_id] = metric
    return result


def _driver_values(
    log: EventLog, executions: list[_Execution], metric_types: dict[int, dict[int, str]]
) -> dict[int, dict[int, list[int]]]:
    """execution id -> accumulator id -> the driver's updates received before the metrics were fixed."""
    limits = {e.execution_id: e.aggregation_ord for e in executions}
    result: dict[int, dict[int, list[int]]] = {}
    for execution_id, accumulator_id, value, ord_ in log.sql(
        "SELECT execution_id, accumulator_id, value, event_ord FROM sql_driver_accum_updates "
        "WHERE list_contains($ids, execution_id) ORDER BY event_ord",
        {"ids": list(limits)},
    ).fetchall():
        if ord_ >= limits[execution_id] or accumulator_id not in metric_types.get(execution_id, {}):
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        result.setdefault(execution_id, {}).setdefault(accumulator_id, []).append(number)
    return result


# ---- SQLMetrics / MetricUtils.stringValue ---------------------------------------------------------------


def string_value(metric_type: str, values: list[int], max_task: tuple[int, int, int] | None) -> str | None:
    """A SQL metric's text from all its task (and driver) values, as MetricUtils.stringValue writes it.

    `max_task` is (stage id, stage attempt, task id) of the highest task value, None to say "(driver)".
    A type Spark does not know (Databricks writes `count`, `minimum`, `maximum`, ...) is shown as Spark 4.3
    shows it: each number as `[unknown] 1,234`, with the total, min, median and max of sizes and timings.
    """
    task_info = "(driver)" if max_task is None else "(stage {}.{}: task {})".format(*max_task)
    if metric_type == SUM_METRIC:
        return f"{sum(values):,}"
    if metric_type == AVERAGE_METRIC:
        valid = sorted(v for v in values if v > 0)
        if len(valid) <= 1:
            return _average_text(valid[0] if valid else 0)
        low, median, high = (_average_text(v) for v in (valid[0], valid[len(valid) // 2], valid[-1]))
        return f"{_METRICS_NAME_SUFFIX}:\n({low}, {median}, {high} {task_info})"
    if metric_type.startswith(_CUSTOM_METRIC_PREFIX):
        return "N/A"  # the History Server cannot load a data source's own metric class
    formats = {
        SIZE_METRIC: bytes_to_string,
        TIMING_METRIC: ms_duration_to_string,
        NS_TIMING_METRIC: lambda ns: ms_duration_to_string(_nanos_to_millis(ns)),
    }
    to_text = formats.get(metric_type, _unknown_text)
    valid = sorted(v for v in values if v >= 0)
    if len(valid) <= 1:
        return to_text(valid[0] if valid else 0)
    total, low, median, high = (to_text(v) for v in (sum(valid), valid[0], valid[len(valid) // 2], valid[-1]))
    return f"total {_METRICS_NAME_SUFFIX}\n{total} ({low}, {median}, {high} {task_info})"


def _unknown_text(value: int) -> str:
    return f"[unknown] {value:,}"


def _nanos_to_millis(ns: int) -> int:
    """TimeUnit.NANOSECONDS.toMillis: truncates toward zero."""
    return abs(ns) // 1_000_000 * (1 if ns >= 0 else -1)


def _average_text(value: int) -> str:
    """NumberFormat.getNumberInstance(US).format(value / 10.0): grouping, no trailing zeros."""
    whole, tenth = divmod(abs(value), 10)
    text = f"{whole:,}" + (f".{tenth}" if tenth else "")
    return "-" + text if value < 0 else text




# ---- Scala collection iteration order -------------------------------------------------------------------
# SQLExecutionUIData keeps jobs in an immutable Map and stages in an immutable Set: up to 4 entries they
# iterate in insertion order, beyond that in the hash order of Scala 2.13's CHAMP HashMap/HashSet.


def _scala_improve(hash_code: int) -> int:
    """scala.collection.Hashing.improve on a 32-bit int (as an unsigned value)."""
    mask = 0xFFFFFFFF
    h = (hash_code + (~(hash_code << 9) & mask)) & mask
    h ^= h >> 14
    h = (h + (h << 4)) & mask
    return h ^ (h >> 10)


def _champ_order(keys: list[int], shift: int = 0) -> list[int]:
    """Iteration order of CHAMP trie keys at one level: the node's own entries, then its sub-nodes."""
    groups: dict[int, list[int]] = {}
    for key in keys:
        groups.setdefault((_scala_improve(key & 0xFFFFFFFF) >> shift) & 31, []).append(key)
    own = [group[0] for _, group in sorted(groups.items()) if len(group) == 1]
    nested = [k for _, group in sorted(groups.items()) if len(group) > 1 for k in _champ_order(group, shift + 5)]
    return own + nested


def _scala_set_order(inserted: list[int]) -> list[int]:
    """Iteration order of an immutable Set[Int] built by adding `inserted` in order."""
    distinct = list(dict.fromkeys(inserted))
    return distinct if len(distinct) <= 4 else _champ_order(distinct)


def _scala_map_order(items: list[Any], key: Any) -> list[Any]:
    """Iteration order of an immutable Map[Int, _] whose entries were added in the order of `items`."""
    by_key = {key(item): item for item in items}
    return [by_key[k] for k in _scala_set_order(list(by_key))]
