"""sparksword_nb: understand why a Spark job was slow, from its event log, inside Jupyter."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import SparkswordError  # noqa: E402
from .store import EventLog, Session, applications_in, compare, fleet, load  # noqa: E402
from .version import __version__  # noqa: E402

if TYPE_CHECKING:
    from IPython.core.interactiveshell import InteractiveShell

__all__ = ["EventLog", "Session", "SparkswordError", "__version__", "applications_in", "compare", "fleet", "load"]


def load_ipython_extension(ipython: InteractiveShell) -> None:
    """`%load_ext sparksword_nb`: the %sparksword magic (imported here so `import sparksword_nb` stays light)."""
    from . import magic

    magic.load_ipython_extension(ipython)


def unload_ipython_extension(ipython: InteractiveShell) -> None:
    """`%unload_ext sparksword_nb`: close the magic's DuckDB connection and remove the magic."""
    from . import magic

    magic.unload_ipython_extension(ipython)
