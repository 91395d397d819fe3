"""Playground: the partition-shape playground. Sliders for a shape, and what Spark would make of it.

Two modes:
- free (`Playground()`): for teaching. Input size and partitions, an operator chain, key skew, the
  shuffle partition count and a cluster; the kernel runs `simulate.shape` and the panel draws partitions as
  bars, tasks as waves on the cores and shuffles as cuts. Nothing in it is measured.
- seeded (`Playground.from_log(log, stage=ID)`, `%sparksword playground --stage ID`): a real reduce stage
  of a log beside `simulate.whatif`'s estimate for the Spark settings the user changes.

The panel only sends the shape (or the settings); the kernel answers with aggregates: at most `MAX_BARS`
bars and `MAX_TASK_RECTS` task rectangles per chart, whatever the partition count, so a payload stays a
few kilobytes. Every estimate carries its assumptions; every number is labelled measured or estimated.
"""
from __future__ import annotations

import heapq
import json
import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import traitlets

from ..errors import SparkswordError
from ..simulate.estimate import Estimate
from ..simulate.fit import size_quantiles, time_model
from ..simulate.measured import MeasuredStage, measure_stage
from ..simulate.settings import SETTINGS, resolve_settings
from ..simulate.shape import MEMORY_EXPANSION, NARROW, WIDE, Cluster, Operator, Shape, simulate_shape
from ..simulate.whatif import whatif
from ..spark.attempts import LATEST_STAGE_ATTEMPT
from ..spark.quantiles import summary_values
from ..spark.units import bytes_to_string
from .base import SparkswordWidget, bundle, esc, table_html
from .data import PAYLOAD_VERSION, stage_labels

if TYPE_CHECKING:
    from ..store import EventLog

# Drawing budget per chart: more partitions are drawn as bars over runs of neighbours (mean and max),
# more tasks as runs of consecutive tasks on a core; only the first cores get a row.
MAX_BARS = 100
MAX_CORE_ROWS = 16
MAX_TASK_RECTS = 256
# Kernel-side limits of the free model (its cost grows with partitions; the sliders stay well inside).
MAX_PARTITIONS = 100_000
MAX_INPUT_BYTES = 1 << 50
# Estimates kept per widget, so scrubbing a slider back and forth does not recompute.
CACHE_SIZE = 64
# Stages offered by the seeded panel's stage picker (those that read the most shuffle data).
MAX_STAGE_CHOICES = 100

# The operator picker, in the order a pipeline reads (shape.py knows them as NARROW | WIDE).
OPERATOR_KINDS: tuple[str, ...] = ("filter", "map", "aggregate", "join", "broadcast_join", "sort", "repartition",
                                   "coalesce")
assert set(OPERATOR_KINDS) == NARROW | WIDE, "the picker must offer exactly the operators shape.py models"

DEFAULT_OPERATORS: tuple[dict[str, Any], ...] = (
    {"kind": "filter", "factor": 0.5, "partitions": None, "other_bytes": 0},
    {"kind": "aggregate", "factor": 0.1, "partitions": None, "other_bytes": 0},
)

# The settings the seeded playground offers, in the order they are shown. `scale` says how a slider
# moves (log for sizes and counts spanning orders of magnitude; from 1 KiB to 1 GiB every power of two is a
# slider position); `join_only` ones matter only when the stage joins two shuffles.
SEEDED_CONTROLS: tuple[dict[str, Any], ...] = (
    {"key": "spark.sql.shuffle.partitions", "label": "shuffle partitions", "kind": "int", "scale": "log",
     "min": 1, "max": 20_000},
    {"key": "spark.sql.adaptive.enabled", "label": "AQE", "kind": "bool"},
    {"key": "spark.sql.adaptive.coalescePartitions.enabled", "label": "AQE coalescing", "kind": "bool"},
    {"key": "spark.sql.adaptive.advisoryPartitionSizeInBytes", "label": "AQE advisory size", "kind": "bytes",
     "scale": "log", "min": 1024, "max": 1 << 30},
    {"key": "spark.sql.adaptive.coalescePartitions.minPartitionSize", "label": "AQE min partition size",
     "kind": "bytes", "scale": "log", "min": 1024, "max": 1 << 30},
    {"key": "spark.sql.adaptive.coalescePartitions.parallelismFirst", "label": "AQE parallelism first",
     "kind": "bool"},
    {"key": "spark.sql.adaptive.skewJoin.enabled", "label": "AQE skew join", "kind": "bool", "join_only": True},
    {"key": "spark.sql.autoBroadcastJoinThreshold", "label": "broadcast tables up to", "kind": "bytes",
     "scale": "log", "min": 1024, "max": 1 << 30, "off": -1, "join_only": True},
    {"key": "spark.executor.instances", "label": "executors", "kind": "int", "scale": "linear", "min": 1, "max": 64},
    {"key": "spark.executor.cores", "label": "cores per executor", "kind": "int", "scale": "linear", "min": 1,
     "max": 32},
)
SEEDED_KEYS: tuple[str, ...] = tuple(c["key"] for c in SEEDED_CONTROLS)
assert set(SEEDED_KEYS) <= set(SETTINGS), "every control must be a setting the what-if engine understands"

FREE_NOTE = ("Free mode: nothing here is measured. Every number is an estimate from the shape you set and "
             "the assumptions below, not a promise of what Spark will do.")


# ---- aggregates for drawing ----------------------------------------------------------------------------

def partition_bars(sizes: Sequence[float], *, flags: Sequence[bool] | np.ndarray | None = None,
                   max_bars: int = MAX_BARS) -> dict[str, Any]:
    """Bars for partition sizes in partition order: one per partition up to `max_bars`, else one per run of
    `per_bar` neighbouring partitions with its mean and max (the max keeps a heavy partition visible).
    `spill` marks the bars holding a partition whose flag is set (a spill, or a spill risk)."""
    values = np.asarray(sizes, dtype=float)
    marks = np.zeros(len(values), dtype=bool) if flags is None else np.asarray(flags, dtype=bool)
    n = len(values)
    per_bar = max(1, math.ceil(n / max_bars)) if n else 1
    means, maxes, spill = [], [], []
    for start in range(0, n, per_bar):
        run = values[start:start + per_bar]
        means.append(int(round(float(run.mean()))))
        maxes.append(int(round(float(run.max()))))
        spill.append(int(marks[start:start + per_bar].any()))
    return {"partitions": n, "per_bar": per_bar, "mean": means, "max": maxes, "spill": spill}


def task_schedule(task_ms: Sequence[float] | np.ndarray, cores: int, *, max_rows: int = MAX_CORE_ROWS,
                  max_rects: int = MAX_TASK_RECTS) -> dict[str, Any]:
    """Where each task runs: tasks launched in order, each on the core that frees first (the lowest core on
    a tie), the rule `replay.stage_makespan` times. Returns the rectangles of the first `max_rows` cores,
    consecutive tasks of a core merged into runs when there are more than `max_rects`, and the makespan."""
    cores = max(int(cores), 1)
    used = min(cores, len(task_ms))
    free = [(0.0, c) for c in range(used)]
    heapq.heapify(free)
    placed: list[tuple[int, float, float]] = []
    makespan = 0.0
    for t in task_ms:
        start, core = heapq.heappop(free)
        end = start + max(float(t), 0.0)
        makespan = max(makespan, end)
        heapq.heappush(free, (end, core))
        if core < max_rows:
            placed.append((core, start, end))
    per_rect = max(1, math.ceil(len(placed) / max_rects)) if placed else 1
    by_core: dict[int, list[tuple[float, float]]] = {}
    for core, start, end in placed:
        by_core.setdefault(core, []).append((start, end))
    out: dict[str, list[Any]] = {"core": [], "start": [], "end": [], "tasks": []}
    for core in sorted(by_core):
        runs = by_core[core]
        for i in range(0, len(runs), per_rect):
            chunk = runs[i:i + per_rect]
            out["core"].append(core)
            out["start"].append(round(chunk[0][0], 1))
            out["end"].append(round(chunk[-1][1], 1))
            out["tasks"].append(len(chunk))
    return {"cores": cores, "rows": min(cores, max_rows), "makespan_ms": round(makespan, 1), **out}


def _quantile_list(sizes: Sequence[float]) -> list[int]:
    q = size_quantiles(np.asarray(sizes, dtype=float))
    return [q.min, q.p25, q.median, q.p75, q.max]


# ---- free mode -----------------------------------------------------------------------------------------

def free_estimate(shape: Shape) -> dict[str, Any]:
    """The free-mode payload: per stage of `simulate_shape(shape)` its bars, quantiles, shuffle bytes,
    waves, time range and schedule; the shuffle cuts between stages; the assumptions."""
    stages = simulate_shape(shape)
    c = shape.cluster
    per_ms = c.throughput_mb_per_s * 1e6 / 1000.0
    out_stages: list[dict[str, Any]] = []
    cuts: list[dict[str, Any]] = []
    wide = [op for op in shape.operators if op.kind in WIDE]
    # the memory broadcast tables take in each stage's tasks, as shape.py counts it (reset at each shuffle)
    broadcast_in_stage: list[float] = [0.0]
    for op in shape.operators:
        if op.kind == "broadcast_join":
            broadcast_in_stage[-1] += op.other_bytes * MEMORY_EXPANSION
        elif op.kind in WIDE:
            broadcast_in_stage.append(0.0)
    offset = 0.0
    for i, st in enumerate(stages):
        extra = broadcast_in_stage[i] if i < len(broadcast_in_stage) else 0.0
        # a partition risks spilling when its deserialized rows (x MEMORY_EXPANSION) and the broadcast
        # tables no longer fit in the memory of the core running it (shape.py's rule)
        spill_above = max((c.memory_per_core - extra) / MEMORY_EXPANSION, 0.0)
        # task time as shape.py models it: a fixed start cost plus the bytes at the per-core speed
        times = [c.task_overhead_ms + s / per_ms for s in st.partition_bytes]
        schedule = task_schedule(times, c.cores)
        low, mid, high = st.time_ms
        out_stages.append({
            "index": i,
            # the first stage reads the input: say so before its operators
            "operators": st.operators if i or st.operators == ["scan"] else ["scan", *st.operators],
            "tasks": st.tasks,
            "bars": partition_bars(st.partition_bytes, flags=[b > spill_above for b in st.partition_bytes]),
            "quantiles": _quantile_list(st.partition_bytes),
            "total_bytes": int(sum(st.partition_bytes)),
            "shuffle_read_bytes": st.shuffle_read_bytes,
            "shuffle_write_bytes": st.shuffle_write_bytes,
            "waves": st.waves,
            "time_ms": [round(low, 1), round(mid, 1), round(high, 1)],
            "spill_risk": st.tasks_at_spill_risk,
            "spill_above": int(spill_above),
            "offset_ms": round(offset, 1),
            "schedule": schedule,
        })
        offset += mid
        if i < len(wide):
            cuts.append({"after": i, "operator": wide[i].kind, "bytes": st.shuffle_write_bytes})
    total = [round(sum(s["time_ms"][k] for s in out_stages), 1) for k in range(3)]
    return {
        "version": PAYLOAD_VERSION,
        "mode": "free",
        "cores": c.cores,
        "stages": out_stages,
        "cuts": cuts,
        "total_time_ms": total,
        "assumptions": free_assumptions(shape),
        "note": FREE_NOTE,
    }


def free_assumptions(shape: Shape) -> list[str]:
    """What every free-mode number rests on, in words (the constants of `simulate.shape`)."""
    c = shape.cluster
    kinds = {op.kind for op in shape.operators}
    out = [
        f"the input is read as {shape.input_partitions} equal partitions of "
        f"{bytes_to_string(int(shape.input_bytes / max(shape.input_partitions, 1)))}",
        "each operator's factor is its output bytes over its input bytes (a filter's selectivity, an aggregate's "
        "reduction); you set it, nothing measures it",
        f"each core processes {c.throughput_mb_per_s:g} MB/s and each task costs {c.task_overhead_ms:g} ms to "
        "start: teaching values, not measurements of any cluster",
        f"tasks launch in partition order on {c.cores} cores ({c.executors} executors x {c.cores_per_executor} "
        "cores), each as soon as a core is free; stages run one after another",
        "a stage's time range is x0.7 to x1.5 of its middle estimate",
        f"a task risks spilling when its partition x{MEMORY_EXPANSION:g} (deserialized rows take more memory than "
        f"their bytes) plus any broadcast table x{MEMORY_EXPANSION:g} exceeds {bytes_to_string(c.memory_per_core)} "
        "per core",
    ]
    if kinds & WIDE:
        out.append(f"a shuffle writes spark.sql.shuffle.partitions = {shape.shuffle_partitions} partitions "
                   "(unless repartition(n) sets the count)")
        out.append(f"hash partitioning spreads keys evenly, except the heaviest key ({shape.skew:.0%} of each "
                   "shuffle's data), which stays whole in one partition"
                   if shape.skew > 0 else "hash partitioning spreads the keys evenly (no key skew set)")
    if "sort" in kinds:
        out.append("sort's range partitions are treated like hash partitions: a heavy key stays whole")
    if "repartition" in kinds:
        out.append("repartition(n) spreads rows evenly (round robin): key skew does not apply")
    if "coalesce" in kinds:
        out.append("coalesce(n) merges neighbouring partitions without a shuffle")
    if kinds & {"join", "broadcast_join"}:
        out.append("a join's other side is the size you set; a shuffled join writes both sides, a broadcast "
                   "join keeps the other side in every task's memory")
    return out


# ---- seeded mode --------------------------------------------------------------------------------------

def seedable_stages(log: EventLog, limit: int | None = None) -> list[dict[str, Any]]:
    """The stages a what-if can start from: completed stages that read shuffle data, largest read first
    (the first `limit` of them)."""
    rows = log.rows(f"""
        SELECT stage_id, shuffle_read_bytes AS read_bytes, num_tasks
        FROM stages WHERE status = 'COMPLETE' AND shuffle_read_bytes > 0
        {LATEST_STAGE_ATTEMPT}
        ORDER BY read_bytes DESC, stage_id
        LIMIT $limit""", {"limit": limit})
    return [{"stage_id": int(r["stage_id"]), "read_bytes": int(r["read_bytes"]), "tasks": int(r["num_tasks"])}
            for r in rows]


def _estimated_task_ms(est: Estimate, measured: MeasuredStage) -> np.ndarray:
    """Per estimated task, the time the what-if's model gives it: the measured durations when the tasks
    are the measured ones, else the median line through the measured tasks (whatif.time_model)."""
    task_bytes = np.asarray(est.estimated.partition_bytes, dtype=float)
    if len(task_bytes) == len(measured.task_bytes) and np.allclose(task_bytes, measured.task_bytes, rtol=1e-6):
        return measured.task_duration_ms.copy()
    fixed, rate, *_ = time_model(measured)
    return fixed + rate * task_bytes


def _shape_payload(shape: Any, task_ms: np.ndarray, spill_flags: Sequence[bool] | np.ndarray | None, *,
                   measured: bool) -> dict[str, Any]:
    time = shape.time
    quantiles = ([int(v) for v in summary_values(shape.partition_bytes)] if measured
                 else [getattr(shape.partition_bytes_q, k) for k in ("min", "p25", "median", "p75", "max")])
    return {
        "tasks": shape.tasks,
        "bars": partition_bars(shape.partition_bytes, flags=spill_flags),
        "quantiles": quantiles,
        "shuffle_read_bytes": shape.shuffle_read_bytes,
        "cores": shape.cores,
        "waves": shape.waves,
        "time_ms": None if time is None else [round(time.low_ms, 1), round(time.mid_ms, 1), round(time.high_ms, 1)],
        "time_why": "" if time is None else time.why,
        "spill_risk": shape.tasks_at_spill_risk,
        "schedule": task_schedule(task_ms, shape.cores),
    }


def _decisions(est: Estimate) -> list[dict[str, str]]:
    """What Spark's rules decided in the estimate, one line each."""
    out: list[dict[str, str]] = []
    if est.aqe:
        a = est.aqe
        out.append({"title": "AQE coalescing", "text": (
            f"target size {bytes_to_string(a.target_size)} (advisory {bytes_to_string(a.advisory_size)}, at least "
            f"{a.min_num_partitions} partitions, min partition size {bytes_to_string(a.min_partition_size)}) -> "
            f"{len(a.ranges)} tasks; without MapStatus rounding {a.count_without_rounding}, with uneven blocks "
            f"{a.count_if_blocks_uneven}")})
    if est.skew_join:
        sj = est.skew_join
        skewed = ", ".join(map(str, sj.skewed_partitions)) or "none"
        out.append({"title": "AQE skew join", "text": (
            f"skewed partitions: {skewed} (thresholds {', '.join(bytes_to_string(t) for t in sj.thresholds)}); "
            f"{sj.tasks_from_splits} extra tasks from splits")})
    if est.broadcast:
        b = est.broadcast
        verdict = f"broadcast the {b.broadcast_side} side" if b.broadcast_side else "no broadcast"
        out.append({"title": "Broadcast", "text": f"{verdict}: {b.reason}"})
    for job in est.jobs:
        out.append({"title": f"Job {job.job_id} (replay)", "text": (
            f"measured {'-' if job.real_ms is None else f'{job.real_ms:.0f} ms'}; measured task times replayed on "
            f"{est.model_error.cores} cores {job.replay_real_cores_ms:.0f} ms, on {est.estimated.cores} cores "
            f"{job.replay_whatif_cores_ms:.0f} ms")})
    return out


def seeded_estimate(log: EventLog, measured: MeasuredStage, settings: dict[str, Any]) -> dict[str, Any]:
    """The seeded payload: the measured stage and `whatif(log, stage, settings)` side by side, each with
    bars and waves, Spark's decisions, the model check and the assumptions."""
    est = whatif(log, measured.stage_id, settings)
    me = est.model_error
    return {
        "version": PAYLOAD_VERSION,
        "mode": "seeded",
        "settings": dict(est.settings),
        "effective": {k: v for k, v in est.effective.items() if k in SEEDED_KEYS},
        # measured bars mark the tasks that spilled; the estimate gives only a count of tasks at risk
        "measured": _shape_payload(est.measured, measured.task_duration_ms, measured.task_spill_bytes > 0,
                                   measured=True),
        "estimated": {**_shape_payload(est.estimated, _estimated_task_ms(est, measured), None, measured=False),
                      "spread": est.per_partition_spread},
        "decisions": _decisions(est),
        "model_check": {"cores": me.cores, "replay_ms": round(me.replay_ms, 1),
                        "real_ms": None if me.real_ms is None else round(me.real_ms, 1),
                        "error": None if me.error is None else round(me.error, 4)},
        "assumptions": list(est.assumptions),
        "note": est.note,
    }


def _baseline_controls(measured: MeasuredStage) -> list[dict[str, Any]]:
    """The seeded controls with the values the stage ran with (from its log, else Spark's defaults)."""
    base = resolve_settings({}, measured.config)
    joined = bool(measured.join_type and len(measured.sides) == 2)
    out = []
    for spec in SEEDED_CONTROLS:
        key = spec["key"]
        value, source = base.values[key], base.sources[key]
        if key == "spark.executor.instances" and value is None:
            value, source = measured.executors, "measured"
        if key == "spark.executor.cores" and value is None:
            value, source = measured.cores_per_executor, "measured"
        if key == "spark.sql.shuffle.partitions" and source == "default" and measured.num_partitions:
            value, source = measured.num_partitions, "measured"
        entry = {**spec, "value": value, "source": source}
        if spec.get("join_only") and not joined:
            entry["disabled"] = "this stage does not join two shuffles"
        out.append(entry)
    return out


# ---- the widget ---------------------------------------------------------------------------------------

def _clean_operator(op: Any) -> dict[str, Any]:
    if not isinstance(op, dict) or op.get("kind") not in OPERATOR_KINDS:
        kind = op.get("kind") if isinstance(op, dict) else op
        raise traitlets.TraitError(f"unknown operator {kind!r}; one of {', '.join(OPERATOR_KINDS)}")
    factor = float(op.get("factor", 1.0) if op.get("factor") is not None else 1.0)
    if not 0 < factor <= 100:
        raise traitlets.TraitError(f"an operator's factor (output / input bytes) must be in (0, 100], not {factor}")
    partitions = op.get("partitions")
    if partitions is not None:
        partitions = int(partitions)
        if not 1 <= partitions <= MAX_PARTITIONS:
            raise traitlets.TraitError(f"partitions must be 1 to {MAX_PARTITIONS}, not {partitions}")
    other = int(op.get("other_bytes") or 0)
    if not 0 <= other <= MAX_INPUT_BYTES:
        raise traitlets.TraitError(f"other_bytes must be 0 to {MAX_INPUT_BYTES}, not {other}")
    return {"kind": op["kind"], "factor": factor, "partitions": partitions, "other_bytes": other}


class Playground(SparkswordWidget):
    """The partition-shape playground.

    Free mode (`Playground()`, keyword arguments for any trait): set `input_bytes`, `input_partitions`,
    `operators` (dicts with kind, factor, partitions, other_bytes), `skew`, `shuffle_partitions`,
    `executors`, `cores_per_executor` or `memory_per_core`, from Python or the sliders, and `estimate`
    follows. Seeded mode (`Playground.from_log(log, stage=ID)`): assign `settings` (a new dict of Spark
    keys, e.g. {"spark.sql.shuffle.partitions": 64}) and `estimate` follows.
    """

    _esm = bundle("playground.js")
    _css = bundle("playground.css")

    mode = traitlets.Unicode("free", read_only=True).tag(sync=True)
    # free mode: the shape
    input_bytes = traitlets.Int(10 * 1024**3, min=0, max=MAX_INPUT_BYTES).tag(sync=True)
    input_partitions = traitlets.Int(80, min=1, max=MAX_PARTITIONS).tag(sync=True)
    operators = traitlets.List(traitlets.Dict(), default_value=[dict(op) for op in DEFAULT_OPERATORS]).tag(sync=True)
    skew = traitlets.Float(0.0, min=0.0, max=0.99, help="the heaviest key's share of a shuffle's data").tag(sync=True)
    shuffle_partitions = traitlets.Int(200, min=1, max=MAX_PARTITIONS).tag(sync=True)
    executors = traitlets.Int(2, min=1, max=10_000).tag(sync=True)
    cores_per_executor = traitlets.Int(4, min=1, max=256).tag(sync=True)
    memory_per_core = traitlets.Int(1024**3, min=1 << 20, max=1 << 40).tag(sync=True)
    # seeded mode: the stage, what it offers, and the what-if settings
    stage = traitlets.Int(None, allow_none=True).tag(sync=True)
    stage_info = traitlets.Dict().tag(sync=True)
    controls: traitlets.List[Any] = traitlets.List().tag(sync=True)
    settings = traitlets.Dict().tag(sync=True)
    # the answer, and the request it answers (the panel keeps one request in flight)
    request_id = traitlets.Int(0).tag(sync=True)
    estimate = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        """A free-mode playground; any trait can be given as a keyword (e.g. `shuffle_partitions=64`)."""
        self._ready = False
        self._log: EventLog | None = kwargs.pop("_log", None)
        self._measured: MeasuredStage | None = kwargs.pop("_measured", None)
        self._cache: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._last_key: str | None = None
        super().__init__(**kwargs)
        self._ready = True
        self._refresh()

    @classmethod
    def from_log(cls, log: EventLog, stage: int | None = None, **kwargs: Any) -> Playground:
        """A playground seeded from reduce stage `stage` of `log` (default: the stage that read the most
        shuffle data). Raises SparkswordError when the stage cannot seed a what-if."""
        if stage is None:
            candidates = seedable_stages(log)
            if not candidates:
                raise SparkswordError(f"no stage of {log.app_id} read shuffle data: the what-ifs start from a "
                                      "reduce stage (try the free playground)")
            stage = candidates[0]["stage_id"]
        measured = measure_stage(log, int(stage))  # a bad stage raises SparkswordError here, not a TraitError
        return cls(_log=log, _measured=measured, stage=int(stage), **kwargs)

    # -- state --------------------------------------------------------------------------------------------
    @property
    def event_log(self) -> EventLog | None:
        """The log a seeded playground starts from (None in free mode)."""
        return self._log

    @property
    def shape(self) -> Shape:
        """The free-mode shape as `simulate.shape` takes it."""
        return Shape(
            input_bytes=self.input_bytes, input_partitions=self.input_partitions,
            operators=[Operator(op["kind"], factor=op["factor"], partitions=op["partitions"],
                                other_bytes=op["other_bytes"]) for op in self.operators],
            skew=self.skew, shuffle_partitions=self.shuffle_partitions,
            cluster=Cluster(executors=self.executors, cores_per_executor=self.cores_per_executor,
                            memory_per_core=self.memory_per_core),
        )

    @traitlets.validate("operators")
    def _valid_operators(self, proposal: dict[str, Any]) -> list[dict[str, Any]]:
        return [_clean_operator(op) for op in proposal["value"]]

    @traitlets.validate("settings")
    def _valid_settings(self, proposal: dict[str, Any]) -> dict[str, Any]:
        value = proposal["value"]
        unknown = sorted(set(value) - set(SEEDED_KEYS))
        if unknown:
            raise traitlets.TraitError(f"the playground does not offer {unknown[0]}; it offers: {', '.join(SEEDED_KEYS)}")
        try:
            parsed = resolve_settings(value, {})  # parses every value as the what-if will
        except SparkswordError as err:
            raise traitlets.TraitError(str(err)) from None
        # one spelling per value ("512k" -> 524288, "true" -> True), so equal settings compare, cache and
        # show the same in Python and in the panel
        return {key: parsed.values[key] for key in sorted(value)}

    @traitlets.validate("stage")
    def _valid_stage(self, proposal: dict[str, Any]) -> int | None:
        value = proposal["value"]
        if self._log is None:
            if value is not None:
                raise traitlets.TraitError("a free playground has no stage: use Playground.from_log(log, stage=ID)")
            return None
        if value is None:
            raise traitlets.TraitError("a seeded playground needs a stage")
        # measured here, before the stage changes, so that every observer sees the new stage's shape
        if self._measured is None or self._measured.stage_id != value:
            try:
                self._measured = measure_stage(self._log, int(value))
            except SparkswordError as err:
                raise traitlets.TraitError(str(err)) from None
        return int(value)

    @traitlets.observe("stage")
    def _on_stage(self, change: dict[str, Any]) -> None:
        if self._log is None or self._measured is None:
            return
        self.set_trait("mode", "seeded")
        m = self._measured
        self.stage_info = {
            "app_id": self._log.app_id, "stage_id": m.stage_id, "attempt": m.stage_attempt_id,
            "label": stage_labels(self._log).get(m.stage_id) or m.name, "name": m.name,
            "join": m.join_type, "partitions": m.num_partitions, "cores": m.cores, "executors": m.executors,
            "stages": self._stage_choices(),
        }
        self.controls = _baseline_controls(m)
        self._refresh()

    def _stage_choices(self) -> list[dict[str, Any]]:
        """The panel's stage picker: the stages that read the most (a 2,000-stage app would make a long
        list), and the current one."""
        assert self._log is not None and self._measured is not None
        choices = seedable_stages(self._log, limit=MAX_STAGE_CHOICES)
        if all(c["stage_id"] != self._measured.stage_id for c in choices):
            m = self._measured
            choices.append({"stage_id": m.stage_id, "read_bytes": int(m.task_bytes.sum()), "tasks": len(m.task_bytes)})
        return choices

    @traitlets.observe("input_bytes", "input_partitions", "operators", "skew", "shuffle_partitions", "executors",
                       "cores_per_executor", "memory_per_core", "settings", "request_id")
    def _on_change(self, _change: dict[str, Any]) -> None:
        if self._ready:
            self._refresh()

    def _key(self) -> str:
        if self.mode == "seeded":
            return json.dumps(["seeded", self.stage, self.settings], sort_keys=True, default=str)
        return json.dumps(["free", self.input_bytes, self.input_partitions, self.operators, self.skew,
                           self.shuffle_partitions, self.executors, self.cores_per_executor, self.memory_per_core],
                          sort_keys=True)

    def _refresh(self) -> None:
        """Recompute the estimate when the shape or settings changed, and answer the current request.

        A message from the panel can change several traits at once: each fires this, but only the first
        finds a new key or request, so the estimate is computed and sent once per message.
        """
        if not self._ready or (self.mode == "seeded" and self._measured is None):
            return
        key = self._key()
        if key == self._last_key and self.estimate.get("request_id") == self.request_id:
            return
        if key != self._last_key:
            payload = self._cache.get(key)
            if payload is None:
                try:
                    if self.mode == "seeded":
                        assert self._log is not None and self._measured is not None
                        payload = seeded_estimate(self._log, self._measured, self.settings)
                    else:
                        payload = free_estimate(self.shape)
                except SparkswordError as err:
                    payload = {"version": PAYLOAD_VERSION, "mode": self.mode, "error": str(err)}
                self._cache[key] = payload
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
            self._cache.move_to_end(key)
            self._last_key = key
        self.estimate = {**self._cache[key], "request_id": self.request_id}

    # -- display ------------------------------------------------------------------------------------------
    def _repr_fields(self) -> dict[str, Any]:
        e = self.estimate
        if self.mode == "seeded":
            fields: dict[str, Any] = {"mode": "seeded", "app": self._log.app_id if self._log else None,
                                      "stage": self.stage, "settings": dict(self.settings)}
            if "error" in e:
                fields["error"] = e["error"]
            else:
                fields["tasks"] = f"{e.get('measured', {}).get('tasks')} measured -> " \
                                  f"{e.get('estimated', {}).get('tasks')} estimated"
            return fields
        fields = {
            "mode": "free", "input": bytes_to_string(self.input_bytes), "input_partitions": self.input_partitions,
            "operators": " -> ".join(op["kind"] for op in self.operators) or "none",
            "skew": self.skew, "shuffle_partitions": self.shuffle_partitions,
            "cores": self.executors * self.cores_per_executor,
        }
        if "error" in e:
            fields["error"] = e["error"]
        else:
            fields["stages"] = len(e.get("stages", []))
        return fields

    def _repr_html_(self) -> str:
        e = self.estimate
        head = f"<div><b>{esc(repr(self))}</b>"
        if "error" in e:
            return head + f"<div>{esc(e['error'])}</div></div>"

        def sizes(q: list[int]) -> str:
            return " / ".join(bytes_to_string(v) for v in (q[0], q[2], q[4]))

        if self.mode == "seeded":
            m, est = e["measured"], e["estimated"]
            rows = [
                ["reduce tasks", m["tasks"], est["tasks"]],
                ["partition size min / median / max", sizes(m["quantiles"]), sizes(est["quantiles"])],
                ["shuffle read", bytes_to_string(m["shuffle_read_bytes"]), bytes_to_string(est["shuffle_read_bytes"])],
                ["cores", m["cores"], est["cores"]],
                ["waves", m["waves"], est["waves"]],
                ["stage time ms", "-" if m["time_ms"] is None else m["time_ms"][1],
                 "-" if est["time_ms"] is None else f"{est['time_ms'][0]:.0f} .. {est['time_ms'][2]:.0f}"],
                ["tasks at spill risk", m["spill_risk"], est["spill_risk"]],
            ]
            info = self.stage_info
            body = (f"<div>stage {esc(info.get('stage_id'))}: {esc(info.get('label'))} (Spark's name: "
                    f"{esc(info.get('name'))})</div>"
                    + table_html(["", "measured (event log)", "estimated (what-if)"], rows)
                    + "".join(f"<div><b>{esc(d['title'])}</b>: {esc(d['text'])}</div>" for d in e["decisions"]))
        else:
            rows = [[f"{s['index']}: " + " -> ".join(s["operators"]), s["tasks"], sizes(s["quantiles"]),
                     bytes_to_string(s["shuffle_write_bytes"]), s["waves"],
                     f"{s['time_ms'][0]:.0f} .. {s['time_ms'][2]:.0f}", s["spill_risk"]] for s in e.get("stages", [])]
            body = table_html(["stage (estimated)", "tasks", "partition min / median / max", "shuffle write", "waves",
                               "time ms", "tasks at spill risk"], rows)
        assumptions = "".join(f"<li>{esc(a)}</li>" for a in e.get("assumptions", []))
        return head + body + f"<div>Assumptions:</div><ul>{assumptions}</ul><div>{esc(e.get('note'))}</div></div>"
