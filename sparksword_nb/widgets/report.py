"""Report: what `%sparksword PATH` shows. Header, stage DAG, linked histogram and insights in one view."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import anywidget
import traitlets

from .base import SparkswordWidget, bundle, esc
from .dag import DEFAULT_MAX_NODES, StageDag
from .data import default_stage, insight_payload, report_header, time_payload
from .insights import InsightsPanel
from .skew import SkewHistogram

if TYPE_CHECKING:
    from ..store import EventLog


class Report(SparkswordWidget):
    """The application at a glance. Selecting a stage anywhere (a DAG node, an insight) selects it
    everywhere: the three panels share `selected_stage` through Python links."""

    _esm = bundle("report.js")
    _css = bundle("report.css")

    header = traitlets.Dict().tag(sync=True)
    dag = anywidget.WidgetTrait().tag(sync=True)
    skew = anywidget.WidgetTrait().tag(sync=True)
    insights = anywidget.WidgetTrait().tag(sync=True)

    def __init__(self, log: EventLog, *, color_by: str = "duration", skew_metric: str = "duration",
                 max_nodes: int = DEFAULT_MAX_NODES, **kwargs: Any) -> None:
        """The report of `log`; options as the magic's %config settings."""
        self.event_log = log
        payload, found = insight_payload(log)
        self.findings = found  # the Insight objects the panels show
        first = default_stage(log, found)
        dag = StageDag(log, insights=found, color_by=color_by, max_nodes=max_nodes, selected_stage=first)
        skew = SkewHistogram(log, first, metric=skew_metric)
        panel = InsightsPanel(log, payload=payload, selected_stage=first)
        self._links = [
            traitlets.link((dag, "selected_stage"), (panel, "selected_stage")),
            traitlets.dlink((dag, "selected_stage"), (skew, "stage")),
        ]
        header = {**report_header(log), "time": time_payload(log, found)}
        super().__init__(header=header, dag=dag, skew=skew, insights=panel, **kwargs)

    @property
    def selected_stage(self) -> int | None:
        """The stage selected in the DAG (and so in the histogram and the insights)."""
        return self.dag.selected_stage

    @selected_stage.setter
    def selected_stage(self, value: int | None) -> None:
        self.dag.selected_stage = value

    def _repr_fields(self) -> dict[str, Any]:
        counts = self.header.get("counts", {})
        return {
            "app": self.event_log.app_id,
            "jobs": counts.get("jobs"),
            "stages": counts.get("stages"),
            "tasks": counts.get("tasks"),
            "insights": len(self.insights.insights),
        }

    def _repr_html_(self) -> str:
        h = self.header
        facts = [("Spark", h.get("spark_version")), ("user", h.get("user")), ("started", h.get("start")),
                 ("duration ms", h.get("duration_ms")), ("status", h.get("status"))]
        fact_html = " · ".join(f"{esc(k)} <b>{esc(v)}</b>" for k, v in facts if v is not None)
        time = h.get("time") or {}
        time_html = "".join(f"<p>{esc(time[k])}</p>" for k in ("headline", "explained") if time.get(k))
        return (f"<div><h3>{esc(h.get('name'))} · {esc(h.get('app_id'))}</h3><div>{fact_html}</div>{time_html}"
                + self.dag._repr_html_() + self.skew._repr_html_() + self.insights._repr_html_() + "</div>")
