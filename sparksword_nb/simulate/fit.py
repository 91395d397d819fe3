"""Models fitted on a measured stage: how its data spreads over other partition counts, what sizes AQE sees,
and how long a task takes for the bytes it reads (the time model the playground also uses)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..spark import shuffle as rules
from .estimate import SizeQuantiles
from .measured import MeasuredStage, ShuffleSide
from .settings import Resolved

# A partition whose data is above this many times the median is taken to hold one heavy key (the excess),
# which hash partitioning cannot split.
HEAVY_KEY_FACTOR = 3.0

# key -> (kind, Spark's default)


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


def rounded_sizes(sizes: np.ndarray) -> np.ndarray:
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
            per_map[mi] = rounded_sizes(blocks)
        else:
            small = (blocks > 0) & (blocks < accurate_threshold)
            avg = int(blocks[small].sum() // small.sum()) if small.any() else 0
            per_map[mi] = np.where(blocks == 0, 0, np.where(blocks >= accurate_threshold, rounded_sizes(blocks), avg))
    return per_map.sum(axis=0), per_map


@dataclass
class EstimatedTask:
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


def memory_model(measured: MeasuredStage) -> tuple[float, float]:
    """(fixed bytes, bytes per byte read) of peak execution memory, fitted on the measured tasks."""
    x, y = measured.task_bytes, measured.task_peak_memory
    if len(x) >= 3 and np.std(x) > 0 and y.sum() > 0:
        intercept, slope = _median_fit(x, y)
        if slope >= 0 and intercept >= 0:
            return intercept, slope
    return (float(np.median(y)) if len(y) else 0.0), 0.0


def spill_risk(task_bytes: np.ndarray, measured: MeasuredStage) -> int:
    """Tasks whose estimated peak execution memory passes the memory one core can count on; tasks at
    least as big as a measured task that spilled are at risk too."""
    fixed, rate = memory_model(measured)
    risky = np.zeros(len(task_bytes), dtype=bool)
    if measured.memory_per_core:
        risky |= fixed + rate * task_bytes > measured.memory_per_core
    spilled = measured.task_bytes[measured.task_spill_bytes > 0]
    if len(spilled):
        risky |= task_bytes >= spilled.min()
    return int(risky.sum())


def task_slots(measured: MeasuredStage, s: Resolved) -> int:
    if not (s.given("spark.executor.cores") or s.given("spark.executor.instances")):
        return measured.cores
    per_exec = s["spark.executor.cores"] or measured.cores_per_executor
    executors = s["spark.executor.instances"] or measured.executors
    return max(int(per_exec) * int(executors), 1)
