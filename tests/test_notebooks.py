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

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"
HISTORY = ROOT / "tests" / "data" / "spark-4.3.0"
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


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_executes_without_error(path: Path):
    _execute(path, _kernel_env())


@pytest.mark.parametrize("path", LESSONS, ids=_ids(LESSONS))
def test_lesson_checked_outputs_match_with_nbval(path: Path):
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
         "--nbval-sanitize-with", str(SANITIZE), str(path)],
        cwd=ROOT, env=_kernel_env(), capture_output=True, text=True, timeout=600,
    )
    tail = (done.stdout + done.stderr)[-6000:]
    assert done.returncode == 0, tail
    assert re.search(r"\b\d+ passed\b", done.stdout) and "failed" not in done.stdout, tail


# ---- the taught numbers are the History Server's -------------------------------------------------

def _answers(case: str) -> dict[str, Any]:
    folder = HISTORY / case / "history-server"
    return {p.name: json.loads(p.read_text()) for p in folder.glob("*.json")}


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


def _expected_lines(lesson: str) -> list[str]:
    """Lines a lesson's checked outputs must contain, each built from the History Server's answers."""
    if lesson == "01_getting_started":
        st = _stages("skewed_join")
        tasks = sum(len(_tasks("skewed_join", s)) for s in st)
        lines = [f"jobs {len(_answers('skewed_join')['jobs.json'])}, stages {len(st)}, task attempts {tasks}"]
        for sid in sorted(st):
            durations = [t["duration"] for t in _tasks("skewed_join", sid)]
            read = st[sid]["shuffleLocalBytesRead"] + st[sid]["shuffleRemoteBytesRead"]
            lines.append(f"stage {sid}: {len(durations):>2} tasks, {min(durations):>3} to {max(durations):>3} ms, "
                         f"shuffle read {read:>7,} bytes")
            lines.append(f"stage {sid}: task duration min/p25/median/p75/max = "
                         f"{_q(_summary('skewed_join', sid)['duration'])} ms")
        s2 = _summary("skewed_join", 2)
        lines.append(f"stage 2 median and max task duration: [{s2['duration'][2]}, {s2['duration'][4]}] ms")
        read = s2["shuffleReadMetrics"]["readBytes"]
        lines.append(f"stage 2 median and max shuffle read: [{read[2]}, {read[4]}] bytes")
        return lines
    raise KeyError(lesson)


def _checked_text(path: Path) -> str:
    import nbformat

    nb = nbformat.read(path, as_version=4)
    return "".join(out.text for c in nb.cells if _checked(c) for out in c.outputs if out.output_type == "stream")


TRUTH_CHECKED = [p for p in LESSONS if p.stem in {"01_getting_started"}]


@pytest.mark.parametrize("path", TRUTH_CHECKED, ids=_ids(TRUTH_CHECKED))
def test_lesson_numbers_are_the_history_servers(path: Path):
    """nbval keeps the notebooks printing their committed outputs; these must hold the real answers."""
    text = _checked_text(path)
    missing = [line for line in _expected_lines(path.stem) if line not in text]
    assert not missing, "\n".join(missing)


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
