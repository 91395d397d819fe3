"""One application's line in a fleet: what the fleet store keeps of a loaded log, and the worker that makes it.

`summarize_job` is the unit of fleet work, the same on every engine: load one application (a fresh in-memory
DuckDB session under the memory limit), run the detectors, keep a row of facts and a row per finding, drop the
rest. It runs in a worker process (DuckDB engine) or a Spark Python worker (Spark engine); what it returns is
plain data (dicts), small whatever the log's size.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..detectors.idle_executors import CORE_TIME
from ..errors import SparkswordError

if TYPE_CHECKING:
    from ..ingest.sources import AppLog
    from ..store import EventLog

APP_COLUMNS = ("key", "fingerprint", "app", "app_id", "attempt_id", "name", "user", "spark_version", "start_ms",
               "end_ms", "duration_ms", "status", "executors", "cores", "core_ms_allocated", "core_ms_busy",
               "core_ms_idle", "tasks", "failed_tasks", "size_bytes", "path", "error", "load_s")
FINDING_COLUMNS = ("key", "app_id", "attempt_id", "type", "finding", "title", "severity", "confidence",
                   "impact_ms", "impact_share", "stage_ids")


@dataclass(frozen=True)
class FleetJob:
    """One application to summarize: a local log (`app_log`) or an application of a remote target (`target`,
    `app`); `key` names it in the fleet store and `fingerprint` says whether the store's row is still current."""

    key: str
    fingerprint: str
    app_log: AppLog | None = None
    target: str | None = None
    app: str | None = None
    storage_options: dict[str, Any] | None = None
    size_bytes: int | None = None

    @property
    def app_name(self) -> str | None:
        """What ``app=`` takes to load this application again from :attr:`path` (the log's name when local)."""
        return self.app or (self.app_log.log_name if self.app_log else None)

    @property
    def path(self) -> str:
        """Where the application is loaded from: the remote target, else the local log itself."""
        return self.target or self.key


@dataclass
class FleetResult:
    """What one job left: the application's row and its findings' rows (no findings when `error` is set)."""

    app: dict[str, Any]
    findings: list[dict[str, Any]] = field(default_factory=list)


def summarize(log: EventLog, job: FleetJob, *, in_progress: bool, load_s: float) -> FleetResult:
    """The fleet's row for a loaded application and one row per finding of the detectors."""
    app = log.rows("SELECT name, \"user\", spark_version, completed FROM applications")[0]
    account = log.time_account()
    core = log.rows(CORE_TIME, {"end_ms": account.end_ms})[0] if account.end_ms is not None else {}
    tasks = log.rows("SELECT count(*) AS tasks, count(*) FILTER (WHERE status = 'FAILED') AS failed FROM tasks")[0]
    allocated, busy = core.get("allocated_core_ms"), core.get("busy_core_ms")
    row = {
        "key": job.key, "fingerprint": job.fingerprint, "app": job.app_name,
        "app_id": log.app_id, "attempt_id": log.attempt_id or None, "name": app["name"], "user": app["user"],
        "spark_version": app["spark_version"], "start_ms": account.start_ms, "end_ms": account.end_ms,
        "duration_ms": account.duration_ms,
        "status": "in progress" if in_progress else "completed" if app["completed"] else "no end event",
        # no executor with known cores (Spark 1.x local mode logs none): unknown, not zero
        "executors": core.get("executors") or None, "cores": core.get("cores"),
        "core_ms_allocated": allocated, "core_ms_busy": busy,
        "core_ms_idle": max(allocated - busy, 0) if allocated is not None and busy is not None else None,
        "tasks": tasks["tasks"], "failed_tasks": tasks["failed"], "size_bytes": job.size_bytes,
        "path": job.path,
        "error": None, "load_s": round(load_s, 3),
    }
    findings = [{
        "key": job.key, "app_id": log.app_id, "attempt_id": log.attempt_id or None, "type": i.type, "finding": i.key,
        "title": i.title, "severity": i.severity, "confidence": i.confidence, "impact_ms": i.impact_ms,
        "impact_share": i.impact_share, "stage_ids": json.dumps(i.stage_ids),
    } for i in log.insights()]
    return FleetResult(row, findings)


def failed(job: FleetJob, error: str, load_s: float = 0.0) -> FleetResult:
    """The row of an application that could not be read: the fleet goes on and shows the one-line error."""
    row: dict[str, Any] = dict.fromkeys(APP_COLUMNS)
    row.update(key=job.key, fingerprint=job.fingerprint, app=job.app_name, status="error", error=error,
               size_bytes=job.size_bytes, path=job.path, load_s=round(load_s, 3))
    return FleetResult(row)


def summarize_job(job: FleetJob, memory_limit: str | None = None) -> FleetResult:
    """Load `job`'s application in a session of its own, summarize it, close the session. Never raises: a log that
    cannot be read becomes an error row, so one bad log does not stop a fleet of thousands."""
    from ..store import Session, find_app_log

    started = time.perf_counter()
    session: Session | None = None
    try:
        session = Session(memory_limit=memory_limit)
        # a remote application is copied into this machine's mirror first (a Spark executor: its own)
        app_log = job.app_log or find_app_log(job.target, app=job.app, storage_options=job.storage_options)
        log = session.load_app_log(app_log, cache=False, progress=False)
        return summarize(log, job, in_progress=app_log.in_progress, load_s=time.perf_counter() - started)
    except SparkswordError as err:
        return failed(job, str(err), time.perf_counter() - started)
    except Exception as err:  # noqa: BLE001 - a fleet reports a log it cannot read and goes on
        first = str(err).splitlines()[0] if str(err) else ""
        return failed(job, f"{job.key}: {type(err).__name__}: {first}", time.perf_counter() - started)
    finally:
        if session is not None:
            session.close()
