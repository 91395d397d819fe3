"""CompareView: two runs side by side. The two stage DAGs are linked through the stage matching: selecting a stage
in one selects its twin in the other and marks its row in the table of per-stage changes below.

Plain ipywidgets around two StageDag panels (their bundle draws them); the table and headline are HTML.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import ipywidgets
import pandas as pd

from ..text import human_bytes, human_ms
from .base import esc
from .dag import StageDag

if TYPE_CHECKING:
    from ..compare import Comparison


def _cell(value: Any, fmt: Any = str) -> str:
    return "–" if value is None or pd.isna(value) else fmt(value)


class CompareView(ipywidgets.VBox):
    """A `Comparison` drawn: headline, settings that differ, the two DAGs (linked), per-stage changes."""

    def __init__(self, comparison: Comparison) -> None:
        self.comparison = comparison
        self.before_dag = StageDag(comparison.before, layout=ipywidgets.Layout(width="50%"))
        self.after_dag = StageDag(comparison.after, layout=ipywidgets.Layout(width="50%"))
        self.selected_pair: int | None = None
        """The row of `comparison.stages` whose stages are selected."""
        self._twin = {("before", int(r["before_stage_id"])): int(r["pair"]) for _, r in comparison.stages.iterrows()
                      if not pd.isna(r["before_stage_id"])}
        self._twin.update({("after", int(r["after_stage_id"])): int(r["pair"]) for _, r in comparison.stages.iterrows()
                           if not pd.isna(r["after_stage_id"])})
        self._syncing = False
        self.table = ipywidgets.HTML()
        self.before_dag.observe(lambda change: self._selected("before", change["new"]), names="selected_stage")
        self.after_dag.observe(lambda change: self._selected("after", change["new"]), names="selected_stage")
        warn = "" if comparison.same_input else (
            f"<div style='color:#b91c1c'><b>Not the same input:</b> {esc(comparison.input_note)}</div>")
        settings = "".join(f"<li><code>{esc(key)}</code>: {esc(before)} &rarr; {esc(after)}</li>"
                           for key, before, after in comparison.settings())
        head = ipywidgets.HTML(
            f"<div class='sw-compare-head'><h3 style='margin:4px 0'>{esc(comparison.headline)}</h3>{warn}"
            f"<ul style='margin:4px 0'>{settings or '<li>no Spark setting differs</li>'}</ul>"
            f"<div>before: <b>{esc(comparison.before.app_id)}</b> &nbsp; after: "
            f"<b>{esc(comparison.after.app_id)}</b></div></div>")
        self._draw_table()
        super().__init__([head, ipywidgets.HBox([self.before_dag, self.after_dag]), self.table])
        first = comparison.stages[comparison.stages["changed"]]
        if len(first) and not pd.isna(first.iloc[0]["before_stage_id"]):
            self.before_dag.selected_stage = int(first.iloc[0]["before_stage_id"])

    def _selected(self, side: str, stage: int | None) -> None:
        if self._syncing or stage is None:
            return
        pair = self._twin.get((side, int(stage)))
        self.selected_pair = pair
        row = self.comparison.stages.iloc[pair] if pair is not None else None
        other, dag = ("after", self.after_dag) if side == "before" else ("before", self.before_dag)
        self._syncing = True
        try:
            twin = row[f"{other}_stage_id"] if row is not None else None
            dag.selected_stage = None if twin is None or pd.isna(twin) else int(twin)
        finally:
            self._syncing = False
        self._draw_table()

    def _draw_table(self) -> None:
        head = ["before", "after", "verdict", "tasks", "wall", "executor run", "shuffle read", "what changed"]
        rows = []
        for r in self.comparison.stages.to_dict("records"):
            mark = " style='background:#fef3c7'" if r["pair"] == self.selected_pair else ""
            cells = [_cell(r["before_stage_id"]), _cell(r["after_stage_id"]), r["verdict"],
                     f"{_cell(r['before_tasks'])} → {_cell(r['after_tasks'])}",
                     f"{_cell(r['before_wall_ms'], human_ms)} → {_cell(r['after_wall_ms'], human_ms)}",
                     f"{_cell(r['before_run_ms'], human_ms)} → {_cell(r['after_run_ms'], human_ms)}",
                     f"{_cell(r['before_shuffle_read_bytes'], human_bytes)} → "
                     f"{_cell(r['after_shuffle_read_bytes'], human_bytes)}", r["what"]]
            rows.append(f"<tr data-pair='{r['pair']}'{mark}>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
        self.table.value = ("<table class='sw-compare-stages' style='border-collapse:collapse;font-size:12px'>"
                            "<thead><tr>" + "".join(f"<th style='text-align:left;padding:2px 8px'>{esc(h)}</th>"
                                                    for h in head)
                            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table>")

    def __repr__(self) -> str:
        return f"CompareView({self.comparison!r}, selected_pair={self.selected_pair})"
