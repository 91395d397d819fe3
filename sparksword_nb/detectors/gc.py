"""gc_pressure: executors spent a large part of a stage's run time in JVM garbage collection.

Rule (per stage attempt): GC time >= 10% of the tasks' run time (Dr. Elephant's "moderate", the Kubeflow
Spark MCP rule) and >= 500 ms of wall time once spread over the tasks that ran in parallel.
Impact: the stage's GC time spread over its parallel tasks, capped at its wall time.
"""
from __future__ import annotations

from ._common import DOCS_GC, human_ms, pct
from .model import Insight
from .registry import AppContext, Detector, register

GC_SHARE = 0.10
WALL_FLOOR_MS = 500

GC_STAGES = f"""
WITH per_stage AS (
  SELECT stage_id, stage_attempt_id, count(*) AS tasks, sum(jvm_gc_time_ms) AS gc_ms,
    sum(executor_run_time_ms) AS run_ms, max(jvm_gc_time_ms) AS max_task_gc_ms,
    max(executor_metrics."JVMHeapMemory") AS peak_heap
  FROM tasks WHERE has_metrics GROUP BY stage_id, stage_attempt_id
)
SELECT s.stage_id, s.stage_attempt_id, s.job_ids, s.sql_execution_id,
  COALESCE(s.completed_ms - COALESCE(s.first_task_launched_ms, s.submitted_ms), 0) AS wall_ms,
  p.tasks, p.gc_ms, p.run_ms, p.max_task_gc_ms, p.peak_heap,
  p.gc_ms / greatest(least($cores, p.tasks), 1) AS gc_wall_ms
FROM stages s JOIN per_stage p USING (stage_id, stage_attempt_id)
WHERE p.gc_ms >= {GC_SHARE} * p.run_ms AND p.gc_ms / greatest(least($cores, p.tasks), 1) >= {WALL_FLOOR_MS}
ORDER BY s.stage_id, s.stage_attempt_id
"""


@register
class GcPressure(Detector):
    """Too much time in garbage collection: the heap is small for the objects the tasks create."""

    type = "gc_pressure"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per stage attempt with heavy GC."""
        memory = ctx.conf("spark.executor.memory") or ctx.conf("spark.driver.memory") or "1g (default)"
        found = []
        for s in ctx.rows(GC_STAGES, {"cores": max(ctx.total_cores, 1)}):
            # a task's GC time is the JVM's collections during its run: with tasks running side by side (or a
            # GPU plugin doing the work off the JVM) they can add up to more than the tasks' run time
            overcounted = s["gc_ms"] > s["run_ms"]
            share = s["gc_ms"] / max(s["run_ms"], s["gc_ms"], 1)
            impact = min(float(s["gc_wall_ms"]), float(s["wall_ms"])) if s["wall_ms"] else float(s["gc_wall_ms"])
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            title = (f"Stage {stage}: garbage collection counted {human_ms(s['gc_ms'])} against "
                     f"{human_ms(s['run_ms'])} of task run time" if overcounted else
                     f"Stage {stage} spent {pct(share)} of its run time in garbage collection")
            found.append(ctx.insight(
                self.type,
                title=title,
                description=(
                    f"The {s['tasks']} tasks of stage {stage} ran {human_ms(s['run_ms'])} in total, "
                    f"{human_ms(s['gc_ms'])} of it in JVM garbage collection (the worst task {human_ms(s['max_task_gc_ms'])}); "
                    f"about {human_ms(impact)} of wall time."
                    + (" Spark gives each task the JVM's collections during its run, and here they add up to more "
                       "than the tasks' run time: the collections were shared by tasks running side by side, so "
                       "GC is heavy but its share of the run cannot be told." if overcounted else "")),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"], "tasks": s["tasks"],
                    "gc_time_ms": s["gc_ms"], "run_time_ms": s["run_ms"], "gc_share": round(share, 3),
                    "max_task_gc_ms": s["max_task_gc_ms"], "peak_jvm_heap_bytes": s["peak_heap"],
                    "executor_memory": memory,
                },
                confidence="low" if overcounted else "high" if share >= 0.2 else "medium",
                confidence_reason=(
                    "GC time is counted per task for the whole JVM and here exceeds the run time, so it is shared "
                    "between tasks" if overcounted else
                    f"GC time is the JVM's own measure, {pct(share)} of run time over {s['tasks']} tasks"),
                impact_ms=impact,
                suggestion=(
                    f"Give tasks more heap or fewer objects: raise spark.executor.memory (now {memory}) or run fewer "
                    "concurrent tasks per executor (spark.executor.cores); prefer built-in functions over UDFs and "
                    "collect_list of large groups; cache serialized (MEMORY_ONLY_SER / DataFrame cache) rather than "
                    "as objects. G1GC (-XX:+UseG1GC in spark.executor.extraJavaOptions) suits large heaps. More memory "
                    "per task means fewer tasks per node."),
                docs_url=DOCS_GC,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
