"""shuffle_heavy: a stage spent a large share of its task time writing or waiting for shuffle data.

Rule (per stage attempt): shuffle write time + shuffle fetch wait >= 10% of the tasks' run time and
>= 250 ms of wall time once spread over the tasks that ran in parallel (Sparklens' ShuffleWrite% and
ReadFetch%); or the stage wrote >= 1 GiB of shuffle data and >= 2x what it read (the data grew before
the shuffle).
Impact: the shuffle write and fetch-wait time spread over the parallel tasks, capped at the stage's wall.
Spark does not time serialization and compression separately, so that part is not counted.
"""
from __future__ import annotations

from ._common import DOCS_SHUFFLE, human_bytes, human_ms, pct
from .model import Insight
from .registry import AppContext, Detector, register

TIME_SHARE = 0.10
WALL_FLOOR_MS = 250
VOLUME_FLOOR = 1024 * 1024 * 1024
GROWTH = 2.0

SHUFFLE_STAGES = f"""
WITH s AS (
  SELECT stage_id, stage_attempt_id, job_ids, sql_execution_id, num_tasks,
    COALESCE(completed_ms - COALESCE(first_task_launched_ms, submitted_ms), 0) AS wall_ms,
    executor_run_time_ms AS run_ms, shuffle_write_time_ns / 1e6 AS write_ms, shuffle_fetch_wait_time_ms AS fetch_ms,
    shuffle_write_bytes, shuffle_read_bytes AS shuffle_read_bytes,
    shuffle_remote_bytes_read, input_bytes,
    (shuffle_write_time_ns / 1e6 + shuffle_fetch_wait_time_ms) / greatest(least($cores, num_tasks), 1) AS shuffle_wall_ms
  FROM stages WHERE status IN ('COMPLETE', 'FAILED')
)
SELECT * FROM s
WHERE (write_ms + fetch_ms >= {TIME_SHARE} * run_ms AND shuffle_wall_ms >= {WALL_FLOOR_MS})
   OR (shuffle_write_bytes >= {VOLUME_FLOOR} AND shuffle_write_bytes >= {GROWTH} * (input_bytes + shuffle_read_bytes))
ORDER BY stage_id, stage_attempt_id
"""


@register
class ShuffleHeavy(Detector):
    """A stage whose time went into moving data through a shuffle."""

    type = "shuffle_heavy"

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per shuffle-dominated stage attempt."""
        found = []
        for s in ctx.rows(SHUFFLE_STAGES, {"cores": max(ctx.total_cores, 1)}):
            share = (s["write_ms"] + s["fetch_ms"]) / max(s["run_ms"], 1)
            impact = min(float(s["shuffle_wall_ms"]), float(s["wall_ms"])) if s["wall_ms"] else float(s["shuffle_wall_ms"])
            stage = f"{s['stage_id']}" + (f" (attempt {s['stage_attempt_id']})" if s["stage_attempt_id"] else "")
            read = s["input_bytes"] + s["shuffle_read_bytes"]
            found.append(ctx.insight(
                self.type,
                title=f"Stage {stage} wrote {human_bytes(s['shuffle_write_bytes'])} of shuffle data"
                      + (f", {pct(share)} of its task time in shuffle I/O" if share >= TIME_SHARE else ""),
                description=(
                    f"Stage {stage} read {human_bytes(read)} and wrote {human_bytes(s['shuffle_write_bytes'])} to the "
                    f"shuffle; its tasks spent {human_ms(s['write_ms'])} writing shuffle files and "
                    f"{human_ms(s['fetch_ms'])} waiting for shuffle blocks, {pct(share)} of their "
                    f"{human_ms(s['run_ms'])} run time (about {human_ms(impact)} of wall time). Serialization and "
                    "compression before the write are not timed by Spark and not counted."),
                evidence={
                    "stage_id": s["stage_id"], "stage_attempt_id": s["stage_attempt_id"], "tasks": s["num_tasks"],
                    "shuffle_write_bytes": s["shuffle_write_bytes"], "shuffle_read_bytes": s["shuffle_read_bytes"],
                    "shuffle_remote_bytes_read": s["shuffle_remote_bytes_read"], "input_bytes": s["input_bytes"],
                    "shuffle_write_time_ms": round(s["write_ms"]), "shuffle_fetch_wait_ms": s["fetch_ms"],
                    "run_time_ms": s["run_ms"], "shuffle_time_share": round(share, 3), "stage_wall_ms": s["wall_ms"],
                },
                confidence="high" if share >= 0.25 else "medium",
                confidence_reason=(f"shuffle write time and fetch wait are Spark's task metrics ({pct(share)} of run "
                                   "time); the wall-time share assumes the tasks ran evenly in parallel"),
                impact_ms=impact,
                suggestion=(
                    "Shuffle less: filter rows and select only the needed columns before the wide operation, "
                    "pre-aggregate (reduceByKey / partial aggregation instead of groupByKey), broadcast a small join "
                    "side, or reuse a partitioning (bucketed tables, repartition once and cache). Keep "
                    "spark.shuffle.compress=true (the default) with a fast codec (spark.io.compression.codec=lz4 or "
                    "zstd); on clusters, put shuffle files on fast local disks (spark.local.dir). Compression trades "
                    "CPU for fewer bytes."),
                docs_url=DOCS_SHUFFLE,
                stage_ids=[s["stage_id"]], job_ids=list(s["job_ids"] or []),
                sql_ids=[s["sql_execution_id"]] if s["sql_execution_id"] is not None else [],
            ))
        return found
