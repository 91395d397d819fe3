"""spill: tasks ran out of execution memory and wrote their sort/aggregation buffers to disk.

Rule (per stage attempt): disk spill >= 1 MiB and >= 5% of the bytes the stage processed (input, shuffle
read/write, output: the largest of them).
Impact (an estimate): the off-CPU time of the spilling tasks (run time minus CPU, GC and fetch wait),
spread over the cores they had; spill files are written and read back in that time.
"""
from __future__ import annotations

from ..text import plural
from ._common import DOCS_REDUCE_MEMORY, human_bytes, human_ms, ratio
from .model import Insight
from .registry import AppContext, Detector, register

DISK_FLOOR = 1024 * 1024
SHARE_FLOOR = 0.05

SPILLING_STAGES = f"""
WITH per_stage AS (
  SELECT stage_id, stage_attempt_id, count(*) AS tasks,
    count(*) FILTER (WHERE disk_bytes_spilled > 0) AS spilling_tasks,
    max(disk_bytes_spilled) AS max_task_disk_spill,
    sum(greatest(executor_run_time_ms - executor_cpu_ns / 1e6 - jvm_gc_time_ms - shuffle_fetch_wait_time_ms, 0))
      FILTER (WHERE disk_bytes_spilled > 0) AS off_cpu_ms,
    max(peak_execution_memory) AS max_peak_execution_memory
  FROM tasks WHERE has_metrics GROUP BY stage_id, stage_attempt_id
)
SELECT s.stage_id, s.stage_attempt_id, s.job_ids, s.sql_execution_id, s.num_tasks,
  s.memory_bytes_spilled, s.disk_bytes_spilled, s.input_bytes, s.output_bytes, s.shuffle_write_bytes,
  s.shuffle_read_bytes AS shuffle_read_bytes,
  greatest(s.input_bytes, s.output_bytes, s.shuffle_write_bytes,
           s.shuffle_read_bytes) AS processed_bytes,
  COALESCE(s.completed_ms - COALESCE(s.first_task_launched_ms, s.submitted_ms), 0) AS wall_ms,
  p.tasks, p.spilling_tasks, p.max_task_disk_spill, p.off_cpu_ms, p.max_peak_execution_memory
FROM stages s JOIN per_stage p USING (stage_id, stage_attempt_id)
WHERE s.disk_bytes_spilled >= {DISK_FLOOR}
  AND s.disk_bytes_spilled >= {SHARE_FLOOR} * greatest(s.input_bytes, s.output_bytes, s.shuffle_write_bytes,
                                                       s.shuffle_read_bytes)
ORDER BY s.stage_id, s.stage_attempt_id
"""


@register
class Spill(Detector):
    """Execution memory was too small for a task's data, so it spilled to disk."""

    type = "spill"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per spilling stage attempt."""
        fraction = ctx.conf("spark.memory.fraction")
        found = []
        for s in ctx.rows(SPILLING_STAGES):
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            parallel = max(1, min(ctx.total_cores or 1, s["tasks"]))
            impact = min(float(s["wall_ms"]), float(s["off_cpu_ms"] or 0) / parallel)
            spill_ratio = ratio(s["disk_bytes_spilled"], s["processed_bytes"], 2)
            fraction_note = (f" spark.memory.fraction is set to {fraction} (default 0.6), which leaves little "
                             "execution memory." if fraction and float(fraction) < 0.6 else "")
            found.append(ctx.insight(
                self.type,
                title=f"Stage {stage} spilled {human_bytes(s['disk_bytes_spilled'])} to disk",
                description=(
                    f"{s['spilling_tasks']} of {s['tasks']} tasks of stage {stage} spilled: "
                    f"{human_bytes(s['memory_bytes_spilled'])} of in-memory data were written to disk as "
                    f"{human_bytes(s['disk_bytes_spilled'])} ({spill_ratio}x the {human_bytes(s['processed_bytes'])} "
                    f"the stage processed), and read back. The spilling tasks spent {human_ms(s['off_cpu_ms'])} off-CPU, "
                    f"about {human_ms(impact)} of wall time over {plural(parallel, 'parallel task')}.{fraction_note}"),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"],
                    "memory_bytes_spilled": s["memory_bytes_spilled"], "disk_bytes_spilled": s["disk_bytes_spilled"],
                    "processed_bytes": s["processed_bytes"], "spill_to_processed_ratio": spill_ratio,
                    "spilling_tasks": s["spilling_tasks"], "tasks": s["tasks"],
                    "max_task_disk_spill": s["max_task_disk_spill"],
                    "max_peak_execution_memory": s["max_peak_execution_memory"],
                    "spilling_tasks_off_cpu_ms": round(s["off_cpu_ms"] or 0), "stage_wall_ms": s["wall_ms"],
                    "spark.memory.fraction": fraction or "0.6 (default)",
                },
                confidence="medium",
                confidence_reason=(
                    "the spill bytes are measured; Spark does not time spilling, so its cost is estimated from the "
                    "spilling tasks' off-CPU time, which also holds other waits"),
                impact_ms=impact,
                suggestion=(
                    "Give each task less data or more memory: raise the partition count of this shuffle "
                    f"(spark.sql.shuffle.partitions, now {ctx.conf('spark.sql.shuffle.partitions', '200')}) so each "
                    "task sorts/aggregates less, or raise spark.executor.memory, or run fewer concurrent tasks per "
                    "executor (spark.executor.cores); keep spark.memory.fraction at its default 0.6 unless user "
                    "objects need the heap. More partitions add per-task overhead; more memory per task means fewer "
                    "tasks per node."),
                docs_url=DOCS_REDUCE_MEMORY,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
