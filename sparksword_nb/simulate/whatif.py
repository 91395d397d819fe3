"""What-if estimates for one measured reduce stage: other shuffle partition counts, AQE coalescing, AQE
skew-join splitting, a broadcast join, another core count.

Each estimate starts from the stage's measured shuffle partitions (`measured.py`), applies Spark's own
rules (`spark/shuffle.py`) in the order Spark applies them (skew splitting, then coalescing), and says which
assumptions it rests on. Numbers are estimates, not promises.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, Field

from ..errors import SparkswordError
from ..spark import shuffle as rules
from ..spark.joins import broadcastable_sides
from ..spark.units import parse_bytes
from ..text import human_bytes
from .measured import MeasuredStage, ShuffleSide, measure_stage
from .replay import replay_application_jobs, stage_makespan, waves

if TYPE_CHECKING:
    from ..store import EventLog

# A partition whose data is above this many times the median is taken to hold one heavy key (the excess),
# which hash partitioning cannot split.
HEAVY_KEY_FACTOR = 3.0

# key -> (kind, Spark's default)
SETTINGS: dict[str, tuple[str, Any]] = {
    "spark.sql.shuffle.partitions": ("int", 200),
    "spark.sql.adaptive.enabled": ("bool", True),
    "spark.sql.adaptive.coalescePartitions.enabled": ("bool", True),
    "spark.sql.adaptive.advisoryPartitionSizeInBytes": ("bytes", 64 * 1024**2),
    "spark.sql.adaptive.coalescePartitions.minPartitionSize": ("bytes", 1024**2),
    "spark.sql.adaptive.coalescePartitions.parallelismFirst": ("bool", True),
    "spark.sql.adaptive.coalescePartitions.minPartitionNum": ("int", None),
    "spark.sql.adaptive.coalescePartitions.initialPartitionNum": ("int", None),
    "spark.sql.adaptive.skewJoin.enabled": ("bool", True),
    "spark.sql.adaptive.skewJoin.skewedPartitionFactor": ("float", 5.0),
    "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": ("bytes", 256 * 1024**2),
    "spark.sql.autoBroadcastJoinThreshold": ("bytes", 10 * 1024**2),
    "spark.sql.adaptive.autoBroadcastJoinThreshold": ("bytes", None),
    "spark.shuffle.minNumPartitionsToHighlyCompress": ("int", rules.DEFAULT_MIN_PARTITIONS_TO_HIGHLY_COMPRESS),
    "spark.shuffle.accurateBlockThreshold": ("bytes", rules.DEFAULT_ACCURATE_BLOCK_THRESHOLD),
    "spark.executor.instances": ("int", None),
    "spark.executor.cores": ("int", None),
    "spark.default.parallelism": ("int", None),
}


def _parse(key: str, kind: str, raw: Any) -> Any:
    text = str(raw).strip()
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
        if kind == "bytes":
            return parse_bytes(text)
        if kind == "bool":
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError(text)
    except ValueError:
        raise SparkswordError(f"bad value for {key}: {raw!r} (expected {kind})") from None
    return text


@dataclass
class Resolved:
    """Every setting the estimate uses, and where each came from (what-if, log or Spark's default)."""

    values: dict[str, Any]
    sources: dict[str, str]

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def given(self, key: str) -> bool:
        return self.sources.get(key) == "what-if"


def resolve_settings(settings: dict[str, Any], log_config: dict[str, str]) -> Resolved:
    """Merge what-if settings over the log's configuration over Spark's defaults."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise SparkswordError(f"unsupported setting {unknown[0]}; supported: {', '.join(SETTINGS)}")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, (kind, default) in SETTINGS.items():
        if key in settings:
            values[key], sources[key] = _parse(key, kind, settings[key]), "what-if"
        elif key in log_config:
            try:
                values[key], sources[key] = _parse(key, kind, log_config[key]), "log"
            except SparkswordError:
                values[key], sources[key] = default, "default"
        else:
            values[key], sources[key] = default, "default"
    if values["spark.sql.adaptive.autoBroadcastJoinThreshold"] is None:
        values["spark.sql.adaptive.autoBroadcastJoinThreshold"] = values["spark.sql.autoBroadcastJoinThreshold"]
        sources["spark.sql.adaptive.autoBroadcastJoinThreshold"] = sources["spark.sql.autoBroadcastJoinThreshold"]
    # Asking about an AQE setting means asking about a run with AQE on.
    if (
        any(k.startswith("spark.sql.adaptive.") and k != "spark.sql.adaptive.enabled" for k in settings)
        and "spark.sql.adaptive.enabled" not in settings
        and not values["spark.sql.adaptive.enabled"]
    ):
        values["spark.sql.adaptive.enabled"], sources["spark.sql.adaptive.enabled"] = True, "implied by the what-if"
    return Resolved(values, sources)


# ---- the result ----------------------------------------------------------------------------------------
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


# ---- partition sizes -----------------------------------------------------------------------------------
def size_quantiles(sizes: np.ndarray) -> SizeQuantiles:
    """Nearest-rank quantiles 0, .25, .5, .75, 1."""
    if len(sizes) == 0:
        return SizeQuantiles(min=0, p25=0, median=0, p75=0, max=0)
    ordered = np.sort(np.asarray(sizes, dtype=float))
    pick = [ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] for q in (0, 0.25, 0.5, 0.75, 1)]
    return SizeQuantiles(**dict(zip(("min", "p25", "median", "p75", "max"), (int(round(v)) for v in pick))))


def spread_quantiles(means: np.ndarray, spreads: np.ndarray) -> SizeQuantiles:
    """Quantiles of partition sizes whose expected values are `means` with standard deviations `spreads`
    (a mixture of normals); min and max at Blom's plotting positions, i.e. the expected smallest and
    largest of that many partitions."""
    means, spreads = np.asarray(means, dtype=float), np.asarray(spreads, dtype=float)
    n = len(means)
    if n == 0 or not spreads.any():
        return size_quantiles(means)
    erf = np.vectorize(math.erf)
    lo = float(np.min(means - 6 * spreads))
    hi = float(np.max(means + 6 * spreads))
    safe = np.where(spreads > 0, spreads, 1.0)

    def cdf(x: float) -> float:
        smooth = 0.5 * (1.0 + erf((x - means) / (safe * math.sqrt(2.0))))
        return float(np.where(spreads > 0, smooth, (x >= means).astype(float)).mean())

    def quantile(p: float) -> int:
        a, b = lo, hi
        for _ in range(60):
            mid = (a + b) / 2
            a, b = (mid, b) if cdf(mid) < p else (a, mid)
        return int(round(max((a + b) / 2, 0.0)))

    positions = ((1 - 0.375) / (n + 0.25), 0.25, 0.5, 0.75, (n - 0.375) / (n + 0.25))
    return SizeQuantiles(**dict(zip(("min", "p25", "median", "p75", "max"), (quantile(p) for p in positions))))


def block_overhead(bytes_: np.ndarray, records: np.ndarray, blocks: np.ndarray) -> float:
    """Bytes each shuffle block costs beyond its records (codec and serializer framing, and the poorer
    compression of small blocks), fitted as bytes = overhead x blocks + width x records over the partitions.
    0 when the measurements cannot tell."""
    mask = (bytes_ > 0) & (blocks > 0) & (records > 0)
    if mask.sum() < 8 or np.std(records[mask]) == 0:
        return 0.0
    a = np.c_[blocks[mask], records[mask]]
    (overhead, width), *_ = np.linalg.lstsq(a, bytes_[mask], rcond=None)
    per_block = bytes_[mask] / blocks[mask]
    if overhead <= 0 or width <= 0 or overhead > 0.5 * float(np.min(per_block)):
        return 0.0
    return float(overhead)


@dataclass
class SideShape:
    """One shuffle side spread over N partitions: expected bytes (with framing), records, blocks, and the
    standard deviation of each partition's bytes from not knowing which keys land where."""

    bytes: np.ndarray
    records: np.ndarray
    blocks: np.ndarray
    spread: np.ndarray


def redistribute(
    side: ShuffleSide, blocks_m: np.ndarray, total_maps: int, overhead: float, n: int
) -> tuple[SideShape, list[str]]:
    """The side's measured partitions re-cut into `n` partitions by its partitioning.

    Hash partitioning: a key in partition i of M goes to a partition j of N with j = i (mod gcd(M, N)), so
    partition i's data spreads evenly over those N / gcd candidates, except a heavy key's excess, which
    stays whole (placed on candidate i mod N). Range and round-robin partitioning even the records out.
    """
    m = len(side.bytes)
    notes: list[str] = []
    # this side's blocks per partition: its share of the blocks a task fetched, by its share of map tasks
    side_blocks = blocks_m * side.num_maps / max(total_maps, 1)
    records = side.records.astype(float)
    if n == m:
        return SideShape(side.bytes.astype(float), records, side_blocks, np.zeros(m)), notes
    data = np.maximum(side.bytes - overhead * side_blocks, 0.0)
    nonzero = data[data > 0]
    median = float(np.median(nonzero)) if len(nonzero) else 0.0
    heavy = np.where((median > 0) & (data > HEAVY_KEY_FACTOR * median), data - median, 0.0)
    heavy_rec = np.where(data > 0, records * heavy / np.maximum(data, 1e-9), 0.0)
    light, light_rec = data - heavy, records - heavy_rec
    idx = np.arange(m)
    hashed = side.partitioning in ("hash", "unknown")
    # How finely the data is cut into keys, from how much the measured partitions differ: a partition of u
    # equal keys varies by 1/sqrt(u). A new partition taking each key of its k candidates' share with
    # chance 1/k then varies by sqrt((1 - 1/k) / keys it gets).
    lit = light[light > 0]
    rel_var = float(np.var(lit) / np.mean(lit) ** 2) if len(lit) > 1 and np.mean(lit) > 0 else 0.0
    k = n // math.gcd(m, n) if hashed else n
    rel_spread = math.sqrt((1 - 1 / k) * n * rel_var / m) if rel_var > 0 and k > 1 else 0.0
    new_data, new_rec, heavy_new = np.zeros(n), np.zeros(n), np.zeros(n)
    if hashed:
        g = math.gcd(m, n)
        per_residue = np.bincount(idx % g, weights=light, minlength=g)
        per_residue_rec = np.bincount(idx % g, weights=light_rec, minlength=g)
        new_data += per_residue[np.arange(n) % g] / (n // g)
        new_rec += per_residue_rec[np.arange(n) % g] / (n // g)
        np.add.at(heavy_new, idx % n, heavy)
        np.add.at(new_rec, idx % n, heavy_rec)
        if heavy.sum() > 0:
            notes.append(
                f"{int((heavy > 0).sum())} partition(s) hold a heavy key (data above {HEAVY_KEY_FACTOR:g}x the median): "
                "its excess stays whole in one partition, shown on partition i mod N (which of the candidates is unknown)"
            )
    elif side.partitioning == "range":
        new_data += light.sum() / n
        new_rec += light_rec.sum() / n
        np.add.at(heavy_new, (idx * n) // m, heavy)
        np.add.at(new_rec, (idx * n) // m, heavy_rec)
    else:  # round robin and single: records spread evenly
        new_data += data.sum() / n
        new_rec += records.sum() / n
    spread = rel_spread * new_data
    new_data += heavy_new
    maps = side.num_maps
    if records.sum() > 0:
        # expected non-empty blocks when a partition's records come from `maps` map tasks at random
        new_blocks = maps * (1.0 - np.exp(-new_rec / max(maps, 1)))
    else:
        new_blocks = np.full(n, float(np.mean(side_blocks)) if m else 0.0)
    new_blocks = np.where(new_data > 0, np.maximum(new_blocks, 1.0), 0.0)
    return SideShape(new_data + overhead * new_blocks, new_rec, new_blocks, spread), notes


_DECOMPRESSED = np.array([rules.decompress_size(c) for c in range(256)], dtype=np.int64)


def _rounded(sizes: np.ndarray) -> np.ndarray:
    """Vectorised `rounded_size` (MapStatus.compressSize then decompressSize)."""
    sizes = np.asarray(sizes, dtype=np.int64)
    codes = np.zeros(len(sizes), dtype=np.int64)
    big = sizes > 1
    codes[sizes == 1] = 1
    codes[big] = np.minimum(255, np.ceil(np.log(sizes[big].astype(float)) / math.log(rules.LOG_BASE))).astype(np.int64)
    return _DECOMPRESSED[codes]


# The log records each partition's bytes and each map task's total, not the block of each (map task,
# partition): real blocks scatter around the map task's share. Measured on 16 real static/AQE pairs, a
# 2% scatter spans every count Spark made; seeded draws keep the estimate deterministic.
BLOCK_SCATTER = 0.02
SCATTER_DRAWS = 12


def map_output_statistics(
    partition_bytes: np.ndarray, map_shares: np.ndarray, *, highly_compress_above: int, accurate_threshold: int,
    scatter_seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(MapOutputStatistics.bytesByPartitionId, per-map reported sizes matrix) for one shuffle.

    Each map task's block for partition j is taken as its share of the partition (by bytes written); the
    driver sums what each MapStatus reports: rounded sizes, or averages above the highly-compress limit.
    With `scatter_seed`, the blocks scatter by BLOCK_SCATTER around their shares (each partition's total
    kept), one seeded draw of what the log cannot tell.
    """
    n = len(partition_bytes)
    per_map = np.zeros((len(map_shares), n), dtype=np.int64)
    block_bytes = np.outer(map_shares, partition_bytes).astype(float)
    if scatter_seed is not None:
        block_bytes *= np.exp(np.random.default_rng(scatter_seed).normal(0.0, BLOCK_SCATTER, block_bytes.shape))
        block_bytes *= partition_bytes / np.maximum(block_bytes.sum(axis=0), 1e-9)
    for mi in range(len(map_shares)):
        blocks = np.rint(block_bytes[mi]).astype(np.int64)
        if n <= highly_compress_above:
            per_map[mi] = _rounded(blocks)
        else:
            small = (blocks > 0) & (blocks < accurate_threshold)
            avg = int(blocks[small].sum() // small.sum()) if small.any() else 0
            per_map[mi] = np.where(blocks == 0, 0, np.where(blocks >= accurate_threshold, _rounded(blocks), avg))
    return per_map.sum(axis=0), per_map


# ---- the estimate --------------------------------------------------------------------------------------
@dataclass
class _Task:
    """One estimated reduce task: its bytes (expected, and their spread), the size AQE saw, the partitions."""

    bytes: float
    seen: int
    start: int
    end: int
    spread: float = 0.0


def _median_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(intercept, slope) of a median (least absolute deviation) line, by reweighted least squares: the
    typical task, not pulled by a few slow first-wave tasks (JIT warm-up) or stragglers."""
    if len(x) < 3 or np.std(x) == 0:
        return (float(np.median(y)) if len(y) else 0.0), 0.0
    w = np.ones(len(x))
    a = np.c_[np.ones(len(x)), x]
    coef = np.zeros(2)
    floor = 1e-6 * max(float(np.abs(y).max()), 1.0)
    for _ in range(50):
        sw = np.sqrt(w)
        coef, *_ = np.linalg.lstsq(a * sw[:, None], y * sw, rcond=None)
        w = 1.0 / np.maximum(np.abs(y - a @ coef), floor)
    return float(coef[0]), float(coef[1])


def time_model(measured: MeasuredStage) -> tuple[float, float, float, float, float]:
    """(fixed ms, ms per byte, low factor, high factor, mean ms per byte): task duration = fixed + rate x
    bytes, a median line through the measured tasks; the factors are the 10th and 90th percentiles of
    measured / fitted; the mean rate (all the stage's time beyond the fixed part over all its bytes) bounds
    the high end, since slow tasks are part of what a stage costs."""
    x, y = measured.task_bytes, measured.task_duration_ms
    intercept, slope = _median_fit(x, y)
    if slope < 0:
        intercept, slope = float(np.median(y)), 0.0
    if intercept < 0:
        intercept, slope = 0.0, float(np.median(y / np.maximum(x, 1)))
    fitted = intercept + slope * x
    ratios = y / np.maximum(fitted, 1e-9)
    low = min(float(np.quantile(ratios, 0.1)), 0.9)
    high = max(float(np.quantile(ratios, 0.9)), 1.1)
    mean_rate = max(float((y - intercept).sum() / max(x.sum(), 1)), slope)
    return intercept, slope, low, high, mean_rate


def _memory_model(measured: MeasuredStage) -> tuple[float, float]:
    """(fixed bytes, bytes per byte read) of peak execution memory, fitted on the measured tasks."""
    x, y = measured.task_bytes, measured.task_peak_memory
    if len(x) >= 3 and np.std(x) > 0 and y.sum() > 0:
        intercept, slope = _median_fit(x, y)
        if slope >= 0 and intercept >= 0:
            return intercept, slope
    return (float(np.median(y)) if len(y) else 0.0), 0.0


def _spill_risk(task_bytes: np.ndarray, measured: MeasuredStage) -> int:
    """Tasks whose estimated peak execution memory passes the memory one core can count on; tasks at
    least as big as a measured task that spilled are at risk too."""
    fixed, rate = _memory_model(measured)
    risky = np.zeros(len(task_bytes), dtype=bool)
    if measured.memory_per_core:
        risky |= fixed + rate * task_bytes > measured.memory_per_core
    spilled = measured.task_bytes[measured.task_spill_bytes > 0]
    if len(spilled):
        risky |= task_bytes >= spilled.min()
    return int(risky.sum())


def _cores(measured: MeasuredStage, s: Resolved) -> int:
    if not (s.given("spark.executor.cores") or s.given("spark.executor.instances")):
        return measured.cores
    per_exec = s["spark.executor.cores"] or measured.cores_per_executor
    executors = s["spark.executor.instances"] or measured.executors
    return max(int(per_exec) * int(executors), 1)


def whatif(log: EventLog, stage_id: int, settings: dict[str, Any] | None = None) -> Estimate:
    """Estimate how reduce stage `stage_id` of `log` would look under other settings.

    `settings` maps Spark keys to values, e.g. {"spark.sql.shuffle.partitions": 16} or
    {"spark.sql.adaptive.advisoryPartitionSizeInBytes": "512k"}; see `SETTINGS` for the keys understood.
    Raises SparkswordError for an unknown stage or setting.
    """
    settings = dict(settings or {})
    measured = measure_stage(log, stage_id)
    s = resolve_settings(settings, measured.config)
    assumptions: list[str] = list(measured.notes)

    # 1. how many shuffle partitions the map side writes, and what each holds
    n, origin_fixed = _written_partitions(measured, s, assumptions)
    shapes, part_bytes, part_spread = _redistributed(measured, n, assumptions)

    # map outputs as the driver sees them, and in seeded draws of the block scatter the log cannot tell
    def seen_sizes(seed: int | None) -> tuple[list[np.ndarray], list[np.ndarray]]:
        return _seen_sizes(measured, shapes, s, seed)

    seen_per_side, per_map = seen_sizes(None)

    tasks = [
        _Task(float(part_bytes[j]), int(sum(x[j] for x in seen_per_side)), j, j + 1, float(part_spread[j]))
        for j in range(n)
    ]
    aqe_info = skew_info = bcast_info = None

    # 2. broadcast instead of a shuffled join
    aqe_on = bool(s["spark.sql.adaptive.enabled"])
    if measured.join_type and len(measured.sides) == 2:
        bcast_info = _broadcast(measured, s, aqe_on)
        if bcast_info.broadcast_side:
            tasks = _broadcast_tasks(measured, bcast_info, aqe_on, assumptions)

    # 3. AQE skew-join splitting, then 4. coalescing
    if aqe_on and not (bcast_info and bcast_info.broadcast_side):
        split = None
        if measured.join_type and len(measured.sides) == 2 and s["spark.sql.adaptive.skewJoin.enabled"]:
            skew_info, split = _skew_split(measured, s, shapes, seen_per_side, per_map)
        elif any(s.given(k) for k in SETTINGS if ".skewJoin." in k):
            skew_info = _no_skew_split("spark.sql.adaptive.skewJoin.enabled is false"
                                       if not s["spark.sql.adaptive.skewJoin.enabled"] else
                                       "this stage is not the reduce stage of a sort-merge join, the only place AQE "
                                       "splits skew")
        if s["spark.sql.adaptive.coalescePartitions.enabled"] and not origin_fixed:
            scattered = [seen_sizes(seed)[0] for seed in range(1, SCATTER_DRAWS + 1)]
            tasks, aqe_info = _coalesce(measured, s, part_bytes, part_spread, seen_per_side, shapes, split, scattered)
            assumptions.append(aqe_info.rounding_note)
        elif split is not None:
            tasks = split
    if not aqe_on and any(s.given(k) for k in SETTINGS if ".skewJoin." in k):
        skew_info = _no_skew_split("spark.sql.adaptive.enabled is false: AQE makes no skew split")

    # 5. time, waves, spill
    cores = _cores(measured, s)
    task_bytes = np.array([t.bytes for t in tasks])
    task_spread = np.array([t.spread for t in tasks])
    time = _stage_time(measured, task_bytes, cores, assumptions)
    replay_real = stage_makespan(measured.task_duration_ms, measured.cores)
    error = ModelError(
        cores=measured.cores, replay_ms=replay_real, real_ms=measured.wall_ms,
        error=((replay_real - measured.wall_ms) / measured.wall_ms) if measured.wall_ms else None,
    )
    jobs = _job_times(log, measured, cores, assumptions)
    estimated_shape = StageShape(
        tasks=len(tasks), partition_bytes=[int(round(b)) for b in task_bytes],
        partition_bytes_q=spread_quantiles(task_bytes, task_spread),
        shuffle_read_bytes=int(round(task_bytes.sum())), cores=cores, waves=round(waves(len(tasks), cores), 2),
        time=time, tasks_at_spill_risk=_spill_risk(task_bytes, measured),
    )
    assumptions = list(dict.fromkeys(assumptions))  # each said once, in order
    return Estimate(
        app_id=log.app_id, stage_id=measured.stage_id, stage_attempt_id=measured.stage_attempt_id,
        stage_name=measured.name, settings={k: str(v) for k, v in settings.items()},
        effective={k: f"{_show(s.values[k])} ({s.sources[k]})" for k in SETTINGS if s.values[k] is not None},
        measured=_measured_shape(measured), estimated=estimated_shape,
        per_partition_spread=round(float(np.median(task_spread / np.maximum(task_bytes, 1))), 4),
        aqe=aqe_info, skew_join=skew_info, broadcast=bcast_info, model_error=error, jobs=jobs,
        assumptions=assumptions,
    )


def _written_partitions(measured: MeasuredStage, s: Resolved, assumptions: list[str]) -> tuple[int, bool]:
    """(how many partitions the map side writes, whether the code fixed that count)."""
    m = measured.num_partitions
    n = m
    origin_fixed = any(side.origin in ("REPARTITION_BY_NUM", "REBALANCE_PARTITIONS_BY_NONE") for side in measured.sides)
    wanted = None
    if s["spark.sql.adaptive.enabled"] and s["spark.sql.adaptive.coalescePartitions.initialPartitionNum"]:
        wanted = s["spark.sql.adaptive.coalescePartitions.initialPartitionNum"]
    elif s.given("spark.sql.shuffle.partitions"):
        wanted = s["spark.sql.shuffle.partitions"]
    if wanted and wanted != m:
        if origin_fixed:
            assumptions.append("this shuffle's partition count was fixed in the code (repartition(n)): "
                               "spark.sql.shuffle.partitions does not change it")
        elif any(side.partitioning == "single" for side in measured.sides):
            assumptions.append("this shuffle gathers into a single partition: the partition count does not apply")
        else:
            n = int(wanted)
    return n, origin_fixed


def _redistributed(measured: MeasuredStage, n: int, assumptions: list[str]
                   ) -> tuple[list[SideShape], np.ndarray, np.ndarray]:
    """Each side's data over `n` partitions, and the partitions' expected bytes and spread."""
    m = measured.num_partitions
    overhead = block_overhead(measured.partition_bytes, measured.partition_records, measured.partition_blocks)
    shapes: list[SideShape] = []
    for side in measured.sides:
        shape, notes = redistribute(side, measured.partition_blocks, measured.num_maps, overhead, n)
        shapes.append(shape)
        assumptions.extend(notes)
    part_bytes = np.sum([sh.bytes for sh in shapes], axis=0)
    part_spread = np.sqrt(np.sum([sh.spread**2 for sh in shapes], axis=0))
    if n != m:
        kinds = sorted({side.partitioning for side in measured.sides})
        typical = float(np.median(part_spread / np.maximum(part_bytes, 1)))
        assumptions.append(
            f"the map side writes the same data into {n} partitions instead of {m} ({'/'.join(kinds)} partitioning): "
            f"a partition's data spreads over the new partitions its keys can reach; each shuffle block costs "
            f"{overhead:.0f} bytes of framing (fitted on the measured partitions), and bigger blocks are assumed to "
            "compress no better than the measured ones"
        )
        if typical > 0:
            assumptions.append(
                f"which keys land in which new partition is unknown: each estimated partition size is an expected "
                f"value, about +/-{typical:.0%} (from the measured partitions' key granularity); the size quantiles "
                "include that spread"
            )

    return shapes, part_bytes, part_spread


def _seen_sizes(measured: MeasuredStage, shapes: list[SideShape], s: Resolved, seed: int | None
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per side, the partition sizes the driver sees (MapOutputStatistics) and the per-map matrix."""
    sides, matrices = [], []
    for side, shape in zip(measured.sides, shapes):
        shares = side.map_task_bytes / max(side.map_task_bytes.sum(), 1)
        seen, matrix = map_output_statistics(
            shape.bytes, shares,
            highly_compress_above=s["spark.shuffle.minNumPartitionsToHighlyCompress"],
            accurate_threshold=s["spark.shuffle.accurateBlockThreshold"], scatter_seed=seed,
        )
        sides.append(seen)
        matrices.append(matrix)
    return sides, matrices


def _broadcast_tasks(measured: MeasuredStage, bcast: BroadcastDecision, aqe_on: bool,
                     assumptions: list[str]) -> list[_Task]:
    """With one side broadcast, the join runs in the other side's map tasks: one task per map task."""
    big = measured.sides[1] if bcast.broadcast_side == "left" else measured.sides[0]
    assumptions.append(
        f"with the {bcast.broadcast_side} side broadcast, the join runs where the other side's "
        f"{big.num_maps} map tasks are: one task per map task, reading that task's output "
        + ("(AQE: the shuffle was already written; a local shuffle read replaces the exchange)"
           if aqe_on else "(no shuffle of either side; the broadcast side is collected to the driver)")
    )
    return [_Task(float(b), int(b), i, i + 1) for i, b in enumerate(big.map_task_bytes)]


def _no_skew_split(why: str) -> SkewJoinSplit:
    return SkewJoinSplit(thresholds=[], split_targets=[], skewed_partitions=[], tasks_from_splits=0, why_none=why)


def _stage_time(measured: MeasuredStage, task_bytes: np.ndarray, cores: int, assumptions: list[str]) -> TimeRange:
    """The stage's time on `cores` cores from the time model (or the measured durations when unchanged)."""
    fixed, rate, low, high, mean_rate = time_model(measured)
    est_ms = fixed + rate * task_bytes
    est_high = np.maximum(est_ms * high, fixed + mean_rate * task_bytes)
    unchanged = len(task_bytes) == len(measured.task_bytes) and np.allclose(task_bytes, measured.task_bytes, rtol=1e-6)
    if unchanged:
        est_ms = measured.task_duration_ms.copy()
        low, est_high = 1.0, est_ms
        assumptions.append("the tasks are the measured ones: their measured durations are replayed")
    else:
        assumptions.append(
            f"task time = {fixed:.0f} ms + {rate * 1e6:.3f} ms per MB read (a median line through the "
            f"{len(measured.task_bytes)} measured tasks; range x{low:.2f} to x{high:.2f} from their scatter, "
            f"the high end at least the stage's mean {mean_rate * 1e6:.1f} ms per MB)"
        )
        if task_bytes.max(initial=0) > 2 * measured.task_bytes.max(initial=0):
            assumptions.append("the estimated tasks read more than twice the largest measured task: their times "
                               "are extrapolated and the least certain numbers here")
    assumptions.append(f"tasks are launched in order on {cores} cores, as soon as a core is free")
    return TimeRange(low_ms=stage_makespan(est_ms * low, cores), mid_ms=stage_makespan(est_ms, cores),
                     high_ms=stage_makespan(est_high, cores))


def _job_times(log: EventLog, measured: MeasuredStage, cores: int, assumptions: list[str]) -> list[JobTimes]:
    """Every job replayed on the real and the what-if cores, when the core count changes."""
    if cores == measured.cores:
        return []
    real_runs = {j.job_id: j for j in replay_application_jobs(log, measured.cores)}
    jobs = [JobTimes(job_id=j.job_id, real_ms=j.real_ms, replay_real_cores_ms=real_runs[j.job_id].replay_ms,
                     replay_whatif_cores_ms=j.replay_ms) for j in replay_application_jobs(log, cores)]
    assumptions.append(f"{cores} cores instead of {measured.cores}: each task takes as long as measured "
                       "(no change in contention or locality); driver time between jobs is not replayed")
    return jobs


def _measured_shape(measured: MeasuredStage) -> StageShape:
    return StageShape(
        tasks=len(measured.task_bytes), partition_bytes=[int(b) for b in measured.task_bytes],
        partition_bytes_q=size_quantiles(measured.task_bytes), shuffle_read_bytes=int(measured.task_bytes.sum()),
        cores=measured.cores, waves=round(waves(len(measured.task_bytes), measured.cores), 2),
        time=TimeRange(low_ms=measured.wall_ms, mid_ms=measured.wall_ms, high_ms=measured.wall_ms)
        if measured.wall_ms is not None else None,
        tasks_at_spill_risk=int((measured.task_spill_bytes > 0).sum()),
    )


def _show(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _broadcast(measured: MeasuredStage, s: Resolved, aqe_on: bool) -> BroadcastDecision:
    """Spark broadcasts a join side whose size is at most the threshold (and that the join type lets it
    build): with AQE, on the shuffle's measured 'data size'."""
    key = "spark.sql.adaptive.autoBroadcastJoinThreshold" if aqe_on else "spark.sql.autoBroadcastJoinThreshold"
    threshold = int(s[key])
    sizes = [side.data_size for side in measured.sides]
    jt = measured.join_type or ""
    can_left, can_right = (side in broadcastable_sides(jt) for side in (1, 2))
    if threshold < 0:
        return BroadcastDecision(threshold=threshold, side_sizes=sizes, broadcast_side=None,
                                 reason=f"{key} is negative: broadcast joins are off")
    candidates = []
    if can_right and sizes[1] is not None and sizes[1] <= threshold:
        candidates.append(("right", sizes[1]))
    if can_left and sizes[0] is not None and sizes[0] <= threshold:
        candidates.append(("left", sizes[0]))
    if not candidates:
        return BroadcastDecision(
            threshold=threshold, side_sizes=sizes, broadcast_side=None,
            reason=f"no side the {jt} join can build is at most {threshold} bytes (measured uncompressed data size)",
        )
    side, size = min(candidates, key=lambda c: (c[1], c[0] != "right"))
    return BroadcastDecision(
        threshold=threshold, side_sizes=sizes, broadcast_side=side,
        reason=f"the {side} side's measured data size {size} bytes is at most {key} = {threshold}"
        + ("" if aqe_on else "; without AQE the planner decides on its own size estimate, which can differ"),
    )


def _skew_split(
    measured: MeasuredStage, s: Resolved, shapes: list[SideShape], seen: list[np.ndarray], per_map: list[np.ndarray]
) -> tuple[SkewJoinSplit, list[_Task] | None]:
    """OptimizeSkewedJoin on the estimated partitions: split skewed partitions along map-task ranges."""
    jt = measured.join_type or ""
    can = (jt in ("Inner", "Cross", "LeftSemi", "LeftAnti", "LeftOuter"), jt in ("Inner", "Cross", "RightOuter"))
    advisory = s["spark.sql.adaptive.advisoryPartitionSizeInBytes"]
    thresholds, targets = [], []
    for side_seen in seen:
        med = rules.skew_median(side_seen)
        limit = rules.skew_threshold(med, factor=s["spark.sql.adaptive.skewJoin.skewedPartitionFactor"],
                                     threshold_bytes=s["spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes"])
        thresholds.append(limit)
        targets.append(rules.skew_split_target(side_seen, limit, advisory))
    tasks: list[_Task] = []
    skewed: list[int] = []
    unsplittable: list[tuple[int, int, int]] = []  # (side, partition, seen size) above the threshold, one piece
    for p in range(len(seen[0])):
        parts = []
        for k in range(2):
            pieces = [(float(shapes[k].bytes[p]), int(seen[k][p]), float(shapes[k].spread[p]))]
            if can[k] and seen[k][p] > thresholds[k]:
                specs = rules.create_skew_partition_specs(p, [int(x) for x in per_map[k][:, p]], targets[k])
                if not specs:
                    unsplittable.append((k, p, int(seen[k][p])))
                if specs:
                    shares = measured.sides[k].map_task_bytes / max(measured.sides[k].map_task_bytes.sum(), 1)
                    pieces = [
                        (float(shapes[k].bytes[p] * shares[sp.map_start:sp.map_end].sum()), sp.data_size,
                         float(shapes[k].spread[p] * shares[sp.map_start:sp.map_end].sum()))
                        for sp in specs
                    ]
                    if p not in skewed:
                        skewed.append(p)
            parts.append(pieces)
        for lb, ls, lsp in parts[0]:
            for rb, rs, rsp in parts[1]:
                tasks.append(_Task(lb + rb, ls + rs, p, p + 1, math.hypot(lsp, rsp)))
    info = SkewJoinSplit(thresholds=thresholds, split_targets=targets, skewed_partitions=skewed,
                         tasks_from_splits=len(tasks) - len(seen[0]),
                         why_none=None if skewed else _why_no_split(jt, can, seen, thresholds, targets, unsplittable,
                                                                    per_map))
    return info, (tasks if skewed else None)


def _why_no_split(join_type: str, can: tuple[bool, bool], seen: list[np.ndarray], thresholds: list[int],
                  targets: list[int], unsplittable: list[tuple[int, int, int]], per_map: list[np.ndarray]) -> str:
    """OptimizeSkewedJoin's reason for leaving every partition whole, in its own terms."""
    sides = ("left", "right")
    if not any(can):
        return f"a {join_type or 'this'} join cannot split either side"
    if unsplittable:
        k, p, size = max(unsplittable, key=lambda u: u[2])
        if per_map[k].shape[0] <= 1:
            return (f"partition {p} of the {sides[k]} side ({human_bytes(size)}) is skewed, but it was written by a "
                    "single map task and a split follows map-task boundaries")
        return (f"partition {p} of the {sides[k]} side ({human_bytes(size)}) is above the skew threshold "
                f"({human_bytes(thresholds[k])}) but not above the split target size ({human_bytes(targets[k])}: "
                "the larger of spark.sql.adaptive.advisoryPartitionSizeInBytes and the mean non-skewed partition), so "
                "it stays one piece; a split needs the advisory size below the partition's size")
    largest = [int(max(seen[k])) if len(seen[k]) else 0 for k in range(2)]
    return ("no partition is above the skew threshold, the larger of "
            "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes and skewedPartitionFactor x the median "
            "partition: " + "; ".join(f"{sides[k]} side threshold {human_bytes(thresholds[k])}, largest "
                                      f"{human_bytes(largest[k])}" for k in range(2) if can[k]))


def _coalesce(
    measured: MeasuredStage, s: Resolved, part_bytes: np.ndarray, part_spread: np.ndarray, seen: list[np.ndarray],
    shapes: list[SideShape], split: list[_Task] | None, scattered: list[list[np.ndarray]],
) -> tuple[list[_Task], AqeCoalescing]:
    """CoalesceShufflePartitions on the sizes AQE sees, and the same rule without MapStatus rounding and
    with each partition's bytes in one block per side, to show whether rounding could change the count."""
    advisory = s["spark.sql.adaptive.advisoryPartitionSizeInBytes"]
    min_size = s["spark.sql.adaptive.coalescePartitions.minPartitionSize"]
    min_num = rules.min_num_partitions(
        min_partition_num=s["spark.sql.adaptive.coalescePartitions.minPartitionNum"],
        parallelism_first=s["spark.sql.adaptive.coalescePartitions.parallelismFirst"],
        default_parallelism=s["spark.default.parallelism"] or measured.default_parallelism,
    )
    seen_lists = [[int(x) for x in side] for side in seen]
    target = rules.coalesce_target_size(sum(sum(x) for x in seen_lists), advisory_size=advisory,
                                        min_partition_size=min_size, min_num_partitions=min_num)

    def ranges_for(sizes_per_side: list[list[int]]) -> list[tuple[int, int]]:
        if split is not None:
            t = rules.coalesce_target_size(sum(sum(x) for x in sizes_per_side), advisory_size=advisory,
                                           min_partition_size=min_size, min_num_partitions=min_num)
            out = rules.coalesce_with_skew(sizes_per_side, [task.start for task in split], target_size=t,
                                           min_partition_size=min_size)
            return out if out is not None else [(task.start, task.end) for task in split]
        _, specs = rules.coalesce_partitions(sizes_per_side, advisory_size=advisory, min_num_partitions=min_num,
                                             min_partition_size=min_size)
        return [(sp.start, sp.end) for sp in specs] if specs is not None else [(j, j + 1) for j in range(len(part_bytes))]

    ranges = ranges_for(seen_lists)
    exact = ranges_for([[int(round(x)) for x in sh.bytes] for sh in shapes])
    one_block = ranges_for([[int(v) for v in _rounded(np.rint(sh.bytes))] for sh in shapes])
    seen_total = np.sum(seen, axis=0)
    split_by_partition: dict[int, list[_Task]] = {}
    for task in split or []:
        split_by_partition.setdefault(task.start, []).append(task)
    used: dict[int, int] = {}
    tasks: list[_Task] = []
    for a, b in ranges:
        pieces = split_by_partition.get(a, [])
        if b == a + 1 and len(pieces) > 1:
            # a piece of a skew-split partition stays its own task
            tasks.append(pieces[used.get(a, 0)])
            used[a] = used.get(a, 0) + 1
            continue
        tasks.append(_Task(float(part_bytes[a:b].sum()), int(seen_total[a:b].sum()), a, b,
                           float(np.sqrt((part_spread[a:b] ** 2).sum()))))
    counts = [len(ranges)] + [len(ranges_for([[int(x) for x in side] for side in draw])) for draw in scattered]
    low, high = min(counts), max(counts)
    if len({len(ranges), len(exact), len(one_block)}) == 1 and low == high:
        note = (f"AQE coalescing: target {target} bytes; MapStatus rounds each map output up by 0-10% (log-1.1 "
                f"scale); the count ({len(ranges)}) is the same without rounding and with uneven blocks")
    else:
        note = (f"AQE coalescing: target {target} bytes; MapStatus rounding can change the count: {len(ranges)} as "
                f"modelled (each map task's block is its share of the partition), {len(exact)} without rounding, "
                f"{len(one_block)} if each partition's bytes sat in one block per side")
    if low != high:
        note += (f"; the count is {low}-{high}: a partition at the target's edge joins its neighbour or not "
                 f"depending on how each map task's block rounds, which the log does not record "
                 f"({counts.count(len(ranges))} of {len(counts)} draws of a {BLOCK_SCATTER:.0%} block scatter give "
                 f"{len(ranges)})")
    info = AqeCoalescing(
        target_size=target, min_num_partitions=min_num, advisory_size=advisory, min_partition_size=min_size,
        seen_sizes=[t.seen for t in tasks], ranges=ranges, count_without_rounding=len(exact),
        count_if_blocks_uneven=len(one_block), count_range=(low, high), rounding_note=note,
    )
    return tasks, info
