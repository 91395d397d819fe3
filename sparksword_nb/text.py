"""Text for people: durations, sizes, and strings from a log made safe to print in a terminal."""
from __future__ import annotations

import shutil
import textwrap

# Narrower than this, wrapped text reads worse than a long line.
_MIN_WIDTH = 60


def human_ms(ms: float | int | None) -> str:
    """A duration for people: `850 ms`, `12.3 s`, `4.2 min`."""
    if ms is None:
        return "-"
    if ms < 1000:
        return f"{int(ms)} ms"
    if ms < 120_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms / 60_000:.1f} min"


def human_bytes(n: float | int | None) -> str:
    """A size for people, in binary units: `0 B`, `14.5 KiB`, `1.2 GiB`."""
    if not n:
        return "0 B"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def ratio(numerator: float | None, denominator: float | None, digits: int = 1) -> float | None:
    """numerator / denominator rounded as shown everywhere (findings and panels alike), or None when the
    denominator is 0 (no finite ratio)."""
    if not denominator:
        return None
    return round(float(numerator or 0) / float(denominator), digits)


def terminal_safe(text: object, limit: int | None = None) -> str:
    """Strings from a log may hold escape sequences; show them, never let them drive the terminal.

    With `limit`, a longer text is cut to that many characters first (a log may hold a 60 MB app name).
    """
    text = str(text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in text)


def terminal_width() -> int:
    """Columns to print in: the terminal's (or $COLUMNS), else 100; never below 60."""
    return max(_MIN_WIDTH, shutil.get_terminal_size((100, 24)).columns)


def clip(text: str, width: int) -> str:
    """`text` cut to `width` characters, an ellipsis marking the cut."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "\u2026"


def fit_to_width(text: str, width: int) -> str:
    """Every line of `text` wrapped at words to `width` columns; a wrapped line's continuation is indented two
    more than the line itself, so a paragraph of a listing stays readable as one."""
    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip(" "))]
        out.extend(textwrap.wrap(line.strip(), width, initial_indent=indent, subsequent_indent=indent + "  ",
                                 break_long_words=True, break_on_hyphens=False) or [""])
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 task', '4 tasks' ('1 stretch', '2 stretches' with `many`)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def stage_list(stage_ids: list[int]) -> str:
    """'stage 2' or 'stages 0, 1, 2'."""
    return ("stage " if len(stage_ids) == 1 else "stages ") + ", ".join(map(str, stage_ids))
