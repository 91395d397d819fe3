"""The partition-shape and what-if engine: pure Python and DuckDB, no UI.

`whatif(log, stage_id, settings)` estimates a measured reduce stage under other settings
(`spark.sql.shuffle.partitions`, AQE coalescing and skew-join splitting, broadcast threshold, executor count).
The flow: `measured` (the stage as the log recorded it) -> `settings` (what the user asks, resolved against the
log's own settings and Spark's defaults) -> `fit` (the models fitted on the measured stage: how data spreads over
other partitions, what sizes AQE sees, the time model) -> `whatif` (Spark's rules from `..spark.shuffle`, in
Spark's order) -> `estimate` (the result models); `replay` schedules tasks on cores, `listing` prints an
estimate, and `shape` is the free-form model the playground teaches with.
"""
from __future__ import annotations

from .estimate import Estimate
from .measured import MeasuredStage, measure_stage
from .settings import SETTINGS
from .whatif import whatif

__all__ = ["SETTINGS", "Estimate", "MeasuredStage", "measure_stage", "whatif"]
