"""Many applications at once: every log under a history folder, a glob, a remote prefix or a History Server.

The flow: `run` lists the applications (`fleet_jobs`), reads the new and changed ones on an engine
(`summary.summarize_job` per application, in worker processes or on Spark), keeps a row each in the fleet store
(`store`), and `report.Fleet` answers the fleet's questions from it; `widgets.fleet_view` draws it.
"""
from __future__ import annotations

from .report import Fleet
from .run import ENGINES, run_fleet

__all__ = ["ENGINES", "Fleet", "run_fleet"]
