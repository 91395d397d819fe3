"""Hostile copies of real event logs: every string a person reads carries HTML, script and terminal escapes.

`make_hostile_log(src, out_dir)` rewrites a real log (single file, compressed or rolling dir) at test time:
the numbers and ids stay as they are, so every table still holds the real log's numbers, while each string
that a view shows (app name and user, stage names and details, RDD names and call sites, job descriptions
and groups, SQL descriptions, plan text and plan node strings, config keys and values, executor log URLs,
failure reasons, exception messages and stack traces) ends with `HOSTILE`. A view passes when `HOSTILE`
shows up as text: nothing runs, no terminal escape is emitted.

The renderer tests (terminal, widgets, browser) share this helper:

    from hostile import HOSTILE, hostile, make_hostile_log
    path = make_hostile_log(spark43_log_path("aborted"), tmp_path)
"""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sparksword_nb.ingest.codecs import decode_to
from sparksword_nb.ingest.sources import discover

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
ANSI = "\x1b[31m\x1b]0;pwned\x07\x1b[2J"  # red text, set the window title, clear the screen
HOSTILE = f" {IMG}{SCRIPT}{ANSI}"
"""What every rewritten string ends with."""

HOSTILE_KEY = f"spark.hostile.{IMG}{SCRIPT}{ANSI}"
"""A config key added to every environment section (its value is `hostile("value")`)."""

JAVASCRIPT_URL = "javascript:alert(1)//"
"""Executor log URLs become this plus their real URL: a view must not make them live links that run it."""

# Keys whose string values are text for people, wherever they appear in an event.
_TEXT_KEYS = frozenset({
    "App Name", "User", "Stage Name", "Details", "Failure Reason", "Callsite", "Description",
    "Full Stack Trace", "Message", "Removed Reason", "Reason for Removal",
    "description", "details", "physicalPlanDescription", "simpleString", "errorMessage",
})
# Properties (of jobs and stages) that views show.
_TEXT_PROPERTIES = ("spark.job.description", "callSite.short", "callSite.long", "spark.jobGroup.id")
_ENVIRONMENT_SECTIONS = (
    "JVM Information", "Spark Properties", "Hadoop Properties", "System Properties", "Metrics Properties",
    "Classpath Entries",
)


def hostile(text: str) -> str:
    """`text` as the hostile log holds it."""
    return text + HOSTILE


def make_hostile_log(src_log_path: str | Path, out_dir: str | Path, *, bait: Path | None = None) -> Path:
    """Write a hostile copy of the real event log `src_log_path` into `out_dir`; return its path.

    The copy is one uncompressed file named after the source's log name (e.g. `local-1795302397505`), or
    `<name>.inprogress` when the source is in progress. With `bait`, properties and strings also name that
    file in the ways a log could try to make a reader open it (paths, file: URLs, SQL that reads files);
    a test then checks the package never opens it.
    """
    (app,) = discover(src_log_path)
    decoded = io.BytesIO()
    for part in app.files:
        decode_to(part, app.codec, decoded, tolerate_torn_tail=app.in_progress)
    lines = []
    for raw in decoded.getvalue().splitlines():
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except ValueError:
            lines.append(raw.decode("utf-8", "replace"))  # a torn last line stays torn
            continue
        _rewrite_event(event, bait)
        lines.append(json.dumps(event))
    out = Path(out_dir) / (app.log_name + (".inprogress" if app.in_progress else ""))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _rewrite_event(event: dict[str, Any], bait: Path | None) -> None:
    kind = event.get("Event", "")
    if kind in ("SparkListenerJobStart", "SparkListenerStageSubmitted"):
        props = event.setdefault("Properties", {}) or {}
        event["Properties"] = props
        for key in _TEXT_PROPERTIES:
            props[key] = hostile(props.get(key) or f"{key} of {kind}")
        if bait is not None:
            props["spark.hostile.file"] = str(bait)
    if kind == "SparkListenerEnvironmentUpdate":
        for section in _ENVIRONMENT_SECTIONS:
            values = event.get(section)
            if isinstance(values, dict):
                values[HOSTILE_KEY] = hostile("value")
        props = event.get("Spark Properties")
        if isinstance(props, dict):
            if "spark.app.name" in props:
                props["spark.app.name"] = hostile(props["spark.app.name"])
            if bait is not None:
                # Settings that name files or places a reader could be tempted to open.
                props["spark.eventLog.dir"] = f"file://{bait.parent}"
                props["spark.history.fs.logDirectory"] = f"file://{bait.parent}"
                props["spark.files"] = f"file://{bait}"
                props["spark.sql.warehouse.dir"] = f"http://127.0.0.1:9/{bait.name}"
                props["spark.hostile.sql"] = f"'); COPY (SELECT 1) TO '{bait}.pwned'; SELECT read_text('{bait}"
    if kind.endswith("SQLExecutionStart") and bait is not None:
        event["description"] = f"SELECT * FROM read_text('{bait}') -- {event.get('description', '')}"
    _rewrite_texts(event)


def _rewrite_texts(node: Any) -> None:
    """Append HOSTILE to every text value under `node` (in place), leaving numbers, ids and names of
    metrics alone; the RDD scope (a JSON text) gets a hostile operation name and stays valid JSON."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, dict):
            continue
        for key, value in item.items():
            if isinstance(value, str) and key in _TEXT_KEYS:
                item[key] = hostile(value)
            elif key == "Name" and isinstance(value, str) and "RDD ID" in item:
                item[key] = hostile(value)
            elif key == "Scope" and isinstance(value, str):
                try:
                    scope = json.loads(value)
                except ValueError:
                    continue
                if isinstance(scope, dict) and isinstance(scope.get("name"), str):
                    scope["name"] = hostile(scope["name"])
                    item[key] = json.dumps(scope)
            elif key == "Stack Trace" and isinstance(value, list):
                for frame in value:
                    if isinstance(frame, dict):
                        for field in ("Declaring Class", "Method Name", "File Name"):
                            if isinstance(frame.get(field), str):
                                frame[field] = hostile(frame[field])
            elif key == "Log Urls" and isinstance(value, dict):
                for name, url in value.items():
                    if isinstance(url, str):
                        value[name] = JAVASCRIPT_URL + hostile(url)
            elif key == "metadata" and isinstance(value, dict):
                for name, text in value.items():
                    if isinstance(text, str):
                        value[name] = hostile(text)
            elif isinstance(value, (dict, list)):
                stack.append(value)
