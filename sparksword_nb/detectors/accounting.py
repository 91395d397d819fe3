"""Findings on the time breakdown: which part of the run each impact lies in, which findings are about
the same time, and how much of the run they explain together without counting any time twice.

Two findings are about the same time when they name a common stage (a skewed task, the stage's few
partitions and the join that shuffled it all explain the same stage's wall time), or, without stages,
when they lie in the same part of the run. Overlapping findings form groups; a group explains the
largest impact in it, and the groups in one part explain at most that part's length.
"""
from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from ..text import human_ms
from ..timeline import TimeAccount
from .model import Insight


class ExplainedTime(BaseModel):
    """How much of the run the findings account for, each moment counted once."""

    duration_ms: int
    explained_ms: int
    share: float
    by_part: dict[str, int] = Field(description="part -> explained ms in it")

    def sentence(self) -> str:
        """E.g. 'The findings explain 5.3 s of the 7.5 s run (70%), each moment counted once.'"""
        if self.duration_ms <= 0:
            return "The log records no measurable wall time."
        if self.explained_ms <= 0:
            return f"The findings explain none of the {human_ms(self.duration_ms)} run's wall time."
        where = ", ".join(f"{human_ms(ms)} {'in ' if part.startswith('job') else ''}{part}"
                          for part, ms in self.by_part.items() if ms > 0)
        return (f"The findings explain {human_ms(self.explained_ms)} of the {human_ms(self.duration_ms)} run "
                f"({self.share:.0%}), each moment counted once: {where}.")


def finding_key(insight: Insight) -> str:
    """A readable name of a finding: its type and what it is about ('data_skew:stage 2')."""
    if insight.stage_ids:
        return f"{insight.type}:stage {','.join(map(str, insight.stage_ids))}"
    if insight.sql_ids:
        return f"{insight.type}:query {','.join(map(str, insight.sql_ids))}"
    if insight.time_parts:
        return f"{insight.type}:{insight.time_parts[0]}"
    if insight.job_ids:
        return f"{insight.type}:job {','.join(map(str, insight.job_ids))}"
    return insight.type


def link_to_time(found: Sequence[Insight], account: TimeAccount, stage_jobs: dict[int, list[int]]) -> list[Insight]:
    """Each finding with its key, the time parts its impact lies in, and the findings it overlaps."""
    keyed: list[Insight] = []
    seen: dict[str, int] = {}
    for insight in found:
        explicit = bool(insight.time_parts)
        parts = list(insight.time_parts) or _parts_of(insight, account, stage_jobs)
        key = finding_key(insight if not explicit else insight.model_copy(update={"job_ids": []}))
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            key = f"{key}#{seen[key]}"
        keyed.append(insight.model_copy(update={"key": key, "time_parts": parts}))
    linked = []
    for a in keyed:
        overlaps = [b.key for b in keyed if b is not a and _same_time(a, b)]
        linked.append(a.model_copy(update={"overlaps": overlaps}))
    return linked


def _parts_of(insight: Insight, account: TimeAccount, stage_jobs: dict[int, list[int]]) -> list[str]:
    jobs = set(insight.job_ids)
    for stage_id in insight.stage_ids:
        jobs.update(stage_jobs.get(stage_id, []))
    return [p.part for p in account.parts if jobs & set(p.job_ids)]


def _same_time(a: Insight, b: Insight) -> bool:
    if a.impact_ms <= 0 or b.impact_ms <= 0:
        return False
    if a.stage_ids and b.stage_ids:
        return bool(set(a.stage_ids) & set(b.stage_ids))
    return bool(set(a.time_parts) & set(b.time_parts))


def explained_time(found: Sequence[Insight], account: TimeAccount) -> ExplainedTime:
    """The run's time the findings explain: overlapping findings count once (their largest impact), and no
    part of the run is explained beyond its own length."""
    by_key = {i.key: i for i in found if i.impact_ms > 0}
    parent = {k: k for k in by_key}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i in by_key.values():
        for other in i.overlaps:
            if other in by_key:
                parent[root(i.key)] = root(other)
    groups: dict[str, list[Insight]] = {}
    for k, i in by_key.items():
        groups.setdefault(root(k), []).append(i)
    part_ms = {p.part: p.ms for p in account.parts}
    by_part: dict[str, int] = {}
    for members in groups.values():
        top = max(members, key=lambda i: (i.impact_ms, i.key))
        parts = [p for p in top.time_parts if p in part_ms] or ["elsewhere"]
        # an impact over several parts (gaps) is spread over them in proportion to their length
        total_len = sum(part_ms.get(p, 0) for p in parts) or 1
        for p in parts:
            share = part_ms.get(p, 0) / total_len if p in part_ms else 1.0
            by_part[p] = by_part.get(p, 0) + int(round(top.impact_ms * share))
    capped = {p: min(ms, part_ms.get(p, ms)) for p, ms in by_part.items()}
    ordered = {p.part: capped[p.part] for p in account.parts if p.part in capped}
    if "elsewhere" in capped:
        ordered["elsewhere"] = capped["elsewhere"]
    explained = min(sum(ordered.values()), account.duration_ms)
    share = round(explained / account.duration_ms, 4) if account.duration_ms > 0 else 0.0
    return ExplainedTime(duration_ms=account.duration_ms, explained_ms=explained, share=share, by_part=ordered)
