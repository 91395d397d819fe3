"""`applications`, `applications/{id}` and `applications/{id}/{attempt}`: the History Server's app listing.

The History Server builds its listing from each log's ApplicationStart / ApplicationEnd / LogStart
events (FsHistoryProvider's AppListingListener): one entry per application id, its attempts newest start
first. The list is ordered by the end time of each application's newest attempt, latest first (its
listing index "endTime", read in reverse; ties by application id, also reversed); a running attempt's end
time is -1, so running applications come last. Filters are those of ApplicationListResource.
"""
from __future__ import annotations

import os
import re
import time
from calendar import timegm
from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError
from ..store import dict_rows
from .format import spark_date

if TYPE_CHECKING:
    from ..store import Session
    from .format import Query

# ApplicationListResource's defaults for an absent date parameter
_DEFAULT_MIN = "2010-01-01"
_DEFAULT_MAX = "3000-01-01"

_FULL_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})T(\d{1,2}):(\d{1,2}):(\d{1,2})\.(\d{1,3})(.+)$")
_DAY_PREFIX = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})")
_ZONE_OFFSET = re.compile(r"^(?:GMT|UTC)?([+-])(\d{1,2}):?(\d{2})?$")


def _zone_offset_ms(zone: str) -> int | None:
    if zone in ("GMT", "UTC", "Z"):
        return 0
    m = _ZONE_OFFSET.match(zone)
    if not m:
        return None
    sign = -1 if m.group(1) == "-" else 1
    return sign * (int(m.group(2)) * 60 + int(m.group(3) or 0)) * 60_000


def parse_spark_date(text: str, parameter: str) -> int:
    """Epoch ms of a History Server date parameter: `2015-02-03T16:42:40.000GMT` or a GMT day `2015-02-10`.

    As SimpleDateParam: the full form first; otherwise the leading `yyyy-MM-dd` (SimpleDateFormat ignores
    what follows it) at midnight GMT.
    """
    m = _FULL_DATE.match(text)
    if m:
        offset = _zone_offset_ms(m.group(8))
        if offset is not None:
            year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
            millis = int(m.group(7))
            return timegm((year, month, day, hour, minute, second)) * 1000 + millis - offset
    m = _DAY_PREFIX.match(text)
    if m:
        year, month, day = (int(g) for g in m.groups())
        return timegm((year, month, day, 0, 0, 0)) * 1000
    raise SparkswordError(f"Couldn't parse date: {text} (parameter {parameter})")


def _last_updated_ms(source_paths: list[str] | None) -> int:
    # The History Server shows the log file's modification time; for a rolling log, its newest file's.
    times = []
    for path in source_paths or []:
        try:
            times.append(int(os.stat(path).st_mtime * 1000))
        except OSError:
            continue
    return max(times) if times else -1


def _attempt_info(row: dict[str, Any]) -> dict[str, Any]:
    """One ApplicationAttemptInfo, as the History Server's listing records it."""
    completed = bool(row["has_application_end"])
    start = row["start_ms"] if row["start_ms"] is not None else -1
    # A running attempt keeps the listing's initial values: end -1, duration 0.
    end = row["end_ms"] if completed and row["end_ms"] is not None else -1
    duration = end - start if completed else 0
    last_updated = _last_updated_ms(row["source_paths"])
    info: dict[str, Any] = {}
    if row["attempt_id"]:
        info["attemptId"] = row["attempt_id"]
    info.update(
        startTime=spark_date(start),
        endTime=spark_date(end),
        lastUpdated=spark_date(last_updated),
        duration=duration,
        sparkUser=row["user"],
        completed=completed,
        appSparkVersion=row["spark_version"] or "",
    )
    if completed and row["exit_code"] is not None:
        info["exitCode"] = int(row["exit_code"])
    info.update(startTimeEpoch=start, endTimeEpoch=end, lastUpdatedEpoch=last_updated)
    return info


def _listing(session: Session) -> list[dict[str, Any]]:
    """Every loaded application as ApplicationInfo, in the History Server's listing order."""
    loaded = {(log.app_id, log.attempt_id) for log in session.logs}
    if not loaded:
        return []
    cursor = session.con.cursor()
    try:
        result = cursor.execute(
            "SELECT app_id, attempt_id, name, \"user\", spark_version, start_ms, end_ms, has_application_end, "
            "exit_code, source_paths FROM main.applications"
        )
        rows = dict_rows(result)
    finally:
        cursor.close()
    apps: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if (row["app_id"], row["attempt_id"]) in loaded:
            apps.setdefault(row["app_id"], []).append(row)
    listing = []
    for app_id, attempts in apps.items():
        # attempts newest start first, as FsHistoryProvider.addListing sorts them
        attempts.sort(key=lambda r: (r["start_ms"] if r["start_ms"] is not None else -1, r["attempt_id"]), reverse=True)
        infos = [_attempt_info(r) for r in attempts]
        listing.append({"id": app_id, "name": attempts[0]["name"], "attempts": infos})
    listing.sort(key=lambda app: (app["attempts"][0]["endTimeEpoch"], app["id"]), reverse=True)
    return listing


def _statuses(query: Query) -> tuple[bool, bool]:
    values = [v.strip().upper() for v in query.get("status", []) if v.strip()]
    for value in values:
        if value not in ("COMPLETED", "RUNNING"):
            raise SparkswordError(f"unknown application status: {value.lower()} (expected completed or running)")
    return (not values or "COMPLETED" in values), (not values or "RUNNING" in values)


def _date(query: Query, name: str, default: str) -> int:
    values = query.get(name)
    return parse_spark_date(values[0] if values else default, name)


def application_list(session: Session, query: Query) -> list[dict[str, Any]]:
    """`applications`: filtered by status, minDate/maxDate (start) and minEndDate/maxEndDate, up to limit."""
    include_completed, include_running = _statuses(query)
    min_start, max_start = _date(query, "minDate", _DEFAULT_MIN), _date(query, "maxDate", _DEFAULT_MAX)
    min_end, max_end = _date(query, "minEndDate", _DEFAULT_MIN), _date(query, "maxEndDate", _DEFAULT_MAX)
    limit = None
    if query.get("limit"):
        try:
            limit = max(0, int(query["limit"][0]))
        except ValueError:
            raise SparkswordError(f"limit must be an integer, not {query['limit'][0]!r}") from None
    now_ms = int(time.time() * 1000)

    def in_range(attempt: dict[str, Any], any_running: bool) -> bool:
        start, end = attempt["startTimeEpoch"], attempt["endTimeEpoch"]
        start_ok = min_start <= start <= max_start
        # a running application passes the end-date filter unless maxEndDate is already past
        end_ok = (any_running and max_end > now_ms) or (not any_running and min_end <= end <= max_end)
        return start_ok and end_ok

    chosen: list[dict[str, Any]] = []
    for app in _listing(session):
        if limit is not None and len(chosen) >= limit:
            break
        # the newest attempt decides whether the application is running
        any_running = not app["attempts"] or not app["attempts"][0]["completed"]
        if not ((not any_running and include_completed) or (any_running and include_running)):
            continue
        if any(in_range(attempt, any_running) for attempt in app["attempts"]):
            chosen.append(app)
    return chosen


def one_application(session: Session, query: Query, app_id: str) -> dict[str, Any]:
    """`applications/{id}`: the application with all its attempts."""
    for app in _listing(session):
        if app["id"] == app_id:
            return app
    raise SparkswordError(f"unknown app: {app_id}")


def one_attempt(session: Session, query: Query, app_id: str, attempt_id: str) -> dict[str, Any]:
    """`applications/{id}/{attempt}`: one attempt of the application."""
    app = one_application(session, query, app_id)
    for attempt in app["attempts"]:
        if attempt.get("attemptId") == attempt_id:
            return attempt
    raise SparkswordError(f"unknown app {app_id}, attempt {attempt_id}")
