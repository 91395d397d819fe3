"""The aggregates the panels draw, computed in DuckDB over one application's tables.

Panels never receive task lists: the stage DAG gets one row per stage and one per shuffle dependency,
the histogram gets bins, five quantiles and at most a few outlier tasks. Tables travel columnar with
repeated strings interned (`_Interner`), which keeps a 1,000-stage application under 200 KB.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..detectors import Insight, run_detectors
from ..errors import SparkswordError
from ..spark.attempts import LATEST_STAGE_ATTEMPT
from ..spark.quantiles import SUMMARY_QUANTILES, quantile_indices, quantile_position_sql, quantile_sql
from ..spark.units import bytes_to_string
from ..text import ratio

if TYPE_CHECKING:
    from ..store import EventLog

PAYLOAD_VERSION = 1

# What a stage node can be coloured by. `job` says how a collapsed job card combines its stages:
# "job" uses the job's own value, "sum" adds the stages up, "max" takes the worst stage.
STAGE_METRICS: tuple[dict[str, str], ...] = (
    {"key": "duration", "label": "duration", "column": "duration_ms", "unit": "ms", "job": "job"},
    {"key": "shuffle_read", "label": "shuffle read", "column": "shuffle_read_bytes", "unit": "bytes", "job": "sum"},
    {"key": "shuffle_write", "label": "shuffle write", "column": "shuffle_write_bytes", "unit": "bytes", "job": "sum"},
    {"key": "spill", "label": "spill (disk)", "column": "spill_bytes", "unit": "bytes", "job": "sum"},
    {"key": "input", "label": "input", "column": "input_bytes", "unit": "bytes", "job": "sum"},
    {"key": "skew_ratio", "label": "skew ratio", "column": "skew_ratio", "unit": "ratio", "job": "max"},
    {"key": "severity", "label": "insight severity", "column": "severity", "unit": "severity", "job": "max"},
)
STAGE_METRIC_KEYS: tuple[str, ...] = tuple(m["key"] for m in STAGE_METRICS)


@dataclass(frozen=True)
class TaskMetric:
    """A task metric the histogram can show: its SQL over `tasks`, unit, and taskSummary field.

    `every_finished_task`: the History Server ranks this metric over every finished task, failed and
    killed ones included (its duration index is not limited to successful tasks as the metric indexes
    are), while the quantile positions still count successful tasks only. We rank it the same way.
    """

    key: str
    label: str
    sql: str
    unit: str
    summary_path: tuple[str, ...]
    every_finished_task: bool = False


# The task metrics of the History Server's "Summary Metrics for Completed Tasks" table.
TASK_METRICS: tuple[TaskMetric, ...] = (
    TaskMetric("duration", "duration", "duration_ms", "ms", ("duration",), every_finished_task=True),
    TaskMetric("run_time", "executor run time", "executor_run_time_ms", "ms", ("executorRunTime",)),
    TaskMetric("gc_time", "GC time", "jvm_gc_time_ms", "ms", ("jvmGcTime",)),
    TaskMetric("input", "input size", "input_bytes", "bytes", ("inputMetrics", "bytesRead")),
    TaskMetric("shuffle_read", "shuffle read size", "shuffle_read_bytes",
               "bytes", ("shuffleReadMetrics", "readBytes")),
    TaskMetric("shuffle_write", "shuffle write size", "shuffle_write_bytes", "bytes",
               ("shuffleWriteMetrics", "writeBytes")),
    TaskMetric("spill_memory", "spill (memory)", "memory_bytes_spilled", "bytes", ("memoryBytesSpilled",)),
    TaskMetric("spill_disk", "spill (disk)", "disk_bytes_spilled", "bytes", ("diskBytesSpilled",)),
)
TASK_METRIC_KEYS: tuple[str, ...] = tuple(m.key for m in TASK_METRICS)
QUANTILES: tuple[float, ...] = SUMMARY_QUANTILES
MAX_OUTLIERS = 10


def task_metric(key: str) -> TaskMetric:
    """The TaskMetric named `key`, or a SparkswordError listing the known ones."""
    for metric in TASK_METRICS:
        if metric.key == key:
            return metric
    raise SparkswordError(f"unknown task metric {key!r}; choose one of: {', '.join(TASK_METRIC_KEYS)}")


class _Interner:
    """Repeated strings (labels, statuses) sent once; columns carry their index."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self._index: dict[str, int] = {}

    def __call__(self, value: str | None) -> int | None:
        if value is None:
            return None
        if value not in self._index:
            self._index[value] = len(self.strings)
            self.strings.append(value)
        return self._index[value]


def _columnar(rows: list[dict[str, Any]], columns: list[str]) -> dict[str, list[Any]]:
    return {c: [r[c] for r in rows] for c in columns}


# ---- stage labels ------------------------------------------------------------------------------------

# Plan operators that say nothing about what a stage does: adapters and codegen wrappers.
_NOISE_OPERATORS = {"InputAdapter", "ColumnarToRow", "RowToColumnar", "Project", "WholeStageCodegen"}
_CODEGEN_SCOPE = re.compile(r"^WholeStageCodegen \((\d+)\)$")


def stage_labels(log: EventLog) -> dict[int, str]:
    """A readable label per stage from what it does: its RDD scopes, with codegen scopes opened to
    the SQL operators fused inside (e.g. `Range -> HashAggregate -> Exchange`). Spark's own stage
    name (`count at NativeMethodAccessorImpl.java:0`) stays available as the stage's `name`."""
    rows = log.rows(f"""
        WITH latest AS (
          SELECT stage_id, stage_attempt_id, sql_execution_id FROM stages
          {LATEST_STAGE_ATTEMPT}
        ),
        scopes AS (
          SELECT r.stage_id, l.sql_execution_id, r.scope_id, any_value(r.scope_name) AS scope_name,
                 min(r.rdd_id) AS first_rdd
          FROM rdds r JOIN latest l USING (stage_id, stage_attempt_id)
          WHERE r.scope_name IS NOT NULL
          GROUP BY ALL
        ),
        clusters AS (
          SELECT execution_id, node_id, node_name FROM sql_plan_nodes
          WHERE starts_with(node_name, 'WholeStageCodegen')
          QUALIFY row_number() OVER (PARTITION BY execution_id, node_name ORDER BY node_id) = 1
        )
        SELECT sc.stage_id, sc.first_rdd, sc.scope_name,
          -- operators fused in a codegen stage, in data-flow order (the plan lists consumers first)
          list(m.node_name ORDER BY m.node_id DESC) FILTER (WHERE m.node_name IS NOT NULL) AS operators
        FROM scopes sc
        LEFT JOIN clusters c ON c.execution_id = sc.sql_execution_id AND c.node_name = sc.scope_name
        LEFT JOIN sql_plan_nodes m ON m.execution_id = c.execution_id AND m.codegen_cluster_id = c.node_id
        GROUP BY ALL
        ORDER BY sc.stage_id, sc.first_rdd
    """)
    steps: dict[int, list[str]] = {}
    for row in rows:
        names = row["operators"] or [row["scope_name"]]
        steps.setdefault(int(row["stage_id"]), []).extend(names)
    return {stage_id: _label_from_steps(names) for stage_id, names in steps.items()}


def _label_from_steps(names: list[str]) -> str:
    """`Exchange, WholeStageCodegen (2), Sort, Exchange` -> `Sort -> Exchange`: keep what the stage computes.

    A leading Exchange is the shuffle the stage reads (the DAG's edge already shows it), so only a
    final Exchange (the shuffle it writes) stays; repeats are dropped.
    """
    kept: list[str] = []
    last = len(names) - 1
    for i, name in enumerate(names):
        base = "WholeStageCodegen" if _CODEGEN_SCOPE.match(name) else name
        if base in _NOISE_OPERATORS and len(names) > 1:
            continue
        if base == "Exchange" and i != last:
            continue
        if name not in kept:
            kept.append(name)
    return " \u2192 ".join(kept) if kept else names[-1]


# ---- the stage graph ---------------------------------------------------------------------------------

def _severity_by_stage(insights: list[Any]) -> tuple[dict[int, str], dict[int, int]]:
    rank = {"low": 1, "medium": 2, "high": 3}
    worst: dict[int, str] = {}
    count: dict[int, int] = {}
    for insight in insights:
        for stage_id in insight.stage_ids:
            count[stage_id] = count.get(stage_id, 0) + 1
            if rank.get(insight.severity, 0) > rank.get(worst.get(stage_id, ""), 0):
                worst[stage_id] = insight.severity
    return worst, count


def stage_graph(log: EventLog, insights: list[Any] | None = None) -> dict[str, Any]:
    """The StageDag payload: one row per stage (its latest attempt), shuffle edges, jobs, metrics."""
    stages = log.rows(f"""
        WITH latest AS (
          SELECT * FROM stages
          {LATEST_STAGE_ATTEMPT}
        ),
        finished AS (  -- the History Server's duration ranking: every finished attempt, at successful-task indices
          SELECT t.stage_id, t.duration_ms, t.status = 'SUCCESS' AS ok FROM tasks t
          JOIN latest l USING (stage_id, stage_attempt_id)
          WHERE t.status <> 'RUNNING' AND t.duration_ms IS NOT NULL
        ),
        skew AS (  -- the findings' ratio: the longest successful task over that median
          SELECT stage_id, max(duration_ms) FILTER (WHERE ok) AS max_ms,
            {quantile_sql('list_sort(list(duration_ms))', 0.5, 'count(*) FILTER (WHERE ok)')} AS median_ms
          FROM finished GROUP BY stage_id HAVING count(*) FILTER (WHERE ok) > 0
        )
        SELECT l.stage_id, l.stage_attempt_id AS attempt, l.name, l.status,
          COALESCE(list_min(l.job_ids), -1) AS job_id, l.num_tasks, l.num_failed_tasks AS failed_tasks,
          l.completed_ms - l.submitted_ms AS duration_ms, l.input_bytes,
          l.shuffle_read_bytes AS shuffle_read_bytes,
          l.shuffle_write_bytes, l.disk_bytes_spilled AS spill_bytes,
          skew.max_ms, skew.median_ms
        FROM latest l LEFT JOIN skew USING (stage_id)
        ORDER BY l.stage_id""")
    edges = log.rows("""
        SELECT e.parent_stage_id AS parent, e.child_stage_id AS child, max(e.shuffle_write_bytes) AS bytes
        FROM shuffle_edges e
        WHERE e.parent_stage_id IN (SELECT stage_id FROM stages)
        GROUP BY ALL ORDER BY parent, child""")
    jobs = log.rows("""
        SELECT job_id, status, completed_ms - submitted_ms AS duration_ms, name FROM jobs ORDER BY job_id""")
    labels = stage_labels(log)
    severity, counts = _severity_by_stage(insights or [])
    intern = _Interner()
    for st in stages:
        sid = int(st["stage_id"])
        st["label"] = intern(labels.get(sid) or st["name"])
        st["name"] = intern(st["name"])
        st["status"] = intern(st["status"])
        st["severity"] = intern(severity.get(sid, "none"))
        st["insights"] = counts.get(sid, 0)
        st["skew_ratio"] = ratio(st.pop("max_ms"), st.pop("median_ms"))
    for job in jobs:
        job["status"] = intern(job["status"])
        job["name"] = intern(job["name"])
    # the metric columns come from STAGE_METRICS: a new colour-by metric is an entry there and its SQL column above
    stage_columns = ["stage_id", "attempt", "label", "name", "status", "job_id", "num_tasks", "failed_tasks",
                     *dict.fromkeys(m["column"] for m in STAGE_METRICS), "insights"]
    return {
        "version": PAYLOAD_VERSION,
        "app_id": log.app_id,
        "metrics": [dict(m) for m in STAGE_METRICS],
        "strings": intern.strings,
        "stages": _columnar(stages, stage_columns),
        "edges": _columnar(edges, ["parent", "child", "bytes"]),
        "jobs": _columnar(jobs, ["job_id", "status", "duration_ms", "name"]),
    }


def default_stage(log: EventLog, insights: list[Any] | None = None) -> int | None:
    """The stage to show first: the longest of the top insight's stages, else the longest stage."""
    candidates = next(([int(s) for s in i.stage_ids] for i in insights or [] if i.stage_ids), None)
    rows = log.rows("""
        SELECT stage_id FROM stages WHERE $ids IS NULL OR list_contains($ids, stage_id)
        ORDER BY completed_ms - submitted_ms DESC NULLS LAST, stage_id LIMIT 1""", {"ids": candidates})
    return int(rows[0]["stage_id"]) if rows else None


# ---- one stage's task distribution ------------------------------------------------------------------

def _bin_count(n: int) -> int:
    # Rice's rule (2 n^(1/3)), kept between 6 and 40 bars so both 16 and 20,000 tasks read well
    return max(6, min(40, math.ceil(2 * n ** (1 / 3))))


def _stage_attempt(log: EventLog, stage_id: int, attempt: int | None) -> dict[str, Any]:
    rows = log.rows("""
        SELECT stage_id, stage_attempt_id, name FROM stages WHERE stage_id = $stage
          AND ($attempt IS NULL OR stage_attempt_id = $attempt)
        ORDER BY stage_attempt_id DESC LIMIT 1""", {"stage": stage_id, "attempt": attempt})
    if not rows:
        which = f"{stage_id}" + ("" if attempt is None else f" attempt {attempt}")
        raise SparkswordError(f"unknown stage: {which}")
    return rows[0]


_SUCCESSFUL = """stage_id = $stage AND stage_attempt_id = $attempt AND status = 'SUCCESS' AND has_metrics"""


def task_quantiles(log: EventLog, stage_id: int, attempt: int) -> tuple[int, dict[str, list[int | float | None]]]:
    """The History Server's task summary of one stage attempt: (n, {metric key: 5 quantiles}), one query.

    As AppStatusStore.taskSummary: n counts the successful tasks with metrics, and each metric's value
    at index min(floor(q n), n - 1) of its sorted index is read (see `TaskMetric.every_finished_task`
    for which tasks that index holds). With n = 0 there is no summary ({}).
    """
    every_finished = ", ".join(f"'{m.key}'" for m in TASK_METRICS if m.every_finished_task) or "''"
    values = ", ".join(f"({m.sql})::DOUBLE AS {m.key}" for m in TASK_METRICS)
    params = {"stage": stage_id, "attempt": attempt, "qs": list(QUANTILES)}
    # one pass: every metric's values as rows (UNPIVOT drops NULLs), ranked per metric, and only the
    # ranks the summary reads come back
    rows = log.rows(f"""
        WITH t AS (
          SELECT status = 'SUCCESS' AND has_metrics AS ok, {values} FROM tasks
          WHERE stage_id = $stage AND stage_attempt_id = $attempt
        ),
        counted AS (SELECT count(*) FILTER (WHERE ok) AS n FROM t),
        long AS (UNPIVOT t ON {", ".join(m.key for m in TASK_METRICS)} INTO NAME metric VALUE v),
        ranked AS (
          SELECT metric, v, row_number() OVER (PARTITION BY metric ORDER BY v) - 1 AS pos FROM long
          WHERE CASE WHEN metric IN ({every_finished}) THEN v >= 0 ELSE ok END
        ),
        wanted AS (SELECT DISTINCT {quantile_position_sql('q', 'n')} AS pos FROM counted, unnest($qs) AS x(q))
        SELECT n, NULL AS metric, NULL AS pos, NULL AS v FROM counted
        UNION ALL
        SELECT (SELECT n FROM counted), metric, pos, v FROM ranked WHERE pos IN (SELECT pos FROM wanted)""", params)
    n = int(rows[0]["n"]) if rows else 0
    if n == 0:
        return 0, {}
    at = {(r["metric"], int(r["pos"])): r["v"] for r in rows if r["metric"] is not None}
    positions = quantile_indices(QUANTILES, n)
    return n, {m.key: [_number(at[(m.key, p)]) if (m.key, p) in at else None for p in positions]
               for m in TASK_METRICS}


def task_histogram(log: EventLog, stage_id: int, attempt: int | None = None, metric: str = "duration",
                   labels: dict[int, str] | None = None) -> dict[str, Any]:
    """The SkewHistogram payload for one stage attempt (the latest when `attempt` is None).

    The bins and outliers are over the successful tasks with metrics; the quantiles (of every metric,
    the summary table) are the History Server's (`task_quantiles`). Outliers are tasks above
    Q3 + 1.5 IQR of the chosen metric.
    """
    chosen = task_metric(metric)
    stage = _stage_attempt(log, stage_id, attempt)
    att = int(stage["stage_attempt_id"])
    params = {"stage": stage_id, "attempt": att}
    n, summary = task_quantiles(log, stage_id, att)
    label = (labels if labels is not None else stage_labels(log)).get(stage_id)
    payload: dict[str, Any] = {
        "version": PAYLOAD_VERSION,
        "app_id": log.app_id,
        "stage_id": stage_id,
        "attempt": att,
        "name": stage["name"],
        "label": label or stage["name"],
        "metric": {"key": chosen.key, "label": chosen.label, "unit": chosen.unit},
        "metrics": [{"key": m.key, "label": m.label, "unit": m.unit} for m in TASK_METRICS],
        "tasks": n,
        "edges": [],
        "counts": [],
        "quantiles": {"probabilities": list(QUANTILES), "values": summary.get(chosen.key, [])},
        "summary": summary,
        "outlier_counts": [],
        "outliers": {"fence": None, "count": 0, "tasks": []},
        "max": None,
        "median": None,
        "skew_ratio": None,
    }
    if n == 0:
        return payload
    values_cte = f"""
        WITH v AS (
          SELECT task_id, "index", attempt, executor_id, ({chosen.sql})::DOUBLE AS v FROM tasks
          WHERE {_SUCCESSFUL} AND ({chosen.sql}) IS NOT NULL
        )"""
    lo, hi = log.rows(f"{values_cte} SELECT min(v) AS lo, max(v) AS hi FROM v", params)[0].values()
    bins = _bin_count(n) if hi > lo else 1
    width = (hi - lo) / bins if hi > lo else 1.0
    # n > 0: every quantile of the chosen metric has a value
    _, q1, median, q3, _top = (float(v or 0) for v in summary[chosen.key])
    fence = q3 + 1.5 * (q3 - q1)
    counted = log.rows(f"""{values_cte}
        SELECT least(floor((v - $lo) / $width)::BIGINT, $bins - 1) AS b, count(*) AS c,
          count(*) FILTER (WHERE v > $fence) AS o FROM v GROUP BY b""",
        {**params, "lo": lo, "width": width, "bins": bins, "fence": fence})
    counts = [0] * bins
    outlier_counts = [0] * bins
    for row in counted:
        counts[int(row["b"])] += int(row["c"])
        outlier_counts[int(row["b"])] += int(row["o"])
    outliers = log.rows(f"""{values_cte}
        SELECT task_id, "index", attempt, executor_id, v AS value, count(*) OVER () AS total FROM v
        WHERE v > $fence ORDER BY v DESC, task_id LIMIT {MAX_OUTLIERS}""", {**params, "fence": fence})
    payload.update({
        "edges": [_number(lo + i * width) for i in range(bins)] + [_number(hi if hi > lo else lo + 1)],
        "counts": counts,
        "outlier_counts": outlier_counts,
        "outliers": {
            "fence": _number(fence),
            "count": int(outliers[0]["total"]) if outliers else 0,
            "tasks": [
                {"task_id": int(o["task_id"]), "index": int(o["index"]), "attempt": int(o["attempt"]),
                 "executor_id": o["executor_id"], "value": _number(o["value"])}
                for o in outliers
            ],
        },
        # one definition with the findings: the longest successful task over the History Server's median
        "max": _number(hi),
        "median": _number(median),
        "skew_ratio": ratio(hi, median),
    })
    return payload


def _number(value: Any) -> int | float:
    """A JSON number: integral values as int, so payloads are the same bytes on every run."""
    as_float = float(value)
    return int(as_float) if as_float.is_integer() else round(as_float, 3)


# ---- insights ---------------------------------------------------------------------------------------

def insight_payload(log: EventLog) -> tuple[dict[str, Any], list[Insight]]:
    """The InsightsPanel payload and the Insight objects behind it.

    A detector that fails on the log's data (a SparkswordError) leaves the panel saying so, and the rest of
    the report is still drawn.
    """
    try:
        found = run_detectors(log)
    except SparkswordError as err:
        return {"status": "error", "message": f"insights failed: {err}", "insights": []}, []
    return {"status": "ok", "message": "", "insights": [_insight_dict(i) for i in found]}, found


def _insight_dict(insight: Insight) -> dict[str, Any]:
    evidence = getattr(insight, "evidence", {}) or {}
    return {
        "type": insight.type,
        "title": insight.title,
        "description": insight.description,
        "stage_ids": [int(s) for s in insight.stage_ids],
        "evidence": [[str(k), _evidence_value(v)] for k, v in evidence.items()],
        "confidence": insight.confidence,
        "confidence_reason": insight.confidence_reason,
        "impact_ms": int(insight.impact_ms),
        "severity": insight.severity,
        "suggestion": insight.suggestion,
        "docs_url": insight.docs_url,
        "key": insight.key,
        "time_parts": list(insight.time_parts),
        "overlaps": list(insight.overlaps),
    }


def _evidence_value(value: Any) -> Any:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, (list, tuple)):
        return [_evidence_value(v) for v in value]
    return value


# ---- SQL plans --------------------------------------------------------------------------------------

def sql_plan(log: EventLog, execution_id: int) -> dict[str, Any]:
    """The SqlPlan payload: the execution's final physical plan as nodes and data-flow edges.

    Metric values are the History Server's own strings (its `sql/{id}` answer) when the REST module
    can give them; otherwise each metric's total over the task updates and driver updates.
    """
    head = log.rows("""
        SELECT execution_id, description, duration_ms, error_message, end_ms IS NULL AS running
        FROM sql_executions WHERE execution_id = $id""", {"id": execution_id})
    if not head:
        known = [r["execution_id"] for r in log.rows("SELECT execution_id FROM sql_executions ORDER BY 1")]
        listed = ", ".join(str(k) for k in known[:20]) or "none"
        raise SparkswordError(f"unknown SQL execution: {execution_id} (known: {listed})")
    nodes = log.rows("""
        SELECT node_id, node_name, simple_string, codegen_cluster_id, out_edges FROM sql_plan_nodes
        WHERE execution_id = $id ORDER BY node_id""", {"id": execution_id})
    metrics = _plan_metrics(log, execution_id)
    cluster_ids = {int(n["codegen_cluster_id"]) for n in nodes if n["codegen_cluster_id"] is not None}
    edges = sorted({(int(n["node_id"]), int(e["to_node_id"])) for n in nodes for e in (n["out_edges"] or [])})
    status = "FAILED" if head[0]["error_message"] else "RUNNING" if head[0]["running"] else "COMPLETED"
    return {
        "version": PAYLOAD_VERSION,
        "app_id": log.app_id,
        "execution_id": execution_id,
        "description": head[0]["description"],
        "status": status,
        "duration_ms": head[0]["duration_ms"],
        "nodes": [
            {
                "id": int(n["node_id"]),
                "name": n["node_name"],
                "desc": n["simple_string"],
                "cluster": None if n["codegen_cluster_id"] is None else int(n["codegen_cluster_id"]),
                "is_cluster": int(n["node_id"]) in cluster_ids,
                "metrics": metrics.get(int(n["node_id"]), []),
            }
            for n in nodes
        ],
        "edges": [list(e) for e in edges],
    }


def _plan_metrics(log: EventLog, execution_id: int) -> dict[int, list[list[str]]]:
    try:
        answer = log.rest(_app_path(log) + f"/sql/{execution_id}?details=true&planDescription=false")
    except SparkswordError:  # the History Server has no answer for this execution: totals from the tables
        answer = None
    if isinstance(answer, dict) and answer.get("nodes"):
        return {int(n["nodeId"]): [[m["name"], m["value"]] for m in n.get("metrics", [])] for n in answer["nodes"]}
    rows = log.rows("""
        WITH updates AS (
          SELECT accumulator_id, TRY_CAST("update" AS DOUBLE) AS v FROM task_accumulables
          UNION ALL
          SELECT accumulator_id, TRY_CAST(value AS DOUBLE) FROM sql_driver_accum_updates WHERE execution_id = $id
        )
        SELECT m.node_id, m.name, m.metric_type, sum(u.v) AS total
        FROM sql_metrics m LEFT JOIN updates u USING (accumulator_id)
        WHERE m.execution_id = $id
        GROUP BY ALL ORDER BY m.node_id, any_value(m.metric_order)""", {"id": execution_id})
    out: dict[int, list[list[str]]] = {}
    for row in rows:
        out.setdefault(int(row["node_id"]), []).append([row["name"], _format_metric(row["total"], row["metric_type"])])
    return out


def _format_metric(total: float | None, metric_type: str | None) -> str:
    """A metric total as the SQL page prints it (sizes in KiB/MiB, times in ms), or '' when never updated."""
    if total is None:
        return ""
    if metric_type == "size":
        return bytes_to_string(int(total))
    if metric_type == "timing":
        return f"{int(total):,} ms"
    if metric_type == "nsTiming":
        return f"{int(total // 1_000_000):,} ms"
    return f"{int(total):,}" if float(total).is_integer() else f"{total:.2f}"


def _app_path(log: EventLog) -> str:
    return f"applications/{log.app_id}" + (f"/{log.attempt_id}" if log.attempt_id else "")


# ---- where the time went -----------------------------------------------------------------------------

# Parts shorter than this share of the run are under a pixel in the bar: they stay in the totals only.
_MIN_BAR_SHARE = 1 / 2000


def time_payload(log: EventLog, insights: list[Any] | None = None) -> dict[str, Any]:
    """The Report's time bar: the run's parts (start, length, kind), totals by kind, and how much of the run
    the findings explain (each moment once)."""
    from ..detectors.accounting import explained_time
    from ..timeline import KIND_LABELS

    account = log.time_account()
    duration = account.duration_ms
    explained = explained_time(insights or [], account) if insights is not None else None
    shown = [p for p in account.parts if duration > 0 and p.ms >= duration * _MIN_BAR_SHARE]
    return {
        "duration_ms": duration,
        "start_ms": account.start_ms,
        "ended": account.ended,
        "interactive": account.interactive,
        "parts": _columnar([{"part": p.part, "kind": p.kind, "offset_ms": p.start_ms - (account.start_ms or 0),
                             "ms": p.ms, "what": p.what} for p in shown], ["part", "kind", "offset_ms", "ms", "what"]),
        "kinds": [{"kind": kind, "label": KIND_LABELS[kind], "ms": ms, "parts": n}
                  for kind, ms, n in account.by_kind()],
        "cores": account.cores.model_dump(),
        "explained_ms": explained.explained_ms if explained else None,
        "explained": explained.sentence() if explained else None,
        "headline": account.headline(),
    }


# ---- the report header ------------------------------------------------------------------------------

def report_header(log: EventLog) -> dict[str, Any]:
    """The application's facts for the Report header: name, version, times, executors, counts."""
    app = log.rows("""
        SELECT name, user, spark_version, start_ms, end_ms, duration_ms, completed FROM applications""")
    if not app:
        raise SparkswordError(f"application {log.app_id} has no applications row: was it loaded?")
    a = app[0]
    counts = log.rows("""
        SELECT (SELECT count(*) FROM jobs) AS jobs,
          (SELECT count(*) FROM jobs WHERE status = 'FAILED') AS failed_jobs,
          (SELECT count(DISTINCT stage_id) FROM stages) AS stages,
          (SELECT count(*) FROM stages WHERE status = 'FAILED') AS failed_stages,
          (SELECT count(*) FROM tasks) AS tasks,
          (SELECT count(*) FROM tasks WHERE status = 'FAILED') AS failed_tasks,
          (SELECT count(*) FROM sql_executions) AS sql""")[0]
    executors = log.rows("""
        SELECT count(*) FILTER (WHERE executor_id <> 'driver') AS n,
          COALESCE(sum(cores) FILTER (WHERE executor_id <> 'driver'), 0) AS cores,
          COALESCE(sum(cores) FILTER (WHERE executor_id = 'driver'), 0) AS driver_cores
        FROM executors""")[0]
    from ..rest.format import spark_date

    # in local mode the driver runs the tasks: count its cores rather than show zero executors
    local = int(executors["n"]) == 0
    return {
        "app_id": log.app_id,
        "attempt_id": log.attempt_id,
        "name": a["name"],
        "user": a["user"],
        "spark_version": log.runtime(),
        "start": spark_date(a["start_ms"]),
        # an application that never logged its end lasts until its last recorded event
        "duration_ms": log.time_account().duration_ms,
        "status": "completed" if a["completed"] else "incomplete (no application end)",
        "executors": 1 if local else int(executors["n"]),
        "cores": int(executors["driver_cores"] if local else executors["cores"]),
        "local_mode": local,
        "counts": {k: int(v) for k, v in counts.items()},
    }
