"""InsightsPanel: the detectors' findings sorted by impact, each opening to its evidence."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from .base import SparkswordWidget, bundle, esc, table_html
from .data import insight_payload

if TYPE_CHECKING:
    from ..store import EventLog


class InsightsPanel(SparkswordWidget):
    """The findings of `log.insights()`; clicking one (or its stage chip) sets `selected_stage`."""

    _esm = bundle("insights.js")
    _css = bundle("insights.css")

    payload = traitlets.Dict().tag(sync=True)
    selected_stage = traitlets.Int(None, allow_none=True).tag(sync=True)

    def __init__(self, log: EventLog, *, payload: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """The panel for `log`; `payload` reuses an `insight_payload(log)` already computed."""
        self.event_log = log
        super().__init__(payload=payload if payload is not None else insight_payload(log)[0], **kwargs)

    @property
    def insights(self) -> list[dict[str, Any]]:
        """The findings as sent to the panel (largest impact first)."""
        return list(self.payload.get("insights", []))

    def _repr_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {"app": self.event_log.app_id, "insights": len(self.insights)}
        if self.payload.get("status") != "ok":
            fields["status"] = self.payload.get("status")
        return fields

    def _repr_html_(self) -> str:
        if self.payload.get("status") != "ok":
            return f"<pre>{esc(repr(self))}\n{esc(self.payload.get('message'))}</pre>"
        rows = [[i["severity"], i["title"], ", ".join(map(str, i["stage_ids"])), i["impact_ms"], i["suggestion"]]
                for i in self.insights]
        return (f"<div><b>{esc(repr(self))}</b>"
                + table_html(["severity", "finding", "stages", "impact ms", "suggestion"], rows) + "</div>")
