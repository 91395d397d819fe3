"""The one error type the package raises for problems with the user's input."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd


class SparkswordError(Exception):
    """A problem with an event log or a request, explained in one line.

    The message names the file (when there is one) and what is wrong, so that the magic and the CLI can
    print it as is, without a traceback.
    """

    def __init__(self, message: str, *, path: str | Path | None = None) -> None:
        from .text import terminal_safe

        self.path = str(path) if path is not None else None
        # a file name may carry control characters; the one line must not drive the terminal
        super().__init__(f"{terminal_safe(self.path)}: {message}" if self.path else message)

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing a traceback: users see the one line.
        return [f"SparkswordError: {self}"]



class SeveralApplications(SparkswordError):
    """The path holds several applications and none was chosen: the magic and the CLI show them as a table."""

    def __init__(self, names: list[str], table: Callable[[], pd.DataFrame], *, path: str | Path) -> None:
        self.names = sorted(names)
        self._table = table
        shown = ", ".join(self.names[:5]) + (f", ... ({len(names) - 5} more)" if len(names) > 5 else "")
        super().__init__(f"holds {len(names)} applications; choose one with app= (Python) or --app (magic, CLI): "
                         f"its name, application id or row in ss.applications_in(path): {shown}", path=path)

    def table(self) -> pd.DataFrame:
        """The applications, one row each (see `sparksword_nb.applications_in`)."""
        return self._table()
