"""`applications/{app}/sql`: our answers against the History Server's, and against the log's own numbers."""
from __future__ import annotations

import json

import pytest

import sparksword_nb as ss
from sparksword_nb import SparkswordError
from sparksword_nb.spark.units import bytes_to_string

from conftest import SPARK43, SPARK_TESTS, assert_same_answer, spark43_cases

SQL_PATH = "sql?details=true&planDescription=false"  # what history-server/sql.json holds
AQE_LOG = SPARK_TESTS / "logs" / "local-1642039451826"  # Spark 3.3, adaptive plans, no golden SQL answer


def _stored_sql(case: str) -> list[dict]:
    return json.loads((SPARK43 / case / "history-server" / "sql.json").read_text())


@pytest.mark.parametrize("case", spark43_cases())
def test_sql_list_equals_history_server(spark43_session, case: str) -> None:
    log = spark43_session(case)
    expected = _stored_sql(case)
    ours = log.rest(f"applications/{log.app_id}/{SQL_PATH}")
    assert [e["id"] for e in ours] == [e["id"] for e in expected]
    for mine, theirs in zip(ours, expected):
        if theirs["status"] == "RUNNING":
            # A running query's duration is "now" minus its start: the History Server's "now" was the moment
            # it answered, before ours.
            assert mine["duration"] >= theirs["duration"]
            mine["duration"] = theirs["duration"]
    assert_same_answer(ours, expected)


@pytest.mark.parametrize("case", ["healthy", "multi_job_etl", "aborted"])
def test_one_execution_and_no_details(spark43_session, case: str) -> None:
    log = spark43_session(case)
    expected = _stored_sql(case)
    for theirs in expected:
        mine = log.rest(f"applications/{log.app_id}/sql/{theirs['id']}?details=true&planDescription=false")
        assert_same_answer(mine, theirs)
    # details=false: the same executions without their plan graph
    ours = log.rest(f"applications/{log.app_id}/sql?details=false&planDescription=false")
    assert_same_answer(ours, [{**e, "nodes": [], "edges": []} for e in expected])
    # length pages the list; offset only counts with a length
    assert [e["id"] for e in log.rest(f"applications/{log.app_id}/sql?offset=1&length=1")] == [
        e["id"] for e in expected[1:2]
    ]


def test_unknown_execution_id(spark43_session) -> None:
    log = spark43_session("healthy")
    with pytest.raises(SparkswordError, match="unknown query execution id: 12345"):
        log.rest(f"applications/{log.app_id}/sql/12345")


def test_bytes_to_string_as_spark_utils_suite() -> None:
    # Spark's UtilsSuite "bytesToString" expectations
    assert bytes_to_string(10) == "10.0 B"
    assert bytes_to_string(1500) == "1500.0 B"
    assert bytes_to_string(2000000) == "1953.1 KiB"
    assert bytes_to_string(2097152) == "2.0 MiB"
    assert bytes_to_string(2306867) == "2.2 MiB"
    assert bytes_to_string(5368709120) == "5.0 GiB"
    assert bytes_to_string(5 * (1 << 40)) == "5.0 TiB"
    assert bytes_to_string(5 * (1 << 50)) == "5.0 PiB"
    assert bytes_to_string(5 * (1 << 60)) == "5.0 EiB"
    assert bytes_to_string((1 << 11) * (1 << 60)) == "2.36E+21 B"


# ---- an AQE log of the Spark suite, checked against its own accumulator updates -----------------------


@pytest.fixture(scope="module")
def aqe_log():
    session = ss.Session()
    yield session.load(AQE_LOG, cache=False)
    session.close()


def _raw_events() -> list[dict]:
    return [json.loads(line) for line in AQE_LOG.read_text().splitlines() if line.strip()]


def _final_plan(events: list[dict], execution_id: int) -> dict:
    plans = [
        e["sparkPlanInfo"] for e in events
        if e["Event"].endswith(("SQLExecutionStart", "SQLAdaptiveExecutionUpdate")) and e["executionId"] == execution_id
    ]
    return plans[-1]


def _accumulator_of(plan: dict, node_name: str, metric: str) -> int:
    stack = [plan]
    while stack:
        node = stack.pop()
        if node["nodeName"] == node_name:
            return next(m["accumulatorId"] for m in node["metrics"] if m["name"] == metric)
        stack.extend(node["children"])
    raise AssertionError(f"no {node_name} in the plan")


def _task_updates(events: list[dict], accumulator_id: int) -> list[tuple[int, int, int, int]]:
    """(stage id, stage attempt, task id, update) of every TaskEnd that updated the accumulator, in log order."""
    updates = []
    for e in events:
        if e["Event"] != "SparkListenerTaskEnd":
            continue
        for acc in e["Task Info"]["Accumulables"]:
            if acc["ID"] == accumulator_id:
                updates.append((e["Stage ID"], e["Stage Attempt ID"], e["Task Info"]["Task ID"], int(acc["Update"])))
    return updates


def _node(answer: dict, node_name: str) -> dict:
    (node,) = [n for n in answer["nodes"] if n["nodeName"] == node_name]
    return {m["name"]: m["value"] for m in node["metrics"]}


def _min_med_max_text(updates: list[tuple[int, int, int, int]], unit: str) -> str:
    """Spark's "total (min, med, max (stageId: taskId))" text for per-task values, built from the raw updates
    (every task of the stage reported once here, so no index is missing or repeated)."""
    values = sorted(u[3] for u in updates)
    top = max(values)
    stage, attempt, task, _ = next(u for u in updates if u[3] == top)  # the first task with the highest value
    return (
        "total (min, med, max (stageId: taskId))\n"
        f"{sum(values)}{unit} ({values[0]}{unit}, {values[len(values) // 2]}{unit}, {top}{unit} "
        f"(stage {stage}.{attempt}: task {task}))"
    )


def test_aqe_sql_metrics_match_the_logs_accumulators(aqe_log) -> None:
    events = _raw_events()
    answer = aqe_log.rest(f"applications/{aqe_log.app_id}/sql")
    assert [(e["id"], e["status"]) for e in answer] == [(0, "COMPLETED"), (1, "COMPLETED")]
    for execution in answer:
        plan = _final_plan(events, execution["id"])
        assert plan["simpleString"] == "AdaptiveSparkPlan isFinalPlan=true"

        # a sum metric: the rows Range produced, summed over its tasks
        rows = _task_updates(events, _accumulator_of(plan, "Range", "number of output rows"))
        assert _node(execution, "Range")["number of output rows"] == f"{sum(u[3] for u in rows):,}"

        # a timing metric: the pipeline duration of the partial aggregation, per task
        durations = _task_updates(events, _accumulator_of(plan, "WholeStageCodegen (2)", "duration"))
        assert len({u[2] for u in durations}) == len(durations) > 1 and max(u[3] for u in durations) < 1000
        assert _node(execution, "WholeStageCodegen (2)")["duration"] == _min_med_max_text(durations, " ms")


def test_aqe_sql_size_metric_matches_the_logs_accumulators(aqe_log) -> None:
    events = _raw_events()
    (execution,) = [e for e in aqe_log.rest(f"applications/{aqe_log.app_id}/sql") if e["id"] == 0]
    plan = _final_plan(events, 0)
    # the final plan's first Exchange (single partition) is written by the partial-aggregation tasks
    exchange = plan["children"][0]["children"][0]["children"][0]["children"][0]["children"][0]
    assert exchange["nodeName"] == "Exchange"
    accumulator = next(m["accumulatorId"] for m in exchange["metrics"] if m["name"] == "data size")
    sizes = _task_updates(events, accumulator)
    assert len(sizes) > 1 and max(u[3] for u in sizes) < 2048  # printed in bytes, as "N.0 B"
    exchanges = [n for n in execution["nodes"] if n["nodeName"] == "Exchange"]
    shown = [m["value"] for n in exchanges for m in n["metrics"] if m["name"] == "data size"]
    assert _min_med_max_text(sizes, ".0 B") in shown
