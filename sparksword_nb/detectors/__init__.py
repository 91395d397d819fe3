"""Detectors: SQL rules over the canonical tables that find what made a Spark application slow.

Each problem type has one detector class in its own module, registered in `REGISTRY`;
`run_detectors(log)` runs them all and returns `Insight`s sorted by impact.
"""
from __future__ import annotations

# Importing a detector module registers its class.
from . import (  # noqa: F401
    aqe,
    broadcast_candidate,
    cartesian,
    config,
    driver_gaps,
    failures,
    few_partitions,
    gc,
    idle_executors,
    large_partition,
    oversized_broadcast,
    python_udf,
    recomputation,
    shuffle_heavy,
    skew,
    small_files,
    small_tasks,
    spill,
    straggler,
)
from .model import Insight, severity_for
from .registry import REGISTRY, AppContext, Detector, register, run_detectors

__all__ = ["REGISTRY", "AppContext", "Detector", "Insight", "register", "run_detectors", "severity_for"]
