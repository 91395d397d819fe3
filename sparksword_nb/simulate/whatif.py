"""What-if estimates for one measured reduce stage: other shuffle partition counts, AQE coalescing, AQE
skew-join splitting, a broadcast join, another core count.

Each estimate starts from the stage's measured shuffle partitions (`measured.py`), applies Spark's own
rules (`spark/shuffle.py`) in the order Spark applies them (skew splitting, then coalescing), and says which
assumptions it rests on. Numbers are estimates, not promises.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from ..spark import shuffle as rules
from ..spark.joins import broadcastable_sides
from ..text import human_bytes
from .estimate import (
    AqeCoalescing,
    BroadcastDecision,
    Estimate,
    JobTimes,
    ModelError,
    SkewJoinSplit,
    StageShape,
    TimeRange,
)
from .fit import (
    BLOCK_SCATTER,
    SCATTER_DRAWS,
    EstimatedTask,
    SideShape,
    block_overhead,
    map_output_statistics,
    redistribute,
    rounded_sizes,
    size_quantiles,
    spill_risk,
    spread_quantiles,
    task_slots,
    time_model,
)
from .measured import MeasuredStage, measure_stage
from .replay import replay_application_jobs, stage_makespan, waves
from .settings import SETTINGS, Resolved, resolve_settings

if TYPE_CHECKING:
    from ..store import EventLog

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
        EstimatedTask(float(part_bytes[j]), int(sum(x[j] for x in seen_per_side)), j, j + 1, float(part_spread[j]))
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
    cores = task_slots(measured, s)
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
        time=time, tasks_at_spill_risk=spill_risk(task_bytes, measured),
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
                     assumptions: list[str]) -> list[EstimatedTask]:
    """With one side broadcast, the join runs in the other side's map tasks: one task per map task."""
    big = measured.sides[1] if bcast.broadcast_side == "left" else measured.sides[0]
    assumptions.append(
        f"with the {bcast.broadcast_side} side broadcast, the join runs where the other side's "
        f"{big.num_maps} map tasks are: one task per map task, reading that task's output "
        + ("(AQE: the shuffle was already written; a local shuffle read replaces the exchange)"
           if aqe_on else "(no shuffle of either side; the broadcast side is collected to the driver)")
    )
    return [EstimatedTask(float(b), int(b), i, i + 1) for i, b in enumerate(big.map_task_bytes)]


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
    if unchanged:
        why = "the measured task times, replayed"
    else:
        why = (f"x{low:.2f} to x{high:.2f}: how far the {len(measured.task_bytes)} measured tasks' times scatter "
               "around one line of ms per MB")
        if high / max(low, 1e-9) > 2:
            why = "wide because " + why + " (a few fast or slow tasks, not only their bytes, set the stage's time)"
        if task_bytes.max(initial=0) > 2 * measured.task_bytes.max(initial=0):
            why += "; extrapolated past the largest measured task"
    return TimeRange(low_ms=stage_makespan(est_ms * low, cores), mid_ms=stage_makespan(est_ms, cores),
                     high_ms=stage_makespan(est_high, cores), why=why)


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
        time=TimeRange(low_ms=measured.wall_ms, mid_ms=measured.wall_ms, high_ms=measured.wall_ms,
                       why="measured")
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
) -> tuple[SkewJoinSplit, list[EstimatedTask] | None]:
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
    tasks: list[EstimatedTask] = []
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
                tasks.append(EstimatedTask(lb + rb, ls + rs, p, p + 1, math.hypot(lsp, rsp)))
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
    shapes: list[SideShape], split: list[EstimatedTask] | None, scattered: list[list[np.ndarray]],
) -> tuple[list[EstimatedTask], AqeCoalescing]:
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
    one_block = ranges_for([[int(v) for v in rounded_sizes(np.rint(sh.bytes))] for sh in shapes])
    seen_total = np.sum(seen, axis=0)
    split_by_partition: dict[int, list[EstimatedTask]] = {}
    for task in split or []:
        split_by_partition.setdefault(task.start, []).append(task)
    used: dict[int, int] = {}
    tasks: list[EstimatedTask] = []
    for a, b in ranges:
        pieces = split_by_partition.get(a, [])
        if b == a + 1 and len(pieces) > 1:
            # a piece of a skew-split partition stays its own task
            tasks.append(pieces[used.get(a, 0)])
            used[a] = used.get(a, 0) + 1
            continue
        tasks.append(EstimatedTask(float(part_bytes[a:b].sum()), int(seen_total[a:b].sum()), a, b,
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
