"""small_files: a query read or wrote many files that are each much smaller than a useful size.

Rule (per file scan or write node): >= 100 files and an average file size < 3 MiB (DataFlint's rule).
Impact (an estimate): for a write, the per-task overhead of its writing stage beyond one task per
128 MiB (as in `small_tasks.py`); for a scan, the scan's time (the "scan time" metric over the cores it
used, else the scan stage's wall time) times the share of files that 128 MiB files would remove.
"""
from __future__ import annotations

import math

from ._common import DOCS_PARTITION_HINTS, DOCS_SQL_OPTIONS, human_bytes, human_ms
from .model import Insight
from .registry import AppContext, Detector, register
from .small_tasks import overhead_estimate_ms

MIN_FILES = 100
AVG_BYTES = 3 * 1024 * 1024
TARGET_FILE = 128 * 1024 * 1024

FILE_NODES = f"""
WITH mv AS (SELECT * FROM ssw_sql_metric_values)
SELECT execution_id, node_id, any_value(node_name) AS node_name, any_value(simple_string) AS simple_string,
  max(value) FILTER (WHERE name = 'number of files read') AS files_read,
  max(value) FILTER (WHERE name = 'size of files read') AS bytes_read,
  max(value) FILTER (WHERE name = 'scan time') AS scan_ms,
  max(value) FILTER (WHERE name = 'number of written files') AS files_written,
  max(value) FILTER (WHERE name = 'written output') AS bytes_written,
  max(value) FILTER (WHERE name = 'number of output rows') AS rows,
  list(DISTINCT sid ORDER BY sid) FILTER (WHERE sid IS NOT NULL) AS stage_ids
FROM mv LEFT JOIN unnest(mv.stage_ids) AS u(sid) ON true
GROUP BY execution_id, node_id
HAVING (max(value) FILTER (WHERE name = 'number of files read') >= {MIN_FILES}
        AND max(value) FILTER (WHERE name = 'size of files read')
            < {AVG_BYTES} * max(value) FILTER (WHERE name = 'number of files read'))
    OR (max(value) FILTER (WHERE name = 'number of written files') >= {MIN_FILES}
        AND max(value) FILTER (WHERE name = 'written output')
            < {AVG_BYTES} * max(value) FILTER (WHERE name = 'number of written files'))
ORDER BY execution_id, node_id
"""

WRITING_STAGES = """
WITH st AS (SELECT * FROM ssw_stage_stats)
SELECT * FROM st WHERE sql_execution_id = $e AND output_bytes > 0 ORDER BY stage_id, stage_attempt_id
"""


@register
class SmallFiles(Detector):
    """Many tiny files: each costs an open, a footer read or a writer, whatever its size."""

    type = "small_files"
    supersedes = ("too_many_small_tasks",)

    def detect(self, ctx: AppContext) -> list[Insight]:
        """One insight per scan or write node over many small files."""
        found = []
        cores = max(ctx.total_cores, 1)
        for f in ctx.rows(FILE_NODES):
            write = f["files_written"] is not None and f["files_written"] >= MIN_FILES
            files = f["files_written"] if write else f["files_read"]
            size = (f["bytes_written"] if write else f["bytes_read"]) or 0
            target = max(1, math.ceil(size / TARGET_FILE))
            avg = size / max(files, 1)
            stage_ids = list(f["stage_ids"] or [])
            if write:
                stages = ctx.rows(WRITING_STAGES, {"e": f["execution_id"]})
                stage_ids = sorted(set(stage_ids) | {s["stage_id"] for s in stages})
                impact = sum(overhead_estimate_ms(s["n_ok"], target, s["dur_med"], cores, s["wall_ms"]) for s in stages)
                how = (f"{sum(s['n_ok'] for s in stages)} writer tasks (median "
                       f"{human_ms(stages[0]['dur_med']) if stages else '-'}) each wrote its own file")
                fix = (f"Write fewer, larger files: repartition({target}) or coalesce({target}) before the write "
                       "(about 128 MiB per file), or repartition by the table's partition columns when writing a "
                       "partitioned table; with AQE, a REBALANCE hint lets Spark size the output. Fewer files mean "
                       "fewer, longer writer tasks.")
            else:
                scan_ms = f["scan_ms"]
                got = ctx.rows(
                    "SELECT COALESCE(sum(completed_ms - COALESCE(first_task_launched_ms, submitted_ms)), 0) AS wall, "
                    "COALESCE(sum(num_tasks), 0) AS tasks FROM stages "
                    "WHERE list_contains($ids, stage_id) AND completed_ms IS NOT NULL", {"ids": stage_ids})[0]
                parallel = max(1, min(cores, int(got["tasks"] or 1)))
                scan_wall = scan_ms / parallel if scan_ms is not None else float(got["wall"] or 0)
                impact = scan_wall * (1 - target / files)
                how = (f"the scan spent {human_ms(scan_ms)} summed over tasks" if scan_ms is not None
                       else "the scan's stages took the time shown")
                fix = ("Compact the input into files of about 128 MiB (rewrite it once with repartition(n) or the "
                       "table format's compaction), and fix the job that writes it. Until then, Spark packs small files "
                       "into splits by spark.sql.files.maxPartitionBytes and spark.sql.files.openCostInBytes; raising "
                       "them gives fewer, longer scan tasks but does not remove the per-file cost.")
            verb = "wrote" if write else "read"
            found.append(ctx.insight(
                self.type,
                title=f"Query {f['execution_id']} {verb} {files} files averaging {human_bytes(avg)}",
                description=(
                    f"`{(f['simple_string'] or f['node_name'])[:120]}` {verb} {files} files, "
                    f"{human_bytes(size)} in total ({human_bytes(avg)} per file); {how}. {target} file(s) of about "
                    "128 MiB would hold the same data. The impact is an estimate that charges the per-file cost to "
                    "the files beyond that."),
                evidence={
                    "sql_execution_id": f["execution_id"], "node_id": f["node_id"], "operator": f["node_name"],
                    "direction": "write" if write else "read", "files": files, "bytes": size,
                    "average_file_bytes": round(avg), "files_at_128_mib": target,
                    "scan_time_ms": f["scan_ms"], "rows": f["rows"],
                },
                confidence="medium",
                confidence_reason=(f"the file count ({files}) and bytes are Spark's own metrics; the time the extra "
                                   "files cost is estimated"),
                impact_ms=impact, suggestion=fix,
                docs_url=DOCS_PARTITION_HINTS if write else DOCS_SQL_OPTIONS,
                stage_ids=stage_ids, job_ids=ctx.jobs_of_query(f["execution_id"]), sql_ids=[f["execution_id"]],
            ))
        return found
