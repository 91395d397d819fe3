"""What a what-if returns: the measured and the estimated shape of a stage, and every decision and assumption."""
from __future__ import annotations

from pydantic import BaseModel, Field


class SizeQuantiles(BaseModel):
    """Partition sizes in bytes at quantiles 0, 0.25, 0.5, 0.75, 1."""

    min: int
    p25: int
    median: int
    p75: int
    max: int


class TimeRange(BaseModel):
    """A stage wall time in ms: low and high ends and the middle estimate (equal for a measurement)."""

    low_ms: float
    mid_ms: float
    high_ms: float
    why: str = Field("", description="why the range is as wide as it is, in a few words, shown beside it")


class StageShape(BaseModel):
    """A reduce stage's shape: its tasks and what they read, over a number of cores."""

    tasks: int
    partition_bytes: list[int] = Field(description="bytes read per reduce task, in task order (expected values)")
    partition_bytes_q: SizeQuantiles
    shuffle_read_bytes: int
    cores: int
    waves: float
    time: TimeRange | None
    tasks_at_spill_risk: int


class AqeCoalescing(BaseModel):
    """What AQE's coalescing rule decides (ShufflePartitionsUtil.coalescePartitions)."""

    target_size: int
    min_num_partitions: int
    advisory_size: int
    min_partition_size: int
    seen_sizes: list[int] = Field(description="per task, the sizes AQE sees: map outputs rounded by MapStatus")
    ranges: list[tuple[int, int]]
    count_without_rounding: int
    count_if_blocks_uneven: int
    count_range: tuple[int, int] = Field(description="the counts over seeded draws of the block scatter the log cannot "
                                                     "tell; Spark's count lies in it")
    rounding_note: str


class SkewJoinSplit(BaseModel):
    """What AQE's skew-join rule decides (OptimizeSkewedJoin)."""

    thresholds: list[int]
    split_targets: list[int]
    skewed_partitions: list[int]
    tasks_from_splits: int
    why_none: str | None = Field(None, description="why no partition was split, when none was")


class BroadcastDecision(BaseModel):
    """Whether a join side fits under the broadcast threshold, by its measured size."""

    threshold: int
    side_sizes: list[int | None]
    broadcast_side: str | None
    reason: str


class ModelError(BaseModel):
    """The replay at the real core count against the real stage wall time."""

    cores: int
    replay_ms: float
    real_ms: float | None
    error: float | None = Field(description="(replay - real) / real")


class JobTimes(BaseModel):
    """One job's wall time as measured and replayed (Sparklens-style) on the real and the what-if cores."""

    job_id: int
    real_ms: float | None
    replay_real_cores_ms: float
    replay_whatif_cores_ms: float


class Estimate(BaseModel):
    """A what-if estimate for one stage: the measured shape beside the estimated one, and the assumptions."""

    app_id: str
    stage_id: int
    stage_attempt_id: int
    stage_name: str
    settings: dict[str, str]
    effective: dict[str, str] = Field(description="every setting used, as 'value (source)'")
    measured: StageShape
    estimated: StageShape
    per_partition_spread: float = Field(
        0.0, description="typical relative standard deviation of one estimated partition's size (unknown key placement)"
    )
    aqe: AqeCoalescing | None = None
    skew_join: SkewJoinSplit | None = None
    broadcast: BroadcastDecision | None = None
    model_error: ModelError
    jobs: list[JobTimes] = []
    assumptions: list[str]
    note: str = "Every number under 'estimated' is an estimate from the measured stage, not a promise."
