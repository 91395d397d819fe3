"""`applications/{id}/storage/rdd[/{rddId}]`: the persisted RDDs, as the History Server stores them.

AppStatusListener tracks an RDD from the first SparkListenerStageSubmitted whose RDD info has a valid
storage level (it uses or could use memory or disk). Its cached partitions, memory and disk use come only
from SparkListenerBlockUpdated events, which Spark writes to event logs only with
spark.eventLog.logBlockUpdates.enabled; the canonical tables do not keep them (nor UnpersistRDD), so every
RDD here has no cached partition. The list keeps only RDDs with cached partitions (as
AppStatusStore.rddList(cachedOnly = true)); asking for one RDD by id shows it even when nothing is cached.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError

if TYPE_CHECKING:
    from ..store import EventLog
    from .format import Query


def storage_level_description(
    use_disk: bool, use_memory: bool, use_off_heap: bool, deserialized: bool, replication: int
) -> str:
    """StorageLevel.description, e.g. `Memory Deserialized 1x Replicated`."""
    text = "Disk " if use_disk else ""
    if use_memory:
        text += "Memory (off heap) " if use_off_heap else "Memory "
    text += "Deserialized " if deserialized else "Serialized "
    return text + f"{replication}x Replicated"


def _tracked_rdds(log: EventLog) -> dict[int, dict[str, Any]]:
    # The RDD infos of submitted stage attempts, in submission order: the first one of each RDD wins.
    rows = log.sql(
        """
        SELECT r.rdd_id, r.name, r.num_partitions, COALESCE(r.use_disk, false), COALESCE(r.use_memory, false),
               COALESCE(r.use_off_heap, false), COALESCE(r.deserialized, false), COALESCE(r.replication, 0)
        FROM rdds r JOIN stages s USING (stage_id, stage_attempt_id)
        WHERE s.submitted_ord IS NOT NULL
        ORDER BY s.submitted_ord
        """
    ).fetchall()
    tracked: dict[int, dict[str, Any]] = {}
    for rdd_id, name, partitions, use_disk, use_memory, off_heap, deserialized, replication in rows:
        valid = (use_memory or use_disk) and replication > 0
        if not valid or rdd_id in tracked:
            continue
        tracked[int(rdd_id)] = {
            "id": int(rdd_id),
            "name": name,
            "numPartitions": int(partitions or 0),
            "numCachedPartitions": 0,
            "storageLevel": storage_level_description(use_disk, use_memory, off_heap, deserialized, int(replication)),
            "memoryUsed": 0,
            "diskUsed": 0,
            "partitions": [],
        }
    return tracked


def rdd_list(log: EventLog, query: Query) -> list[dict[str, Any]]:
    """`storage/rdd`: the RDDs that have cached partitions, by id."""
    tracked = _tracked_rdds(log)
    return [tracked[i] for i in sorted(tracked) if tracked[i]["numCachedPartitions"] > 0]


def one_rdd(log: EventLog, query: Query, rdd_id: int) -> dict[str, Any]:
    """`storage/rdd/{id}`: one persisted RDD."""
    tracked = _tracked_rdds(log)
    if rdd_id not in tracked:
        raise SparkswordError(f"no rdd found w/ id {rdd_id}")
    return tracked[rdd_id]
