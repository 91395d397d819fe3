"""`applications/{id}/environment`: the application's JVM, Spark, Hadoop and system settings.

The History Server answers from the last SparkListenerEnvironmentUpdate of the log (AppStatusListener
overwrites the stored environment on each one), sorts every section by key, redacts sensitive values
with its own `spark.redaction.regex` (the default one), and adds the resource profiles of the
application (SparkListenerResourceProfileAdded, by profile id).
"""
from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError

if TYPE_CHECKING:
    from ..store import EventLog
    from .format import Query

# Spark 4.3's default spark.redaction.regex. The History Server applies its own configuration (getAppUI
# clones the server's SparkConf), not the application's: an application's own regex acted when its
# driver wrote the log, so those values arrive already redacted.
_REDACTION_PATTERN = re.compile(r"secret|password|token|access[.]?key|credential", re.IGNORECASE)
_REDACTED = "*********(redacted)"

# config.section -> the field of ApplicationEnvironmentInfo, and whether Utils.redact applies to it
_SECTIONS: tuple[tuple[str, str, bool], ...] = (
    ("spark", "sparkProperties", True),
    ("hadoop", "hadoopProperties", True),
    ("system", "systemProperties", True),
    ("metrics", "metricsProperties", True),
    ("classpath", "classpathEntries", False),
)


def java_string_order(text: str) -> bytes:
    """A sort key that orders strings as Java's String.compareTo does (by UTF-16 code unit)."""
    return text.encode("utf-16-be", "surrogatepass")


def _redact(pairs: list[list[str]]) -> list[list[str]]:
    # Utils.redact: a match in the key or in the value hides the value
    return [
        [key, _REDACTED] if _REDACTION_PATTERN.search(key) or _REDACTION_PATTERN.search(value or "") else [key, value]
        for key, value in pairs
    ]


def _executor_request(request: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceName": request.get("Resource Name"),
        "amount": int(request.get("Amount") or 0),
        "discoveryScript": request.get("Discovery Script", ""),
        "vendor": request.get("Vendor", ""),
    }


def _task_request(request: dict[str, Any]) -> dict[str, Any]:
    return {"resourceName": request.get("Resource Name"), "amount": float(request.get("Amount") or 0.0)}


def resource_profiles(log: EventLog) -> list[dict[str, Any]]:
    """The application's resource profiles as the History Server lists them (by id; the last event wins)."""
    rows = log.sql(
        "SELECT resource_profile_id, executor_resource_requests, task_resource_requests FROM resource_profiles"
    ).fetchall()
    profiles: dict[int, dict[str, Any]] = {}
    for profile_id, executor_requests, task_requests in rows:
        executor = json.loads(executor_requests) if executor_requests else {}
        task = json.loads(task_requests) if task_requests else {}
        profiles[int(profile_id)] = {
            "id": int(profile_id),
            "executorResources": {name: _executor_request(r) for name, r in (executor or {}).items()},
            "taskResources": {name: _task_request(r) for name, r in (task or {}).items()},
        }
    return [profiles[i] for i in sorted(profiles)]


def environment(log: EventLog, query: Query) -> dict[str, Any]:
    """ApplicationEnvironmentInfo: runtime, the sorted (and redacted) property sections, resource profiles."""
    rows = log.sql("SELECT section, key, value FROM config").fetchall()
    if not rows:
        raise SparkswordError(f"no environment information for {log.app_id}: the log has no EnvironmentUpdate")
    by_section: dict[str, list[list[str]]] = {}
    for section, key, value in rows:
        by_section.setdefault(section, []).append([key, value])
    jvm = dict((k, v) for k, v in by_section.get("jvm", []))
    runtime_fields = (("javaVersion", "Java Version"), ("javaHome", "Java Home"), ("scalaVersion", "Scala Version"))
    runtime = {field: jvm[name] for field, name in runtime_fields if jvm.get(name) is not None}
    answer: dict[str, Any] = {"runtime": runtime}
    for section, field, redacted in _SECTIONS:
        pairs = sorted(by_section.get(section, []), key=lambda kv: java_string_order(kv[0]))
        answer[field] = _redact(pairs) if redacted else pairs
    answer["resourceProfiles"] = resource_profiles(log)
    return answer
