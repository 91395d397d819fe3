"""sparksword_nb: understand why a Spark job was slow, from its event log, inside Jupyter."""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import SparkswordError  # noqa: E402
from .store import EventLog, Session, load  # noqa: E402

__all__ = ["EventLog", "Session", "SparkswordError", "__version__", "load"]
