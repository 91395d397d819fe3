"""Spark History Server REST answers (`/api/v1/...`) computed from the canonical tables.

`answer(target, api_path)` routes a History Server path to the module that builds that resource, in the
History Server's JSON shape, so tools that speak its API work without a JVM; it is also how the tests
prove our numbers equal the History Server's.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qs, urlsplit

from ..errors import SparkswordError
from . import applications, environment, executors, jobs, sql, stages, storage
from .format import Query

if TYPE_CHECKING:
    from ..store import EventLog, Session

# Path below `applications/{app}[/{attempt}]/` -> the function answering it, called with (log, query, *groups).
_APP_ROUTES: list[tuple[re.Pattern[str], Callable[..., Any]]] = [
    (re.compile(r"^jobs$"), jobs.job_list),
    (re.compile(r"^jobs/(\d+)$"), jobs.one_job),
    (re.compile(r"^stages$"), stages.stage_list),
    (re.compile(r"^stages/(\d+)$"), stages.stage_attempts),
    (re.compile(r"^stages/(\d+)/(\d+)$"), stages.one_stage_attempt),
    (re.compile(r"^stages/(\d+)/(\d+)/taskSummary$"), stages.task_summary),
    (re.compile(r"^stages/(\d+)/(\d+)/taskList$"), stages.task_list),
    (re.compile(r"^executors$"), executors.active_executors),
    (re.compile(r"^allexecutors$"), executors.all_executors),
    (re.compile(r"^allmiscellaneousprocess$"), executors.misc_processes),
    (re.compile(r"^environment$"), environment.environment),
    (re.compile(r"^storage/rdd$"), storage.rdd_list),
    (re.compile(r"^storage/rdd/(\d+)$"), storage.one_rdd),
    (re.compile(r"^sql$"), sql.sql_list),
    (re.compile(r"^sql/(\d+)$"), sql.one_sql),
]


def _session_of(target: Session | EventLog) -> Session:
    return cast("Session", getattr(target, "session", target))  # an EventLog knows its session


def split_path(api_path: str) -> tuple[list[str], Query]:
    """`/api/v1/applications/x/jobs?status=failed` -> (["applications", "x", "jobs"], {"status": ["failed"]})."""
    parts = urlsplit(api_path.strip())
    path = parts.path.strip("/")
    if path.startswith("api/v1/"):
        path = path[len("api/v1/"):]
    elif path == "api/v1":
        path = ""
    segments = [s for s in path.split("/") if s]
    return segments, parse_qs(parts.query, keep_blank_values=True)


def answer(target: Session | EventLog, api_path: str) -> Any:
    """The History Server's JSON value for `api_path`, from the applications loaded in the session.

    Raises SparkswordError with the History Server's own 404 wording for unknown apps, stages, etc.
    """
    session = _session_of(target)
    segments, query = split_path(api_path)
    if not segments or segments[0] != "applications":
        raise SparkswordError(f"unsupported REST path: {api_path}")
    if len(segments) == 1:
        return applications.application_list(session, query)
    app_id = segments[1]
    logs = [log for log in session.logs if log.app_id == app_id]
    if not logs:
        raise SparkswordError(f"unknown app: {app_id}")
    if len(segments) == 2:
        return applications.one_application(session, query, app_id)
    rest = segments[2:]
    attempts = {log.attempt_id: log for log in logs}
    if rest[0] in attempts and rest[0] != "":
        log = attempts[rest[0]]
        rest = rest[1:]
        if not rest:
            return applications.one_attempt(session, query, app_id, log.attempt_id)
    elif len(logs) == 1:
        log = logs[0]
    else:
        raise SparkswordError(f"app {app_id} has several attempts; name one: {sorted(attempts)}")
    sub = "/".join(rest)
    for pattern, handler in _APP_ROUTES:
        m = pattern.match(sub)
        if m:
            return handler(log, query, *(int(g) for g in m.groups()))
    raise SparkswordError(f"unsupported REST path: {api_path}")
