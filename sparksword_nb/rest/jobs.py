"""`applications/{id}/jobs[/{jobId}]`, and the replay of AppStatusListener that jobs and executors share.

The History Server's job and executor records are what AppStatusListener wrote while replaying the log,
and what it wrote depends on the order of events: a task counts for a job only while the task's stage
attempt is "live" in the listener, a job ended by JobEnd is only written again when one of its stage
attempts is later dropped by a TaskEnd, and an executor removed by ExecutorRemoved keeps the state it had
then. `replay_status` re-runs those rules (Spark 4's AppStatusListener) over the canonical tables in log
order (their `*_ord` columns are the event lines), keeping, like the History Server's store, the last
written version of each job and executor.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError
from ..ingest.schema import EXECUTOR_METRIC_NAMES
from .format import spark_date

if TYPE_CHECKING:
    from ..store import EventLog
    from .format import Query

_JOB_STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "UNKNOWN")
_DRIVER = "driver"

# Event kinds of the replay; the value only breaks ties between rows of the same log line (never expected).
_JOB_START, _JOB_END, _STAGE_SUBMITTED, _STAGE_COMPLETED = 0, 1, 2, 3
_TASK_START, _TASK_END, _EXECUTOR_ADDED, _BLOCK_MANAGER_ADDED = 4, 5, 6, 7
_EXECUTOR_REMOVED, _EXCLUSION, _STAGE_EXECUTOR_METRICS = 8, 9, 10


@dataclass
class _Job:
    job_id: int
    name: str
    description: str | None
    submitted_ms: int | None
    stage_ids: list[int]
    job_group: str | None
    job_tags: list[str]
    num_tasks: int
    status: str = "RUNNING"
    completed_ms: int | None = None
    active_tasks: int = 0
    completed_tasks: int = 0
    failed_tasks: int = 0
    killed_tasks: int = 0
    completed_indices: set[tuple[int, int]] = field(default_factory=set)
    killed_summary: dict[str, int] = field(default_factory=dict)
    skipped_tasks: int = 0
    skipped_stages: set[int] = field(default_factory=set)
    completed_stages: set[int] = field(default_factory=set)
    active_stages: int = 0
    failed_stages: int = 0

    def to_api(self) -> dict[str, Any]:
        """v1.JobData as the History Server prints it (absent options left out)."""
        data: dict[str, Any] = {"jobId": self.job_id, "name": self.name}
        if self.description is not None:
            data["description"] = self.description
        if self.submitted_ms is not None:
            data["submissionTime"] = spark_date(self.submitted_ms)
        if self.completed_ms is not None:
            data["completionTime"] = spark_date(self.completed_ms)
        data["stageIds"] = list(self.stage_ids)
        if self.job_group is not None:
            data["jobGroup"] = self.job_group
        data.update(
            jobTags=list(self.job_tags),
            status=self.status,
            numTasks=self.num_tasks,
            numActiveTasks=self.active_tasks,
            numCompletedTasks=self.completed_tasks,
            numSkippedTasks=self.skipped_tasks,
            numFailedTasks=self.failed_tasks,
            numKilledTasks=self.killed_tasks,
            numCompletedIndices=len(self.completed_indices),
            numActiveStages=self.active_stages,
            numCompletedStages=len(self.completed_stages),
            numSkippedStages=len(self.skipped_stages),
            numFailedStages=self.failed_stages,
            killedTasksSummary=dict(self.killed_summary),
        )
        return data


@dataclass
class _Stage:
    stage_id: int
    num_tasks: int
    submitted_ms: int | None
    status: str = "PENDING"
    jobs: list[_Job] = field(default_factory=list)
    active_tasks: int = 0
    excluded_executors: set[str] = field(default_factory=set)


def _new_peaks() -> list[int]:
    # ExecutorMetrics starts with its first metric at -1, meaning "never set"
    return [-1] + [0] * (len(EXECUTOR_METRIC_NAMES) - 1)


def update_peaks(peaks: list[int], values: list[int]) -> bool:
    """ExecutorMetrics.compareAndUpdatePeakValues: keep the larger of each metric; True when one grew."""
    larger = list(map(max, peaks, values))
    if larger == peaks:
        return False
    peaks[:] = larger
    return True


@dataclass
class _Executor:
    executor_id: str
    add_ms: int
    host: str | None = None
    host_port: str | None = None
    is_active: bool = True
    total_cores: int = 0
    max_tasks: int = 0
    remove_ms: int | None = None
    remove_reason: str | None = None
    total_tasks: int = 0
    active_tasks: int = 0
    completed_tasks: int = 0
    failed_tasks: int = 0
    total_duration: int = 0
    total_gc_time: int = 0
    total_input_bytes: int = 0
    total_shuffle_read: int = 0
    total_shuffle_write: int = 0
    is_excluded: bool = False
    excluded_in_stages: set[int] = field(default_factory=set)
    executor_logs: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    resource_profile_id: int = 0
    max_memory: int = 0
    total_on_heap: int = -1
    total_off_heap: int = 0
    peaks: list[int] = field(default_factory=_new_peaks)

    @property
    def hostname(self) -> str | None:
        """LiveExecutor.hostname: the ExecutorAdded host, else the host part of the block manager's."""
        if self.host is not None:
            return self.host
        return self.host_port.rsplit(":", 1)[0] if self.host_port else None

    def to_api(self) -> dict[str, Any]:
        """v1.ExecutorSummary as stored by the listener (before the REST layer's driver adjustments)."""
        data: dict[str, Any] = {"id": self.executor_id}
        host_port = self.host_port if self.host_port is not None else self.host
        if host_port is not None:
            data["hostPort"] = host_port
        excluded_stages = sorted(self.excluded_in_stages)
        data.update(
            isActive=self.is_active,
            # Block usage comes from BlockUpdated events, which the canonical tables do not keep (Spark logs
            # them only with spark.eventLog.logBlockUpdates.enabled).
            rddBlocks=0,
            memoryUsed=0,
            diskUsed=0,
            totalCores=self.total_cores,
            maxTasks=self.max_tasks,
            activeTasks=self.active_tasks,
            failedTasks=self.failed_tasks,
            completedTasks=self.completed_tasks,
            totalTasks=self.total_tasks,
            totalDuration=self.total_duration,
            totalGCTime=self.total_gc_time,
            totalInputBytes=self.total_input_bytes,
            totalShuffleRead=self.total_shuffle_read,
            totalShuffleWrite=self.total_shuffle_write,
            isBlacklisted=self.is_excluded,
            maxMemory=self.max_memory,
            addTime=spark_date(self.add_ms),
        )
        if self.remove_ms is not None:
            data["removeTime"] = spark_date(self.remove_ms)
        if self.remove_reason is not None:
            data["removeReason"] = self.remove_reason
        data["executorLogs"] = dict(self.executor_logs)
        if self.total_on_heap >= 0:
            data["memoryMetrics"] = {
                "usedOnHeapStorageMemory": 0,
                "usedOffHeapStorageMemory": 0,
                "totalOnHeapStorageMemory": self.total_on_heap,
                "totalOffHeapStorageMemory": self.total_off_heap,
            }
        data["blacklistedInStages"] = excluded_stages
        if self.peaks[0] > -1:
            data["peakMemoryMetrics"] = dict(zip(EXECUTOR_METRIC_NAMES, self.peaks))
        data.update(
            attributes=dict(self.attributes),
            resources=json.loads(json.dumps(self.resources)),
            resourceProfileId=self.resource_profile_id,
            isExcluded=self.is_excluded,
            excludedInStages=excluded_stages,
        )
        return data


@dataclass
class StatusReplay:
    """What the History Server's store holds after replaying the log: the last written job and executor records."""

    jobs: dict[int, dict[str, Any]]
    executors: dict[str, dict[str, Any]]


def _json_map(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _metric_list_sql(column: str) -> str:
    return "[" + ", ".join(f'COALESCE({column}."{name}", 0)' for name in EXECUTOR_METRIC_NAMES) + "]"


def _load_events(log: EventLog) -> list[tuple]:
    """All replayed events as (line, kind, payload...) tuples, in log order."""
    events: list[tuple] = []
    for row in log.sql(
        "SELECT start_ord, end_ord, job_id, status, completed_ms, name, description, submitted_ms, stage_ids, "
        "job_group, job_tags, stage_infos FROM jobs"
    ).fetchall():
        start_ord, end_ord, *rest = row
        if start_ord is not None:
            events.append((start_ord, _JOB_START, *rest))
        if end_ord is not None:
            events.append((end_ord, _JOB_END, row[2], row[3], row[4]))
    for stage_id, attempt, num_tasks, submitted_ms, failure_reason, submitted_ord, completed_ord in log.sql(
        "SELECT stage_id, stage_attempt_id, num_tasks, submitted_ms, failure_reason, submitted_ord, completed_ord "
        "FROM stages"
    ).fetchall():
        if submitted_ord is not None:
            events.append((submitted_ord, _STAGE_SUBMITTED, stage_id, attempt, num_tasks, submitted_ms))
        if completed_ord is not None:
            # AppStatusListener.onStageCompleted: a failure reason, else a submission time, decides
            status = "FAILED" if failure_reason is not None else ("COMPLETE" if submitted_ms is not None else "SKIPPED")
            events.append((completed_ord, _STAGE_COMPLETED, stage_id, attempt, num_tasks, submitted_ms, status))
    for row in log.sql(
        """
        SELECT start_ord, event_ord, status, stage_id, stage_attempt_id, "index", executor_id, end_reason,
          end_reason_detail."Kill Reason", end_reason_detail."Job ID", end_reason_detail."Partition ID",
          end_reason_detail."Attempt Number", COALESCE(duration_ms, 0), COALESCE(jvm_gc_time_ms, 0),
          COALESCE(input_bytes, 0), COALESCE(shuffle_read_bytes, 0),
          COALESCE(shuffle_write_bytes, 0), resubmitted_ord
        FROM tasks
        """
    ).fetchall():
        start_ord, end_ord, status, resubmitted_ord = row[0], row[1], row[2], row[-1]
        if start_ord is not None:
            events.append((start_ord, _TASK_START, row[3], row[4], row[6]))
        if status != "RUNNING":
            events.append((end_ord, _TASK_END, *row[3:-1]))
        if resubmitted_ord is not None:
            # its executor was lost after it succeeded: Spark ended it again, a failure that adds neither
            # metrics nor duration to its executor (the History Server's totalDuration excludes it)
            events.append((resubmitted_ord, _TASK_END, *row[3:7], "Resubmitted", *row[8:12], 0, *row[13:-1]))
    for row in log.sql(
        "SELECT executor_id, added_ord, bm_added_ord, removed_ord, added_ms, bm_added_ms, host, bm_host, port, "
        "cores, resource_profile_id, log_urls, attributes, resources, max_memory, max_onheap_memory, "
        "max_offheap_memory, removed_ms, removed_reason FROM executors"
    ).fetchall():
        (executor_id, added_ord, bm_ord, removed_ord, added_ms, bm_ms, host, bm_host, port, cores, profile,
         log_urls, attributes, resources, max_memory, on_heap, off_heap, removed_ms, removed_reason) = row
        if added_ord is not None:
            events.append((added_ord, _EXECUTOR_ADDED, executor_id, added_ms, host, cores, profile,
                           _json_map(log_urls), _json_map(attributes), _json_map(resources)))
        if bm_ord is not None:
            events.append((bm_ord, _BLOCK_MANAGER_ADDED, executor_id, bm_ms, bm_host, port, max_memory, on_heap,
                           off_heap))
        if removed_ord is not None:
            events.append((removed_ord, _EXECUTOR_REMOVED, executor_id, removed_ms, removed_reason))
    for row in log.sql(
        "SELECT event_ord, kind, executor_id, host, stage_id, stage_attempt_id FROM exclusions"
    ).fetchall():
        events.append((row[0], _EXCLUSION, *row[1:]))
    for row in log.sql(
        f"SELECT event_ord, stage_id, stage_attempt_id, executor_id, {_metric_list_sql('executor_metrics')} "
        "FROM stage_executor_metrics"
    ).fetchall():
        events.append((row[0], _STAGE_EXECUTOR_METRICS, *row[1:]))
    events.sort(key=itemgetter(0, 1))
    return events


def _task_peaks(log: EventLog) -> dict[str, list[int]]:
    """Per executor, the peak of the "Task Executor Metrics" of the tasks that ended before it was removed.

    onTaskEnd folds each task's metrics into its executor's peaks only while the executor is live; taking
    the maximum here in SQL gives the same peaks as folding them one task at a time.
    """
    peaks = ", ".join(f'max(COALESCE(t.executor_metrics."{name}", 0))' for name in EXECUTOR_METRIC_NAMES)
    rows = log.sql(
        f"""
        SELECT t.executor_id, [{peaks}]
        FROM tasks t JOIN executors e USING (executor_id)
        WHERE t.status <> 'RUNNING' AND (e.removed_ord IS NULL OR t.event_ord < e.removed_ord)
        GROUP BY t.executor_id
        """
    ).fetchall()
    return {executor_id: list(values) for executor_id, values in rows}


def _job_tags(text: str | None) -> list[str]:
    # SparkContext.SPARK_JOB_TAGS_SEP is ","; the listener keeps the distinct non-empty tags, sorted
    return sorted({tag for tag in (text or "").split(",") if tag})


def _task_deltas(reason: str | None) -> tuple[int, int, int, int]:
    """(completed, failed, killed, active) changes of a TaskEnd, as Spark 4's onTaskEnd counts its reason."""
    if reason == "Success":
        return 1, 0, 0, 1
    if reason in ("TaskKilled", "TaskCommitDenied"):
        return 0, 0, 1, 1
    if reason == "Resubmitted":
        # a resubmitted task already ended once: it is a failure but no longer active
        return 0, 1, 0, 0
    return 0, 1, 0, 1


def _killed_reason(reason: str | None, kill_reason: str | None, job: Any, partition: Any, attempt: Any) -> str | None:
    if reason == "TaskKilled":
        return kill_reason if kill_reason is not None else "unknown reason"
    if reason == "TaskCommitDenied":
        job_id, partition_id, attempt_number = (-1 if v is None else v for v in (job, partition, attempt))
        return (
            f"TaskCommitDenied (Driver denied task commit) for job: {job_id}, partition: {partition_id}, "
            f"attemptNumber: {attempt_number}"
        )
    return None


def _settings(log: EventLog) -> tuple[int, dict[int, int], tuple[Any, Any] | None]:
    """spark.task.cpus, the task CPUs of each resource profile, and the driver's logs and attributes."""
    cpus_row = log.sql("SELECT value FROM config WHERE section = 'spark' AND key = 'spark.task.cpus'").fetchall()
    default_cpus = 1
    if cpus_row:
        try:
            default_cpus = int(cpus_row[-1][0])
        except (TypeError, ValueError):
            pass
    profile_cpus: dict[int, int] = {}
    for profile_id, task_requests in log.sql(
        "SELECT resource_profile_id, task_resource_requests FROM resource_profiles"
    ).fetchall():
        cpus = _json_map(task_requests).get("cpus")
        if isinstance(cpus, dict) and cpus.get("Amount") is not None:
            profile_cpus[int(profile_id)] = int(float(cpus["Amount"]))
        else:
            profile_cpus.pop(int(profile_id), None)
    driver = log.sql("SELECT driver_logs, driver_attributes FROM applications").fetchall()
    driver_info = driver[0] if driver and driver[0][0] is not None else None
    return default_cpus, profile_cpus, driver_info


class _StatusListener:
    """AppStatusListener's bookkeeping of jobs and executors, one method per event kind, fed in log order."""

    def __init__(self, log: EventLog) -> None:
        self.default_cpus, self.profile_cpus, self.driver_info = _settings(log)
        self.task_peaks = _task_peaks(log)
        self.live_jobs: dict[int, _Job] = {}
        self.live_stages: dict[tuple[int, int], _Stage] = {}
        self.live_executors: dict[str, _Executor] = {}
        self.dead_executors: dict[str, _Executor] = {}
        self.written_jobs: dict[int, dict[str, Any]] = {}
        self.written_executors: dict[str, dict[str, Any]] = {}

    def stage_for(self, stage_id: int, attempt: int, num_tasks: int, submitted_ms: int | None) -> _Stage:
        # getOrCreateStage: the newest stage info replaces the old one
        stage = self.live_stages.get((stage_id, attempt))
        if stage is None:
            stage = self.live_stages[(stage_id, attempt)] = _Stage(stage_id, num_tasks, submitted_ms)
        stage.num_tasks, stage.submitted_ms = num_tasks, submitted_ms
        return stage

    def executor_for(self, executor_id: str, time_ms: int) -> _Executor:
        executor = self.live_executors.get(executor_id)
        if executor is None:
            executor = self.live_executors[executor_id] = _Executor(executor_id, time_ms)
        return executor

    def active_for_live_stages(self, executor: _Executor) -> bool:
        return any((s.submitted_ms or 0) < (executor.remove_ms or 0) for s in self.live_stages.values())

    def on_task_start(self, event: tuple) -> None:
        _, _, stage_id, attempt, executor_id = event
        stage = self.live_stages.get((stage_id, attempt))
        if stage is not None:
            stage.active_tasks += 1
            for job in stage.jobs:
                job.active_tasks += 1
        executor = self.live_executors.get(executor_id)
        if executor is not None:
            executor.active_tasks += 1
            executor.total_tasks += 1

    def on_task_end(self, event: tuple) -> None:
        (_, _, stage_id, attempt, index, executor_id, reason, kill_reason, commit_job, commit_partition,
         commit_attempt, duration, gc_time, input_bytes, shuffle_read, shuffle_write) = event
        completed, failed, killed, active = _task_deltas(reason)
        killed_key = _killed_reason(reason, kill_reason, commit_job, commit_partition, commit_attempt)
        stage = self.live_stages.get((stage_id, attempt))
        if stage is not None:
            stage.active_tasks -= active
            # SPARK-24415: a finished stage leaves the live set with its last task
            remove_stage = stage.active_tasks == 0 and stage.status in ("COMPLETE", "FAILED")
            for job in stage.jobs:
                job.active_tasks -= active
                job.completed_tasks += completed
                if completed:
                    job.completed_indices.add((stage_id, index))
                job.failed_tasks += failed
                job.killed_tasks += killed
                if killed_key is not None:
                    job.killed_summary[killed_key] = job.killed_summary.get(killed_key, 0) + 1
                if remove_stage:
                    self.written_jobs[job.job_id] = job.to_api()
            if remove_stage:
                del self.live_stages[(stage_id, attempt)]
        executor = self.live_executors.get(executor_id)
        if executor is not None:
            executor.active_tasks -= active
            executor.completed_tasks += completed
            executor.failed_tasks += failed
            executor.total_duration += duration
            # a resubmitted task keeps the metrics of its first attempt
            if reason != "Resubmitted":
                executor.total_gc_time += gc_time
                executor.total_input_bytes += input_bytes
                executor.total_shuffle_read += shuffle_read
                executor.total_shuffle_write += shuffle_write

    def on_job_start(self, event: tuple) -> None:
        (_, _, job_id, _status, _completed, name, description, submitted_ms, stage_ids, job_group, job_tags,
         stage_infos) = event
        infos = stage_infos or []
        job = _Job(
            job_id=job_id,
            name=name or "",
            description=description,
            submitted_ms=submitted_ms if submitted_ms is not None and submitted_ms > 0 else None,
            stage_ids=list(stage_ids or []),
            job_group=job_group,
            job_tags=_job_tags(job_tags),
            # an over-estimate: the tasks of every stage the JobStart did not mark as completed
            num_tasks=sum(i["num_tasks"] or 0 for i in infos if i["completion_ms"] is None),
        )
        self.live_jobs[job_id] = job
        for info in infos:
            stage = self.stage_for(info["stage_id"], info["stage_attempt_id"], info["num_tasks"] or 0,
                              info["submission_ms"])
            stage.jobs.append(job)

    def on_job_end(self, event: tuple) -> None:
        _, _, job_id, status, completed_ms = event
        if job_id not in self.live_jobs:
            return
        job = self.live_jobs.pop(job_id)
        for key, stage in list(self.live_stages.items()):
            if key[0] in job.stage_ids and stage.status == "PENDING":
                stage.status = "SKIPPED"
                job.skipped_stages.add(stage.stage_id)
                job.skipped_tasks += stage.num_tasks
                del self.live_stages[key]
        job.status = status if status in ("SUCCEEDED", "FAILED") else "FAILED"
        job.completed_ms = completed_ms if completed_ms is not None and completed_ms > 0 else None
        self.written_jobs[job_id] = job.to_api()

    def on_stage_submitted(self, event: tuple) -> None:
        _, _, stage_id, attempt, num_tasks, submitted_ms = event
        stage = self.stage_for(stage_id, attempt, num_tasks or 0, submitted_ms)
        stage.status = "ACTIVE"
        stage.jobs = [job for job in self.live_jobs.values() if stage_id in job.stage_ids]
        for job in stage.jobs:
            job.completed_stages.discard(stage_id)
            job.active_stages += 1

    def on_stage_completed(self, event: tuple) -> None:
        _, _, stage_id, attempt, num_tasks, submitted_ms, status = event
        stage = self.live_stages.get((stage_id, attempt))
        if stage is not None:
            stage.num_tasks, stage.submitted_ms, stage.status = num_tasks or 0, submitted_ms, status
            for job in stage.jobs:
                if status == "COMPLETE":
                    job.completed_stages.add(stage_id)
                elif status == "SKIPPED":
                    job.skipped_stages.add(stage_id)
                    job.skipped_tasks += stage.num_tasks
                else:
                    job.failed_stages += 1
                job.active_stages -= 1
            for executor_id in stage.excluded_executors:
                executor = self.live_executors.get(executor_id)
                if executor is not None:
                    executor.excluded_in_stages.discard(stage_id)
            if stage.active_tasks == 0:
                del self.live_stages[(stage_id, attempt)]
        self.dead_executors = {k: e for k, e in self.dead_executors.items() if self.active_for_live_stages(e)}

    def on_executor_added(self, event: tuple) -> None:
        _, _, executor_id, time_ms, host, cores, profile, log_urls, attributes, resources = event
        executor = self.executor_for(executor_id, time_ms)
        executor.host, executor.is_active, executor.total_cores = host, True, int(cores or 0)
        profile = int(profile or 0)
        cpus = self.profile_cpus.get(profile, self.default_cpus)
        # The History Server's own configuration never makes a profile's core limit "known", so
        # maxTasks is always the executor's cores over the task CPUs.
        executor.max_tasks = int(executor.total_cores / cpus) if cpus else 0
        executor.executor_logs, executor.attributes, executor.resources = log_urls, attributes, resources
        executor.resource_profile_id = profile

    def on_block_manager_added(self, event: tuple) -> None:
        _, _, executor_id, time_ms, host, port, max_memory, on_heap, off_heap = event
        executor = self.executor_for(executor_id, time_ms)
        executor.host_port = f"{host}:{port}"
        if on_heap is not None:
            executor.total_on_heap, executor.total_off_heap = on_heap, off_heap or 0
        executor.is_active = True
        executor.max_memory = max_memory or 0
        if executor_id == _DRIVER and self.driver_info is not None:
            # ApplicationStart (right after the driver's block manager registers) carries the driver logs
            executor.executor_logs = _json_map(self.driver_info[0])
            executor.attributes = _json_map(self.driver_info[1])

    def on_executor_removed(self, event: tuple) -> None:
        _, _, executor_id, removed_ms, reason = event
        executor = self.live_executors.pop(executor_id, None)
        if executor is not None:
            executor.is_active, executor.remove_ms, executor.remove_reason = False, removed_ms, reason
            update_peaks(executor.peaks, self.task_peaks.get(executor_id, executor.peaks))
            self.written_executors[executor_id] = executor.to_api()
            if self.active_for_live_stages(executor):
                self.dead_executors[executor_id] = executor

    def on_exclusion(self, event: tuple) -> None:
        _, _, what, executor_id, host, stage_id, attempt = event
        _apply_exclusion(what, executor_id, host, stage_id, attempt, self.live_stages, self.live_executors)

    def on_stage_executor_metrics(self, event: tuple) -> None:
        _, _, stage_id, attempt, executor_id, metrics = event
        executor = self.live_executors.get(executor_id) or self.dead_executors.get(executor_id)
        if executor is not None and update_peaks(executor.peaks, metrics):
            self.written_executors[executor_id] = executor.to_api()

    def finish(self) -> StatusReplay:
        """The store's final flush writes every entity still live."""
        for job in self.live_jobs.values():
            self.written_jobs[job.job_id] = job.to_api()
        for executor in self.live_executors.values():
            update_peaks(executor.peaks, self.task_peaks.get(executor.executor_id, executor.peaks))
            self.written_executors[executor.executor_id] = executor.to_api()
        return StatusReplay(jobs=self.written_jobs, executors=self.written_executors)


def replay_status(log: EventLog) -> StatusReplay:
    """Replay the log's job, stage, task and executor events as the History Server's AppStatusListener does."""
    listener = _StatusListener(log)
    handlers = {
        _TASK_START: listener.on_task_start,
        _TASK_END: listener.on_task_end,
        _JOB_START: listener.on_job_start,
        _JOB_END: listener.on_job_end,
        _STAGE_SUBMITTED: listener.on_stage_submitted,
        _STAGE_COMPLETED: listener.on_stage_completed,
        _EXECUTOR_ADDED: listener.on_executor_added,
        _BLOCK_MANAGER_ADDED: listener.on_block_manager_added,
        _EXECUTOR_REMOVED: listener.on_executor_removed,
        _EXCLUSION: listener.on_exclusion,
        _STAGE_EXECUTOR_METRICS: listener.on_stage_executor_metrics,
    }
    for event in _load_events(log):
        handlers[event[1]](event)
    return listener.finish()


def _apply_exclusion(
    what: str,
    executor_id: str | None,
    host: str | None,
    stage_id: int | None,
    attempt: int | None,
    live_stages: dict[tuple[int, int], _Stage],
    live_executors: dict[str, _Executor],
) -> None:
    """The listener's handlers of (un)exclusion events (and their pre-3.1 "blacklist" twins)."""
    what = what.replace("UnExcluded", "Unexcluded")
    if what in ("ExecutorExcluded", "ExecutorUnexcluded"):
        executor = live_executors.get(executor_id or "")
        if executor is not None:
            executor.is_excluded = what == "ExecutorExcluded"
    elif what in ("NodeExcluded", "NodeUnexcluded"):
        for executor in live_executors.values():
            if executor.hostname == host and executor.executor_id != _DRIVER:
                executor.is_excluded = what == "NodeExcluded"
    elif what == "ExecutorExcludedForStage" and stage_id is not None and attempt is not None and executor_id:
        stage = live_stages.get((stage_id, attempt))
        if stage is not None:
            stage.excluded_executors.add(executor_id)
        executor = live_executors.get(executor_id or "")
        if executor is not None:
            executor.excluded_in_stages.add(stage_id)
    elif what == "NodeExcludedForStage" and stage_id is not None and attempt is not None:
        stage = live_stages.get((stage_id, attempt))
        if stage is not None:
            stage.excluded_executors.update(
                e.executor_id for e in live_executors.values() if e.host == host and e.executor_id != _DRIVER
            )
        for executor in live_executors.values():
            if executor.hostname == host and executor.executor_id != _DRIVER:
                executor.excluded_in_stages.add(stage_id)


def _statuses(query: Query) -> set[str] | None:
    values = [v.strip().upper() for v in query.get("status", []) if v.strip()]
    for value in values:
        if value not in _JOB_STATUSES:
            raise SparkswordError(
                f"unknown job status: {value.lower()} (expected one of {', '.join(s.lower() for s in _JOB_STATUSES)})"
            )
    return set(values) or None


def job_list(log: EventLog, query: Query) -> list[dict[str, Any]]:
    """`jobs`: newest job first, optionally only those with the given `status=` values."""
    statuses = _statuses(query)
    jobs = replay_status(log).jobs
    return [jobs[i] for i in sorted(jobs, reverse=True) if statuses is None or jobs[i]["status"] in statuses]


def one_job(log: EventLog, query: Query, job_id: int) -> dict[str, Any]:
    """`jobs/{jobId}`: one job."""
    jobs = replay_status(log).jobs
    if job_id not in jobs:
        raise SparkswordError(f"unknown job: {job_id}")
    return jobs[job_id]
