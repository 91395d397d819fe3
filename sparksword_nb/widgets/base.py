"""What every sparksword panel shares: its bundle, a deterministic repr and a static HTML fallback."""
from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import anywidget

from ..errors import SparkswordError

STATIC = Path(__file__).resolve().parent.parent / "static"


def bundle(name: str) -> Path:
    """The built front-end file `static/<name>`; a clear error when the JS was never built."""
    path = STATIC / name
    if not path.is_file():
        raise SparkswordError(
            f"the widget bundle {path} is missing: this clone was installed without Node.js; with Node.js 18+ and "
            "npm, run `npm ci --prefix js && npm run --prefix js build` (or pip install again)"
        )
    return path


def esc(value: Any) -> str:
    """Untrusted text (stage names, SQL, config values) escaped for the HTML fallback."""
    return html.escape("" if value is None else str(value), quote=True)


def table_html(header: list[str], rows: list[list[Any]], *, css_class: str = "sw-fallback") -> str:
    """An HTML table with every cell escaped."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class SparkswordWidget(anywidget.AnyWidget):
    """Base of the panels: `__repr__` is `Class(key=value, ...)` from `_repr_fields()`, and the mime
    bundle carries text/html for frontends without a widget manager (GitHub, nbviewer)."""

    def _repr_fields(self) -> dict[str, Any]:
        return {}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self._repr_fields().items())
        return f"{type(self).__name__}({fields})"

    def _repr_html_(self) -> str:
        return f"<pre>{esc(repr(self))}</pre>"

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict, dict] | None:
        bundle_ = super()._repr_mimebundle_(**kwargs)
        if bundle_ is None:
            return None
        data, metadata = bundle_
        return {**data, "text/plain": repr(self), "text/html": self._repr_html_()}, metadata
