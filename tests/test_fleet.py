"""A fleet: every application of a history folder at once, on DuckDB worker processes and on a real local Spark.

The truth is the History Server's application list for the Spark suite's history folder (its ids, attempts,
durations and completed states) and, per application, what loading it alone reports: a fleet row is the same
application the single report shows, found by the same detectors.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd
import pytest

import sparksword_nb as ss
from sparksword_nb.cli import main
from sparksword_nb.widgets.fleet_view import fleet_html

from conftest import SPARK43

SUITE = Path(__file__).parent / "data" / "spark-tests"
HISTORY = SUITE / "logs"


def _records(frame) -> list[dict]:
    """A frame's rows with missing values as None (pandas shows a missing string as NaN)."""
    return [{k: (None if not isinstance(v, (list, tuple)) and not hasattr(v, "__len__") and pd.isna(v) else v)
             for k, v in r.items()} for r in frame.to_dict("records")]


def _history_server_attempts() -> dict[tuple[str, str | None], dict]:
    """(app id, attempt id) -> the History Server's attempt (duration, completed, sparkUser, startTimeEpoch, name)."""
    listed = json.loads((SUITE / "expectations" / "application_list_json_expectation.json").read_text())
    return {(app["id"], attempt.get("attemptId")): {**attempt, "name": app["name"]}
            for app in listed for attempt in app["attempts"]}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    result = ss.fleet(HISTORY, store=tmp_path_factory.mktemp("fleet") / "fleet.duckdb", workers=2, progress=False)
    yield result
    result.close()


def test_every_application_of_the_history_folder_with_the_history_servers_duration_and_state(fleet):
    expected = _history_server_attempts()
    rows = {(r["app_id"], r["attempt_id"]): r for r in _records(fleet.apps)}
    # the History Server's list leaves out two logs its own suite keeps for other cases (same id, other attempt
    # naming); every one it lists is in the fleet, as it lists it
    assert set(expected) <= set(rows)
    assert len(rows) == len(ss.applications_in(HISTORY))
    for key, attempt in expected.items():
        row = rows[key]
        assert row["duration_ms"] == attempt["duration"], key
        assert (row["status"] == "completed") == attempt["completed"], key
        assert row["user"] == attempt["sparkUser"], key
        assert row["start_ms"] == attempt["startTimeEpoch"], key
        assert row["name"] == attempt["name"], key
        assert row["error"] is None


def test_each_row_holds_what_loading_that_application_alone_finds(fleet):
    session = ss.Session()
    for row in _records(fleet.apps):
        log = session.load(row["path"], app=row["app"], cache=False)
        insights = log.insights()
        assert (log.app_id, log.attempt_id or None) == (row["app_id"], row["attempt_id"])
        findings = fleet.findings
        kept = findings[findings["key"] == row["key"]]
        assert sorted(kept["finding"]) == sorted(i.key for i in insights), row["app_id"]
        assert sorted(kept["impact_ms"]) == sorted(i.impact_ms for i in insights)
        assert list(row["finding_types"]) == list(dict.fromkeys(
            i.type for i in sorted(insights, key=lambda i: (-i.impact_ms, i.type))))
        executors = log.rows("SELECT count(*) AS n, sum(cores) AS cores FROM executors "
                             "WHERE cores IS NOT NULL AND added_ms IS NOT NULL")[0]
        assert row["executors"] == executors["n"] or (row["executors"] is None and executors["n"] == 0)
        assert row["tasks"] == log.rows("SELECT count(*) AS n FROM tasks")[0]["n"]


def _epoch_ms(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fGMT").replace(tzinfo=timezone.utc).timestamp() * 1000)


def test_core_hours_are_executor_lifetimes_times_cores_and_task_time_as_the_history_server_lists_them(fleet):
    # LargeBlocks: three one-core executors, none removed before the application's end
    app_id = "application_1553914137147_0018"
    executors = json.loads((SUITE / "expectations" / "executor_list_with_executor_metrics_json_expectation.json")
                           .read_text())
    end = _history_server_attempts()[(app_id, None)]["endTimeEpoch"]
    allocated = sum(e["totalCores"] * (end - _epoch_ms(e["addTime"])) for e in executors if e["id"] != "driver")
    busy = sum(e["totalDuration"] for e in executors if e["id"] != "driver")
    row = fleet.apps[fleet.apps["app_id"] == app_id].iloc[0]
    # the History Server lists the driver too; it holds no task cores, so it is no executor here
    assert (row["executors"], row["cores"]) == (len(executors) - 1, sum(e["totalCores"] for e in executors))
    assert row["core_ms_allocated"] == allocated
    assert row["core_ms_busy"] == busy
    assert row["core_ms_idle"] == allocated - busy
    total = fleet.core_hours()
    assert total["allocated"] == pytest.approx(fleet.apps["core_ms_allocated"].sum() / 3_600_000, abs=1e-3)


def test_a_name_whose_latest_run_took_longer_than_its_earlier_runs_is_slower(fleet):
    # from the History Server's own list: the runs of each name in start order, completed only
    runs: dict[str, list[tuple[int, int]]] = {}
    for attempt in _history_server_attempts().values():
        if attempt["completed"]:
            runs.setdefault(attempt["name"], []).append((attempt["startTimeEpoch"], attempt["duration"]))
    name, shell_runs = max(runs.items(), key=lambda kv: len(kv[1]))
    shell_runs.sort()
    before = statistics.median(d for _, d in shell_runs[:-1])
    latest = shell_runs[-1][1]
    assert latest - before > 1000 and latest > 1.3 * before  # the suite's newest shell ran much longer
    slower = fleet.slower()
    row = slower[slower["name"] == name].iloc[0]
    assert (row["latest_ms"], row["median_before_ms"]) == (latest, int(before))
    assert row["runs"] >= len(shell_runs)


def test_why_a_job_got_slower_compares_its_latest_run_with_a_typical_earlier_one(fleet):
    # from the History Server's list: the shell's runs by start; the typical one is closest to the earlier median
    shell = sorted((a["startTimeEpoch"], a["duration"], app_id) for (app_id, _), a in _history_server_attempts().items()
                   if a["name"] == "Spark shell" and a["completed"])
    median = statistics.median(d for _, d, _ in shell[:-1])
    typical = min(reversed(shell[:-1]), key=lambda run: abs(run[1] - median))
    comparison = fleet.why_slower("Spark shell")
    assert (comparison.before.app_id, comparison.after.app_id) == (typical[2], shell[-1][2])
    assert comparison.duration_ms == (typical[1], shell[-1][1])
    # the terminal and the page say it under the slower job
    assert f"why Spark shell: {comparison.headline[:60]}" in fleet.text(width=10_000)
    assert "why: " in fleet_html(fleet)
    with pytest.raises(ss.SparkswordError, match="LargeBlocks.*1 completed run"):
        fleet.why_slower("LargeBlocks")


def test_the_costliest_findings_sum_each_types_impact_over_the_fleet(fleet):
    findings = fleet.findings
    costly = fleet.costly_findings()
    for r in costly.to_dict("records"):
        of_type = findings[findings["type"] == r["type"]]
        assert r["impact_ms"] == of_type["impact_ms"].sum()
        assert r["apps"] == of_type["key"].nunique()
    assert list(costly["impact_ms"]) == sorted(costly["impact_ms"], reverse=True)


def test_a_second_run_reads_only_new_changed_and_unreadable_logs(tmp_path):
    history = tmp_path / "history"
    shutil.copytree(HISTORY, history)
    store = tmp_path / "fleet.duckdb"
    first = ss.fleet(history, store=store, workers=2, progress=False)
    total = len(first.apps)
    first.close()
    again = ss.fleet(history, store=store, progress=False)
    assert (again.read, again.reused) == (0, total)
    again.close()
    # one log grows (an application still writing), one disappears (the cleaner), one new arrives broken
    grown = history / "local-1422981759269"
    grown.write_bytes(grown.read_bytes() + b'{"Event":"SparkListenerLogStart","Spark Version":"1.2.0"}\n')
    (history / "local-1425081759269").unlink()
    (history / "local-2000000000000").write_bytes(b'{"Event":"SparkListenerLogStart"\n\x00\x01 not json\n')
    third = ss.fleet(history, store=store, workers=2, progress=False)
    assert third.read == 2
    assert third.reused == total - 2
    apps = third.apps
    assert len(apps) == total  # one gone, one new
    assert "local-1425081759269" not in set(apps["app"])
    broken = apps[apps["status"] == "error"]
    assert list(broken["app"]) == ["local-2000000000000"]
    error = broken.iloc[0]["error"]
    assert "local-2000000000000" in error and "\n" not in error
    assert third.errors() == [error]
    third.close()


def test_the_cli_prints_the_fleet_its_json_and_an_offline_page(tmp_path, capsys):
    store, page = tmp_path / "fleet.duckdb", tmp_path / "fleet.html"
    assert main(["fleet", str(HISTORY), "--store", str(store), "--json", "-o", str(page)]) == 0
    data = json.loads(capsys.readouterr().out)
    expected = _history_server_attempts()
    apps = {(a["app_id"], a["attempt_id"]): a for a in data["apps"]}
    assert set(expected) <= set(apps)
    assert all(apps[k]["duration_ms"] == v["duration"] for k, v in expected.items())
    assert all(isinstance(a["findings"], list) and all(isinstance(t, str) for t in a["findings"]) for a in data["apps"])
    for a in data["apps"]:  # each type once, costliest first; the details carry every finding with its severity
        assert a["findings"] == list(dict.fromkeys(d["type"] for d in a["finding_details"]))
        assert all(d["severity"] in ("high", "medium", "low") for d in a["finding_details"])
    assert (data["read"], data["reused"]) == (len(apps), 0)
    assert {f["type"] for f in data["findings_by_type"]} == {t for a in data["apps"] for t in a["findings"]}
    text = page.read_text()
    assert "<script" not in text and "default-src 'none'" in text
    assert "Spark shell" in text and "local-1642039451826" in text
    assert main(["fleet", str(HISTORY), "--store", str(store)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"Fleet of {HISTORY}: {len(apps)} applications")
    assert f"(0 read now, {len(apps)} unchanged since the last run" in out
    assert "slower" in out and "local-1642039451826" in out


def test_a_folder_without_logs_is_one_line(tmp_path, capsys):
    assert main(["fleet", str(tmp_path), "--store", str(tmp_path / "f.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path) in err and "no Spark event logs" in err


def test_the_magic_shows_the_fleet_and_opens_one_application(ip):
    from sparksword_nb.widgets.fleet_view import FleetView

    from conftest import run_cell

    view = run_cell(ip, f"%sparksword fleet {SPARK43}/* -o fl")
    assert isinstance(view, FleetView)
    fleet = ip.user_ns["fl"]
    assert len(fleet.apps) == len(ss.applications_in(f"{SPARK43}/*"))
    key = view.chooser.options[0][1]
    report = view.open_app(key)
    row = fleet.apps.set_index("key").loc[key]
    assert report.event_log.app_id == row["app_id"]


def test_spark_engine_gives_the_same_fleet_as_duckdb(fleet, tmp_path):
    if importlib.util.find_spec("pyspark") is None:  # not imported here: the no-session tests need it unloaded
        pytest.skip("pyspark is not installed")
    # the CLI as a user runs it, in its own process (a JVM started here would stay for the rest of the tests)
    done = subprocess.run([sys.executable, "-m", "sparksword_nb.cli", "fleet", str(HISTORY), "--engine", "spark",
                           "--store", str(tmp_path / "spark.duckdb"), "--json"],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "SPARK_MASTER": "local[2]", "PYSPARK_PYTHON": sys.executable})
    assert done.returncode == 0, done.stderr[-2000:]
    on_spark = json.loads(done.stdout)
    assert on_spark["engine"] == "spark" and on_spark["read"] == len(fleet.apps)
    ours = {a["key"]: a for a in on_spark["apps"]}
    theirs = {a["key"]: a for a in fleet.to_json()["apps"]}
    assert set(ours) == set(theirs)
    columns = ["app_id", "attempt_id", "name", "duration_ms", "status", "core_ms_allocated", "core_ms_busy", "findings"]
    for key, app in theirs.items():
        assert {c: ours[key][c] for c in columns} == {c: app[c] for c in columns}, key
    assert on_spark["findings_by_type"] == fleet.to_json()["findings_by_type"]


def test_a_fleet_kept_in_a_notebook_leaves_its_store_free_for_the_next_run(fleet):
    # `fleet` stays open in this process, as in a kernel; another process (the CLI, a scheduled job) runs again
    done = subprocess.run([sys.executable, "-m", "sparksword_nb.cli", "fleet", str(HISTORY), "--store",
                           fleet.store.path], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert f"(0 read now, {len(fleet.apps)} unchanged since the last run" in done.stdout
