"""The teaching notebooks in notebooks/ run green, and the numbers they teach are the History Server's.

Three layers:
- an execution pass (nbclient): every cell runs and any error status fails the notebook, including
  IPython usage errors that print to stderr only (nbval misses those); cells tagged `raises-exception`
  may fail;
- nbval (`--nbval-lax --nbval-current-env`, sanitized by tests/nbval_sanitize.cfg): the cells marked
  `# NBVAL_CHECK_OUTPUT` must print what the committed notebook shows;
- the numbers those committed outputs show are checked against the real History Server's answers for
  the same logs (tests/data/spark-4.3.0/<case>/history-server), so the notebooks cannot teach our bugs.

After editing a notebook, refresh its committed outputs (it runs the notebook and keeps only the checked
cells' outputs, with widget state stripped):

    python tests/test_notebooks.py --refresh [01_getting_started ...]
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import conftest as root_conftest  # tests/conftest.py: the History Server's answers for the real logs

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
LESSONS = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
# A lesson must stay quick: the whole notebook test runs in CI on two cores.
CELL_TIMEOUT_S = 120


def _kernel_env() -> dict[str, str]:
    """The kernels run this interpreter's environment and import the package from this tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    # the `python3` kernelspec of a venv runs `python` from PATH: make that this interpreter
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _checked(cell: Any) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(CHECK_MARK)


def _execute(path: Path, env: dict[str, str]) -> Any:
    """Run every cell of the notebook at `path` in a fresh kernel; raises on any error status."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PATH")}
    os.environ.update({k: env[k] for k in saved})
    try:
        client = nbclient.NotebookClient(
            nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", allow_errors=False, record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def test_there_are_at_least_eight_lessons():
    assert len(LESSONS) >= 8, [p.name for p in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_is_committed_clean(path: Path):
    """Outputs and widget state cleared, except the checked cells' plain-text outputs nbval compares."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert "widgets" not in nb.metadata, "widget state must be stripped"
    checked = [c for c in nb.cells if _checked(c)]
    assert checked, "a lesson checks at least one number it teaches (# NBVAL_CHECK_OUTPUT)"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if _checked(cell):
            assert cell.outputs and cell.execution_count is not None, f"checked cell without output: {cell.source[:80]}"
            for out in cell.outputs:
                assert out.output_type == "stream" and out.name == "stdout", (
                    f"a checked cell prints plain text only: {cell.source[:80]}")
        else:
            assert not cell.outputs and cell.execution_count is None, f"output not cleared: {cell.source[:80]}"


@pytest.fixture(scope="module", autouse=True)
def nbval_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One nbval run over every lesson, started in the background as soon as this module's tests begin, so
    that it overlaps the execution pass; the nbval tests wait for it and read its per-cell JUnit report."""
    if not any(item.name.startswith("test_lesson_checked_outputs_match_with_nbval") for item in request.session.items):
        yield None  # no nbval test selected (e.g. -k clean): nothing to start
        return
    report = tmp_path_factory.mktemp("nbval") / "nbval.xml"
    log = report.with_suffix(".log")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
             "--nbval-sanitize-with", str(SANITIZE), f"--junitxml={report}", *map(str, LESSONS)],
            cwd=ROOT, env=_kernel_env(), stdout=out, stderr=subprocess.STDOUT,
        )
    result: dict[str, Any] = {}

    def wait() -> dict[str, Any]:
        if not result:
            try:
                proc.wait(timeout=900)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            result.update(returncode=proc.returncode, output=log.read_text(), cells=_junit_cells(report))
        return result

    yield wait
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _junit_cells(report: Path) -> dict[str, list[tuple[str, str]]]:
    """notebook stem -> [(cell name, failure text or "")] from nbval's JUnit report."""
    import xml.etree.ElementTree as ET

    cells: dict[str, list[tuple[str, str]]] = {}
    if not report.exists():
        return cells
    for case in ET.parse(report).getroot().iter("testcase"):
        stem = case.attrib.get("classname", "").removeprefix("notebooks.").removesuffix(".ipynb")
        problems = [f"{child.tag}: {child.attrib.get('message', '')}\n{child.text or ''}"
                    for child in case if child.tag in ("failure", "error")]
        cells.setdefault(stem, []).append((case.attrib.get("name", "?"), "\n".join(problems)))
    return cells


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_executes_without_error(path: Path):
    nb = _execute(path, _kernel_env())
    # a lesson shows its reader no warning (a deprecated pandas call, a DuckDB notice): they read as our bugs
    warned = [(n, o["text"].strip().splitlines()[0]) for n, cell in enumerate(nb.cells)
              for o in cell.get("outputs", []) if o.get("name") == "stderr" and "Warning" in o.get("text", "")]
    assert not warned, warned


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_checked_outputs_match_with_nbval(path: Path, nbval_run):
    run = nbval_run()
    cells = run["cells"].get(path.stem)
    assert cells, f"nbval ran no cell of {path.name} (exit {run['returncode']}):\n{run['output'][-4000:]}"
    failed = [f"{name}: {problem[:3000]}" for name, problem in cells if problem]
    assert not failed, "\n\n".join(failed)


# ---- the taught numbers are the History Server's -------------------------------------------------

@functools.cache
def _answers(case: str) -> dict[str, Any]:
    return root_conftest.spark43_answers(case)


def _stages(case: str) -> dict[int, dict[str, Any]]:
    return {s["stageId"]: s for s in _answers(case)["stages.json"]}


def _summary(case: str, stage: int, attempt: int = 0) -> dict[str, Any]:
    return _answers(case)[f"taskSummary_{stage}_{attempt}.json"]


def _tasks(case: str, stage: int, attempt: int = 0) -> list[dict[str, Any]]:
    return _answers(case)[f"taskList_{stage}_{attempt}.json"]


def _sql_metric(case: str, execution: int, node_name: str, metric: str) -> str:
    for query in _answers(case)["sql.json"]:
        if query["id"] == execution:
            for node in query["nodes"]:
                if node["nodeName"] == node_name:
                    return next(m["value"] for m in node["metrics"] if m["name"] == metric)
    raise KeyError((case, execution, node_name, metric))


def _q(values: list[float]) -> str:
    return str([int(v) for v in values])


def _ms(spark_date: str) -> int:
    """Epoch ms of the History Server's date format (2026-11-21T23:03:03.039GMT)."""
    from datetime import datetime, timezone

    parsed = datetime.strptime(spark_date.replace("GMT", ""), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return round(parsed.timestamp() * 1000)


def _wall(stage: dict[str, Any]) -> int:
    return _ms(stage["completionTime"]) - _ms(stage["submissionTime"])


def _property(case: str, key: str) -> str:
    return dict(_answers(case)["environment.json"]["sparkProperties"])[key]


def _read(task_or_stage: dict[str, Any]) -> int:
    m = task_or_stage.get("taskMetrics", task_or_stage)
    r = m.get("shuffleReadMetrics")
    return r["localBytesRead"] + r["remoteBytesRead"] if r else m["shuffleLocalBytesRead"] + m["shuffleRemoteBytesRead"]


def _node_metric_values(case: str, execution: int, node_name: str, metric: str) -> list[str]:
    query = next(q for q in _answers(case)["sql.json"] if q["id"] == execution)
    return [next(m["value"] for m in n["metrics"] if m["name"] == metric)
            for n in query["nodes"] if n["nodeName"] == node_name]


def _lines_01() -> list[str]:
    st = _stages("skewed_join")
    tasks = sum(len(_tasks("skewed_join", s)) for s in st)
    lines = [f"jobs {len(_answers('skewed_join')['jobs.json'])}, stages {len(st)}, task attempts {tasks}"]
    for sid in sorted(st):
        durations = [t["duration"] for t in _tasks("skewed_join", sid)]
        lines.append(f"stage {sid}: {len(durations):>2} tasks, {min(durations):>3} to {max(durations):>3} ms, "
                     f"shuffle read {_read(st[sid]):>7,} bytes")
        lines.append(f"stage {sid}: task duration min/p25/median/p75/max = "
                     f"{_q(_summary('skewed_join', sid)['duration'])} ms")
    s2 = _summary("skewed_join", 2)
    read = s2["shuffleReadMetrics"]["readBytes"]
    heavy = max(_tasks("skewed_join", 2), key=_read)
    return lines + [
        f"stage 2 median and max task duration: [{s2['duration'][2]}, {s2['duration'][4]}] ms",
        f"stage 2 median and max shuffle read: [{read[2]}, {read[4]}] bytes",
        f"heaviest task index {heavy['index']} read {_read(heavy)} bytes; the median task read {int(read[2])}",
    ]


def _lines_02() -> list[str]:
    case = "multi_job_etl"
    st = _stages(case)
    lines = [f"job {j['jobId']} {j['status']}: stages {sorted(j['stageIds'])}  ({j['name']})"
             for j in _answers(case)["jobs.json"]]
    lines += [f"stage {sid} {s['status']:<8} {s['numTasks']:>2} tasks  read {_read(s):>10,} B  "
              f"wrote {s['shuffleWriteBytes']:>10,} B  " for sid, s in sorted(st.items())]
    skipped = [sid for sid, s in sorted(st.items()) if s["status"] == "SKIPPED"]
    lines.append(f"skipped stages: {skipped} - tasks not run: {sum(st[s]['numTasks'] for s in skipped)}")
    lines.append(f"stage 4 wrote {st[4]['shuffleWriteRecords']:,} records, {st[4]['shuffleWriteBytes']:,} bytes")
    s5 = _answers(case)["stage_5_0.json"]
    lines.append(f"stage 5 fetched {s5['shuffleLocalBlocksFetched'] + s5['shuffleRemoteBlocksFetched']} blocks "
                 f"holding {s5['shuffleReadRecords']:,} records")
    return lines


def _lines_03() -> list[str]:
    s2 = _summary("skewed_join", 2)
    med_ms, med_read = s2["duration"][2], s2["shuffleReadMetrics"]["readBytes"][2]
    lines = [f"duration ms        {_q(s2['duration'])}",
             f"shuffle read bytes {_q(s2['shuffleReadMetrics']['readBytes'])}"]
    for t in sorted(_tasks("skewed_join", 2), key=lambda t: -t["duration"])[:4]:
        read, ms = _read(t), t["duration"]
        lines.append(f"task index {t['index']:>2}: {ms:>3} ms ({ms / med_ms:4.1f}x median), read {read:>7,} B "
                     f"({read / med_read:4.1f}x median), {t['taskMetrics']['shuffleReadMetrics']['recordsRead']:>9,} records")
    lines.append(f"History Server duration quantiles ms: {_q(_summary('failed_tasks', 0)['duration'])}")
    for t in sorted(_tasks("failed_tasks", 0), key=lambda t: -t["duration"])[:3]:
        w = t["taskMetrics"]["shuffleWriteMetrics"]
        lines.append(f"task index {t['index']} attempt {t['attempt']} {t['status']:<7}: {t['duration']:>4} ms, "
                     f"wrote {w['bytesWritten']} B in {w['recordsWritten']} records")
    return lines


def _lines_04() -> list[str]:
    tasks = _tasks("tiny_partitions", 1)
    s1 = _summary("tiny_partitions", 1)
    lines = [
        f"stage 1: {len(tasks)} tasks, {sum(1 for t in tasks if _read(t) == 0)} of them read no data at all",
        f"task time summed over tasks {sum(t['duration'] for t in tasks):,} ms, of which running the task's code "
        f"{sum(t['taskMetrics']['executorRunTime'] for t in tasks):,} ms",
        f"stage wall time {_wall(_stages('tiny_partitions')[1]):,} ms on 2 cores",
    ]
    for field, label in (("duration", "task duration"), ("executorRunTime", "executor run time"),
                         ("schedulerDelay", "scheduler delay"), ("executorDeserializeTime", "deserialize time")):
        lines.append(f"{label:<18} min/p25/median/p75/max ms: {_q(s1[field])}")
    for case in ("pair_b_static", "pair_b_p16", "pair_b_aqe"):
        (sid, s), = [(i, s) for i, s in _stages(case).items() if s["status"] == "COMPLETE" and _read(s) > 0]
        lines.append(f"{case:<14} shuffle.partitions={_property(case, 'spark.sql.shuffle.partitions'):>3}: reduce stage "
                     f"{sid} ran {s['numTasks']:>3} tasks in {_wall(s):>3} ms reading {_read(s):,} bytes")
    p16 = _stages("pair_b_p16")[1]
    lines.append(f"estimated tasks 16, real tasks {p16['numTasks']}")
    lines.append(f"the real stage time ({_wall(p16)} ms) lies in the estimated range: True")
    return lines


def _lines_05() -> list[str]:
    partitions = _node_metric_values("pair_b_aqe", 78, "AQEShuffleRead", "number of partitions")
    coalesced = _node_metric_values("pair_b_aqe", 78, "AQEShuffleRead", "number of coalesced partitions")
    (real,) = [s["numTasks"] for s in _stages("pair_b_aqe").values() if s["status"] == "COMPLETE" and _read(s) > 0]
    lines = [f"partitions read: {p} | coalesced: {c}" for p, c in zip(partitions, coalesced)]
    lines.append(f"what-if from the static run: {real} tasks; the real AQE run: {real} tasks")
    sizes = _node_metric_values("aqe_skew", 8, "AQEShuffleRead", "partition data size")
    counts = _node_metric_values("aqe_skew", 8, "AQEShuffleRead", "number of partitions")
    lines += [f"partitions read: {n} | data: {d} | skew splits: none" for n, d in zip(counts, sizes)]
    join = _stages("aqe_skew")[4]
    lines.append(f"{join['numTasks']} task(s); the real run: {join['numTasks']} task(s)")
    return lines


def _lines_06() -> list[str]:
    st = _stages("broadcast_candidate")
    lines = [f"rows per source: {_node_metric_values('broadcast_candidate', 2, 'Range', 'number of output rows')}",
             "rows out of the join: "
             f"{_node_metric_values('broadcast_candidate', 2, 'SortMergeJoin', 'number of output rows')[0]}"]
    lines += [f"stage {sid}: {s['numTasks']:>2} tasks shuffled {s['shuffleWriteRecords']:>9,} records, "
              f"{s['shuffleWriteBytes']:>7,} bytes" for sid, s in sorted(st.items()) if s["shuffleWriteBytes"] > 0]
    lines.append("spark.sql.autoBroadcastJoinThreshold = "
                 + _property("broadcast_candidate", "spark.sql.autoBroadcastJoinThreshold"))
    lines.append(f"broadcast side rows: {_node_metric_values('healthy', 62, 'BroadcastExchange', 'number of output rows')[0]}"
                 f" | its hash table in memory: {_node_metric_values('healthy', 62, 'BroadcastExchange', 'data size')[0]}")
    lines.append(f"join output rows: {_node_metric_values('healthy', 62, 'BroadcastHashJoin', 'number of output rows')[0]}")
    lines.append("rows out of the CartesianProduct: "
                 + _node_metric_values("cartesian", 4, "CartesianProduct", "number of output rows")[0])
    lines.append(f"rows counted out of each Range: {_node_metric_values('cartesian', 4, 'Range', 'number of output rows')}")
    lines.append(f"tasks of the cross-join stage: {_stages('cartesian')[0]['numTasks']}")
    return lines


def _lines_07() -> list[str]:
    st = _stages("spill")
    s2 = st[2]
    (driver,) = _answers("spill")["allexecutors.json"]
    lines = [f"stage 2: {s2['numTasks']} tasks read {_read(s2):,} shuffle bytes",
             f"spilled {s2['memoryBytesSpilled']:,} bytes as held in memory, written as {s2['diskBytesSpilled']:,} bytes to disk",
             f"GC {s2['jvmGcTime']} ms of {s2['executorRunTime']:,} ms executor run time",
             f"unified pool reported by Spark: {driver['maxMemory']:,} bytes",
             f"(heap - 300 MiB) x spark.memory.fraction: {driver['maxMemory']:,} bytes"]
    for t in sorted(_tasks("spill", 2), key=lambda t: t["index"]):
        m = t["taskMetrics"]
        lines.append(f"  task index {t['index']}: {t['duration']:>5} ms, peak execution memory "
                     f"{m['peakExecutionMemory']:,} B, spilled {m['diskBytesSpilled']:,} B to disk")
    lines += [f"stage {sid}: GC {s['jvmGcTime']:>3} ms of {s['executorRunTime']:>5,} ms run time "
              f"({100 * s['jvmGcTime'] / s['executorRunTime']:.1f}%)" for sid, s in sorted(st.items())]
    return lines


def _lines_08() -> list[str]:
    failed = [t for t in _tasks("failed_tasks", 0) if t["status"] == "FAILED"]
    retried = sorted((t for t in _tasks("failed_tasks", 0) if t["index"] in {f["index"] for f in failed}),
                     key=lambda t: t["attempt"])
    lines = [f"stage 0 task index {t['index']} attempt {t['attempt']}: {t['status']:<7} after {t['duration']:>3} ms"
             for t in retried]
    lines.append("exception class: " + failed[0]["errorMessage"].split(":")[0])
    stage = _stages("aborted")[0]
    lines.append(f"stage 0: {stage['status']}, {stage['numCompleteTasks']} of {stage['numTasks']} tasks completed, "
                 f"{stage['numActiveTasks']} still running - {stage['failureReason']}")
    from collections import Counter

    counts = sorted(Counter(t["status"] for t in _tasks("aborted", 0)).items())
    lines.append(f"task attempts by status: {counts}")
    (job,) = _answers("aborted")["jobs.json"]
    lines.append(f"job 0: {job['status']} - ")
    return lines


def _lines_09() -> list[str]:
    lines = []
    for case in ("pair_b_aqe", "pair_b_p16", "pair_b_static"):
        attempt = _answers(case)["application.json"]["attempts"][0]
        st = _stages(case)
        tasks = sum(len(_tasks(case, sid)) for sid, s in st.items() if s["status"] != "SKIPPED")
        run_ms = sum(s["executorRunTime"] for s in st.values())
        lines.append(f"{case:<14} {attempt['duration']:>5} ms wall, {len(_answers(case)['jobs.json'])} job(s), "
                     f"{sum(s['status'] == 'COMPLETE' for s in st.values())} stages run, {tasks:>3} tasks, "
                     f"{run_ms:>5,} ms of executor run time")
        for _sid, s in sorted(st.items()):
            if s["status"] != "COMPLETE":
                continue
            side = "reduce" if _read(s) > 0 else "map"
            lines.append(f"{case:<14} {side:<6} {s['numTasks']:>3} tasks {_wall(s):>4} ms wall "
                         f"{s['executorRunTime']:>5,} ms run  read {_read(s):>7,} B  wrote {s['shuffleWriteBytes']:>7,} B")
    # compare's matching: the map stage with the map stage, the reduce stage with the stage that ran the reduce
    ran = {case: {("reduce" if _read(s) > 0 else "map"): (sid, s["numTasks"]) for sid, s in _stages(case).items()
                  if s["status"] == "COMPLETE"} for case in ("pair_b_static", "pair_b_aqe")}
    for side in ("map", "reduce"):
        (b, b_tasks), (a, a_tasks) = ran["pair_b_static"][side], ran["pair_b_aqe"][side]
        lines.append(f"static stage {b} -> AQE stage {a}: {b_tasks} -> {a_tasks} tasks")
    # the fleet's row of each run: its duration and state as the History Server lists the application
    for case in ("pair_b_aqe", "pair_b_p16", "pair_b_static"):
        attempt = _answers(case)["application.json"]["attempts"][0]
        lines.append(f"{case:<14} {attempt['duration']:>5} ms {'completed' if attempt['completed'] else 'in progress'}:")
    return lines


def _lines_10() -> list[str]:
    def value(case: str, execution: int, node: str, metric: str) -> str:
        return _node_metric_values(case, execution, node, metric)[0].splitlines()[-1].split(" (")[0]

    lines = [f"{name:<35} {value('python_udf', 5, 'BatchEvalPython', name)}"
             for name in ("number of output rows", "time to start Python workers", "time to execute Python code",
                          "time to run Python workers", "data sent to Python workers",
                          "data returned from Python workers")]
    s0 = _stages("python_udf")[0]
    lines.append(f"stage 0: executor run time {s0['executorRunTime']:,} ms, of which JVM CPU time "
                 f"{s0['executorCpuTime'] // 1_000_000:,} ms")
    write = "Execute InsertIntoHadoopFsRelationCommand"
    lines.append(f"written files: {value('small_files', 6, write, 'number of written files')} | written output: "
                 f"{value('small_files', 6, write, 'written output')} | "
                 f"rows: {value('small_files', 6, write, 'number of output rows')}")
    st = _stages("small_files")
    lines.append(f"the writing stage ran {st[1]['numTasks']} tasks in {_wall(st[1]):,} ms")
    lines.append(f"read back: files {value('small_files', 7, 'Scan parquet', 'number of files read')} | size "
                 f"{value('small_files', 7, 'Scan parquet', 'size of files read')}")
    lines.append(f"tasks of the reading stage: {st[3]['numTasks']}")
    lines.append(f"read partitions by Spark's rule: {st[3]['numTasks']}; tasks in the log: {st[3]['numTasks']}")
    return lines


# lesson -> the lines its checked outputs must show, built from the History Server's answers
EXPECTED = {
    "01_getting_started": _lines_01, "02_reading_the_stage_dag": _lines_02, "03_skew_or_straggler": _lines_03,
    "04_partitions": _lines_04, "05_adaptive_query_execution": _lines_05, "06_joins": _lines_06,
    "07_memory_spill_gc": _lines_07, "08_failures": _lines_08, "09_comparing_runs": _lines_09,
    "10_python_udfs_and_small_files": _lines_10,
}


def _checked_text(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return "".join(out.text for c in nb.cells if _checked(c) for out in c.outputs if out.output_type == "stream")


def test_every_lesson_has_history_server_checks():
    assert sorted(EXPECTED) == [p.stem for p in LESSONS]


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_numbers_are_the_history_servers(path: Path):
    """nbval keeps the notebooks printing their committed outputs; these must hold the real answers."""
    text = _checked_text(path)
    missing = [line for line in EXPECTED[path.stem]() if line not in text]
    assert not missing, "lines the History Server's answers give, missing from the lesson:\n" + "\n".join(missing)


# ---- refreshing the committed outputs ---------------------------------------------------------------

def refresh(path: Path) -> None:
    """Run the notebook and keep only its checked cells' outputs; strip widget state and run metadata."""
    import nbformat

    nb = _execute(path, _kernel_env())
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        if _checked(cell):
            cell.outputs = [o for o in cell.outputs if o.output_type == "stream" and o.name == "stdout"]
        else:
            cell.outputs = []
            cell.execution_count = None
    nbformat.validate(nb)
    nbformat.write(nb, path)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "--refresh":
        sys.exit("usage: python tests/test_notebooks.py --refresh [LESSON ...]")
    wanted = set(sys.argv[2:])
    for lesson in LESSONS:
        if not wanted or lesson.stem in wanted:
            print("refreshing", lesson.name, flush=True)
            refresh(lesson)
