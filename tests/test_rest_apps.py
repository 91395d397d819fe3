"""History Server answers for applications, jobs, environment, executors and storage equal the real ones.

The truth is what a real History Server answered: Spark 4.3.0's for the logs in tests/data/spark-4.3.0,
and the Spark project's own HistoryServerSuite golden files for tests/data/spark-tests.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sparksword_nb import SparkswordError
from sparksword_nb.rest import answer

from conftest import SPARK_TESTS, assert_same_answer, spark43_answers, spark43_cases, spark_tests_cases

# Spark-suite REST paths this module's endpoints answer (application list and apps, jobs, executors,
# environment, storage, miscellaneous processes); the stage and SQL ones are tested elsewhere.
_OUR_PATHS = re.compile(
    r"^applications(/[^/]+(/\d+)?)?$"
    r"|/(jobs(/\d+)?|executors|allexecutors|environment|storage/rdd(/\d+)?|allmiscellaneousprocess)$"
)


def _running(case: str) -> bool:
    """Whether the History Server saw the case's application as still running (from its own answer)."""
    return not spark43_answers(case)["application.json"]["attempts"][0]["completed"]


def _suite_cases() -> list[Any]:
    cases = []
    for golden, url in spark_tests_cases():
        if _OUR_PATHS.search(url.split("?", 1)[0]):
            cases.append(pytest.param(golden, url, id=golden.removesuffix("_expectation.json")))
    return cases


def _executor_cases() -> list[Any]:
    reason = (
        "the History Server gives a running application's driver totalDuration = System.currentTimeMillis() - "
        "start at query time (AppStatusStore.extractAppTime), which no log can reproduce"
    )
    return [
        pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=reason)) if _running(case) else case
        for case in spark43_cases()
    ]


@pytest.mark.parametrize("case", spark43_cases())
def test_spark43_application(spark43_session, case: str) -> None:
    log = spark43_session(case)
    assert_same_answer(answer(log, f"applications/{log.app_id}"), spark43_answers(case)["application.json"])


@pytest.mark.parametrize("case", spark43_cases())
def test_spark43_jobs(spark43_session, case: str) -> None:
    log = spark43_session(case)
    assert_same_answer(answer(log, f"applications/{log.app_id}/jobs"), spark43_answers(case)["jobs.json"])


@pytest.mark.parametrize("case", spark43_cases())
def test_spark43_environment(spark43_session, case: str) -> None:
    log = spark43_session(case)
    assert_same_answer(
        answer(log, f"applications/{log.app_id}/environment"), spark43_answers(case)["environment.json"]
    )


@pytest.mark.parametrize("case", _executor_cases())
def test_spark43_allexecutors(spark43_session, case: str) -> None:
    log = spark43_session(case)
    assert_same_answer(
        answer(log, f"applications/{log.app_id}/allexecutors"), spark43_answers(case)["allexecutors.json"]
    )


def _without_driver_duration(executors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in e.items() if not (e["id"] == "driver" and k == "totalDuration")} for e in executors]


@pytest.mark.parametrize("case", [c for c in spark43_cases() if _running(c)])
def test_spark43_allexecutors_of_running_apps_apart_from_the_query_time_driver_duration(
    spark43_session, case: str
) -> None:
    log = spark43_session(case)
    ours = json.loads(json.dumps(answer(log, f"applications/{log.app_id}/allexecutors")))
    expected = spark43_answers(case)["allexecutors.json"]
    assert_same_answer(_without_driver_duration(ours), _without_driver_duration(expected))
    # what is left of the driver's totalDuration: the History Server was queried after the log was written
    driver = next(e for e in expected if e["id"] == "driver")
    start = spark43_answers(case)["application.json"]["attempts"][0]["startTimeEpoch"]
    assert start + driver["totalDuration"] > log.sql("SELECT max(launch_ms) FROM tasks").fetchall()[0][0]


@pytest.mark.parametrize(("golden", "url"), _suite_cases())
def test_spark_suite_case(spark_tests_session, golden: str, url: str) -> None:
    expected = json.loads((SPARK_TESTS / "expectations" / golden).read_text())
    assert_same_answer(answer(spark_tests_session, url), expected)


def test_one_attempt_is_the_attempt_of_the_application(spark_tests_session) -> None:
    expected = json.loads((SPARK_TESTS / "expectations" / "one_app_multi_attempt_json_expectation.json").read_text())
    for attempt in expected["attempts"]:
        ours = answer(spark_tests_session, f"applications/local-1426533911241/{attempt['attemptId']}")
        assert_same_answer(ours, attempt)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("applications/local-1422981780767/jobs/12345", "unknown job: 12345"),
        ("applications/local-1422981780767/jobs?status=nosuch", "unknown job status: nosuch"),
        ("applications?status=finished", "unknown application status: finished"),
        ("applications?minDate=yesterday", "Couldn't parse date: yesterday"),
        ("applications/local-1422981780767/storage/rdd/99", "no rdd found w/ id 99"),
    ],
)
def test_bad_requests_say_what_is_wrong(spark_tests_session, path: str, message: str) -> None:
    with pytest.raises(SparkswordError, match=re.escape(message)):
        answer(spark_tests_session, path)


def test_running_filter_keeps_only_running_applications(spark43_session) -> None:
    # the Spark suite has no running application; the Spark 4.3.0 cases have two (per the History Server)
    logs = [spark43_session(case) for case in spark43_cases()]
    running = {a["id"] for a in answer(logs[0], "applications?status=running")}
    expected = {spark43_answers(c)["application.json"]["id"] for c in spark43_cases() if _running(c)}
    assert running == expected
    listed = answer(logs[0], "applications")
    # running applications have end time -1, so they come last in the History Server's order
    assert {a["id"] for a in listed[-len(expected):]} == expected
