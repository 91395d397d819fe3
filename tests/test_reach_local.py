"""Reaching the user's logs without knowing their path: sample names, a folder's table of applications,
rows and ids as `app=`, and the magic's Python expansion ($var, {expr}); all on real logs."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest

import sparksword_nb as ss
from sparksword_nb import SparkswordError, samples
from sparksword_nb.errors import SeveralApplications

from conftest import SPARK_TESTS, spark43_answers, spark43_log_path
from conftest import run_cell as run

HS_LISTING = json.loads((SPARK_TESTS / "expectations" / "application_list_json_expectation.json").read_text())


def test_a_sample_name_loads_wherever_a_path_does(tmp_path, monkeypatch):
    log = ss.Session().load("skewed_join", cache=False)
    assert log.app_id == spark43_answers("skewed_join")["application.json"]["id"]
    # a real file or folder of that name in the working directory wins over the sample
    monkeypatch.chdir(tmp_path)
    shutil.copytree(spark43_log_path("healthy"), tmp_path / "skewed_join")
    assert ss.Session().load("skewed_join", cache=False).app_id == spark43_answers("healthy")["application.json"]["id"]


def test_the_cli_takes_a_sample_name():
    run = subprocess.run([sys.executable, "-m", "sparksword_nb.cli", "summary", "skewed_join", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["app_id"] == spark43_answers("skewed_join")["application.json"]["id"]


def test_a_folders_table_matches_the_history_servers_application_list():
    table = ss.applications_in(SPARK_TESTS / "logs")
    attempts = {(a["id"], a.get("attempts")[i].get("attemptId")): a["attempts"][i] | {"name": a["name"]}
                for a in HS_LISTING for i in range(len(a["attempts"]))}
    assert len(table) == len(attempts) == 18
    for row in table.itertuples():
        hs = attempts[(row.app_id, None if pd.isna(row.attempt_id) else row.attempt_id)]
        assert row.name == hs["name"]
        assert row.start == pd.Timestamp(hs["startTimeEpoch"], unit="ms", tz="UTC")
        assert row.status == ("completed" if hs["completed"] else "in progress")
        if hs["completed"]:
            assert row.duration_ms == hs["duration"], row.app
    # newest first, as the History Server lists them
    assert list(table["start"]) == sorted(table["start"], reverse=True)


def test_several_applications_are_a_choice_by_name_id_or_row():
    folder = SPARK_TESTS / "logs"
    with pytest.raises(SeveralApplications) as info:
        ss.Session().load(folder, cache=False)
    assert "--app" in str(info.value) and "app=" in str(info.value)
    table = info.value.table()
    assert len(table) == 18
    by_row = ss.Session().load(folder, app="3", cache=False)
    assert by_row.app_id == table["app_id"][3]
    with pytest.raises(SparkswordError, match="no row 18 in the table of its 18 applications"):
        ss.Session().load(folder, app="18", cache=False)


def test_a_sample_that_does_not_exist_is_still_a_missing_path():
    with pytest.raises(SparkswordError, match="no such file or directory"):
        ss.Session().load("skewed_joins", cache=False)
    assert "skewed_join" in {s.name for s in samples.list()}


# ---- the magic --------------------------------------------------------------------------------------


def test_variables_and_expressions_expand_and_a_path_with_spaces_stays_one_argument(ip, tmp_path):
    spaced = tmp_path / "my logs" / "skewed join"
    shutil.copytree(spark43_log_path("skewed_join"), spaced)
    expected = spark43_answers("skewed_join")["application.json"]["id"]
    ip.user_ns["p"] = str(spaced)
    run(ip, "%sparksword $p -o log;")
    assert ip.user_ns["log"].app_id == expected
    ip.user_ns["folder"] = str(spaced.parent)
    run(ip, "%sparksword {folder + '/skewed join'} -o log;")
    assert ip.user_ns["log"].app_id == expected
    run(ip, f"%sparksword '{spaced}' -o log;")  # quoting by hand still works
    assert ip.user_ns["log"].app_id == expected


def test_an_undefined_variable_leaves_the_line_as_written(ip):
    with pytest.raises(SparkswordError, match=r"/tmp/\$undefined_name/log: no such file"):
        run(ip, "%sparksword /tmp/$undefined_name/log")


def test_a_folder_of_applications_shows_a_table_whose_rows_open_their_report(ip):
    from sparksword_nb.widgets import Report
    from sparksword_nb.widgets.app_picker import AppPicker

    picker = run(ip, f"%sparksword {SPARK_TESTS / 'logs'} -o picked_log")
    assert isinstance(picker, AppPicker) and len(picker.buttons) == 18
    assert "picked_log" not in ip.user_ns  # nothing loaded until a row is opened
    picker.buttons[2]._click_handlers(picker.buttons[2])  # what a click in the browser runs in the kernel
    assert isinstance(picker.result, Report)
    assert ip.user_ns["picked_log"].app_id == picker.table["app_id"][2]
    # --app with the row number loads the same application directly
    run(ip, f"%sparksword {SPARK_TESTS / 'logs'} --app 2 -o log;")
    assert ip.user_ns["log"].app_id == picker.table["app_id"][2]


def test_no_argument_without_a_spark_session_says_what_it_looks_for(ip):
    from IPython.core.error import UsageError

    if "pyspark" in sys.modules:
        pytest.skip("pyspark was imported by another test in this process")
    with pytest.raises(UsageError, match="SparkSession"):
        run(ip, "%sparksword")


def _cli(*argv: str, columns: int = 100) -> subprocess.CompletedProcess:
    import os

    env = dict(os.environ, COLUMNS=str(columns))
    return subprocess.run([sys.executable, "-m", "sparksword_nb.cli", *argv], capture_output=True, text=True,
                          timeout=120, env=env)


def test_the_cli_lists_a_folders_applications_and_a_command_on_the_folder_shows_them():
    listed = _cli("apps", str(SPARK_TESTS / "logs"), "--json")
    assert listed.returncode == 0, listed.stderr
    records = json.loads(listed.stdout)
    assert [r["app"] for r in records] == list(ss.applications_in(SPARK_TESTS / "logs")["app"])
    text = _cli("apps", str(SPARK_TESTS / "logs"))
    assert text.returncode == 0 and len(text.stdout.splitlines()) == 19
    assert max(len(line) for line in text.stdout.splitlines()) <= 100
    summary = _cli("summary", str(SPARK_TESTS / "logs"))
    assert summary.returncode == 2 and "Traceback" not in summary.stderr
    lines = summary.stderr.splitlines()
    assert lines[-1].endswith("holds 18 applications; choose one with --app (its app, id or row above)")
    assert lines[1].split()[:2] == ["0", records[0]["app"]]
    picked = _cli("summary", str(SPARK_TESTS / "logs"), "--app", "1", "--json")
    assert json.loads(picked.stdout)["app_id"] == records[1]["app_id"]


def test_a_live_report_follows_a_growing_log_until_it_is_renamed_complete(tmp_path):
    from sparksword_nb.widgets.live import LiveReport

    source = spark43_log_path("plain_single")  # a finished single-file log, written again as Spark writes it
    whole = source.read_bytes()
    half = whole[: whole.index(b"\n", len(whole) // 2) + 1]
    folder = tmp_path / "spark-events"
    folder.mkdir()
    shutil.copytree(spark43_log_path("healthy"), folder / spark43_log_path("healthy").name)  # another app beside it
    growing = folder / f"{source.name}.inprogress"
    growing.write_bytes(half)
    import ipywidgets

    live = LiveReport(str(folder), app=source.name, start=False, report=lambda log: ipywidgets.HTML(log.app_id))
    first = live.history[-1]
    assert first.changed and not first.completed and live.children[1].value == live.event_log.app_id
    assert live.refresh().changed is False  # nothing appended: nothing loaded
    with open(growing, "ab") as out:
        out.write(whole[len(half):])
    growing.rename(folder / source.name)  # what Spark does when the application stops
    last = live.refresh()
    assert last.changed and last.completed and live.finished
    answers = spark43_answers("plain_single")
    assert last.jobs == len(answers["jobs.json"]) and first.running_jobs == 1 and last.running_jobs == 0
    assert first.tasks < last.tasks
    assert last.tasks == sum(s["numCompleteTasks"] + s["numFailedTasks"] + s["numKilledTasks"]
                             for s in answers["stages.json"])
