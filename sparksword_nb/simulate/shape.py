"""The free-form shape model the playground teaches with: a chain of operators over an input, cut into
stages at the wide operators, run on a cluster.

Nothing here comes from a log: every number is an estimate from the shape and the stated assumptions
(`Cluster.throughput_mb_per_s`, `Cluster.task_overhead_ms`, `MEMORY_EXPANSION`). Only sizes, counts and
operator kinds are used, never row values.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..errors import SparkswordError
from .replay import stage_makespan, waves

NARROW = {"filter", "map", "coalesce", "broadcast_join"}
WIDE = {"aggregate", "join", "sort", "repartition"}
# Deserialized rows take more memory than their shuffle bytes; a teaching value, not a measurement.
MEMORY_EXPANSION = 3.0


@dataclass
class Operator:
    """One step of the chain.

    kind: filter | map | coalesce | broadcast_join (narrow), aggregate | join | sort | repartition (wide).
    factor: output bytes / input bytes (a filter's selectivity, an aggregate's reduction).
    partitions: for repartition(n) / coalesce(n).
    other_bytes: the other side's size, for join and broadcast_join.
    """

    kind: str
    factor: float = 1.0
    partitions: int | None = None
    other_bytes: int = 0


@dataclass
class Cluster:
    """Executors x cores, memory per core, and the per-core speed the estimate assumes."""

    executors: int = 2
    cores_per_executor: int = 4
    memory_per_core: int = 1024**3
    throughput_mb_per_s: float = 50.0
    task_overhead_ms: float = 20.0

    @property
    def cores(self) -> int:
        return max(self.executors * self.cores_per_executor, 1)


@dataclass
class ShapeStage:
    """One stage of the estimated shape."""

    operators: list[str]
    tasks: int
    partition_bytes: list[int]
    shuffle_read_bytes: int
    shuffle_write_bytes: int
    waves: float
    time_ms: tuple[float, float, float]
    tasks_at_spill_risk: int


@dataclass
class Shape:
    """Input size and partitions, the operator chain, key skew (the heaviest key's share of a hashed
    stage's data, 0 to 1), spark.sql.shuffle.partitions and the cluster."""

    input_bytes: int
    input_partitions: int
    operators: list[Operator] = field(default_factory=list)
    skew: float = 0.0
    shuffle_partitions: int = 200
    cluster: Cluster = field(default_factory=Cluster)


def _even(total: float, n: int) -> list[float]:
    return [total / n] * n if n > 0 else []


def _hashed(total: float, n: int, skew: float) -> list[float]:
    """Hash partitioning: the heaviest key stays whole in one partition, the rest spreads evenly."""
    sizes = _even(total * (1 - skew), n)
    if sizes:
        sizes[0] += total * skew
    return sizes


def simulate_shape(shape: Shape) -> list[ShapeStage]:
    """Cut the chain into stages at wide operators and estimate each stage's tasks, partition sizes,
    shuffle bytes, waves, time range (x0.7 to x1.5 of the middle) and tasks at spill risk."""
    if shape.input_bytes < 0 or shape.input_partitions <= 0:
        raise SparkswordError("the input needs a size >= 0 and at least one partition")
    if not 0 <= shape.skew < 1:
        raise SparkswordError("skew is the heaviest key's share of the data: from 0 up to (not including) 1")
    stages: list[ShapeStage] = []
    sizes = _even(float(shape.input_bytes), shape.input_partitions)
    names: list[str] = []
    read = 0.0
    extra_memory = 0.0

    def close(write: float) -> None:
        c = shape.cluster
        per_ms = c.throughput_mb_per_s * 1e6 / 1000.0
        times = [c.task_overhead_ms + s / per_ms for s in sizes]
        mid = stage_makespan(times, c.cores)
        risky = sum(1 for s in sizes if s * MEMORY_EXPANSION + extra_memory > c.memory_per_core)
        stages.append(ShapeStage(
            operators=list(names) or ["scan"], tasks=len(sizes), partition_bytes=[int(round(s)) for s in sizes],
            shuffle_read_bytes=int(round(read)), shuffle_write_bytes=int(round(write)),
            waves=round(waves(len(sizes), c.cores), 2), time_ms=(0.7 * mid, mid, 1.5 * mid),
            tasks_at_spill_risk=risky,
        ))

    for op in shape.operators:
        if op.kind not in NARROW | WIDE:
            raise SparkswordError(f"unknown operator {op.kind!r}; one of {', '.join(sorted(NARROW | WIDE))}")
        if op.kind in ("filter", "map"):
            sizes = [s * op.factor for s in sizes]
        elif op.kind == "coalesce":
            n = max(1, min(op.partitions or len(sizes), len(sizes)))
            # coalesce(n) merges neighbouring partitions without a shuffle
            groups = [sizes[math.floor(i * len(sizes) / n): math.floor((i + 1) * len(sizes) / n)] for i in range(n)]
            sizes = [sum(g) for g in groups]
        elif op.kind == "broadcast_join":
            extra_memory += op.other_bytes * MEMORY_EXPANSION
            sizes = [s * op.factor for s in sizes]
        else:
            write = sum(sizes) + (op.other_bytes if op.kind == "join" else 0)
            close(write)
            names = []
            read = write
            extra_memory = 0.0
            if op.kind == "repartition":
                sizes = _even(write, op.partitions or shape.shuffle_partitions)
            elif op.kind == "sort":
                sizes = _hashed(write, shape.shuffle_partitions, shape.skew)  # range partitions: a key stays whole
            else:
                sizes = _hashed(write, shape.shuffle_partitions, shape.skew)
            sizes = [s * op.factor for s in sizes]
        names.append(op.kind)
    close(0.0)
    return stages
