"""The measured shape of one reduce stage: what its shuffle partitions held, read from a loaded log.

A what-if starts from this. Everything here is a measurement (bytes, records, blocks, task times) or a
reconstruction that says so in `notes`; the estimates are made in `whatif.py`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..errors import SparkswordError
from ..spark.joins import join_type

if TYPE_CHECKING:
    from ..store import EventLog

_EXCHANGE = re.compile(
    r"^Exchange (?P<kind>hashpartitioning|rangepartitioning|RoundRobinPartitioning|SinglePartition)"
    r"(?:\((?P<args>.*?)(?:, (?P<n>\d+))?\))?(?:, (?P<origin>[A-Z_]+))?"
)


@dataclass
class ShuffleSide:
    """One shuffle a reduce stage reads: the map stage that wrote it and the exchange that planned it."""

    map_stage_id: int
    map_task_bytes: np.ndarray  # shuffle bytes written per successful map task, in map index order
    map_task_records: np.ndarray
    partitioning: str = "hash"  # hash | range | roundrobin | single | unknown
    origin: str = ""  # ENSURE_REQUIREMENTS, REPARTITION_BY_COL, REPARTITION_BY_NUM, ...
    num_partitions: int | None = None
    data_size: int | None = None  # the exchange's uncompressed "data size" metric (what AQE's join planning sees)
    exchange_node: int | None = None
    # per shuffle partition, filled by `measure_stage`
    bytes: np.ndarray = field(default_factory=lambda: np.zeros(0))
    records: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def num_maps(self) -> int:
        return int(len(self.map_task_bytes))

    @property
    def total_bytes(self) -> int:
        return int(self.map_task_bytes.sum())

    @property
    def total_records(self) -> int:
        return int(self.map_task_records.sum())


@dataclass
class MeasuredStage:
    """A reduce stage as it ran: per shuffle partition sizes, and per task times."""

    stage_id: int
    stage_attempt_id: int
    name: str
    sides: list[ShuffleSide]
    partition_bytes: np.ndarray  # per shuffle partition, summed over sides
    partition_records: np.ndarray
    partition_blocks: np.ndarray
    task_bytes: np.ndarray  # per reduce task as it ran
    task_records: np.ndarray
    task_run_ms: np.ndarray
    task_duration_ms: np.ndarray
    task_peak_memory: np.ndarray
    task_spill_bytes: np.ndarray
    wall_ms: float | None
    cores: int
    executors: int
    cores_per_executor: int
    default_parallelism: int
    memory_per_core: int | None
    config: dict[str, str]
    join_type: str | None = None  # Inner, LeftOuter, ... when the stage joins two shuffles
    join_operator: str | None = None
    coalesced_by_aqe: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def num_partitions(self) -> int:
        return int(len(self.partition_bytes))

    @property
    def num_maps(self) -> int:
        return sum(side.num_maps for side in self.sides)


def _config(log: EventLog) -> dict[str, str]:
    rows = log.sql("SELECT key, value FROM config WHERE section = 'spark'").fetchall()
    return {k: v for k, v in rows}


def _cluster(log: EventLog, config: dict[str, str]) -> tuple[int, int, int, int, int | None]:
    """(total cores, executors, cores per executor, default parallelism, execution memory per core)."""
    rows = log.sql(
        "SELECT executor_id, cores, max_onheap_memory, max_memory FROM executors ORDER BY executor_id"
    ).fetchall()
    workers = [r for r in rows if r[0] != "driver"]
    use = workers or [r for r in rows if r[0] == "driver"]
    cores_each = [int(r[1] or 0) for r in use if r[1]]
    master = config.get("spark.master", "")
    local = re.match(r"local\[(\d+)", master)
    if not cores_each and local:
        cores_each = [int(local.group(1))]
    total = sum(cores_each) or 1
    per_exec = max(set(cores_each), key=cores_each.count) if cores_each else 1
    memory = [int(r[2] or r[3] or 0) for r in use]
    memory_per_core = (max(memory) // max(per_exec, 1)) if memory and max(memory) > 0 else None
    if config.get("spark.default.parallelism"):
        parallelism = int(config["spark.default.parallelism"])
    elif local:
        parallelism = int(local.group(1))
    else:
        # CoarseGrainedSchedulerBackend.defaultParallelism: max(total cores, 2)
        parallelism = max(total, 2)
    return total, len(use), per_exec, parallelism, memory_per_core


def _successful_tasks(log: EventLog, stage_id: int, attempt: int | None = None) -> dict[str, np.ndarray]:
    """One successful attempt per partition (the first to finish, over all stage attempts), in partition order."""
    where = f"stage_id = {int(stage_id)}" + (f" AND stage_attempt_id = {int(attempt)}" if attempt is not None else "")
    rel = log.sql(
        f"""SELECT "index", partition_id,
                   COALESCE(shuffle_read_bytes, 0) AS read_bytes,
                   COALESCE(shuffle_records_read, 0) AS read_records,
                   COALESCE(shuffle_remote_blocks_fetched, 0) + COALESCE(shuffle_local_blocks_fetched, 0) AS blocks,
                   COALESCE(shuffle_write_bytes, 0) AS write_bytes, COALESCE(shuffle_write_records, 0) AS write_records,
                   COALESCE(executor_run_time_ms, 0) AS run_ms, COALESCE(duration_ms, 0) AS duration_ms,
                   COALESCE(peak_execution_memory, 0) AS peak_memory,
                   COALESCE(disk_bytes_spilled, 0) AS spill_bytes, launch_ms, finish_ms
            FROM tasks WHERE {where} AND status = 'SUCCESS'
            QUALIFY row_number() OVER (PARTITION BY partition_id ORDER BY finish_ms, task_id) = 1
            ORDER BY partition_id"""
    )
    data = rel.fetchnumpy()
    return {k: np.asarray(v, dtype=float) if k not in ("index", "partition_id") else np.asarray(v) for k, v in data.items()}


def _map_stage_for(log: EventLog, parent_id: int) -> int | None:
    """The stage that really wrote a parent's shuffle: the parent itself, or (when the parent was SKIPPED
    because an earlier job had computed the same shuffle) the completed stage with the same RDDs."""
    row = log.sql(
        f"SELECT status, list_sort(rdd_ids) FROM stages WHERE stage_id = {int(parent_id)} ORDER BY stage_attempt_id DESC LIMIT 1"
    ).fetchall()
    if not row:
        return None
    status, rdds = row[0]
    if status != "SKIPPED":
        return int(parent_id)
    match = log.sql(
        "SELECT stage_id FROM stages WHERE status = 'COMPLETE' AND list_sort(rdd_ids) = ? AND shuffle_write_bytes > 0 "
        "ORDER BY stage_id LIMIT 1",
        params=[list(rdds or [])],
    ).fetchall()
    return int(match[0][0]) if match else None


def _exchanges(log: EventLog, stage_sql_id: int | None, map_stage_ids: list[int]) -> dict[int, dict]:
    """Per map stage, the plan's Exchange that it ran (linked through the exchange's metric accumulators)."""
    if stage_sql_id is None or not map_stage_ids:
        return {}
    rows = log.sql(
        f"""SELECT DISTINCT sa.stage_id, n.node_id, n.simple_string,
                   (SELECT max(TRY_CAST(a2.value AS BIGINT)) FROM stage_accumulables a2 JOIN sql_metrics m2
                      ON m2.accumulator_id = a2.accumulator_id
                    WHERE a2.stage_id = sa.stage_id AND m2.execution_id = n.execution_id AND m2.node_id = n.node_id
                      AND m2.name = 'data size') AS data_size
            FROM sql_plan_nodes n
            JOIN sql_metrics m ON m.execution_id = n.execution_id AND m.node_id = n.node_id
            JOIN stage_accumulables sa ON sa.accumulator_id = m.accumulator_id
            WHERE n.node_name = 'Exchange' AND m.name = 'shuffle bytes written'
              AND sa.stage_id IN ({', '.join(str(int(s)) for s in map_stage_ids)})"""
    ).fetchall()
    return {int(sid): {"node_id": int(node), "simple": simple, "data_size": data_size} for sid, node, simple, data_size in rows}


def _join_of(log: EventLog, execution_id: int | None, exchange_nodes: list[int]) -> tuple[str, str, list[int]] | None:
    """(operator, join type, exchange node ids in left-right order) of the shuffled join reading these
    exchanges, when there is one."""
    if execution_id is None or len(exchange_nodes) != 2:
        return None
    nodes = log.sql(
        f"SELECT node_id, parent_node_id, node_name, simple_string FROM sql_plan_nodes WHERE execution_id = {int(execution_id)}"
    ).fetchall()
    parent = {int(n): (int(p) if p is not None else None) for n, p, _, _ in nodes}
    info = {int(n): (name, simple) for n, _, name, simple in nodes}

    def ancestors(node: int) -> list[int]:
        out: list[int] = []
        above = parent.get(node)
        while above is not None:
            out.append(above)
            above = parent.get(above)
        return out

    a, b = (ancestors(n) for n in exchange_nodes)
    common = [n for n in a if n in b]
    for node in common:
        name, simple = info[node]
        if name in ("SortMergeJoin", "ShuffledHashJoin"):
            # pre-order node ids: the left subtree comes first
            return name, join_type(simple), sorted(exchange_nodes)
    return None


def _parse_exchange(simple: str) -> tuple[str, str, int | None]:
    m = _EXCHANGE.match(simple or "")
    if not m:
        return "unknown", "", None
    kind = {"hashpartitioning": "hash", "rangepartitioning": "range", "RoundRobinPartitioning": "roundrobin",
            "SinglePartition": "single"}[m.group("kind")]
    n = m.group("n")
    if n is None and kind == "roundrobin" and m.group("args") and m.group("args").isdigit():
        n = m.group("args")
    return kind, m.group("origin") or "", int(n) if n else None


def measure_stage(log: EventLog, stage_id: int) -> MeasuredStage:
    """Read a reduce stage's measured shape: its shuffle inputs per partition and its tasks.

    Raises SparkswordError when the stage is unknown, did not run, or reads no shuffle.
    """
    row = log.sql(
        f"""SELECT stage_id, stage_attempt_id, name, status, parent_ids, sql_execution_id,
                   completed_ms - COALESCE(first_task_launched_ms, submitted_ms)
            FROM stages WHERE stage_id = {int(stage_id)} ORDER BY stage_attempt_id DESC LIMIT 1"""
    ).fetchall()
    if not row:
        raise SparkswordError(f"unknown stage: {stage_id}")
    _, attempt, name, status, parent_ids, sql_id, wall = row[0]
    if status in ("SKIPPED", "PENDING"):
        raise SparkswordError(f"stage {stage_id} did not run ({status}): pick the stage that computed its data")
    tasks = _successful_tasks(log, stage_id)
    if len(tasks["index"]) == 0:
        raise SparkswordError(f"stage {stage_id} has no successful task to start from")
    if tasks["read_bytes"].sum() <= 0:
        raise SparkswordError(f"stage {stage_id} reads no shuffle data: the what-ifs start from a reduce stage")
    config = _config(log)
    cores, executors, per_exec, parallelism, memory_per_core = _cluster(log, config)
    notes: list[str] = []

    map_ids = [m for m in (_map_stage_for(log, p) for p in (parent_ids or [])) if m is not None]
    exchanges = _exchanges(log, sql_id, map_ids)
    sides: list[ShuffleSide] = []
    for mid in map_ids:
        mt = _successful_tasks(log, mid)
        if mt["write_bytes"].sum() <= 0:
            continue
        side = ShuffleSide(mid, mt["write_bytes"], mt["write_records"])
        ex = exchanges.get(mid)
        if ex:
            side.partitioning, side.origin, side.num_partitions = _parse_exchange(ex["simple"])
            side.data_size = int(ex["data_size"]) if ex["data_size"] is not None else None
            side.exchange_node = ex["node_id"]
        else:
            side.partitioning = "unknown"
        sides.append(side)
    if not sides:
        raise SparkswordError(f"stage {stage_id}: the stage that wrote its shuffle input is not in the log")

    join = _join_of(log, sql_id, [s.exchange_node for s in sides if s.exchange_node is not None]) if len(sides) == 2 else None
    join_type = join_op = None
    if join:
        join_op, join_type, order = join
        sides.sort(key=lambda s: order.index(s.exchange_node) if s.exchange_node in order else len(order))

    n_tasks = len(tasks["index"])
    planned = next((s.num_partitions for s in sides if s.num_partitions), None)
    if planned is None:
        planned = n_tasks
        if any(s.partitioning == "unknown" for s in sides):
            notes.append("no SQL plan for this shuffle: assumed hash partitioning over the tasks' partitions")
    bytes_, records_, blocks_ = tasks["read_bytes"], tasks["read_records"], tasks["blocks"]
    coalesced = planned != n_tasks
    if coalesced:
        bytes_, records_, blocks_ = _uncoalesce(bytes_, records_, blocks_, planned, sum(s.num_maps for s in sides))
        notes.append(
            f"this stage ran {n_tasks} tasks over {planned} shuffle partitions (AQE): each task's bytes were spread "
            "evenly over the partitions it read (counted from its blocks fetched)"
        )
    _split_sides(sides, bytes_, records_, notes)
    return MeasuredStage(
        stage_id=int(stage_id), stage_attempt_id=int(attempt), name=name or "", sides=sides,
        partition_bytes=bytes_, partition_records=records_, partition_blocks=blocks_,
        task_bytes=tasks["read_bytes"], task_records=tasks["read_records"], task_run_ms=tasks["run_ms"],
        task_duration_ms=tasks["duration_ms"], task_peak_memory=tasks["peak_memory"],
        task_spill_bytes=tasks["spill_bytes"], wall_ms=float(wall) if wall is not None else None,
        cores=cores, executors=executors, cores_per_executor=per_exec, default_parallelism=parallelism,
        memory_per_core=memory_per_core, config=config, join_type=join_type, join_operator=join_op,
        coalesced_by_aqe=coalesced, notes=notes,
    )


def _uncoalesce(
    bytes_: np.ndarray, records: np.ndarray, blocks: np.ndarray, partitions: int, maps: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Spread AQE-coalesced tasks back over the shuffle partitions, in order, by their blocks fetched."""
    counts = blocks / max(maps, 1)
    counts = np.maximum(counts, 1e-9)
    scaled = counts * partitions / counts.sum()
    whole = np.floor(scaled).astype(int)
    # largest remainders get the leftover partitions, so the counts add up exactly
    for i in np.argsort(-(scaled - whole), kind="stable")[: partitions - int(whole.sum())]:
        whole[i] += 1
    out_b, out_r, out_k = (np.zeros(partitions) for _ in range(3))
    pos = 0
    for i, c in enumerate(whole):
        if c <= 0:
            continue
        out_b[pos : pos + c] = bytes_[i] / c
        out_r[pos : pos + c] = records[i] / c
        out_k[pos : pos + c] = blocks[i] / c
        pos += c
    return out_b, out_r, out_k


def _split_sides(sides: list[ShuffleSide], bytes_: np.ndarray, records: np.ndarray, notes: list[str]) -> None:
    """Per shuffle partition, how much came from each side of a join.

    Tasks report one shuffle read for all the shuffles they read. With two sides whose rows have different
    widths, bytes and records together tell the split (two equations, two unknowns); otherwise each side
    gets its share of the total written.
    """
    if len(sides) == 1:
        sides[0].bytes, sides[0].records = bytes_.copy(), records.copy()
        return
    totals = np.array([s.total_bytes for s in sides], dtype=float)
    share = totals / totals.sum()
    if len(sides) == 2 and all(s.total_records > 0 for s in sides):
        width = [s.total_bytes / s.total_records for s in sides]
        if abs(width[0] - width[1]) > 0.2 * max(width):
            rec_a = np.clip((bytes_ - width[1] * records) / (width[0] - width[1]), 0, records)
            bytes_a = np.clip(rec_a * width[0], 0, bytes_)
            sides[0].bytes, sides[0].records = bytes_a, rec_a
            sides[1].bytes, sides[1].records = bytes_ - bytes_a, records - rec_a
            notes.append(
                "the join's two inputs were told apart per partition by their row widths "
                f"({width[0]:.0f} and {width[1]:.0f} bytes per record on average)"
            )
            return
    for s, f in zip(sides, share):
        s.bytes, s.records = bytes_ * f, records * f
    notes.append("each join input was assumed to hold its overall share of every partition")
