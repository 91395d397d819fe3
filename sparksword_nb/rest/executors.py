"""`applications/{id}/executors`, `allexecutors` and `allmiscellaneousprocess`.

The executor records are the ones AppStatusListener wrote during the replay (see `jobs.replay_status`).
AppStatusStore.executorList then lists them by executor id as text (`allexecutors`, ascending), or only
the active ones through its "active" index read in reverse (`executors`, so by id descending); drops the
fallback-storage block manager; and gives the driver the application's run time as totalDuration and its
peak TotalGCTime as totalGCTime.
"""
from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from .environment import java_string_order
from .format import spark_date
from .jobs import replay_status

if TYPE_CHECKING:
    from ..store import EventLog
    from .format import Query

_DRIVER = "driver"
# FallbackStorage.FALLBACK_BLOCK_MANAGER_ID's executor id: not an executor, never listed
_FALLBACK_STORAGE = "fallback"


def _application_run_time(log: EventLog) -> int | None:
    """AppStatusStore.extractAppTime: end - start once ended; while running, the time since start *now*."""
    rows = log.sql("SELECT start_ms, end_ms FROM applications").fetchall()
    if not rows or rows[0][0] is None:
        return None
    start, end = rows[0]
    if end is None:
        return int(time.time() * 1000) - start
    return end - start


def _with_driver_times(summary: dict[str, Any], run_time: int | None) -> dict[str, Any]:
    if summary["id"] != _DRIVER:
        return summary
    summary = dict(summary)
    if run_time is not None:
        summary["totalDuration"] = run_time
    peaks = summary.get("peakMemoryMetrics")
    if peaks is not None:
        summary["totalGCTime"] = peaks["TotalGCTime"]
    return summary


def _executor_list(log: EventLog, active_only: bool) -> list[dict[str, Any]]:
    executors = replay_status(log).executors
    ids = sorted((i for i in executors if i != _FALLBACK_STORAGE), key=java_string_order, reverse=active_only)
    run_time = _application_run_time(log)
    return [
        _with_driver_times(executors[i], run_time) for i in ids if not active_only or executors[i]["isActive"]
    ]


def all_executors(log: EventLog, query: Query) -> list[dict[str, Any]]:
    """`allexecutors`: every executor the application had (and the driver), by id."""
    return _executor_list(log, active_only=False)


def active_executors(log: EventLog, query: Query) -> list[dict[str, Any]]:
    """`executors`: the executors still active at the end of the log, by id descending."""
    return _executor_list(log, active_only=True)


def misc_processes(log: EventLog, query: Query) -> list[dict[str, Any]]:
    """`allmiscellaneousprocess`: processes other than executors (e.g. the YARN AM), by process id."""
    processes: dict[str, dict[str, Any]] = {}
    for process_id, added_ms, info_text in log.sql(
        "SELECT process_id, added_ms, info FROM misc_processes"
    ).fetchall():
        info = json.loads(info_text) if info_text else {}
        # the first event of a process fixes its add time; each event refreshes the rest
        process = processes.setdefault(process_id, {"id": process_id, "addTime": spark_date(added_ms)})
        host_port = info.get("hostPort")
        if host_port is not None:
            process["hostPort"] = host_port
        process.update(
            isActive=True, totalCores=int(info.get("cores") or 0), processLogs=dict(info.get("logUrlInfo") or {})
        )
    return [processes[i] for i in sorted(processes, key=java_string_order)]
