"""A plain-text listing of insights for terminals (`sparksword insights LOG`)."""
from __future__ import annotations

from collections.abc import Sequence

from ..text import fit_to_width, human_ms, terminal_safe
from .model import Insight

_MARK = {"high": "HIGH", "medium": "MED ", "low": "LOW "}


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return str(value)


def format_insights_text(insights: Sequence[Insight], *, width: int = 100, explained: str | None = None) -> str:
    """Severity, title, stages, impact, evidence and suggestion of each insight, most costly first.

    `explained` (a sentence from `accounting.explained_time`) opens the listing.
    """
    if not insights:
        return "No findings: no detector's rule matched this application."
    lines: list[str] = [explained, ""] if explained else []
    for n, i in enumerate(insights, 1):
        where = []
        if i.stage_ids:
            where.append("stages " + ",".join(map(str, i.stage_ids)))
        if i.sql_ids:
            where.append("queries " + ",".join(map(str, i.sql_ids)))
        if i.job_ids:
            where.append("jobs " + ",".join(map(str, i.job_ids)))
        lines.append(f"{n:>2}. [{_MARK[i.severity]}] {terminal_safe(i.title)}")
        lines.append(f"    type {i.type} | impact {human_ms(i.impact_ms)} ({i.impact_share * 100:.1f}% of the run) | "
                     f"confidence {i.confidence}" + (f" | {'; '.join(where)}" if where else ""))
        if i.time_parts:
            lines.append(f"    time: {terminal_safe(', '.join(i.time_parts[:4]))}"
                         + (f" | same time as {', '.join(i.overlaps)} (counted once)" if i.overlaps else ""))
        lines.append(f"    {terminal_safe(i.description)}")
        evidence = ", ".join(f"{k}={_value(v)}" for k, v in i.evidence.items())
        lines.append(f"    evidence: {terminal_safe(evidence)}")
        lines.append(f"    confidence: {terminal_safe(i.confidence_reason)}")
        lines.append(f"    suggestion: {terminal_safe(i.suggestion)}")
        lines.append(f"    docs: {i.docs_url}")
        lines.append("")
    return fit_to_width("\n".join(lines).rstrip() + "\n", width)
