"""History Server answers for situations first seen on other people's clusters (issue 12), on real Spark 4.3.0
logs of our own (tests/data/generated/conformance, written by its make_logs.py, answered by a real History
Server): settings whose names hold "credential", a reused subquery, and an executor lost after its tasks
succeeded (local-cluster mode: Spark ends those tasks again as `Resubmitted`).
"""
from __future__ import annotations

import json

import pytest

from sparksword_nb import Session
from sparksword_nb.rest import answer

from conftest import DATA, assert_same_answer

CASES = DATA / "generated" / "conformance"
REDACTED = "*********(redacted)"


def _case_names() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "history-server").is_dir())


def _answers(case: str) -> dict[str, object]:
    return {p.name: json.loads(p.read_text()) for p in sorted((CASES / case / "history-server").glob("*.json"))}


def _rest_path(name: str) -> str:
    """The REST path below applications/<id> the History Server was asked for this answer file."""
    stem = name.removesuffix(".json")
    fixed = {"application": "", "jobs": "/jobs", "environment": "/environment", "allexecutors": "/allexecutors",
             "sql": "/sql?details=true&planDescription=false", "stages": "/stages?details=false"}
    if stem in fixed:
        return fixed[stem]
    kind, stage, attempt = stem.split("_")
    return {"stage": f"/stages/{stage}/{attempt}?details=false",
            "taskSummary": f"/stages/{stage}/{attempt}/taskSummary?quantiles=0.0,0.25,0.5,0.75,1.0",
            "taskList": f"/stages/{stage}/{attempt}/taskList?length=100000"}[kind]


@pytest.fixture(scope="module")
def loaded():
    session = Session()
    logs = {case: session.load(next((CASES / case).glob("eventlog_v2_*")), cache=False) for case in _case_names()}
    yield logs
    session.close()


def _files() -> list[tuple[str, str]]:
    return [(case, name) for case in _case_names() for name in _answers(case)]


@pytest.mark.parametrize(("case", "name"), _files(), ids=[f"{c}/{n}" for c, n in _files()])
def test_answer_equals_the_history_servers(loaded, case: str, name: str):
    log = loaded[case]
    assert_same_answer(answer(log, f"applications/{log.app_id}{_rest_path(name)}"), _answers(case)[name])


def test_the_corpus_holds_the_three_situations():
    assert _case_names() == ["credential_settings", "executor_lost", "reused_subquery"]


def test_settings_named_credential_are_redacted(loaded):
    env = _answers("credential_settings")["environment.json"]
    hadoop = dict(map(tuple, env["hadoopProperties"]))
    spark = dict(map(tuple, env["sparkProperties"]))
    # the History Server hid them (Spark 4.3's default redaction regex includes "credential")
    assert hadoop["fs.s3a.aws.credentials.provider"] == REDACTED
    assert spark["spark.sql.catalog.demo.credential.source"] == REDACTED
    ours = answer(loaded["credential_settings"], f"applications/{loaded['credential_settings'].app_id}/environment")
    assert dict(map(tuple, ours["hadoopProperties"]))["fs.s3a.aws.credentials.provider"] == REDACTED


def test_a_reused_subquery_is_one_edge(loaded):
    log = loaded["reused_subquery"]
    plans = log.rows("SELECT count(*) AS n FROM sql_plan_nodes")
    assert plans[0]["n"] > 0
    for execution in _answers("reused_subquery")["sql.json"]:
        pairs = [(e["fromId"], e["toId"]) for e in execution["edges"]]
        assert len(pairs) == len(set(pairs)), "Spark lists each edge once"
    ours = answer(log, f"applications/{log.app_id}/sql?details=true&planDescription=false")
    for execution in ours:
        pairs = [(e["fromId"], e["toId"]) for e in execution["edges"]]
        assert len(pairs) == len(set(pairs))


def test_tasks_resubmitted_after_their_executor_was_lost_keep_their_success(loaded):
    log = loaded["executor_lost"]
    (lost,) = log.rows("SELECT executor_id FROM tasks WHERE end_reason = 'ExecutorLostFailure'")
    resubmitted = log.rows("SELECT task_id, status, has_metrics, executor_id FROM tasks WHERE resubmitted_ord IS NOT NULL")
    assert resubmitted, "the log ends some tasks twice: Success, then Resubmitted"
    assert all(t["status"] == "SUCCESS" and t["has_metrics"] for t in resubmitted)
    assert {t["executor_id"] for t in resubmitted} == {lost["executor_id"]}
    stage = next(s for s in _answers("executor_lost")["stages.json"] if s["stageId"] == 0)
    # the History Server counts each success and each Resubmitted end
    assert stage["numFailedTasks"] == 1 + len(resubmitted)
