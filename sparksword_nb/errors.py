"""The one error type the package raises for problems with the user's input."""
from __future__ import annotations

from pathlib import Path


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
