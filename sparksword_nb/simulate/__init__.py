"""The partition-shape and what-if engine: pure Python and DuckDB, no UI.

`whatif(log, stage_id, settings)` estimates a measured reduce stage under other settings
(`spark.sql.shuffle.partitions`, AQE coalescing and skew-join splitting, broadcast threshold, executor count);
`..spark.shuffle` holds Spark's own partitioning rules; `shape` is the free-form model the playground teaches with.
"""
from __future__ import annotations

from .measured import MeasuredStage, measure_stage
from .whatif import SETTINGS, Estimate, whatif

__all__ = ["SETTINGS", "Estimate", "MeasuredStage", "measure_stage", "whatif"]
