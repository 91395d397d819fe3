"""The fleet for people: one HTML rendering for the notebook (`FleetView`) and the offline page (`fleet_page`).

Plain HTML and inline SVG (duration over time per application name as a small line): nothing to fetch, no
script, so the page opens offline anywhere and the notebook needs no bundle of its own. Every string from a log
is HTML-escaped.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import ipywidgets
import pandas as pd

from ..fleets.report import EXPLAINED_SLOWER, core_hours_text
from ..text import human_ms, plural
from ..version import __version__
from .app_picker import cell_text, show_in

if TYPE_CHECKING:
    from ..fleets.report import Fleet

_CSS = """
.sw-fleet { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; max-width: 100%;
            overflow-x: auto; white-space: normal; }
/* in JupyterLab the HTML widget's box grows with its content: held to the output's width, the tables scroll */
.widget-html-content:has(> .sw-fleet) { width: 100%; min-width: 0; }
.sw-fleet h3 { font-size: 14px; margin: 14px 0 4px; }
.sw-fleet table { border-collapse: collapse; margin: 4px 0 10px; }
.sw-fleet th, .sw-fleet td { border-bottom: 1px solid #d0d7de; padding: 2px 8px; text-align: left; vertical-align: top; }
.sw-fleet td.num, .sw-fleet th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.sw-fleet td.when { white-space: nowrap; }
.sw-fleet td.what { min-width: 14em; }
.sw-fleet .sw-fleet-head { font-size: 14px; margin: 0 0 6px; }
.sw-fleet .sw-muted { color: #57606a; }
.sw-fleet .sw-slower { color: #b35900; }
.sw-fleet .sw-why { color: #57606a; max-width: 60em; }
.sw-fleet .sw-error { color: #d1242f; }
.sw-fleet svg { vertical-align: middle; }
"""


def _e(value: Any) -> str:
    return html.escape(cell_text(value))


def _label(row: dict[str, Any]) -> str:
    """An application attempt as people name it: ``app id / attempt`` (the log's name when its id is unknown)."""
    attempt = cell_text(row["attempt_id"])
    return (cell_text(row["app_id"]) or cell_text(row["app"])) + (f" / {attempt}" if attempt else "")


def sparkline(durations: list[int], width: int = 140, height: int = 26) -> str:
    """Durations in run order as an inline SVG line, the latest run marked; the y axis starts at 0."""
    top = max(durations) or 1
    step = (width - 6) / max(len(durations) - 1, 1)
    points = [(3 + i * step, height - 3 - (d / top) * (height - 6)) for i, d in enumerate(durations)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    x, y = points[-1]
    label = ", ".join(human_ms(d) for d in durations[-8:])
    return (f'<svg width="{width}" height="{height}" role="img" aria-label="durations: {_e(label)}">'
            f'<polyline points="{path}" fill="none" stroke="#0969da" stroke-width="1.5"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="#0969da"/></svg>')


def _table(headers: list[str], rows: list[list[str]], numeric: set[int], classes: dict[int, str] | None = None) -> str:
    kinds = {**{i: "num" for i in numeric}, **(classes or {})}
    head = "".join(f'<th class="{kinds[i]}">{h}</th>' if i in kinds else f"<th>{h}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f'<td class="{kinds[i]}">{c}</td>' if i in kinds else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def fleet_html(fleet: Fleet) -> str:
    """The fleet as an HTML fragment: headline, costliest findings, idle core-hours, durations over time per
    application name (slower ones first), and every application with its findings."""
    parts = [f"<div class='sw-fleet'><style>{_CSS}</style>",
             f"<div class='sw-fleet-head'><b>Fleet</b> of {_e(fleet.target)}: {_e(fleet.headline())}</div>",
             f"<div class='sw-muted'>{fleet.read} read in this run, {fleet.reused} unchanged since the last one "
             f"({_e(fleet.engine)} engine)</div>"]
    costly = fleet.costly_findings()
    if len(costly):
        parts.append("<h3>Findings that cost the most</h3>")
        parts.append(_table(
            ["finding", "applications", "findings", "time, summed", "high", "worst in"],
            [[_e(r["type"]), str(r["apps"]), str(r["findings"]), _e(human_ms(int(r["impact_ms"]))), str(r["high"]),
              f"{_e(r['worst_app_id'])} ({_e(human_ms(int(r['worst_impact_ms'])))})"]
             for r in costly.to_dict("records")], {1, 2, 3, 4}))
    hours = fleet.core_hours()
    if hours["allocated"]:
        parts.append(f"<h3>Core-hours: {hours['allocated']:.2f} allocated, {hours['busy']:.2f} used by tasks, "
                     f"{hours['idle']:.2f} idle</h3>")
        wasteful = fleet.wasteful_apps(5)
        if len(wasteful):
            parts.append(_table(
                ["application", "name", "idle core-hours", "allocated", "duration"],
                [[_e(r["app_id"]), _e(r["name"]), f"{r['idle_core_hours']:.2f}", f"{r['allocated_core_hours']:.2f}",
                  _e(human_ms(r["duration_ms"]))] for r in wasteful.to_dict("records")], {2, 3, 4}))
    series = fleet.durations_by_name()
    slower = {r["name"]: r for r in fleet.slower().to_dict("records")}
    explained = set(list(slower)[:EXPLAINED_SLOWER])
    repeated = [name for name, runs in series.items() if len(runs) > 1]
    if repeated:
        repeated.sort(key=lambda n: (n not in slower, -(slower[n]["change_ms"] if n in slower else 0), n))
        parts.append("<h3>Duration over time, per application name</h3>")
        rows = []
        for name in repeated:
            runs = series[name]
            durations = [r["duration_ms"] for r in runs]
            verdict = (f"<span class='sw-slower'>slower: {_e(human_ms(slower[name]['median_before_ms']))} &rarr; "
                       f"{_e(human_ms(slower[name]['latest_ms']))}</span>" if name in slower else "")
            if name in explained:
                verdict += f"<div class='sw-why'>why: {_e(fleet._why_headline(name))}</div>"
            rows.append([_e(name), str(len(runs)), sparkline(durations), _e(human_ms(durations[-1])), verdict])
        parts.append(_table(["name", "runs", "duration", "latest", ""], rows, {1, 3}))
    apps = fleet.apps
    parts.append(f"<h3>{plural(len(apps), 'application')}</h3>")
    rows = []
    for r in apps.to_dict("records"):
        start = r["start"].strftime("%Y-%m-%d %H:%M") if not pd.isna(r["start"]) else ""
        what = (f"<span class='sw-error'>{_e(r['error'])}</span>" if cell_text(r["error"])
                else _e(", ".join(r["finding_types"])) or "<span class='sw-muted'>none</span>")
        idle, used = core_hours_text(r["core_ms_idle"]), core_hours_text(r["core_ms_busy"])
        rows.append([_e(_label(r)), _e(r["name"]), start,
                     _e(human_ms(None if pd.isna(r["duration_ms"]) else int(r["duration_ms"]))), _e(r["status"]), what,
                     "" if pd.isna(r["executors"]) else str(int(r["executors"])), used, idle, _e(r["user"])])
    # what went wrong comes before the resources: in a narrow notebook the columns on the right scroll
    parts.append(_table(["application", "name", "start (UTC)", "duration", "status", "findings", "executors",
                         "core-h", "idle", "user"], rows, {3, 6, 7, 8}, {2: "when", 4: "when", 5: "what"}))
    parts.append("</div>")
    return "".join(parts)


def fleet_page(fleet: Fleet) -> str:
    """A whole offline HTML page of the fleet; a Content-Security-Policy forbids every request and script."""
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"{csp}\">"
            f"<title>sparksword fleet: {_e(fleet.target)}</title></head>"
            f"<body style='margin:16px 20px'>{fleet_html(fleet)}"
            f"<footer class='sw-muted' style='font:12px system-ui;margin-top:20px;color:#57606a'>sparksword_nb "
            f"{_e(__version__)}</footer></body></html>")


class FleetView(ipywidgets.VBox):
    """The fleet in a notebook: the overview, and a chooser that opens one application's report below it."""

    def __init__(self, fleet: Fleet, load: Callable[[str], Any]) -> None:
        self.fleet = fleet
        self.result: Any = None
        """What the last "open" returned (the application's report)."""
        self._load = load
        apps = fleet.apps
        readable = apps[apps["error"].isna()]
        options = [(f"{_label(r)} · {cell_text(r['name'])}", r["key"]) for r in readable.to_dict("records")]
        self.chooser = ipywidgets.Dropdown(options=options, description="application",
                                           layout=ipywidgets.Layout(width="32em"))
        self.open_button = ipywidgets.Button(description="open", tooltip="load it and show its report below")
        self.open_button.on_click(lambda _b: self.open_app(self.chooser.value))
        self.output = ipywidgets.Output()
        children: list[ipywidgets.Widget] = [ipywidgets.HTML(fleet_html(fleet), layout=ipywidgets.Layout(width="100%"))]
        if options:
            children.append(ipywidgets.HBox([self.chooser, self.open_button]))
        super().__init__([*children, self.output])

    def open_app(self, key: str) -> Any:
        """Load the application stored under `key` and show its report below the fleet."""
        self.result = show_in(self.output, self._load, key)
        return self.result

    def __repr__(self) -> str:
        return f"<FleetView {self.fleet.target!r}>"
