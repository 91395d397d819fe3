"""The catalogue of Spark's task metrics: each once, with where the event log writes it, the column it becomes,
and the names the History Server's REST answers give it.

Everything else is derived from this list: the typed JSON struct the loader reads (`ingest.schema`), the
`tasks` and `stages` columns (`ingest.canonical`, `ingest.loader`), and the REST answers' per-stage sums and
push-based shuffle fields (`rest.stages`). Adding a task metric is one line here (and, to chart it, one
`TaskMetric` in `widgets.data`).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskMetricField:
    """One task metric."""

    column: str
    """The `tasks` (and, summed, `stages`) column."""
    path: tuple[str, ...]
    """Where SparkListenerTaskEnd writes it, below "Task Metrics"."""
    stage_field: str
    """The StageData field holding the stage attempt's sum (the History Server's stage answers)."""
    push_field: str | None = None
    """For push-based shuffle reads: the field name in TaskMetrics' shufflePushReadMetrics."""


_SR = "Shuffle Read Metrics"
_PUSH = (_SR, "Push Based Shuffle")

TASK_METRIC_FIELDS: tuple[TaskMetricField, ...] = (
    TaskMetricField("executor_deserialize_time_ms", ("Executor Deserialize Time",), "executorDeserializeTime"),
    TaskMetricField("executor_deserialize_cpu_ns", ("Executor Deserialize CPU Time",), "executorDeserializeCpuTime"),
    TaskMetricField("executor_run_time_ms", ("Executor Run Time",), "executorRunTime"),
    TaskMetricField("executor_cpu_ns", ("Executor CPU Time",), "executorCpuTime"),
    TaskMetricField("result_size_bytes", ("Result Size",), "resultSize"),
    TaskMetricField("jvm_gc_time_ms", ("JVM GC Time",), "jvmGcTime"),
    TaskMetricField("result_serialization_time_ms", ("Result Serialization Time",), "resultSerializationTime"),
    TaskMetricField("memory_bytes_spilled", ("Memory Bytes Spilled",), "memoryBytesSpilled"),
    TaskMetricField("disk_bytes_spilled", ("Disk Bytes Spilled",), "diskBytesSpilled"),
    TaskMetricField("peak_execution_memory", ("Peak Execution Memory",), "peakExecutionMemory"),
    TaskMetricField("peak_on_heap_execution_memory", ("Peak On Heap Execution Memory",), ""),
    TaskMetricField("peak_off_heap_execution_memory", ("Peak Off Heap Execution Memory",), ""),
    TaskMetricField("input_bytes", ("Input Metrics", "Bytes Read"), "inputBytes"),
    TaskMetricField("input_records", ("Input Metrics", "Records Read"), "inputRecords"),
    TaskMetricField("output_bytes", ("Output Metrics", "Bytes Written"), "outputBytes"),
    TaskMetricField("output_records", ("Output Metrics", "Records Written"), "outputRecords"),
    TaskMetricField("shuffle_remote_blocks_fetched", (_SR, "Remote Blocks Fetched"), "shuffleRemoteBlocksFetched"),
    TaskMetricField("shuffle_local_blocks_fetched", (_SR, "Local Blocks Fetched"), "shuffleLocalBlocksFetched"),
    TaskMetricField("shuffle_fetch_wait_time_ms", (_SR, "Fetch Wait Time"), "shuffleFetchWaitTime"),
    TaskMetricField("shuffle_remote_bytes_read", (_SR, "Remote Bytes Read"), "shuffleRemoteBytesRead"),
    TaskMetricField("shuffle_remote_bytes_read_to_disk", (_SR, "Remote Bytes Read To Disk"),
                    "shuffleRemoteBytesReadToDisk"),
    TaskMetricField("shuffle_local_bytes_read", (_SR, "Local Bytes Read"), "shuffleLocalBytesRead"),
    TaskMetricField("shuffle_records_read", (_SR, "Total Records Read"), "shuffleReadRecords"),
    TaskMetricField("shuffle_remote_reqs_duration_ms", (_SR, "Remote Requests Duration"), "shuffleRemoteReqsDuration"),
    TaskMetricField("shuffle_corrupt_merged_block_chunks", (*_PUSH, "Corrupt Merged Block Chunks"),
                    "shuffleCorruptMergedBlockChunks", "corruptMergedBlockChunks"),
    TaskMetricField("shuffle_merged_fetch_fallback_count", (*_PUSH, "Merged Fetch Fallback Count"),
                    "shuffleMergedFetchFallbackCount", "mergedFetchFallbackCount"),
    TaskMetricField("shuffle_merged_remote_blocks_fetched", (*_PUSH, "Merged Remote Blocks Fetched"),
                    "shuffleMergedRemoteBlocksFetched", "remoteMergedBlocksFetched"),
    TaskMetricField("shuffle_merged_local_blocks_fetched", (*_PUSH, "Merged Local Blocks Fetched"),
                    "shuffleMergedLocalBlocksFetched", "localMergedBlocksFetched"),
    TaskMetricField("shuffle_merged_remote_chunks_fetched", (*_PUSH, "Merged Remote Chunks Fetched"),
                    "shuffleMergedRemoteChunksFetched", "remoteMergedChunksFetched"),
    TaskMetricField("shuffle_merged_local_chunks_fetched", (*_PUSH, "Merged Local Chunks Fetched"),
                    "shuffleMergedLocalChunksFetched", "localMergedChunksFetched"),
    TaskMetricField("shuffle_merged_remote_bytes_read", (*_PUSH, "Merged Remote Bytes Read"),
                    "shuffleMergedRemoteBytesRead", "remoteMergedBytesRead"),
    TaskMetricField("shuffle_merged_local_bytes_read", (*_PUSH, "Merged Local Bytes Read"),
                    "shuffleMergedLocalBytesRead", "localMergedBytesRead"),
    TaskMetricField("shuffle_merged_remote_reqs_duration_ms", (*_PUSH, "Merged Remote Requests Duration"),
                    "shuffleMergedRemoteReqsDuration", "remoteMergedReqsDuration"),
    TaskMetricField("shuffle_write_bytes", ("Shuffle Write Metrics", "Shuffle Bytes Written"), "shuffleWriteBytes"),
    TaskMetricField("shuffle_write_time_ns", ("Shuffle Write Metrics", "Shuffle Write Time"), "shuffleWriteTime"),
    TaskMetricField("shuffle_write_records", ("Shuffle Write Metrics", "Shuffle Records Written"), "shuffleWriteRecords"),
)

# A metric of each task derived from two stored ones, stored too so every reader sums the same thing.
SHUFFLE_READ_BYTES = "shuffle_read_bytes"


def metrics_struct(extra: dict[str, str] | None = None) -> str:
    """The DuckDB STRUCT type of "Task Metrics" with every catalogue path (BIGINT leaves), plus `extra` fields."""
    tree: dict = {}
    for field in TASK_METRIC_FIELDS:
        node = tree
        for part in field.path[:-1]:
            node = node.setdefault(part, {})
        node[field.path[-1]] = "BIGINT"
    tree.update(extra or {})

    def render(node: dict) -> str:
        return "STRUCT(" + ", ".join(
            f'"{name}" {render(value) if isinstance(value, dict) else value}' for name, value in node.items()
        ) + ")"

    return render(tree)


def metric_sql(field: TaskMetricField, metrics: str = '"Task Metrics"') -> str:
    """SQL reading `field` from a TaskEnd row's metrics struct."""
    return metrics + "".join(f'."{part}"' for part in field.path)
