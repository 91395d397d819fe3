"""Detectors: SQL rules over the canonical tables that find what made a Spark application slow.

Each problem type has one detector class in its own module, registered in `REGISTRY`;
`run_detectors(log)` runs them all and returns `Insight`s sorted by impact.
"""
from __future__ import annotations

from . import skew  # noqa: F401  (importing a detector module registers it)
from .model import Insight, severity_for
from .registry import REGISTRY, AppContext, Detector, register, run_detectors

__all__ = ["REGISTRY", "AppContext", "Detector", "Insight", "register", "run_detectors", "severity_for"]
