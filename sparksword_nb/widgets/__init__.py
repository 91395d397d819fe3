"""The anywidget panels: StageDag, SkewHistogram, InsightsPanel, SqlPlan, the Report combining them, and
the partition-shape Playground.

Each panel receives aggregates computed in DuckDB (`widgets.data`), never raw task lists; its front end
is a bundle built from `js/` into `sparksword_nb/static/`.
"""
from __future__ import annotations

from .dag import StageDag
from .insights import InsightsPanel
from .playground import Playground
from .report import Report
from .skew import SkewHistogram
from .sqlplan import SqlPlan

__all__ = ["InsightsPanel", "Playground", "Report", "SkewHistogram", "SqlPlan", "StageDag"]
