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
    fig.update_layout(
        barmode="overlay", title=f"Executor timeline of {html.escape(log.app_id)}",
        xaxis_title="seconds since the application started", yaxis_title=None,
        height=max(240, 60 + 40 * len({r['executor_id'] for r in rows})), legend_title="stage",
        template="plotly_white",
    )
    return fig
