"""The `Insight` model: one finding about what made a Spark application slow, with its evidence.

Severity is not chosen by a detector: it follows from the measured impact relative to the application's
wall time (`severity_for`), so the same rule ranks a problem the same way in every detector.
"""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

Confidence = Literal["high", "medium", "low"]
Severity = Literal["high", "medium", "low"]
EvidenceValue = int | float | str | bool | None | list[int] | list[str]

# A finding is "high" only when it cost a fifth of the run and at least a second, "medium" from a
# twentieth of the run and a quarter second: a tiny stage of a tiny application stays "low".
HIGH_SHARE, HIGH_FLOOR_MS = 0.20, 1000
MEDIUM_SHARE, MEDIUM_FLOOR_MS = 0.05, 250


def severity_for(impact_ms: int, impact_share: float) -> Severity:
    """Severity from the time a problem cost: its share of the application's wall time and an absolute floor."""
    if impact_share >= HIGH_SHARE and impact_ms >= HIGH_FLOOR_MS:
        return "high"
    if impact_share >= MEDIUM_SHARE and impact_ms >= MEDIUM_FLOOR_MS:
        return "medium"
    return "low"


class Insight(BaseModel):
    """One diagnosed problem, the numbers that show it, how sure we are, and what it cost."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: str = Field(description="problem type, e.g. data_skew; one detector class per type")
    title: str
    description: str
    stage_ids: list[int] = Field(default_factory=list)
    job_ids: list[int] = Field(default_factory=list)
    sql_ids: list[int] = Field(default_factory=list)
    evidence: dict[str, EvidenceValue] = Field(description="the measured numbers that triggered the finding")
    confidence: Confidence
    confidence_reason: str
    impact_ms: int = Field(ge=0, description="estimated wall-clock time the problem cost")
    impact_share: float = Field(ge=0.0, description="impact_ms / the application's wall time")
    suggestion: str
    docs_url: str
    key: str = Field("", description="a stable name for this finding in its application, e.g. 'data_skew:stage 2'")
    time_parts: list[str] = Field(
        default_factory=list, description="the parts of the run's time breakdown its impact lies in (e.g. 'job 0')")
    overlaps: list[str] = Field(
        default_factory=list,
        description="keys of other findings about the same time: their impacts are not added up")

    @field_validator("evidence")
    @classmethod
    def _evidence_not_empty(cls, value: dict[str, EvidenceValue]) -> dict[str, EvidenceValue]:
        if not value:
            raise ValueError("an insight needs evidence: the measured numbers behind it")
        return value

    @field_validator("confidence_reason", "title", "description", "suggestion", "docs_url")
    @classmethod
    def _text_not_empty(cls, value: str) -> str:
        text = value.strip()
        if not text:
            raise ValueError("must not be empty")
        # a sentence assembled from an empty list ("Stage 0: ", "had . Reasons: .") is a placeholder, not a finding
        if text.endswith(":") or " . " in f" {text} " or ": ." in text or " had ." in text:
            raise ValueError(f"reads as a placeholder: {text[:80]!r}")
        return value

    @computed_field  # type: ignore[prop-decorator]
    @property
    def severity(self) -> Severity:
        """Derived from impact_ms and impact_share (see `severity_for`)."""
        return severity_for(self.impact_ms, self.impact_share)
