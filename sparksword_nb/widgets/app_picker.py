"""The table of a folder's applications, one button per row: the click loads that application and shows its report.

Plain ipywidgets (no bundle of its own): each row's button sends its click to Python, which loads the application
and puts the report in the output area below the table.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets
import pandas as pd

from ..text import human_bytes, human_ms, plural

_COLUMNS = ("app", "name", "start", "duration", "status", "size")


def show_in(output: ipywidgets.Output, load: Callable[[str], Any], app: str) -> Any:
    """Replace what `output` shows with what `load(app)` returns (an application's report); returns it."""
    output.clear_output()
    with output:
        result = load(app)
        from IPython.display import display

        display(result)
    return result


def cell_text(value: Any) -> str:
    """A cell's text; a missing value (None, or NaN as pandas shows a missing string) is empty."""
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _cells(row: pd.Series) -> list[str]:
    start = row["start"]
    return [str(row["app"]), cell_text(row["name"]),
            start.strftime("%Y-%m-%d %H:%M:%S") if not pd.isna(start) else "",
            human_ms(None if pd.isna(row["duration_ms"]) else int(row["duration_ms"])),
            str(row["status"]), human_bytes(None if pd.isna(row["size_bytes"]) else int(row["size_bytes"]))]


class AppPicker(ipywidgets.VBox):
    """A folder's applications (see `sparksword_nb.applications_in`); a row's button loads that application."""

    def __init__(self, table: pd.DataFrame, load: Callable[[str], Any], *, where: str = "") -> None:
        self.table = table
        self.picked: str | None = None
        """The `app` of the row last clicked."""
        self.result: Any = None
        """What loading it returned (the report)."""
        self._load = load
        self.output = ipywidgets.Output()
        self.buttons: list[ipywidgets.Button] = []
        cells: list[ipywidgets.Widget] = [ipywidgets.HTML(f"<b>{c}</b>") for c in ("", *_COLUMNS)]
        for index, row in table.iterrows():
            button = ipywidgets.Button(description=f"open {index}", tooltip=f"load {row['app']}",
                                       layout=ipywidgets.Layout(width="auto"))
            button.on_click(lambda _b, app=str(row["app"]): self.pick(app))
            self.buttons.append(button)
            cells.append(button)
            cells.extend(ipywidgets.HTML(html.escape(text)) for text in _cells(row))
        grid = ipywidgets.GridBox(cells, layout=ipywidgets.Layout(
            grid_template_columns="auto auto minmax(6em, 1fr) auto auto auto auto", grid_gap="2px 12px"))
        title = ipywidgets.HTML(f"{html.escape(where)} holds {plural(len(table), 'application')}: "
                                "open one (or load it with --app ROW / app=ROW)")
        super().__init__([title, grid, self.output])

    def pick(self, app: str) -> Any:
        """Load application `app` and show its report below the table; returns the report."""
        self.picked = app
        self.result = show_in(self.output, self._load, app)
        return self.result

    def __repr__(self) -> str:
        return f"AppPicker(applications={len(self.table)}, picked={self.picked!r})"
