"""Sparklens-style replay: schedule measured (or estimated) task times on N cores.

Assumes a task takes as long on a different cluster as it did when measured (no change in contention, data
locality or JIT warm-up) and that Spark hands free cores to waiting tasks in stage order (the FIFO
scheduler). Driver time between jobs is kept as measured.
"""
from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
from typing import TYPE_CHECKING

from ..spark.attempts import LATEST_STAGE_ATTEMPT

if TYPE_CHECKING:
    from ..store import EventLog


def stage_makespan(task_ms: Sequence[float] | np.ndarray, cores: int) -> float:
    """Wall time of one stage's tasks, launched in order on `cores` free cores (greedy list scheduling)."""
    cores = max(int(cores), 1)
    if not len(task_ms):
        return 0.0
    free = [0.0] * min(cores, len(task_ms))
    heapq.heapify(free)
    end = 0.0
    for t in task_ms:
        start = heapq.heappop(free)
        finish = start + max(float(t), 0.0)
        end = max(end, finish)
        heapq.heappush(free, finish)
    return end


def waves(tasks: int, cores: int) -> float:
    """How many rounds of tasks the cores run (tasks / cores; 2.1 means a third, nearly empty round)."""
    return tasks / max(int(cores), 1)


@dataclass
class JobReplay:
    """A job's measured wall time and the replay's estimate for a core count."""

    job_id: int
    real_ms: float | None
    replay_ms: float


def replay_job(stages: dict[int, tuple[list[int], list[float]]], cores: int) -> float:
    """Makespan of a stage DAG: {stage_id: (parent stage ids, task times)}; a stage starts when its parents
    have finished, and free cores go to the lowest ready stage id first."""
    cores = max(int(cores), 1)
    done_at: dict[int, float] = {}
    pending = dict(stages)
    clock = 0.0
    running: list[tuple[float, int]] = []  # (finish time, stage id)
    queues: dict[int, list[float]] = {}
    remaining: dict[int, int] = {}
    free = cores
    started: set[int] = set()

    def release_ready(now: float) -> None:
        for sid in sorted(pending):
            parents, times = pending[sid]
            if sid in started:
                continue
            if all(p in done_at or p not in stages for p in parents):
                started.add(sid)
                queues[sid] = list(times)
                remaining[sid] = len(times)
                if not times:
                    done_at[sid] = now

    release_ready(clock)
    while len(done_at) < len(stages):
        for sid in sorted(queues):
            while free > 0 and queues[sid]:
                heapq.heappush(running, (clock + max(queues[sid].pop(0), 0.0), sid))
                free -= 1
        if not running:
            # nothing runnable: parents outside the DAG never finish; give up on the rest
            break
        clock, sid = heapq.heappop(running)
        free += 1
        remaining[sid] -= 1
        if remaining[sid] == 0:
            done_at[sid] = clock
            queues.pop(sid, None)
            pending.pop(sid, None)
            release_ready(clock)
    return clock


def replay_application_jobs(log: EventLog, cores: int) -> list[JobReplay]:
    """Each job's real wall time and its replay on `cores` cores, from the tasks' measured durations."""
    jobs = log.sql(
        "SELECT job_id, completed_ms - submitted_ms, stage_ids FROM jobs WHERE status = 'SUCCEEDED' ORDER BY job_id"
    ).fetchall()
    rows = log.sql(
        f"SELECT stage_id, list_sort(parent_ids), status FROM stages {LATEST_STAGE_ATTEMPT}"
    ).fetchall()
    info = {int(s): (list(p or []), st) for s, p, st in rows}
    durations: dict[int, list[float]] = {}
    for sid, ms in log.sql(
        """SELECT stage_id, list(duration_ms ORDER BY launch_ms, task_id) FROM tasks
           WHERE duration_ms IS NOT NULL GROUP BY stage_id"""
    ).fetchall():
        durations[int(sid)] = [float(x) for x in ms]
    out = []
    for job_id, real, stage_ids in jobs:
        dag = {
            int(s): ([p for p in info[int(s)][0] if p in stage_ids and info.get(p, ([], ""))[1] != "SKIPPED"],
                     durations.get(int(s), []))
            for s in stage_ids or []
            if int(s) in info and info[int(s)][1] != "SKIPPED"
        }
        out.append(JobReplay(int(job_id), float(real) if real is not None else None, replay_job(dag, cores)))
    return out
