"""SqlPlan: a SQL execution's physical plan as a graph with per-operator metrics."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from .base import SparkswordWidget, bundle, esc, table_html
from .data import sql_plan

if TYPE_CHECKING:
    from ..store import EventLog


class SqlPlan(SparkswordWidget):
    """The final physical plan of one SQL execution (the adaptive plan's last version), operators
    fused by whole-stage codegen grouped in their WholeStageCodegen box, metrics on hover."""

    _esm = bundle("sqlplan.js")
    _css = bundle("sqlplan.css")

    payload = traitlets.Dict().tag(sync=True)
    execution_id = traitlets.Int().tag(sync=True)
    selected_node = traitlets.Int(None, allow_none=True).tag(sync=True)
    height = traitlets.Int(720, help="the tallest the drawing grows, in px").tag(sync=True)

    def __init__(self, log: EventLog, execution_id: int, **kwargs: Any) -> None:
        """The plan of SQL execution `execution_id` of `log`."""
        self.event_log = log
        payload = sql_plan(log, execution_id)  # raises for an unknown id before any comm opens
        super().__init__(execution_id=execution_id, payload=payload, **kwargs)

    @traitlets.observe("execution_id")
    def _on_execution(self, change: dict[str, Any]) -> None:
        if self.payload.get("execution_id") != change["new"]:
            self.payload = sql_plan(self.event_log, change["new"])

    def _operators(self) -> list[dict[str, Any]]:
        return [n for n in self.payload.get("nodes", []) if not n["is_cluster"]]

    def _repr_fields(self) -> dict[str, Any]:
        return {
            "app": self.event_log.app_id,
            "execution": self.execution_id,
            "nodes": len(self._operators()),
            "edges": len(self.payload.get("edges", [])),
        }

    def _repr_html_(self) -> str:
        rows = [[n["id"], n["name"], n["desc"], "; ".join(f"{k}: {v}" for k, v in n["metrics"])]
                for n in self._operators()]
        return (f"<div><b>{esc(repr(self))}</b><div>{esc(self.payload.get('description'))}</div>"
                + table_html(["node", "operator", "detail", "metrics"], rows) + "</div>")
