"""Comparing two runs: what changed, where, and whether it is beyond run-to-run noise.

Stages are matched by what they do, not by their ids (an AQE run numbers its stages differently, a broadcast
removes a shuffle stage, a cache() removes a recomputation): each stage's signature is the set of operators its
RDDs were created by (``WholeStageCodegen``, ``Exchange``, ``SortAggregate``, ...: SQL plan scopes without their
codegen ids; AQE's ``AQEShuffleRead`` wrapper left out), its RDD classes, its depth in the shuffle graph and
whether it writes a shuffle. Pairs are chosen best first; stages left over were added or removed.

Noise: the work a stage does (tasks, bytes and records read and written, spill) is deterministic for the same
code, settings and input, so any difference in it is a change. Its time is not: identical work differs by
hundreds of milliseconds between runs (JVM warm-up, the disk cache, other processes). A time difference counts
only when it is at least ``NOISE_MS`` and ``NOISE_SHARE`` of the slower run; wall time is shown beside executor run
time, because more cores change the first and not the second.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from .text import human_bytes, human_ms

if TYPE_CHECKING:
    from .store import EventLog

__all__ = ["Comparison", "compare"]

NOISE_MS = 1000
NOISE_SHARE = 0.3
_BYTES_SHARE = 0.02  # shuffle bytes of the same data differ by compression and block boundaries, not more
_RECORDS_SHARE = 0.005

# Per-run values of a Spark property (ids, ports, times, paths of this run): never a setting that was changed.
_PER_RUN = re.compile(r"^spark\.(app\.(id|startTime|submitTime|attempt\.id)|driver\.(port|host|appUIAddress)"
                      r"|ui\.|executor\.id$|blockManager\.port|repl\.class|sql\.warehouse\.dir|eventLog\.dir"
                      r"|history\.|driver\.extraJavaOptions|executor\.extraJavaOptions|app\.initial\.)")
# Settings whose change explains most differences, in the order a headline prefers them.
_LEVERS = ("spark.sql.adaptive.enabled", "spark.sql.shuffle.partitions", "spark.sql.autoBroadcastJoinThreshold",
           "spark.master", "spark.executor.instances", "spark.executor.cores", "spark.executor.memory",
           "spark.sql.adaptive.skewJoin.enabled", "spark.sql.adaptive.advisoryPartitionSizeInBytes",
           "spark.memory.fraction", "spark.default.parallelism")
_CODEGEN_ID = re.compile(r"\s*\(\d+\)$")
_AQE_ONLY = {"AQEShuffleRead", "ShuffleQueryStage", "AdaptiveSparkPlan", "BroadcastQueryStage"}

_STAGES_SQL = """
    WITH latest AS (
      SELECT * FROM stages QUALIFY stage_attempt_id = max(stage_attempt_id) OVER (PARTITION BY stage_id)
    ), ops AS (
      SELECT stage_id, list(DISTINCT scope_name) AS scopes, list(DISTINCT name) AS rdd_classes
      FROM rdds GROUP BY stage_id
    )
    SELECT l.stage_id, l.stage_attempt_id, l.name, l.status, l.parent_ids, l.num_tasks AS tasks,
      l.completed_ms - l.submitted_ms AS wall_ms, l.executor_run_time_ms AS run_ms, l.jvm_gc_time_ms AS gc_ms,
      l.input_bytes, l.input_records, l.shuffle_read_bytes, l.shuffle_records_read,
      l.shuffle_write_bytes, l.shuffle_write_records, l.output_bytes,
      l.memory_bytes_spilled + l.disk_bytes_spilled AS spill_bytes,
      coalesce(o.scopes, []) AS scopes, coalesce(o.rdd_classes, []) AS rdd_classes
    FROM latest l LEFT JOIN ops o USING (stage_id) ORDER BY l.stage_id"""

# what a stage row of the comparison shows, and how each is judged
_WORK = ("tasks", "input_records", "input_bytes", "shuffle_read_bytes", "shuffle_write_bytes",
         "shuffle_write_records", "spill_bytes")
_TIMES = ("wall_ms", "run_ms", "gc_ms")
STAGE_FIELDS = ("stage_id", "name", *_WORK, *_TIMES)


@dataclass(frozen=True)
class _Stage:
    row: dict[str, Any]
    ops: frozenset[str]
    depth: int
    writes_shuffle: bool
    rank: int  # its place among the run's stages that ran, in stage order

    @property
    def stage_id(self) -> int:
        return int(self.row["stage_id"])


def _stages(log: EventLog) -> list[_Stage]:
    rows = log.rows(_STAGES_SQL)
    parents = {r["stage_id"]: list(r["parent_ids"] or []) for r in rows}
    depth: dict[int, int] = {}

    def depth_of(stage: int, seen: frozenset[int] = frozenset()) -> int:
        if stage not in depth:
            up = [p for p in parents.get(stage, []) if p not in seen]
            depth[stage] = 1 + max((depth_of(p, seen | {stage}) for p in up), default=-1)
        return depth[stage]

    ran = [r for r in rows if r["status"] != "SKIPPED" and r["wall_ms"] is not None]
    result = []
    for rank, r in enumerate(ran):
        scopes = {_CODEGEN_ID.sub("", s) for s in r["scopes"] if s} - _AQE_ONLY
        ops = frozenset(scopes | {f"rdd:{c}" for c in r["rdd_classes"] if c})
        result.append(_Stage(r, ops, depth_of(r["stage_id"]), bool(r["shuffle_write_bytes"]), rank))
    return result


def _score(b: _Stage, a: _Stage) -> float:
    union = b.ops | a.ops
    jaccard = len(b.ops & a.ops) / len(union) if union else 1.0
    if jaccard < 0.5 or b.writes_shuffle != a.writes_shuffle:
        return 0.0
    # the records a stage reads from its source name that source best; else the records it hands on
    if b.row["input_records"] or a.row["input_records"]:
        records = _similar(b.row["input_records"], a.row["input_records"])
    else:
        records = _similar(b.row["shuffle_write_records"], a.row["shuffle_write_records"])
    return (3 * jaccard + (b.depth == a.depth) + 0.5 * (b.row["name"] == a.row["name"]) + records
            - 0.05 * abs(b.rank - a.rank))


def _similar(x: Any, y: Any) -> float:
    x, y = x or 0, y or 0
    if x == y:
        return 1.0
    return min(x, y) / max(x, y)


def _match(before: list[_Stage], after: list[_Stage]) -> list[tuple[_Stage | None, _Stage | None]]:
    scored = sorted(((_score(b, a), i, j) for i, b in enumerate(before) for j, a in enumerate(after)),
                    key=lambda s: (-s[0], s[1], s[2]))
    used_b: set[int] = set()
    used_a: set[int] = set()
    pairs: list[tuple[_Stage | None, _Stage | None]] = []
    for score, i, j in scored:
        if score <= 0 or i in used_b or j in used_a:
            continue
        used_b.add(i)
        used_a.add(j)
        pairs.append((before[i], after[j]))
    pairs += [(b, None) for i, b in enumerate(before) if i not in used_b]
    pairs += [(None, a) for j, a in enumerate(after) if j not in used_a]
    return sorted(pairs, key=lambda p: (p[0].rank if p[0] else p[1].rank if p[1] else 0, p[0] is None))


def time_change(before: Any, after: Any) -> bool:
    """Whether two runs' times differ by more than run-to-run noise: at least NOISE_MS and NOISE_SHARE of the
    slower one (False when either is unknown)."""
    if before is None or after is None:
        return False
    delta = abs(after - before)
    return delta >= NOISE_MS and delta >= NOISE_SHARE * max(before, after)


def _work_changes(b: dict[str, Any], a: dict[str, Any]) -> list[str]:
    changes = []
    if b["tasks"] != a["tasks"]:
        changes.append(f"{a['tasks']} tasks instead of {b['tasks']}")
    for key, label, share in (("input_records", "input records", _RECORDS_SHARE),
                              ("shuffle_write_records", "shuffle records written", _RECORDS_SHARE),
                              ("shuffle_read_bytes", "shuffle read", _BYTES_SHARE),
                              ("shuffle_write_bytes", "shuffle write", _BYTES_SHARE),
                              ("input_bytes", "input", _BYTES_SHARE)):
        x, y = b[key] or 0, a[key] or 0
        if x != y and abs(x - y) > share * max(x, y):
            shown = (lambda v: f"{v:,}") if "records" in key else human_bytes
            changes.append(f"{label} {shown(x)} -> {shown(y)}")
    x, y = b["spill_bytes"] or 0, a["spill_bytes"] or 0
    if (x == 0) != (y == 0) or (x and y and abs(x - y) > 0.25 * max(x, y)):
        changes.append(f"spill {human_bytes(x)} -> {human_bytes(y)}")
    return changes


@dataclass
class Comparison:
    """Two runs side by side: `headline`, `config_diff`, `stages` (DataFrames), findings present in one run only,
    and whether both read the same input. `to_json()` gives the shape other tools read."""

    before: EventLog
    after: EventLog
    headline: str
    config_diff: pd.DataFrame
    stages: pd.DataFrame
    findings: dict[str, list[dict[str, Any]]]
    time: pd.DataFrame
    """Where the wall time went in each run, by kind of part (before the first job, running jobs, ...)."""
    same_input: bool
    input_note: str
    duration_ms: tuple[int | None, int | None]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """``{"headline", "same_input", "duration_ms", "config_diff": [...], "stages": [{"before", "after",
        "changed", ...}], "findings": {"only_before", "only_after"}}``."""
        stages = []
        for row in self.stages.to_dict("records"):
            sides: dict[str, dict[str, Any] | None] = {}
            for side in ("before", "after"):
                if pd.isna(row[f"{side}_stage_id"]):
                    sides[side] = None
                else:
                    sides[side] = {f: _plain(row[f"{side}_{f}"]) for f in STAGE_FIELDS}
            stages.append({**sides, "changed": bool(row["changed"]), "verdict": row["verdict"], "what": row["what"]})
        return {"headline": self.headline, "same_input": self.same_input, "input_note": self.input_note,
                "duration_ms": {"before": self.duration_ms[0], "after": self.duration_ms[1]},
                "config_diff": [{k: _plain(v) for k, v in r.items()} for r in self.config_diff.to_dict("records")],
                "stages": stages, "findings": self.findings, "notes": self.notes}

    def settings(self) -> list[tuple[str, str, str]]:
        """(key, before, after) of each setting that differs, a value Spark's default marked "(default)"."""
        def shown(value: Any, default: bool) -> str:
            return f"{value}{' (default)' if default else ''}"

        return [(r["key"], shown(r["before"], r["before_is_default"]), shown(r["after"], r["after_is_default"]))
                for r in self.config_diff.to_dict("records")]

    def text(self, width: int = 100) -> str:
        """The comparison for a terminal, `width` columns wide."""
        from .text import clip, fit_to_width

        lines = [self.headline, ""]
        if not self.same_input:
            lines += [f"NOT THE SAME INPUT: {self.input_note}", ""]
        if len(self.config_diff):
            lines.append("Settings that differ")
            lines += [f"  {key}: {b} -> {a}" for key, b, a in self.settings()]
            lines.append("")
        lines.append("Where the time went")
        for r in self.time.to_dict("records"):
            mark = "" if r["changed"] else "   (within noise)" if r["before_ms"] != r["after_ms"] else ""
            lines.append(f"  {r['what']:<22} {human_ms(r['before_ms']):>9} -> {human_ms(r['after_ms']):<9}{mark}")
        lines.append("")
        lines.append("Stages, matched by what they do")
        lines.append(f"  {'before':>6} {'after':>6}  {'tasks':>11} {'wall':>17} {'executor run':>17}  what changed")
        for r in self.stages.to_dict("records"):
            ids = ["-" if pd.isna(r[f"{side}_stage_id"]) else str(int(r[f"{side}_stage_id"]))
                   for side in ("before", "after")]
            head = (f"  {ids[0]:>6} {ids[1]:>6}  {_pair(r, 'tasks', lambda v: str(int(v))):>11} "
                    f"{_pair(r, 'wall_ms', human_ms):>17} {_pair(r, 'run_ms', human_ms):>17}  ")
            lines.append(head + clip(r["what"], max(width - len(head), 20)))
        for side, label in (("only_before", "Findings only before"), ("only_after", "Findings only after")):
            if self.findings[side]:
                lines += ["", label] + [f"  {f['title']}" for f in self.findings[side]]
        for note in self.notes:
            lines += ["", note]
        return fit_to_width("\n".join(lines), width)

    def __repr__(self) -> str:
        changed = int(self.stages["changed"].sum()) if len(self.stages) else 0
        return (f"Comparison(before={self.before.app_id!r}, after={self.after.app_id!r}, stages={len(self.stages)}, "
                f"changed={changed}, settings={len(self.config_diff)}, same_input={self.same_input})")

    def _repr_html_(self) -> str:
        from .widgets.base import esc, table_html

        frame = self.stages[["before_stage_id", "after_stage_id", "verdict", "what", "before_tasks", "after_tasks",
                             "before_wall_ms", "after_wall_ms", "before_run_ms", "after_run_ms"]]
        warn = "" if self.same_input else f"<p><b>Not the same input:</b> {esc(self.input_note)}</p>"
        config = table_html(["setting", "before", "after"], [list(row) for row in self.settings()])
        stages = table_html(list(frame.columns), [["" if pd.isna(v) else v for v in row] for row in frame.values])
        return f"<div><h3>{esc(self.headline)}</h3>{warn}{config}{stages}</div>"


def _pair(row: dict[str, Any], key: str, fmt: Any) -> str:
    x, y = row[f"before_{key}"], row[f"after_{key}"]
    return f"{'-' if pd.isna(x) else fmt(x)} -> {'-' if pd.isna(y) else fmt(y)}"


def _plain(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _spark_properties(log: EventLog) -> dict[str, str]:
    return {r["key"]: r["value"] for r in log.rows("SELECT key, value FROM config WHERE section = 'spark'")}


def _shown(kind: str | None, value: Any) -> str:
    """A default as Spark's own settings write it (64m, true, 200)."""
    if kind == "bytes" and isinstance(value, int) and value > 0:
        for unit, size in (("g", 1024**3), ("m", 1024**2), ("k", 1024)):
            if value % size == 0:
                return f"{value // size}{unit}"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _same_value(key: str, kind: str | None, x: str | None, y: str | None) -> bool:
    """`5` and `5.0`, `64m` and `67108864`: the same setting written two ways."""
    from .errors import SparkswordError
    from .simulate.settings import parse_setting

    if kind is None or x is None or y is None:
        return False
    try:
        return bool(parse_setting(key, kind, x) == parse_setting(key, kind, y))
    except SparkswordError:
        return False


def _config_diff(before: EventLog, after: EventLog) -> pd.DataFrame:
    from .simulate.settings import SETTINGS

    b, a = _spark_properties(before), _spark_properties(after)
    rows: list[dict[str, Any]] = []
    for key in sorted(set(b) | set(a)):
        if _PER_RUN.match(key) or key == "spark.app.name":
            continue
        kind, default = SETTINGS.get(key, (None, None))
        shown_default = None if default is None else _shown(kind, default)
        bv, av = b.get(key, shown_default), a.get(key, shown_default)
        if bv == av or (bv is None and av is None) or _same_value(key, kind, bv, av):
            continue
        rows.append({"key": key, "before": bv, "after": av,
                     "before_is_default": key not in b and bv is not None,
                     "after_is_default": key not in a and av is not None})
    rank = {k: i for i, k in enumerate(_LEVERS)}
    rows.sort(key=lambda r: (rank.get(r["key"], len(rank)), r["key"]))
    return pd.DataFrame(rows, columns=["key", "before", "after", "before_is_default", "after_is_default"])


def _same_input(pairs: list[tuple[_Stage | None, _Stage | None]]) -> tuple[bool, str]:
    """Whether the matched stages that read a source read the same records and bytes from it (a stage that ran
    in one run only, such as a recomputation that cache() removed, says nothing about the input)."""
    read = [(b, a) for b, a in pairs if b is not None and a is not None and b.depth == 0 and a.depth == 0
            and (b.row["input_records"] or a.row["input_records"] or b.row["input_bytes"] or a.row["input_bytes"])]
    records = [sum(side.row["input_records"] or 0 for side in sides) for sides in zip(*read)] if read else [0, 0]
    sizes = [sum(side.row["input_bytes"] or 0 for side in sides) for sides in zip(*read)] if read else [0, 0]
    same = (_similar(records[0], records[1]) >= 1 - _RECORDS_SHARE
            and _similar(sizes[0], sizes[1]) >= 1 - _BYTES_SHARE)
    shown = [f" ({human_bytes(v)})" if any(sizes) else "" for v in sizes]
    return same, (f"the stages that read the sources read {records[0]:,} records{shown[0]} before and "
                  f"{records[1]:,}{shown[1]} after")


def _findings(log: EventLog, stage_to_pair: dict[int, int]) -> list[tuple[str, set[int], dict[str, Any]]]:
    """(type, the stage pairs it is about, what to show) per finding of the run."""
    found = []
    for insight in log.insights():
        where = {stage_to_pair.get(s, -1 - s) for s in insight.stage_ids}
        found.append((insight.type, where, {"type": insight.type, "title": insight.title,
                                            "severity": insight.severity, "impact_ms": insight.impact_ms,
                                            "stage_ids": list(insight.stage_ids)}))
    return found


def _only_in(one: list[tuple[str, set[int], dict[str, Any]]], other: list[tuple[str, set[int], dict[str, Any]]]
             ) -> list[dict[str, Any]]:
    """Findings of `one` with no finding of the same type about the same stages (or about no stage) in `other`."""
    def same(x: tuple[str, set[int], Any], y: tuple[str, set[int], Any]) -> bool:
        return x[0] == y[0] and (bool(x[1] & y[1]) or not x[1] and not y[1])

    return [f[2] for f in one if not any(same(f, g) for g in other)]


def compare(before: EventLog, after: EventLog) -> Comparison:
    """Compare two runs (see the module doc): `before.compare(after)` calls this."""
    b_stages, a_stages = _stages(before), _stages(after)
    pairs = _match(b_stages, a_stages)
    rows = []
    b_pair: dict[int, int] = {}
    a_pair: dict[int, int] = {}
    for index, (b, a) in enumerate(pairs):
        row: dict[str, Any] = {"pair": index}
        for side, stage in (("before", b), ("after", a)):
            for f in STAGE_FIELDS:
                row[f"{side}_{f}"] = stage.row[f] if stage else None
        if b is not None:
            b_pair[b.stage_id] = index
        if a is not None:
            a_pair[a.stage_id] = index
        if b is None or a is None:
            row["verdict"] = "added" if b is None else "removed"
            present = a or b
            assert present is not None
            row["what"] = (f"only {'after' if b is None else 'before'}: {present.row['tasks']} tasks, "
                           f"{human_ms(present.row['wall_ms'])}")
            row["changed"] = True
        else:
            work = _work_changes(b.row, a.row)
            wall = time_change(b.row["wall_ms"], a.row["wall_ms"])
            run = time_change(b.row["run_ms"], a.row["run_ms"])
            slower = (a.row["wall_ms"] or 0) > (b.row["wall_ms"] or 0)
            what = list(work)
            if wall:
                what.append(f"wall {human_ms(b.row['wall_ms'])} -> {human_ms(a.row['wall_ms'])}")
                if not run and not work:
                    what.append("same executor run time: the cores or the scheduling changed, not the work")
            elif not work:
                what.append("within noise" if b.row["wall_ms"] != a.row["wall_ms"] else "same")
            row["verdict"] = ("slower" if slower else "faster") if wall else ("changed" if work else "within noise")
            row["what"] = "; ".join(what)
            row["changed"] = bool(work or wall)
        rows.append(row)
    columns = ["pair", *(f"{s}_{f}" for s in ("before", "after") for f in STAGE_FIELDS), "verdict", "what", "changed"]
    stages = pd.DataFrame(rows, columns=columns)
    for side in ("before", "after"):
        for f in (*("stage_id",), *_WORK, *_TIMES):
            stages[f"{side}_{f}"] = stages[f"{side}_{f}"].astype("Int64")

    config = _config_diff(before, after)
    same_input, input_note = _same_input(pairs)
    b_found, a_found = _findings(before, b_pair), _findings(after, a_pair)
    findings = {"only_before": _only_in(b_found, a_found), "only_after": _only_in(a_found, b_found)}
    accounts = (before.time_account(), after.time_account())
    durations = (accounts[0].duration_ms, accounts[1].duration_ms)
    slots = (accounts[0].cores.cores, accounts[1].cores.cores)
    notes = []
    if slots[0] != slots[1]:
        notes.append(f"Task slots (cores that ran tasks): {slots[0]} before, {slots[1]} after.")
    if durations[0] is not None and durations[1] is not None and not time_change(*durations):
        notes.append(f"The applications' durations ({human_ms(durations[0])} and {human_ms(durations[1])}) differ "
                     f"by less than run-to-run noise ({human_ms(NOISE_MS)} and {NOISE_SHARE:.0%}).")
    time = _time_by_kind(accounts[0], accounts[1])
    headline = _headline(config, stages, time, durations, slots, same_input, input_note)
    return Comparison(before, after, headline, config, stages, findings, time, same_input, input_note, durations,
                      notes)


def _time_by_kind(before: Any, after: Any) -> pd.DataFrame:
    from .timeline import KIND_LABELS

    b = {kind: ms for kind, ms, _ in before.by_kind()}
    a = {kind: ms for kind, ms, _ in after.by_kind()}
    kinds = [k for k in KIND_LABELS if k in b or k in a]
    return pd.DataFrame([{"kind": k, "what": KIND_LABELS[k], "before_ms": b.get(k, 0), "after_ms": a.get(k, 0),
                          "changed": time_change(b.get(k, 0), a.get(k, 0))} for k in kinds],
                        columns=["kind", "what", "before_ms", "after_ms", "changed"])


def _headline(config: pd.DataFrame, stages: pd.DataFrame, time: pd.DataFrame,
              durations: tuple[int | None, int | None], slots: tuple[int, int], same_input: bool,
              input_note: str) -> str:
    run = f"{human_ms(durations[0])} -> {human_ms(durations[1])}"
    # where the application's time changed most, when that is outside the jobs (start-up, gaps, the end)
    outside = time[(time["kind"] != "jobs") & time["changed"]]
    if len(outside):
        delta = (outside["after_ms"] - outside["before_ms"]).abs()
        big = outside.loc[delta.idxmax()]
        run += (f" ({big['what']}: {human_ms(big['before_ms'])} -> {human_ms(big['after_ms'])}, outside the "
                "stages)")
    changed = stages[stages["changed"]]
    if not same_input:
        return f"Not the same input ({input_note}): the runs are not comparable as a change of settings; {run}"
    setting = "no Spark setting differs"
    if len(config):
        first = config.iloc[0]
        setting = f"{first['key']} {first['before']} -> {first['after']}"
        if len(config) > 1:
            setting += f" (and {len(config) - 1} more setting{'s' if len(config) > 2 else ''})"
    if slots[0] != slots[1]:
        setting += f"{' ' if setting else ''}(task slots {slots[0]} -> {slots[1]})"
    if not len(changed):
        return (f"{setting + ': ' if setting else ''}no stage changed beyond run-to-run noise; the application took "
                f"{run}")
    # the stage whose change matters most: a structural change (stages added or gone, other task counts) before
    # other work, before time alone; within a tier the largest wall-time difference
    structural = changed["before_stage_id"].isna() | changed["after_stage_id"].isna() | (
        changed["before_tasks"] != changed["after_tasks"]).fillna(False)
    work = changed["verdict"] == "changed"
    tier = changed[structural] if structural.any() else changed[work] if work.any() else changed
    delta = (tier["after_wall_ms"].fillna(0) - tier["before_wall_ms"].fillna(0)).abs()
    top = tier.loc[delta.astype(float).idxmax()]
    side = "before" if not pd.isna(top["before_stage_id"]) else "after"
    role = ("the reduce stage" if top[f"{side}_shuffle_read_bytes"] else "the map stage"
            if top[f"{side}_shuffle_write_bytes"] else "the stage")
    if pd.isna(top["before_stage_id"]):
        stage = f"{role} {int(top['after_stage_id'])} was added ({int(top['after_tasks'])} tasks, " \
                f"{human_ms(top['after_wall_ms'])})"
    elif pd.isna(top["after_stage_id"]):
        stage = f"{role} {int(top['before_stage_id'])} is gone ({int(top['before_tasks'])} tasks, " \
                f"{human_ms(top['before_wall_ms'])} before)"
    else:
        ids = (f"{role} {int(top['before_stage_id'])}" if top["before_stage_id"] == top["after_stage_id"]
               else f"{role} {int(top['before_stage_id'])} (now {int(top['after_stage_id'])})")
        tasks = (f"ran {int(top['after_tasks'])} tasks instead of {int(top['before_tasks'])}, "
                 if top["before_tasks"] != top["after_tasks"] else "")
        stage = f"{ids} {tasks}{human_ms(top['before_wall_ms'])} -> {human_ms(top['after_wall_ms'])}"
    more = len(changed) - 1
    also = f"; {more} more stage{'s' if more > 1 else ''} changed" if more > 0 else ""
    return f"{setting + ': ' if setting else ''}{stage}{also}; the application took {run}"
