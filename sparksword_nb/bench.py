"""`sparksword bench`: load speed and memory on a ~1 GB event log built from a real one.

The big log repeats a real log's jobs with shifted ids and times (every line stays an event Spark wrote,
renumbered), so its shape is a real application's. Each measurement runs in a fresh process, so peak RSS
is that step's own. The numbers are printed as a table; nothing here is a test.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_PREAMBLE = {
    "SparkListenerLogStart", "SparkListenerResourceProfileAdded", "SparkListenerEnvironmentUpdate",
    "SparkListenerApplicationStart", "SparkListenerExecutorAdded", "SparkListenerBlockManagerAdded",
}
_CLOSING = {"SparkListenerApplicationEnd", "SparkListenerExecutorRemoved", "SparkListenerBlockManagerRemoved"}
_TIME_KEYS = {"Submission Time", "Completion Time", "Launch Time", "Finish Time", "Getting Result Time", "time", "Timestamp"}
_ID_KEYS = {"Job ID": "job", "Stage ID": "stage", "RDD ID": "rdd", "Task ID": "task", "executionId": "sql",
            "rootExecutionId": "sql", "accumulatorId": "acc"}

# A typed column list of ~30 task fields: what DuckDB alone needs to parse this file (the floor).
FLOOR_COLUMNS = {
    "Event": "VARCHAR", "Stage ID": "BIGINT", "Stage Attempt ID": "BIGINT", "Task Type": "VARCHAR",
    "Task Info": 'STRUCT("Task ID" BIGINT, "Index" BIGINT, "Attempt" BIGINT, "Partition ID" BIGINT, '
                 '"Launch Time" BIGINT, "Executor ID" VARCHAR, "Host" VARCHAR, "Locality" VARCHAR, '
                 '"Speculative" BOOLEAN, "Finish Time" BIGINT, "Failed" BOOLEAN, "Killed" BOOLEAN)',
    "Task Metrics": 'STRUCT("Executor Deserialize Time" BIGINT, "Executor Run Time" BIGINT, '
                    '"Executor CPU Time" BIGINT, "Result Size" BIGINT, "JVM GC Time" BIGINT, '
                    '"Memory Bytes Spilled" BIGINT, "Disk Bytes Spilled" BIGINT, "Peak Execution Memory" BIGINT, '
                    '"Shuffle Read Metrics" STRUCT("Remote Blocks Fetched" BIGINT, "Local Blocks Fetched" BIGINT, '
                    '"Fetch Wait Time" BIGINT, "Remote Bytes Read" BIGINT, "Local Bytes Read" BIGINT, '
                    '"Total Records Read" BIGINT), '
                    '"Shuffle Write Metrics" STRUCT("Shuffle Bytes Written" BIGINT, "Shuffle Write Time" BIGINT, '
                    '"Shuffle Records Written" BIGINT), '
                    '"Input Metrics" STRUCT("Bytes Read" BIGINT, "Records Read" BIGINT))',
}


def floor_sql(log: Path) -> str:
    """The floor's statement: DuckDB's typed parse of `log` into table t, with FLOOR_COLUMNS only."""
    spec = "{" + ", ".join(repr(k) + ": " + repr(v) for k, v in FLOOR_COLUMNS.items()) + "}"
    return (f"CREATE TABLE t AS SELECT * FROM read_json('{log}', format='newline_delimited', columns={spec}, "
            "maximum_object_size=268435456)")


def _shift(obj: object, off: dict[str, int], parent_key: str = "") -> object:
    if isinstance(obj, list):
        return [_shift(v, off, parent_key) for v in obj]
    if not isinstance(obj, dict):
        return obj
    rdd_context = "RDD ID" in obj
    out = {}
    for key, value in obj.items():
        if key in _ID_KEYS and isinstance(value, int):
            value += off[_ID_KEYS[key]]
        elif key == "Stage IDs":
            value = [s + off["stage"] for s in value]
        elif key == "Parent IDs":
            value = [p + off["rdd" if rdd_context else "stage"] for p in value]
        elif key == "ID" and parent_key in ("Accumulables", "Accumulator Updates"):
            value += off["acc"]
        elif key == "accumUpdates":
            value = [[a + off["acc"], b] for a, b in value]
        elif key in _TIME_KEYS and isinstance(value, int) and value > 0:
            value += off["time"]
        elif key == "Properties" and isinstance(value, dict) and "spark.sql.execution.id" in value:
            value = {**value, "spark.sql.execution.id": str(int(value["spark.sql.execution.id"]) + off["sql"])}
        else:
            value = _shift(value, off, key)
        out[key] = value
    return out


def _max_ids(obj: object, acc: dict[str, int], parent_key: str = "") -> None:
    if isinstance(obj, list):
        for v in obj:
            _max_ids(v, acc, parent_key)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            kind = _ID_KEYS.get(key) or ("acc" if key == "ID" and parent_key == "Accumulables" else None)
            if kind and isinstance(value, int):
                acc[kind] = max(acc[kind], value)
            else:
                _max_ids(value, acc, key)


def scale_log(source: Path, out: Path, copies: int) -> int:
    """Write `copies` renumbered repetitions of `source`'s jobs to `out`; returns the bytes written."""
    preamble: list[dict] = []
    body: list[dict] = []
    closing: list[dict] = []
    top = {"job": 0, "stage": 0, "rdd": 0, "task": 0, "sql": 0, "acc": 0}
    first_ms, last_ms = None, 0
    with open(source, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            event = json.loads(line)
            kind = event.get("Event", "")
            (preamble if kind in _PREAMBLE else closing if kind in _CLOSING else body).append(event)
            _max_ids(event, top)
            for key in ("Timestamp", "Submission Time", "Launch Time", "time"):
                value = event.get(key) if key in event else (event.get("Task Info") or {}).get(key)
                if isinstance(value, int) and value > 0:
                    first_ms = value if first_ms is None else min(first_ms, value)
                    last_ms = max(last_ms, value)
    span = last_ms - (first_ms or 0) + 1
    with open(out, "w", encoding="utf-8") as f:
        for event in preamble:
            f.write(json.dumps(event, separators=(",", ":")) + "\n")
        for copy in range(copies):
            off = {k: (v + 1) * copy for k, v in top.items()} | {"time": span * copy}
            for event in body:
                f.write(json.dumps(_shift(event, off) if copy else event, separators=(",", ":")) + "\n")
        for event in closing:
            f.write(json.dumps(_shift(event, {k: 0 for k in top} | {"time": span * (copies - 1)}),
                               separators=(",", ":")) + "\n")
    return out.stat().st_size


def _measure(code: str, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run `code` in a fresh Python; returns (seconds, peak RSS in MB, its last printed line)."""
    script = (
        "import time, resource, sys\n"
        f"{code}\n"
        "print(round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))\n"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1] if done.stderr else "benchmark step failed")
    lines = done.stdout.strip().splitlines()
    return elapsed, float(lines[-1]), lines[-2] if len(lines) > 1 else ""


def _default_source(workdir: Path) -> Path:
    """The uncompressed many_tasks log (22,000 tasks) from the repository's real test logs."""
    from .ingest.codecs import codec_for, decode_to
    from .ingest.sources import discover

    root = Path(__file__).resolve().parent.parent / "tests" / "data" / "spark-4.3.0" / "many_tasks"
    if not root.exists():
        raise SystemExit("sparksword bench: pass --source (the repository's tests/data is not here)")
    app_log = discover(next(p for p in root.iterdir() if p.name.startswith("eventlog_v2_")))[0]
    plain = workdir / "many_tasks.json"
    with open(plain, "wb") as out:
        for part in app_log.files:
            decode_to(part, codec_for(part), out, tolerate_torn_tail=False)
    return plain


def _workdir_and_source(workdir: str | None, source: str | None
                        ) -> tuple[tempfile.TemporaryDirectory | None, Path, Path]:
    """(the temporary folder to clean up, or None for the user's `workdir`; the folder; the plain source log)."""
    tmp = tempfile.TemporaryDirectory(prefix="sparksword-bench-") if workdir is None else None
    base = Path(workdir) if workdir is not None else Path(tmp.name if tmp else ".")
    base.mkdir(parents=True, exist_ok=True)
    return tmp, base, Path(source) if source else _default_source(base)


def history_server_replay(log: Path, work: Path) -> tuple[float, float, float]:
    """(seconds until a real History Server answers, until it lists `log`'s application, to replay it: its first
    /jobs answer), the History Server keeping the application in memory as by default."""
    import urllib.parse

    from .history_server_process import answers, free_port, history_server, running
    from .ingest.sources import application_identity, discover

    app_id, _ = application_identity(discover(log)[0])
    if app_id is None:
        raise RuntimeError(f"{log}: no application id in its first events")
    folder = work / "shs-logs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / log.name).unlink(missing_ok=True)  # an earlier run's (a reused --workdir)
    try:
        os.link(log, folder / log.name)  # the same file, no copy of a GB
    except OSError:
        shutil.copy2(log, folder / log.name)
    port = free_port()
    command, env = history_server(folder, port, work / "shs-work", disk_store=False)
    api = f"http://127.0.0.1:{port}/api/v1"
    server_log = work / "shs.out"
    started = time.perf_counter()
    with running(command, f"{api}/applications", timeout_s=120, env=env, log=server_log) as process:
        up = time.perf_counter()
        while app_id not in answers(f"{api}/applications", process, 120, server_log).decode():
            time.sleep(0.1)
        listed = time.perf_counter()
        answers(f"{api}/applications/{urllib.parse.quote(app_id)}/jobs", process, 3600, server_log)
        replayed = time.perf_counter()
    return up - started, listed - up, replayed - listed


def run_benchmark(copies: int = 9, source: str | None = None, workdir: str | None = None,
                  big_copies: int = 0, shs: bool = False) -> int:
    """Build the big log, measure each step in its own process, print the table; with `big_copies`, also load a
    log of that many copies (45: the 5.2 GB one) to show that memory does not grow with the log; with `shs`, the
    real History Server's replay of the same log (pyspark and Java needed)."""
    import zstandard

    tmp, base, src = _workdir_and_source(workdir, source)
    big = base / "bench-app-1"
    print(f"building a {copies}x copy of {src.name} ...", flush=True)
    size = scale_log(src, big, copies)
    zst = base / "bench-app-2.zstd"
    with open(big, "rb") as fin, open(zst, "wb") as fout:
        zstandard.ZstdCompressor(level=1).copy_stream(fin, fout, read_size=1 << 20, write_size=1 << 20)
    lines = sum(1 for _ in open(big, "rb"))
    shutil.rmtree(base / "cache", ignore_errors=True)  # the cache-on row must parse, not reopen an older run's
    cache_env = {**os.environ, "SPARKSWORD_CACHE_DIR": str(base / "cache")}

    floor_code = (
        "import duckdb\n"
        "con = duckdb.connect()\n"
        f"con.execute({floor_sql(big)!r})\n"
        "print(con.execute('SELECT count(*) FROM t').fetchall()[0][0])"
    )
    load_code = (
        "import sparksword_nb as ss\n"
        "log = ss.Session().load({path!r}, cache={cache})\n"
        "print(log.sql('SELECT count(*) FROM tasks').fetchall()[0][0])"
    )
    rows = []
    t_floor, rss_floor, _ = _measure(floor_code)
    rows.append(("DuckDB read_json, ~30 typed task fields (floor)", t_floor, rss_floor))
    t_load, rss_load, tasks = _measure(load_code.format(path=str(big), cache=False))
    rows.append(("sparksword load(), plain", t_load, rss_load))
    t_zstd, rss_zstd, _ = _measure(load_code.format(path=str(zst), cache=False))
    rows.append(("sparksword load(), zstd", t_zstd, rss_zstd))
    t_cache_load, rss_cache_load, _ = _measure(load_code.format(path=str(big), cache=True), env=cache_env)
    rows.append(("sparksword load(), cache on (parse + write the cache file)", t_cache_load, rss_cache_load))
    t_cached, rss_cached, _ = _measure(
        "import time as _t\nimport sparksword_nb as ss\n_s = _t.perf_counter()\n"
        f"log = ss.Session().load({str(big)!r}, cache=True)\n"
        "print(round(_t.perf_counter() - _s, 3))",
        env=cache_env,
    )
    rows.append(("cached reopen, fresh process (Python start + import + load)", t_cached, rss_cached))
    _, _, cached_inner = _measure(
        "import time as _t\nimport sparksword_nb as ss\n_s = _t.perf_counter()\n"
        f"log = ss.Session().load({str(big)!r}, cache=True)\n"
        "print(round(_t.perf_counter() - _s, 3))",
        env=cache_env,
    )

    replay = history_server_replay(big, base) if shs else None

    if big_copies:
        huge = base / "bench-app-big"
        print(f"building a {big_copies}x copy for the big-log row ...", flush=True)
        huge_size = scale_log(src, huge, big_copies)
        t_big, rss_big, big_tasks = _measure(load_code.format(path=str(huge), cache=False))
        rows.append((f"load, {big_copies}x ({huge_size / 1e9:.1f} GB, {int(big_tasks):,} tasks)", t_big, rss_big))
        huge.unlink()

    print()
    print(f"log: {size / 1e9:.2f} GB, {lines:,} events, {int(tasks):,} tasks ({copies}x {src.name}); "
          f"zstd copy {zst.stat().st_size / 1e6:.0f} MB; {os.cpu_count()} cores")
    print(f"{'step':<60} {'wall s':>8} {'peak RSS MB':>12}")
    for name, seconds, rss in rows:
        print(f"{name:<60} {seconds:>8.2f} {rss:>12.0f}")
    print(f"{'cached reopen, in-process time':<60} {float(cached_inner):>8.2f} {'':>12}")
    print()
    print(f"load / floor: {t_load / t_floor:.2f}x (target <= 1.2x)   zstd / plain: {t_zstd / t_load:.2f}x (<= 1.3x)")
    print(f"events/s: {lines / t_load:,.0f}   peak RSS of load: {rss_load:.0f} MB (<= 1024)   DuckDB memory limit: "
          f"{os.environ.get('SPARKSWORD_MEMORY_LIMIT') or 'the default (SPARKSWORD_MEMORY_LIMIT)'}")
    if replay is not None:
        start_s, list_s, replay_s = replay
        print(f"History Server (pyspark's, in-memory store): started in {start_s:.1f} s, listed the application in "
              f"{list_s:.1f} s, replayed it (first /jobs answer) in {replay_s:.1f} s: sparksword's load is "
              f"{replay_s / t_load:.1f}x faster (target >= 8x), {(start_s + list_s + replay_s) / t_load:.1f}x counting "
              "its start")
    print("(wall times include starting Python and importing the package, ~0.3-0.5 s, in every row)")
    if tmp is not None:
        tmp.cleanup()
    return 0


class _TimedConnection:
    """A DuckDB connection that notes how long each statement takes (for `run_profile`)."""

    def __init__(self, con: Any) -> None:
        self._con = con
        self.statements: list[tuple[str, float]] = []

    def execute(self, query: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        result = self._con.execute(query, *args, **kwargs)
        self.statements.append((_statement_label(query), time.perf_counter() - started))
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _statement_label(query: str) -> str:
    text = " ".join(query.split())
    made = re.match(r"CREATE (?:OR REPLACE )?(?:TEMP )?TABLE (?:IF NOT EXISTS )?(\S+)", text)
    if made and " AS " in text:
        source = re.search(r"\bFROM (read_json)\b", text)
        return f"make {made.group(1)}" + (" (read_json: parse every line)" if source else "")
    filled = re.match(r"INSERT INTO (\S+)", text)
    return f"fill {filled.group(1)}" if filled else text[:60]


def run_profile(copies: int = 9, source: str | None = None, workdir: str | None = None) -> int:
    """Where one load of the big log (cache off) spends its time, statement by statement, in this process, beside
    the floor measured in the same process."""
    import duckdb

    from .ingest.loader import Staging, stage_app_log
    from .store import Session, find_app_log

    tmp, base, src = _workdir_and_source(workdir, source)
    big = base / "bench-app-1"
    print(f"building a {copies}x copy of {src.name} ...", flush=True)
    scale_log(src, big, copies)
    with duckdb.connect() as con:
        started = time.perf_counter()
        con.execute(floor_sql(big))
        floor = time.perf_counter() - started
    session = Session()
    timed = _TimedConnection(session.con)
    started = time.perf_counter()
    app_log = find_app_log(big)
    report = stage_app_log(timed, app_log)  # type: ignore[arg-type]
    session.con = timed  # type: ignore[assignment]
    session._commit(report, Staging().table)
    total = time.perf_counter() - started
    shown = sorted(((label, s) for label, s in timed.statements if s >= 0.01), key=lambda r: -r[1])
    rest = total - sum(s for _, s in shown)
    print(f"\n{'statement (10 ms or more)':<62} {'s':>6} {'share':>6}")
    for label, seconds in shown:
        print(f"{label:<62} {seconds:>6.2f} {seconds / total:>6.0%}")
    print(f"{'everything else (Python, small statements)':<62} {rest:>6.2f} {rest / total:>6.0%}")
    print(f"{'load (cache off), in-process':<62} {total:>6.2f}")
    print(f"{'floor: read_json of ~30 typed task fields, same process':<62} {floor:>6.2f}   load / floor: "
          f"{total / floor:.2f}x")
    session.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


def run_live_benchmark(copies: int = 1, steps: int = 8, source: str | None = None, workdir: str | None = None) -> int:
    """A log that grows as a running application's does, refreshed by a LiveReport after each append: the table
    gives each refresh's time against the log's size (the cost of `%sparksword watch`)."""
    from .widgets.live import LiveReport

    tmp, base, src = _workdir_and_source(workdir, source)
    whole = base / "whole.json"
    print(f"building a {copies}x copy of {src.name} ...", flush=True)
    scale_log(src, whole, copies)
    data = whole.read_bytes()
    growing = base / "local-live.inprogress"
    cuts = [data.index(b"\n", len(data) * (i + 1) // steps - 1) + 1 if i + 1 < steps else len(data)
            for i in range(steps)]
    growing.write_bytes(data[: cuts[0]])
    live = LiveReport(str(growing), start=False)  # the panels a user sees are rebuilt on each refresh too
    print(f"{'step':>4} {'log MB':>8} {'jobs':>6} {'tasks':>8} {'refresh s':>10}")
    rows = [live.history[-1]]
    print(f"{1:>4} {cuts[0] / 1e6:>8.1f} {rows[0].jobs:>6} {rows[0].tasks:>8} {rows[0].seconds:>10.2f}")
    for step in range(1, steps):
        with open(growing, "ab") as out:
            out.write(data[cuts[step - 1]: cuts[step]])
        refreshed = live.refresh()
        assert refreshed is not None, live.error
        print(f"{step + 1:>4} {cuts[step] / 1e6:>8.1f} {refreshed.jobs:>6} {refreshed.tasks:>8} {refreshed.seconds:>10.2f}")
    unchanged = live.refresh()
    assert unchanged is not None
    print(f"a look at the log when nothing was appended: {unchanged.seconds * 1000:.1f} ms")
    print("(each refresh parses the whole log again: its time grows with the log, not with what was appended)")
    live.stop()
    if tmp is not None:
        tmp.cleanup()
    return 0


def descendants_peak_mb(pid: int) -> float:
    """The summed peak RSS (VmHWM) of the processes below `pid` that are still running (Linux /proc)."""
    parents: dict[int, int] = {}
    peaks: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry.name)] = int(fields.get("PPid", "0").strip() or 0)
        peaks[int(entry.name)] = float(fields.get("VmHWM", "0 kB").split()[0]) / 1024
    below: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - below
        below |= frontier
    return sum(peaks.get(p, 0.0) for p in below)


def _fleet_folder(root: Path, apps: int) -> int:
    """`apps` real application logs under `root` (the bundled samples, copied as often as needed into one folder
    each copy); returns how many were written."""
    import shutil

    from .samples import list as list_samples

    logs = [sample.path for sample in list_samples()]
    written, copy = 0, 0
    while written < apps:
        folder = root / f"copy_{copy:03d}"
        folder.mkdir(parents=True, exist_ok=True)
        for log in logs[: apps - written]:
            (shutil.copytree if log.is_dir() else shutil.copy2)(log, folder / log.name)
            written += 1
        copy += 1
    return written


def run_fleet_benchmark(apps: int = 200, workdir: str | None = None, spark: bool = True) -> int:
    """Time and peak memory of a fleet of `apps` real logs on the DuckDB engine (2 worker processes) and, with
    pyspark installed, on Spark local[2]; each in a fresh process with a fresh fleet store."""
    base = Path(workdir or tempfile.mkdtemp(prefix="sparksword-fleet-bench-"))
    written = _fleet_folder(base / "history", apps)
    size = sum(f.stat().st_size for f in (base / "history").rglob("*") if f.is_file())
    target = str(base / "history" / "*")
    rows = []
    duck = (
        "import sparksword_nb as ss\n"
        f"f = ss.fleet({target!r}, store={str(base / 'duckdb.duckdb')!r}, workers=2, progress=False)\n"
        "assert not f.errors(), f.errors()[:3]\n"
        "print(round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1))\n")
    seconds, rss, child = _measure(duck)
    rows.append(("DuckDB engine, 2 worker processes", seconds, rss, f"{float(child):.0f} MB per worker (peak)"))
    seconds, rss, _ = _measure(
        "import sparksword_nb as ss\n"
        f"f = ss.fleet({target!r}, store={str(base / 'duckdb.duckdb')!r}, workers=2, progress=False)\n"
        "assert f.read == 0\nprint(f.reused)\n")
    rows.append(("DuckDB engine, second run (nothing changed)", seconds, rss, ""))
    try:
        import pyspark  # noqa: F401
        have_spark = spark
    except ImportError:
        have_spark = False
    if have_spark:
        code = (
            "import os\nos.environ.setdefault('PYSPARK_PYTHON', sys.executable)\n"
            "from sparksword_nb.fleets.run import local_spark\nfrom sparksword_nb.bench import descendants_peak_mb\n"
            "import sparksword_nb as ss\n_s = time.perf_counter()\nspark = local_spark('local[2]')\n"
            "started = time.perf_counter() - _s\n_s = time.perf_counter()\n"
            f"f = ss.fleet({target!r}, engine='spark', spark=spark, store={str(base / 'spark.duckdb')!r}, progress=False)\n"
            "assert not f.errors(), f.errors()[:3]\n"
            "print(f'{started:.1f} s to start Spark, {time.perf_counter() - _s:.1f} s for the fleet; '\n"
            "      f'JVM + Python workers peak {descendants_peak_mb(os.getpid()):.0f} MB')\n"
            "spark.stop()\n")
        seconds, rss, note = _measure(code)
        rows.append(("Spark engine, local[2]", seconds, rss, note))
    print()
    print(f"fleet: {written} real application logs ({size / 1e6:.1f} MB, the bundled samples copied), {os.cpu_count()} cores")
    print(f"{'run':<46} {'wall s':>8} {'apps/s':>7} {'peak RSS MB':>12}  notes")
    for name, seconds, rss, note in rows:
        print(f"{name:<46} {seconds:>8.2f} {written / seconds:>7.1f} {rss:>12.0f}  {note}")
    print("(peak RSS: the process that runs the fleet; its workers are separate processes, shown in the notes)")
    per_log = rows[0][1] * 2 / written  # core-seconds per log on the DuckDB engine, start-up included
    print(f"\nScale: {per_log:.2f} core-seconds per log here, so 10,000 such logs take ~{10_000 * per_log / 2 / 60:.0f} min "
          f"on these 2 cores; on Spark (one task per log, each executor core reading its logs from shared storage) "
          f"a 64-core cluster needs ~{10_000 * per_log / 64 / 60:.0f} min plus a few seconds of scheduling per "
          "thousand tasks; memory per core stays one log's (the DuckDB memory limit), the driver holds one batch "
          "of rows. Big logs cost in proportion to their size (sparksword bench), so a fleet's time follows its bytes.")
    return 0
