"""SkewHistogram: one stage's distribution of a task metric, with the History Server's quantiles."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from .base import SparkswordWidget, bundle, esc, table_html
from .data import TASK_METRIC_KEYS, stage_labels, task_histogram

if TYPE_CHECKING:
    from ..store import EventLog


class SkewHistogram(SparkswordWidget):
    """Histogram of a task metric (duration, shuffle read, input, spill, GC, ...) over one stage's
    successful tasks. Setting `stage`, `attempt` or `metric` (from Python or the panel's menu)
    recomputes the bins in DuckDB; only bins, quantiles and the top outlier tasks are sent."""

    _esm = bundle("skew.js")
    _css = bundle("skew.css")

    payload = traitlets.Dict().tag(sync=True)
    stage = traitlets.Int(None, allow_none=True).tag(sync=True)
    attempt = traitlets.Int(None, allow_none=True).tag(sync=True)
    metric = traitlets.Enum(TASK_METRIC_KEYS, default_value="duration").tag(sync=True)

    def __init__(self, log: EventLog, stage: int | None = None, *, metric: str = "duration",
                 attempt: int | None = None, **kwargs: Any) -> None:
        """A histogram of `metric` for `stage` of `log` (its latest attempt unless `attempt` is given)."""
        self.event_log = log
        self._labels = stage_labels(log)
        super().__init__(stage=stage, metric=metric, attempt=attempt, **kwargs)
        self._refresh()

    @traitlets.observe("stage", "attempt", "metric")
    def _on_change(self, _change: dict[str, Any]) -> None:
        if hasattr(self, "_labels"):  # not before __init__ has set the log
            self._refresh()

    def _refresh(self) -> None:
        if self.stage is None:
            self.payload = {"stage_id": None, "metric": {"key": self.metric}, "metrics": [], "tasks": 0,
                            "message": "Select a stage in the DAG to see its tasks."}
            return
        self.payload = task_histogram(self.event_log, self.stage, self.attempt, self.metric, labels=self._labels)

    def _repr_fields(self) -> dict[str, Any]:
        return {
            "app": self.event_log.app_id,
            "stage": self.stage,
            "attempt": self.payload.get("attempt"),
            "metric": self.metric,
            "tasks": self.payload.get("tasks", 0),
        }

    def _repr_html_(self) -> str:
        p = self.payload
        if p.get("stage_id") is None or not p.get("tasks"):
            return f"<pre>{esc(repr(self))}</pre>"
        q = p["quantiles"]["values"]
        return (f"<div><b>{esc(repr(self))}</b><div>{esc(p.get('label'))}</div>"
                + table_html(["metric", "min", "25th percentile", "median", "75th percentile", "max"],
                             [[p["metric"]["label"], *q]])
                + f"<div>outlier tasks: {esc(p['outliers']['count'])}</div></div>")
