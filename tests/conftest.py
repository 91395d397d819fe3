"""Shared fixtures: the real event logs in tests/data and the History Server's answers for them."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).parent / "data"
SPARK43 = DATA / "spark-4.3.0"
SPARK_TESTS = DATA / "spark-tests"

# Fields that depend on the History Server's machine, not on the log: its file times and log directory.
_ENVIRONMENT_FIELDS = {"lastUpdated", "lastUpdatedEpoch", "logSourceName", "logSourceFullPath"}


@pytest.fixture(autouse=True, scope="session")
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never touch the user's real cache directory."""
    import os

    os.environ["SPARKSWORD_CACHE_DIR"] = str(tmp_path_factory.mktemp("sparksword-cache"))


def normalize(value: Any) -> Any:
    """Drop the History Server's machine-dependent fields (as its own suite clears lastUpdated)."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items() if k not in _ENVIRONMENT_FIELDS}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def first_difference(ours: Any, expected: Any, where: str = "$") -> str | None:
    """The first place two JSON values differ (object key order ignored, list order kept), or None."""
    if isinstance(expected, dict) and isinstance(ours, dict):
        for key in sorted(set(expected) | set(ours)):
            if key not in ours:
                return f"{where}.{key}: missing (expected {json.dumps(expected[key])[:200]})"
            if key not in expected:
                return f"{where}.{key}: unexpected (ours {json.dumps(ours[key])[:200]})"
            diff = first_difference(ours[key], expected[key], f"{where}.{key}")
            if diff:
                return diff
        return None
    if isinstance(expected, list) and isinstance(ours, list):
        if len(expected) != len(ours):
            return f"{where}: {len(ours)} items, expected {len(expected)}"
        for i, (a, b) in enumerate(zip(ours, expected)):
            diff = first_difference(a, b, f"{where}[{i}]")
            if diff:
                return diff
        return None
    # JSON numbers: the History Server writes 1.0 where we may compute 1
    if isinstance(expected, (int, float)) and isinstance(ours, (int, float)) and not isinstance(ours, bool):
        return None if float(ours) == float(expected) else f"{where}: ours {ours!r}, expected {expected!r}"
    return None if ours == expected else f"{where}: ours {json.dumps(ours)[:300]}, expected {json.dumps(expected)[:300]}"


def assert_same_answer(ours: Any, expected: Any) -> None:
    """Fail with the first differing field when our answer is not the History Server's."""
    diff = first_difference(normalize(json.loads(json.dumps(ours))), normalize(expected))
    assert diff is None, diff


def assert_loaded_as_the_history_server_read_it(log: Any, case: str) -> None:
    """`log` is the Spark 4.3.0 case's application, with the History Server's jobs and stages (a log read from
    elsewhere: a remote store, a History Server's download)."""
    answers = spark43_answers(case)
    assert log.app_id == answers["application.json"]["id"]
    assert_same_answer(log.rest(f"applications/{log.app_id}/jobs"), answers["jobs.json"])
    assert_same_answer(log.rest(f"applications/{log.app_id}/stages"), answers["stages.json"])


def spark43_cases() -> list[str]:
    """The Spark 4.3.0 log folders (each has a history-server/ folder of answers)."""
    return sorted(p.name for p in SPARK43.iterdir() if (p / "history-server").is_dir())


def spark43_log_path(case: str) -> Path:
    """The event log (file or rolling dir) of one Spark 4.3.0 case."""
    entries = [p for p in (SPARK43 / case).iterdir() if p.name != "history-server"]
    assert len(entries) == 1, entries
    return entries[0]


def spark43_answers(case: str) -> dict[str, Any]:
    """{file name: parsed JSON} of what the History Server answered for one case."""
    return {p.name: json.loads(p.read_text()) for p in sorted((SPARK43 / case / "history-server").glob("*.json"))}


_CASE_ROW = re.compile(r"^\| `(?P<file>[^`]+_expectation\.json)` \| \d+ \| [^|]+ \| `(?P<url>[^`]+)` \|")


def spark_tests_cases() -> list[tuple[str, str]]:
    """(golden file, REST path below /api/v1/) for the 60 cases of the Spark History Server suite."""
    rows = []
    for line in (SPARK_TESTS / "CASES.md").read_text().splitlines():
        m = _CASE_ROW.match(line)
        if m:
            rows.append((m.group("file"), m.group("url").removeprefix("/api/v1/")))
    return rows


@pytest.fixture(scope="session")
def spark_tests_session():
    """A session holding all 18 logs of the Spark suite's history directory, as its History Server does."""
    from sparksword_nb import Session

    session = Session()
    session.load_all(SPARK_TESTS / "logs", cache=False)
    yield session
    session.close()


@pytest.fixture(scope="session")
def spark43_session():
    """A session that loads Spark 4.3.0 cases on first use; returns the case's EventLog."""
    from sparksword_nb import Session

    session = Session()
    loaded: dict[str, Any] = {}

    def get(case: str):
        if case not in loaded:
            loaded[case] = session.load(spark43_log_path(case), cache=False)
        return loaded[case]

    yield get
    session.close()


@pytest.fixture(scope="session")
def shell():
    """IPython's test shell (a real InteractiveShell), shared by the magic's tests."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.testing.globalipapp import start_ipython

    # start_ipython returns the shell only on its first call in a process; then the singleton is it
    return start_ipython() or InteractiveShell.instance()


@pytest.fixture
def ip(shell):
    """The shell with the extension freshly loaded; unloaded (connection closed) after the test."""
    shell.run_line_magic("load_ext", "sparksword_nb")
    names = set(shell.user_ns)
    yield shell
    shell.run_line_magic("unload_ext", "sparksword_nb")
    shell.config.pop("SparkswordMagics", None)  # %config settings a test made
    for name in set(shell.user_ns) - names:
        shell.user_ns.pop(name, None)
    shell.user_ns.pop("_", None)


def run_cell(ip, cell: str):
    """Run a cell in the shell; return its result, re-raising what the cell raised."""
    result = ip.run_cell(cell)
    result.raise_error()
    return result.result
