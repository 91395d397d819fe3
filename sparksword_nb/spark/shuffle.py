"""Spark's own partitioning rules, ported line for line so an estimate decides what Spark would decide.

Sources (apache/spark, Spark 3.2 - 4.x):
- `core/.../scheduler/MapStatus.scala`: `MapStatus.compressSize` / `decompressSize` (sizes kept as one byte on a
  log-1.1 scale, rounded up), `CompressedMapStatus` (one rounded size per block) and
  `HighlyCompressedMapStatus` (above `spark.shuffle.minNumPartitionsToHighlyCompress` blocks: blocks of at least
  `spark.shuffle.accurateBlockThreshold` keep their rounded size, every other non-empty block reports the
  average of those other blocks).
- `sql/core/.../adaptive/ShufflePartitionsUtil.scala`: `coalescePartitions` (the AQE coalescing rule) and
  `splitSizeListByTargetSize` (how a skewed partition is cut along map-task boundaries).
- `sql/core/.../adaptive/CoalesceShufflePartitions.scala`: how the target size is chosen
  (`parallelismFirst`, `minPartitionNum`, `minPartitionSize`).
- `sql/core/.../adaptive/OptimizeSkewedJoin.scala`: median, skew threshold and split target size.

Every function works on plain sizes in bytes; nothing here reads a log.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

LOG_BASE = 1.1
# ShufflePartitionsUtil.SMALL_PARTITION_FACTOR / MERGED_PARTITION_FACTOR
SMALL_PARTITION_FACTOR = 0.2
MERGED_PARTITION_FACTOR = 1.2
DEFAULT_MIN_PARTITIONS_TO_HIGHLY_COMPRESS = 2000
DEFAULT_ACCURATE_BLOCK_THRESHOLD = 100 * 1024 * 1024


def compress_size(size: int) -> int:
    """`MapStatus.compressSize`: a block size as one byte, ceil(log_1.1(size)), capped at 255."""
    if size == 0:
        return 0
    if size <= 1:
        return 1
    return min(255, math.ceil(math.log(float(size)) / math.log(LOG_BASE)))


def decompress_size(compressed: int) -> int:
    """`MapStatus.decompressSize`: the size Spark reads back from one byte (1.1^n, truncated)."""
    if compressed == 0:
        return 0
    return int(math.pow(LOG_BASE, compressed & 0xFF))


def rounded_size(size: int) -> int:
    """What a `CompressedMapStatus` reports for a block of `size` bytes (0 to +10% above the truth)."""
    return decompress_size(compress_size(size))


def map_status_sizes(
    block_sizes: Sequence[int],
    *,
    min_partitions_to_highly_compress: int = DEFAULT_MIN_PARTITIONS_TO_HIGHLY_COMPRESS,
    accurate_block_threshold: int = DEFAULT_ACCURATE_BLOCK_THRESHOLD,
) -> list[int]:
    """The per-reduce-partition sizes one map task's `MapStatus` reports to the driver.

    With at most `min_partitions_to_highly_compress` partitions each block keeps its own rounded size
    (`CompressedMapStatus`); above it, `HighlyCompressedMapStatus` keeps empty blocks at 0, huge blocks
    (>= `accurate_block_threshold`) rounded, and reports the average of all other non-empty blocks.
    (The optional `spark.shuffle.accurateBlockSkewedFactor` path, off by default, is not modelled.)
    """
    sizes = [int(s) for s in block_sizes]
    if len(sizes) <= min_partitions_to_highly_compress:
        return [rounded_size(s) for s in sizes]
    small = [s for s in sizes if 0 < s < accurate_block_threshold]
    avg = sum(small) // len(small) if small else 0
    return [0 if s == 0 else (rounded_size(s) if s >= accurate_block_threshold else avg) for s in sizes]


@dataclass(frozen=True)
class CoalescedSpec:
    """`CoalescedPartitionSpec(start, end)`: one reduce task reading shuffle partitions [start, end)."""

    start: int
    end: int


@dataclass(frozen=True)
class PartialSpec:
    """`PartialReducerPartitionSpec`: one task reading partition `reducer` from map tasks [map_start, map_end)."""

    reducer: int
    map_start: int
    map_end: int
    data_size: int


def coalesce_target_size(
    total_size: int,
    *,
    advisory_size: int,
    min_partition_size: int,
    min_num_partitions: int,
) -> int:
    """`ShufflePartitionsUtil.coalescePartitions`' target: min(advisory, ceil(total / minNumPartitions)),
    never below minPartitionSize."""
    max_target = math.ceil(total_size / float(min_num_partitions))
    return max(min(max_target, advisory_size), min_partition_size)


def min_num_partitions(*, min_partition_num: int | None, parallelism_first: bool, default_parallelism: int) -> int:
    """`CoalesceShufflePartitions`: minPartitionNum if set, else default parallelism when parallelismFirst,
    else 1."""
    if min_partition_num is not None:
        return min_partition_num
    return default_parallelism if parallelism_first else 1


def coalesce_range(
    sizes: Sequence[int],
    start: int,
    end: int,
    target_size: int,
    min_partition_size: int,
    allow_return_empty: bool = False,
) -> list[CoalescedSpec]:
    """The private `ShufflePartitionsUtil.coalescePartitions(start, end, ...)` over summed partition sizes.

    Packs consecutive partitions until adding the next would pass `target_size`; a pack still below
    `min_partition_size` is merged into the smaller neighbour.
    """
    specs: list[CoalescedSpec] = []
    coalesced_size = 0
    i = start
    latest_split_point = i
    latest_partition_size = 0

    def create_spec(force: bool = False) -> None:
        # Spark skips empty inputs: launching an empty task is a waste.
        if coalesced_size > 0 or force:
            specs.append(CoalescedSpec(latest_split_point, i))

    while i < end:
        current = int(sizes[i])
        if i > latest_split_point and coalesced_size + current > target_size:
            if coalesced_size < min_partition_size:
                if 0 < latest_partition_size < current:
                    specs[-1] = CoalescedSpec(specs[-1].start, i)
                    latest_split_point = i
                    latest_partition_size += coalesced_size
                    coalesced_size = current
                else:
                    coalesced_size += current
            else:
                create_spec()
                latest_split_point = i
                latest_partition_size = coalesced_size
                coalesced_size = current
        else:
            coalesced_size += current
        i += 1

    if coalesced_size < min_partition_size and latest_partition_size > 0:
        specs[-1] = CoalescedSpec(specs[-1].start, end)
    else:
        create_spec(not allow_return_empty and not specs)
    return specs


def coalesce_partitions(
    sizes_per_shuffle: Sequence[Sequence[int]],
    *,
    advisory_size: int,
    min_num_partitions: int,
    min_partition_size: int,
) -> tuple[int, list[CoalescedSpec] | None]:
    """AQE coalescing without skew splits: (target size, specs), specs None when Spark would not coalesce.

    `sizes_per_shuffle` holds, per shuffle read by the stage, the MapOutputStatistics sizes (summed over map
    tasks of what their MapStatus reports). Spark gives up when the shuffles differ in partition count, and
    keeps the original layout when coalescing would not reduce the partition count.
    """
    total = sum(sum(int(s) for s in sizes) for sizes in sizes_per_shuffle)
    target = coalesce_target_size(
        total, advisory_size=advisory_size, min_partition_size=min_partition_size, min_num_partitions=min_num_partitions
    )
    if not sizes_per_shuffle:
        return target, None
    lengths = {len(sizes) for sizes in sizes_per_shuffle}
    if len(lengths) > 1:
        return target, None
    n = lengths.pop()
    summed = [sum(int(sizes[i]) for sizes in sizes_per_shuffle) for i in range(n)]
    specs = coalesce_range(summed, 0, n, target, min_partition_size)
    return target, (specs if len(specs) < n else None)


def coalesce_with_skew(
    sizes_per_shuffle: Sequence[Sequence[int]],
    partition_indices: Sequence[int],
    *,
    target_size: int,
    min_partition_size: int,
) -> list[tuple[int, int]] | None:
    """`coalescePartitionsWithSkew`: coalesce outside the skew sections, keep the split tasks as they are.

    `partition_indices` is the reducer index of each task after skew splitting, e.g. [0, 1, 2, 2, 2, 3]
    (a repeated index is a split partition). Returns one (start, end) reducer range per task, split tasks
    as (i, i + 1) each, or None when nothing was coalesced.
    """
    n = len(sizes_per_shuffle[0])
    summed = [sum(int(sizes[i]) for sizes in sizes_per_shuffle) for i in range(n)]
    out: list[tuple[int, int]] = []
    count = len(partition_indices)
    i, start = 1, 0
    while i < count:
        if partition_indices[i - 1] == partition_indices[i]:
            repeat = partition_indices[i]
            if i - 1 > start:
                for spec in coalesce_range(summed, partition_indices[start], repeat, target_size, min_partition_size, True):
                    out.append((spec.start, spec.end))
            j = i + 1
            while j < count and partition_indices[j] == repeat:
                j += 1
            out.extend((partition_indices[k], partition_indices[k] + 1) for k in range(i - 1, j))
            start = j
            i = j
        else:
            i += 1
    if count > start:
        for spec in coalesce_range(
            summed, partition_indices[start], partition_indices[-1] + 1, target_size, min_partition_size, True
        ):
            out.append((spec.start, spec.end))
    return out if len(out) < count else None


def split_size_list_by_target_size(sizes: Sequence[int], target_size: int) -> list[int]:
    """`ShufflePartitionsUtil.splitSizeListByTargetSize`: start indices cutting a list of map-task sizes
    into pieces near `target_size`, merging a piece into the previous one when either is small."""
    starts = [0]
    current = 0
    last = -1

    def try_merge() -> None:
        nonlocal last
        should_merge = last > -1 and (
            (current + last) < target_size * MERGED_PARTITION_FACTOR
            or current < target_size * SMALL_PARTITION_FACTOR
            or last < target_size * SMALL_PARTITION_FACTOR
        )
        if should_merge:
            starts.pop()
            last += current
        else:
            last = current

    for i, size in enumerate(sizes):
        size = int(size)
        if i > 0 and current + size > target_size:
            try_merge()
            starts.append(i)
            current = size
        else:
            current += size
    try_merge()
    return starts


def create_skew_partition_specs(reducer: int, map_sizes: Sequence[int], target_size: int) -> list[PartialSpec] | None:
    """`ShufflePartitionsUtil.createSkewPartitionSpecs`: the map-range pieces of one skewed partition,
    or None when it cannot be split (a single map task, or all in one piece)."""
    if any(s < 0 for s in map_sizes):
        return None
    starts = split_size_list_by_target_size(map_sizes, target_size)
    if len(starts) <= 1:
        return None
    bounds = [*starts, len(map_sizes)]
    return [
        PartialSpec(reducer, bounds[k], bounds[k + 1], sum(int(s) for s in map_sizes[bounds[k] : bounds[k + 1]]))
        for k in range(len(starts))
    ]


def skew_median(sizes: Sequence[int] | np.ndarray) -> int:
    """`OptimizeSkewedJoin.medianSize` (Spark 3.x/4.x: Utils.median of the sorted sizes, at least 1)."""
    ordered = sorted(int(s) for s in sizes)
    n = len(ordered)
    if n == 0:
        return 1
    if n % 2 == 0:
        return max((ordered[n // 2] + ordered[n // 2 - 1]) // 2, 1)
    return max(ordered[n // 2], 1)


def skew_threshold(median: int, *, factor: float, threshold_bytes: int) -> int:
    """`OptimizeSkewedJoin.getSkewThreshold`: a partition is skewed above max(threshold, median x factor)."""
    return max(threshold_bytes, int(median * factor))


def skew_split_target(sizes: Sequence[int] | np.ndarray, skew_limit: int, advisory_size: int) -> int:
    """`OptimizeSkewedJoin.targetSize`: max(advisory, mean of the non-skewed partitions)."""
    non_skewed = [int(s) for s in sizes if s <= skew_limit]
    if not non_skewed:
        return advisory_size
    return max(advisory_size, sum(non_skewed) // len(non_skewed))


