"""python_udf: rows left the JVM to run Python code (BatchEvalPython, ArrowEvalPython, pandas/Arrow maps).

Rule: any plan node that runs Python UDFs. Impact: the node's "time to run Python workers" (Spark 4)
summed over tasks, spread over the tasks that ran in parallel, capped at its stages' wall time; without
that metric, the wall time of the stages running the node (an upper bound, low confidence).
"""
from __future__ import annotations

from ..text import plural
from ._common import DOCS_ARROW_UDF, human_bytes, human_ms
from .model import Confidence, Insight
from .registry import AppContext, Detector, register

PYTHON_NODES = """
WITH mv AS (SELECT * FROM ssw_sql_metric_values),
py AS (
  SELECT execution_id, node_id, any_value(node_name) AS node_name, any_value(simple_string) AS simple_string,
    max(value) FILTER (WHERE name = 'time to run Python workers') AS python_ms,
    max(value) FILTER (WHERE name = 'time to execute Python code') AS python_code_ms,
    max(value) FILTER (WHERE name = 'time to start Python workers') AS python_start_ms,
    max(value) FILTER (WHERE name = 'data sent to Python workers') AS bytes_sent,
    max(value) FILTER (WHERE name = 'data returned from Python workers') AS bytes_returned,
    max(value) FILTER (WHERE name = 'number of output rows') AS rows,
    list(DISTINCT sid ORDER BY sid) FILTER (WHERE sid IS NOT NULL) AS stage_ids
  FROM mv LEFT JOIN unnest(mv.stage_ids) AS u(sid) ON true
  WHERE node_name LIKE '%Python%' OR node_name LIKE '%InPandas%' OR node_name LIKE '%InArrow%'
  GROUP BY execution_id, node_id
)
SELECT py.*,
  (SELECT COALESCE(sum(s.completed_ms - COALESCE(s.first_task_launched_ms, s.submitted_ms)), 0) FROM stages s
   WHERE list_contains(py.stage_ids, s.stage_id) AND s.completed_ms IS NOT NULL) AS stage_wall_ms,
  (SELECT COALESCE(sum(s.num_tasks), 0) FROM stages s WHERE list_contains(py.stage_ids, s.stage_id)) AS tasks
FROM py ORDER BY execution_id, node_id
"""


@register
class PythonUdf(Detector):
    """Python UDFs: each row is serialized to a Python worker and back."""

    type = "python_udf"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per plan node that runs Python code."""
        found = []
        for p in ctx.rows(PYTHON_NODES):
            parallel = max(1, min(max(ctx.total_cores, 1), p["tasks"] or 1))
            wall = float(p["stage_wall_ms"] or 0)
            confidence: Confidence
            if p["python_ms"] is not None:
                impact = min(wall, p["python_ms"] / parallel) if wall else p["python_ms"] / parallel
                confidence, why = "high", (
                    f"Spark measured {human_ms(p['python_ms'])} in Python workers over {plural(p['tasks'], 'task')}")
            else:
                impact = wall
                confidence, why = "low", (
                    "this Spark version records no Python time, so the impact is the wall time of the stages "
                    "that ran the UDF (an upper bound)")
            is_arrow = "Arrow" in p["node_name"] or "Pandas" in p["node_name"]
            fix = ("This is a row-at-a-time UDF (BatchEvalPython): replace it with built-in functions "
                   "(pyspark.sql.functions) where they exist, which keeps rows in the JVM, or make it vectorized: "
                   "@udf(useArrow=True) / spark.sql.execution.pythonUDF.arrow.enabled=true, or a pandas_udf, which "
                   "sends Arrow batches (spark.sql.execution.arrow.maxRecordsPerBatch rows each) and needs memory for them."
                   if not is_arrow else
                   "This UDF is already vectorized (Arrow): replace it with built-in functions where possible, or make "
                   "batches larger (spark.sql.execution.arrow.maxRecordsPerBatch) at the cost of worker memory.")
            found.append(ctx.insight(
                self.type,
                title=f"Python UDF ({p['node_name']}) in query {p['execution_id']} took {human_ms(p['python_ms'] or wall)}",
                description=(
                    f"`{p['simple_string'][:140]}` sent {human_bytes(p['bytes_sent'])} to Python workers and got "
                    f"{human_bytes(p['bytes_returned'])} back for {(p['rows'] or 0):,} rows. "
                    + (f"Python workers ran {human_ms(p['python_ms'])} in total (starting them "
                       f"{human_ms(p['python_start_ms'] or 0)}, executing the Python code "
                       f"{human_ms(p['python_code_ms'] or 0)}), "
                       f"about {human_ms(impact)} of wall time over {plural(parallel, 'parallel task')}."
                       if p["python_ms"] is not None else "")),
                evidence={
                    "sql_execution_id": p["execution_id"], "node_id": p["node_id"], "operator": p["node_name"],
                    "python_worker_ms": p["python_ms"], "python_code_ms": p["python_code_ms"],
                    "python_start_ms": p["python_start_ms"], "bytes_sent_to_python": p["bytes_sent"],
                    "bytes_returned_from_python": p["bytes_returned"], "rows": p["rows"],
                    "stage_wall_ms": p["stage_wall_ms"], "tasks": p["tasks"],
                },
                confidence=confidence, confidence_reason=why, impact_ms=impact,
                suggestion=fix, docs_url=DOCS_ARROW_UDF,
                stage_ids=list(p["stage_ids"] or []), job_ids=ctx.jobs_of_query(p["execution_id"]),
                sql_ids=[p["execution_id"]],
            ))
        return found
