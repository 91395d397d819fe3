"""The History Server's stage resources (`stages`, one stage, `taskSummary`, `taskList`) from our tables.

Every expectation is an answer of a real History Server: the Spark 4.3.0 one over tests/data/spark-4.3.0
(fetched as /work/shared/tools/history_server_answers.sh does) and the Spark project's own suite goldens.
"""
from __future__ import annotations

import functools
import json
import os
import shutil
from unittest import mock

import pytest

from sparksword_nb import Session, SparkswordError
from sparksword_nb.rest import answer

from conftest import (
    SPARK43,
    SPARK_TESTS,
    assert_same_answer,
    spark43_cases,
    spark43_log_path,
    spark_tests_cases,
)


def _rest_query(file_name: str) -> str:
    """The REST path (below the application) the History Server was asked for this answer file."""
    stem = file_name.removesuffix(".json")
    if stem == "stages":
        return "stages?details=false"
    kind, stage, attempt = stem.split("_")
    if kind == "stage":
        return f"stages/{stage}/{attempt}?details=false"
    if kind == "taskSummary":
        return f"stages/{stage}/{attempt}/taskSummary?quantiles=0.0,0.25,0.5,0.75,1.0"
    return f"stages/{stage}/{attempt}/taskList?length=100000"


def _spark43_stage_files() -> list[tuple[str, str]]:
    files = []
    for case in spark43_cases():
        folder = SPARK43 / case / "history-server"
        names = ["stages.json"] + [
            p.name for pattern in ("stage_*.json", "taskSummary_*.json", "taskList_*.json")
            for p in folder.glob(pattern)
        ]
        files.extend((case, name) for name in sorted(names))
    return files


def _read_answer(case: str, name: str):
    return json.loads((SPARK43 / case / "history-server" / name).read_text())


@functools.cache
def _has_unfinished_tasks(case: str) -> bool:
    """Whether the History Server listed tasks that never ended (it measures them up to the log's mtime)."""
    folder = SPARK43 / case / "history-server"
    return any(
        task["status"] == "RUNNING" for p in folder.glob("taskList_*.json") for task in json.loads(p.read_text())
    )


@pytest.fixture(scope="module")
def replayed_as_the_history_server_saw_it(tmp_path_factory):
    """Case -> its log loaded from a copy whose files carry the modification time the History Server saw.

    Spark measures a task that never ended up to the log's last modification (SPARK-21922); that time is
    the attempt's `lastUpdated` in the History Server's application.json, and a checkout has another one.
    """
    session = Session()
    loaded = {}

    def get(case: str):
        if case not in loaded:
            source = spark43_log_path(case)
            target = tmp_path_factory.mktemp(case) / source.name
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
            seen = _read_answer(case, "application.json")["attempts"][0]["lastUpdatedEpoch"] / 1000
            for path in [target, *target.rglob("*")] if target.is_dir() else [target]:
                if path.is_file():
                    os.utime(path, (seen, seen))
            loaded[case] = session.load(target, cache=False)
        return loaded[case]

    yield get
    session.close()


@pytest.mark.parametrize(("case", "name"), _spark43_stage_files(), ids=lambda v: v)
def test_spark43_stage_answers(case, name, spark43_session, replayed_as_the_history_server_saw_it):
    log = spark43_session(case)
    seen_ms = _read_answer(case, "application.json")["attempts"][0]["lastUpdatedEpoch"]
    if name.startswith("task") and _has_unfinished_tasks(case):
        log = replayed_as_the_history_server_saw_it(case)
    # without ApplicationEnd, the History Server measured running tasks up to when it listed the log
    with mock.patch("time.time", return_value=seen_ms / 1000):
        ours = answer(log, f"applications/{log.app_id}/{_rest_query(name)}")
    assert_same_answer(ours, _read_answer(case, name))


def _stage_suite_cases() -> list[tuple[str, str]]:
    return [(golden, url) for golden, url in spark_tests_cases() if "/stages" in url]


@pytest.mark.parametrize(("golden", "url"), _stage_suite_cases(), ids=[g for g, _ in _stage_suite_cases()])
def test_spark_suite_stage_goldens(golden, url, spark_tests_session):
    expected = json.loads((SPARK_TESTS / "expectations" / golden).read_text())
    assert_same_answer(answer(spark_tests_session, url), expected)


def _stages_without_metrics() -> list[tuple[str, int, int]]:
    """Stage attempts for which the History Server answered every resource but the task summary (404)."""
    out = []
    for case in spark43_cases():
        folder = SPARK43 / case / "history-server"
        for stage in _read_answer(case, "stages.json"):
            key = f"{stage['stageId']}_{stage['attemptId']}"
            if (folder / f"taskList_{key}.json").exists() and not (folder / f"taskSummary_{key}.json").exists():
                out.append((case, stage["stageId"], stage["attemptId"]))
    return out


@pytest.mark.parametrize(("case", "stage", "attempt"), _stages_without_metrics())
def test_task_summary_of_a_stage_without_successful_tasks_is_not_found(case, stage, attempt, spark43_session):
    log = spark43_session(case)
    with pytest.raises(SparkswordError, match=rf"^No tasks reported metrics for {stage} / {attempt} yet\.$"):
        answer(log, f"applications/{log.app_id}/stages/{stage}/{attempt}/taskSummary")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        # the History Server suite's "response codes on bad paths" (tests/data/spark-tests/CASES.md)
        ("applications/local-1422981780767/stages/12345", "unknown stage: 12345"),
        ("applications/local-1422981780767/stages/1/1", "unknown attempt for stage 1.  Found attempts: [0]"),
        ("applications/local-1422981780767/stages/12345/0", "unknown stage: 12345"),
        (
            "applications/local-1430917381534/stages/0/0/taskSummary?quantiles=foo,0.1",
            'Bad value for parameter "quantiles".  Expected a double, got "foo"',
        ),
    ],
)
def test_bad_stage_paths_fail_with_the_history_servers_message(path, message, spark_tests_session):
    with pytest.raises(SparkswordError) as failure:
        answer(spark_tests_session, path)
    assert str(failure.value) == message


def test_stage_list_with_details_keeps_the_stages_with_tasks_in_the_asked_state(spark_tests_session):
    """`stages?details=true&taskStatus=FAILED`: the stages that had a failed task, each with those tasks."""
    stages = json.loads((SPARK_TESTS / "expectations" / "stage_list_json_expectation.json").read_text())
    with_failures = {(s["stageId"], s["attemptId"]): s["numFailedTasks"] for s in stages if s["numFailedTasks"] > 0}
    assert with_failures  # the suite's log has a failed stage
    listed = answer(spark_tests_session, "applications/local-1422981780767/stages?details=true&taskStatus=FAILED")
    assert [(s["stageId"], s["attemptId"]) for s in listed] == list(with_failures)
    for stage in listed:
        assert {t["status"] for t in stage["tasks"].values()} == {"FAILED"}
        assert len(stage["tasks"]) == with_failures[(stage["stageId"], stage["attemptId"])]


def test_unknown_sort_order_is_refused(spark_tests_session):
    with pytest.raises(SparkswordError, match="Supported type values: ID, INCREASING_RUNTIME, DECREASING_RUNTIME"):
        answer(spark_tests_session, "applications/local-1430917381534/stages/0/0/taskList?sortBy=size")
