"""Event logs the widget tests derive at test time from the real logs in tests/data.

Every line stays an event Spark wrote; only the text fields a user could control (stage names, RDD scope
names, SQL descriptions and plan node names, the application name) are rewritten, or a log is repeated
with renumbered ids to make a big application.
"""
from __future__ import annotations

import json
from pathlib import Path

from sparksword_nb.ingest.codecs import codec_for, decode_to
from sparksword_nb.ingest.sources import discover

# Runs only if a panel parses it as HTML: the tests check it never does.
HOSTILE = '<img src=x onerror="window.__sw_xss=(window.__sw_xss||0)+1">'


def decode_log(source: Path, out: Path) -> Path:
    """The plain JSON-lines text of a real (possibly compressed, rolling) event log."""
    app_log = discover(source)[0]
    with open(out, "wb") as sink:
        for part in app_log.files:
            decode_to(part, codec_for(part), sink, tolerate_torn_tail=False)
    return out


def _rename_plan(node: dict) -> None:
    node["nodeName"] = HOSTILE + node.get("nodeName", "")
    node["simpleString"] = HOSTILE + node.get("simpleString", "")
    for child in node.get("children", []):
        _rename_plan(child)


def _rename_stage(info: dict) -> None:
    info["Stage Name"] = HOSTILE + info.get("Stage Name", "")
    info["Details"] = HOSTILE + (info.get("Details") or "")
    for rdd in info.get("RDD Info", []):
        rdd["Name"] = HOSTILE + rdd.get("Name", "")
        if rdd.get("Scope"):
            scope = json.loads(rdd["Scope"])
            scope["name"] = HOSTILE + scope.get("name", "")
            rdd["Scope"] = json.dumps(scope)


def write_hostile_log(source: Path, out: Path) -> Path:
    """A copy of a real log whose user-controlled names carry an HTML/script payload."""
    plain = decode_log(source, out.with_suffix(".plain"))
    with open(plain, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as sink:
        for line in f:
            if not line.strip():
                continue
            event = json.loads(line)
            kind = event.get("Event", "")
            if "Stage Info" in event:
                _rename_stage(event["Stage Info"])
            for info in event.get("Stage Infos", []):
                _rename_stage(info)
            if kind == "SparkListenerApplicationStart":
                event["App Name"] = HOSTILE + event.get("App Name", "")
            if kind.endswith("SparkListenerSQLExecutionStart"):
                event["description"] = HOSTILE + event.get("description", "")
            if event.get("sparkPlanInfo"):
                _rename_plan(event["sparkPlanInfo"])
            sink.write(json.dumps(event, separators=(",", ":")) + "\n")
    plain.unlink()
    return out


def write_big_log(source: Path, out: Path, copies: int) -> Path:
    """`copies` renumbered repetitions of a real log's jobs in one application (see bench.scale_log)."""
    from sparksword_nb.bench import scale_log

    plain = decode_log(source, out.with_suffix(".plain"))
    scale_log(plain, out, copies)
    plain.unlink()
    return out
