"""StageDag: the application's stages as a layered DAG, coloured by a metric; click selects a stage."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from .base import SparkswordWidget, bundle, esc, table_html
from .data import STAGE_METRIC_KEYS, insight_payload, stage_graph

if TYPE_CHECKING:
    from ..store import EventLog

DEFAULT_MAX_NODES = 300


class StageDag(SparkswordWidget):
    """Stages as nodes (one per stage id, its latest attempt), shuffle dependencies as edges labelled
    with the bytes written. Over `max_nodes` stages the drawing collapses to jobs, opened on click.

    `selected_stage` is two-way: a click in the browser sets it in Python, and setting it in Python
    highlights (and reveals) the stage in the browser.
    """

    _esm = bundle("dag.js")
    _css = bundle("dag.css")

    payload = traitlets.Dict().tag(sync=True)
    selected_stage = traitlets.Int(None, allow_none=True).tag(sync=True)
    color_by = traitlets.Enum(STAGE_METRIC_KEYS, default_value="duration").tag(sync=True)
    max_nodes = traitlets.Int(DEFAULT_MAX_NODES).tag(sync=True)
    height = traitlets.Int(560, help="the tallest the drawing grows, in px").tag(sync=True)

    def __init__(self, log: EventLog, *, insights: list[Any] | None = None, **kwargs: Any) -> None:
        """Build the DAG of `log`; `insights` (from `log.insights()`) colour stages by severity."""
        if insights is None:
            insights = insight_payload(log)[1]
        self.event_log = log
        super().__init__(payload=stage_graph(log, insights), **kwargs)

    @property
    def stage_ids(self) -> list[int]:
        """The stage ids drawn, ascending."""
        return list(self.payload.get("stages", {}).get("stage_id", []))

    @traitlets.validate("selected_stage")
    def _known_stage(self, proposal: dict[str, Any]) -> int | None:
        value = proposal["value"]
        if value is not None and value not in set(self.stage_ids):
            raise traitlets.TraitError(f"unknown stage: {value}")
        return value

    def _repr_fields(self) -> dict[str, Any]:
        return {
            "app": self.event_log.app_id,
            "stages": len(self.stage_ids),
            "edges": len(self.payload.get("edges", {}).get("parent", [])),
            "selected_stage": self.selected_stage,
        }

    def _repr_html_(self) -> str:
        p = self.payload
        strings = p.get("strings", [])
        st = p.get("stages", {})
        rows = []
        for i, stage_id in enumerate(st.get("stage_id", [])):
            label = strings[st["label"][i]] if st["label"][i] is not None else ""
            name = strings[st["name"][i]] if st["name"][i] is not None else ""
            status = strings[st["status"][i]] if st["status"][i] is not None else ""
            rows.append([stage_id, label, name, status, st["num_tasks"][i], st["duration_ms"][i]])
        parents: dict[int, list[int]] = {}
        for parent, child in zip(p.get("edges", {}).get("parent", []), p.get("edges", {}).get("child", [])):
            parents.setdefault(child, []).append(parent)
        for row in rows:
            row.insert(4, ", ".join(str(x) for x in parents.get(row[0], [])))
        return (f"<div><b>{esc(repr(self))}</b>"
                + table_html(["stage", "what it does", "Spark name", "status", "parents", "tasks", "duration ms"], rows)
                + "</div>")
