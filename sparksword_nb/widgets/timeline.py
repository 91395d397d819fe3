"""An executor timeline as a static plotly figure: where each stage's tasks ran, and when.

A static `go.Figure` (rendered offline by the plotly JupyterLab extension), not a FigureWidget, which
would store plotly's 5 MB bundle per instance. One bar per (executor, stage attempt): aggregates only.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from ..errors import SparkswordError
from .data import stage_labels

if TYPE_CHECKING:
    from ..store import EventLog


def timeline_rows(log: EventLog) -> list[dict[str, Any]]:
    """Per executor and stage attempt: first launch and last finish (seconds from the application's
    start), task counts. Running tasks count up to their launch only."""
    return log.rows("""
        WITH app AS (SELECT start_ms FROM applications)
        SELECT t.executor_id, t.stage_id, t.stage_attempt_id,
          (min(t.launch_ms) - (SELECT start_ms FROM app)) / 1000.0 AS start_s,
          (max(COALESCE(t.finish_ms, t.launch_ms)) - (SELECT start_ms FROM app)) / 1000.0 AS end_s,
          count(*) AS tasks, count(*) FILTER (WHERE t.status = 'FAILED') AS failed
        FROM tasks t
        GROUP BY ALL
        ORDER BY t.executor_id, t.stage_id, t.stage_attempt_id""")


def timeline_figure(log: EventLog) -> Any:
    """The executor timeline of `log` as a plotly Figure (one row per executor, one bar per stage there)."""
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise SparkswordError("the timeline needs plotly: pip install plotly") from None
    rows = timeline_rows(log)
    if not rows:
        raise SparkswordError(f"application {log.app_id} ran no task: nothing to draw")
    labels = stage_labels(log)
    fig = go.Figure()
    for stage_id in sorted({r["stage_id"] for r in rows}):
        mine = [r for r in rows if r["stage_id"] == stage_id]
        # plotly reads a few HTML tags in its text: names from the log are escaped to stay text
        label = html.escape(labels.get(stage_id, f"stage {stage_id}"))
        fig.add_trace(go.Bar(
            orientation="h",
            name=f"stage {stage_id}",
            y=[f"executor {r['executor_id']}" for r in mine],
            base=[r["start_s"] for r in mine],
            x=[max(r["end_s"] - r["start_s"], 0.001) for r in mine],
            customdata=[[r["stage_attempt_id"], r["tasks"], r["failed"], r["start_s"], r["end_s"]] for r in mine],
            hovertemplate=(f"stage {stage_id} (attempt %{{customdata[0]}})<br>{label}<br>"
                           "%{customdata[1]} tasks, %{customdata[2]} failed<br>"
                           "from %{customdata[3]:.2f} s to %{customdata[4]:.2f} s<extra></extra>"),
        ))
    # The legend goes under the plot in rows, and the figure grows by its rows: beside the plot, a long list of
    # stages was cut at the figure's bottom edge (an 80-stage application showed a dozen).
    stages = len({r["stage_id"] for r in rows})
    legend_rows = -(-stages // _LEGEND_PER_ROW)
    plot = max(180, 40 * len({r["executor_id"] for r in rows}))
    fig.update_layout(
        barmode="overlay", title=f"Executor timeline of {html.escape(log.app_id)}",
        xaxis_title="seconds since the application started", yaxis_title=None,
        height=_TOP + plot + _AXIS + _LEGEND_ROW * legend_rows,
        margin={"t": _TOP, "b": _AXIS + _LEGEND_ROW * legend_rows, "l": 90, "r": 20},
        legend={"title": {"text": "stage"}, "orientation": "h", "x": 0, "xanchor": "left",
                "y": -_AXIS / plot, "yanchor": "top", "entrywidth": _LEGEND_ENTRY_PX, "entrywidthmode": "pixels"},
        template="plotly_white",
    )
    return fig


# legend layout: entries of a fixed width, so a row holds a known number of them in a notebook-wide figure
_LEGEND_ENTRY_PX = 70
_LEGEND_PER_ROW = 6  # an entry is its text (70 px) and its symbol (~45 px): six fit a 800 px figure
_LEGEND_ROW = 22
_TOP = 50
_AXIS = 50
