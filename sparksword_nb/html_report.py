"""`write_report(log, path)`: one self-contained HTML file with what `%sparksword PATH` shows.

The file holds the application header, the stage DAG, the task histograms and the insights, drawn by
the same widget bundles the notebook uses (`sparksword_nb/static/*.js`, inlined), driven by a small
in-page stand-in for the anywidget model. Nothing is fetched: no CDN, no network; a Content-Security-
Policy forbids any request, so the report opens the same offline, from a mail attachment or a CI artifact.

Untrusted text (stage names, SQL, plan strings, config values) reaches the page only as JSON data that
the panels render as text, or HTML-escaped in the static tables; no string from a log becomes markup.
The same log gives the same file, byte for byte (no generation time is written).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import SparkswordError
from .version import __version__

if TYPE_CHECKING:
    from .compare import Comparison
    from .store import EventLog

# The panels the report draws, each a bundle in sparksword_nb/static/ (report.js lays the others out), and
# offline.js, which links them in the page as the Report widget links them in Jupyter.
_PANELS = ("report", "dag", "skew", "insights")
_BUNDLES = (*_PANELS, "offline")

# Histograms are computed ahead for the stages a reader is sent to (the first one shown and the stages
# an insight names) for every task metric, and for the other stages for task duration only: each
# histogram costs a few DuckDB queries, and a report must stay quick to write on a 1,000-stage app.
_FOCUS_STAGES = 8
_DURATION_STAGES = 60

# Nothing may be fetched: scripts only inline or from the blob: URLs the bundles are imported from.
_CSP = ("default-src 'none'; script-src 'unsafe-inline' blob:; style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'")

# The page loads js/src/offline.js (the stand-in for the anywidget host, built like the panels) from the
# bundles it carries, and hands it a way to import a bundle's source text as a module.
_BOOT_JS = """
const bundles = JSON.parse(document.getElementById("sw-bundles").textContent);
const importText = (code) => import(URL.createObjectURL(new Blob([code], { type: "text/javascript" })));
importText(bundles.offline).then((offline) => offline.boot(document, importText));
"""

_PAGE_CSS = """
body { margin: 0; padding: 16px 20px 32px; font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
       color: #1f2328; background: #fff; }
.sw-page-head { display: flex; align-items: baseline; gap: 12px; margin: 0 0 10px; color: #57606a; }
.sw-page-head h1 { font-size: 16px; margin: 0; color: #1f2328; }
.sw-report-error { padding: 12px; border: 1px solid #d1242f; color: #d1242f; border-radius: 6px; }
details.sw-static { margin-top: 24px; }
details.sw-static table { border-collapse: collapse; margin: 8px 0 16px; }
details.sw-static th, details.sw-static td { border: 1px solid #d0d7de; padding: 2px 6px; text-align: left;
       vertical-align: top; max-width: 48em; }
details.sw-static td { overflow-wrap: anywhere; }  /* long values break anywhere; headers only between words */
footer { margin-top: 24px; color: #57606a; font-size: 12px; }
"""


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element: `<`, `>` and `&` escaped, so no text can close the element."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _focus_stages(log: EventLog, first: int | None, insights: list[Any]) -> list[int]:
    """The stages a reader is sent to: the one shown first, then those the insights name, in order."""
    ordered: list[int] = [] if first is None else [first]
    for insight in insights:
        ordered.extend(int(s) for s in insight.stage_ids)
    known = {int(r[0]) for r in log.sql("SELECT DISTINCT stage_id FROM stages").fetchall()}
    unique = list(dict.fromkeys(s for s in ordered if s in known))
    return unique[:_FOCUS_STAGES]


def _histograms(log: EventLog, stage_ids: list[int], focus: list[int]) -> tuple[dict[str, Any], dict[str, str]]:
    """Histogram payloads keyed "stage|metric", and a note for each stage/metric left out."""
    from .widgets.data import TASK_METRICS, stage_labels, task_histogram

    labels = stage_labels(log)
    # Which metrics are non-zero in which stage, over the same task rows and expressions the histograms use.
    flags = ", ".join(f"bool_or(({m.sql}) > 0) AS {m.key}" for m in TASK_METRICS)
    nonzero = {
        int(row[0]): dict(zip([m.key for m in TASK_METRICS], row[1:]))
        for row in log.sql(f"SELECT stage_id, {flags} FROM tasks WHERE has_metrics GROUP BY stage_id").fetchall()
    }
    histograms: dict[str, Any] = {}
    notes: dict[str, str] = {
        "*": "This stage's task histogram is not in this report (it holds the longest stages and those the "
             "insights name); open the log in Jupyter with %sparksword to see every stage."
    }
    by_duration = stage_ids[:_DURATION_STAGES]
    for stage_id in dict.fromkeys([*focus, *by_duration]):
        metrics = [m for m in TASK_METRICS if stage_id in focus or m.key == "duration"]
        for metric in metrics:
            key = f"{stage_id}|{metric.key}"
            if metric.key != "duration" and not nonzero.get(stage_id, {}).get(metric.key):
                notes[key] = f"Stage {stage_id}: {metric.label} is 0 for every task with metrics."
                continue
            histograms[key] = task_histogram(log, stage_id, None, metric.key, labels=labels)
        if stage_id not in focus:
            notes[str(stage_id)] = (f"Stage {stage_id}: only task duration is in this report; open the log in "
                                    "Jupyter with %sparksword for the other task metrics.")
    return histograms, notes


def _bundles() -> tuple[dict[str, str], str]:
    """The panels' ES modules and their CSS (each bundle's CSS once, as several bundles share it)."""
    from .widgets.base import bundle

    code = {name: bundle(f"{name}.js").read_text(encoding="utf-8") for name in _BUNDLES}
    css: list[str] = []
    for name in _PANELS:
        text = bundle(f"{name}.css").read_text(encoding="utf-8")
        if text not in css:
            css.append(text)
    return code, "\n".join(css)


def report_html(log: EventLog, comparison: Comparison | None = None) -> str:
    """The report of `log` as one HTML document (see the module docstring); with `comparison`, its section first."""
    from .widgets import Report
    from .widgets.base import esc

    # the panels the notebook's Report widget makes, so the file shows what %sparksword shows
    report = Report(log)
    header, dag, skew, panel, found = report.header, report.dag, report.skew, report.insights, report.findings
    first = dag.selected_stage
    payload = panel.payload
    stage_ids = [int(r[0]) for r in log.sql(
        """SELECT stage_id FROM stages GROUP BY stage_id
           ORDER BY max(completed_ms - submitted_ms) DESC NULLS LAST, stage_id""").fetchall()]
    histograms, notes = _histograms(log, stage_ids, _focus_stages(log, first, found))
    data = {
        "header": header,
        "dag": {"payload": dag.payload, "selected_stage": first, "color_by": dag.color_by,
                "max_nodes": dag.max_nodes, "height": dag.height},
        "skew": {"payload": skew.payload, "stage": first, "attempt": None, "metric": skew.metric},
        "insights": {"payload": payload, "selected_stage": first},
        "histograms": histograms,
        "notes": notes,
    }
    code, css = _bundles()
    css_text = css.replace("</", "<\\/")  # a stylesheet cannot close its <style> element
    title = f"{header.get('name') or log.app_id} · {log.app_id}"
    static = (f"<h2>{esc(title)}</h2>"
              + "".join(f"<p>{esc(k)}: <b>{esc(v)}</b></p>" for k, v in _static_facts(header))
              + "".join(f"<p>{esc(header['time'][k])}</p>" for k in ("headline", "explained") if header["time"].get(k))
              + dag._repr_html_() + skew._repr_html_() + panel._repr_html_())
    for widget in (dag, skew, panel, report):
        widget.close()  # they only lent their payloads and tables; no front end will open them
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="sparksword_nb {esc(__version__)}">',
        f"<title>{esc(title)} · sparksword report</title>",
        f"<style>{_PAGE_CSS}</style>",
        f"<style>{css_text}</style>",
        "</head>",
        "<body>",
        f'<div class="sw-page-head"><h1>sparksword report</h1><span>{esc(title)}</span></div>',
        (f'<section id="sw-compare" class="sw-compare"><h2>Compared with {esc(comparison.after.app_id)}</h2>'
         f"{comparison._repr_html_()}</section>" if comparison is not None else ""),
        '<div id="sw-report" class="sw-root"></div>',
        '<details id="sw-static" class="sw-static"><summary>The same facts as static tables '
        "(no JavaScript needed)</summary>",
        static,
        "</details>",
        f"<footer>Written by sparksword_nb {esc(__version__)} from the event log of {esc(log.app_id)}. "
        "Everything this page shows is inside this file; it fetches nothing.</footer>",
        f'<script type="application/json" id="sw-data">{_script_json(data)}</script>',
        f'<script type="application/json" id="sw-bundles">{_script_json(code)}</script>',
        f'<script type="module">{_BOOT_JS}</script>',
        "</body>",
        "</html>",
        "",
    ])


def _static_facts(header: dict[str, Any]) -> list[tuple[str, Any]]:
    counts = header.get("counts", {})
    facts = [("Spark", header.get("spark_version")), ("user", header.get("user")), ("started", header.get("start")),
             ("duration ms", header.get("duration_ms")), ("status", header.get("status")),
             ("executors", header.get("executors")), ("cores", header.get("cores")),
             ("jobs", counts.get("jobs")), ("stages", counts.get("stages")), ("tasks", counts.get("tasks")),
             ("failed tasks", counts.get("failed_tasks"))]
    return [(k, v) for k, v in facts if v is not None]


def write_report(log: EventLog, path: str | Path, *, comparison: Comparison | None = None) -> Path:
    """Write the self-contained offline HTML report of `log` to `path` (with `comparison`: a section comparing it
    with another run first); returns the path written."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise SparkswordError(f"{target} is a directory: give the report's file name, e.g. {target / 'report.html'}")
    text = report_html(log, comparison)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as err:
        raise SparkswordError(f"cannot write the report to {target}: {err.strerror or err}") from None
    return target
