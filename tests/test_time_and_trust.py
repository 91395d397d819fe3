"""Where the wall time went, and findings that never contradict their own log (issue 10).

Expected times come from the History Server's stored answers (application and job times) or from the
tables by a query of their own, never from the code under test.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import re
from contextlib import redirect_stdout

import pytest

from sparksword_nb import Session
from sparksword_nb.cli import main
from sparksword_nb.detectors import Insight
from sparksword_nb.detectors.accounting import explained_time
from sparksword_nb.simulate import whatif
from sparksword_nb.widgets.data import stage_graph, task_histogram

from conftest import DATA, SPARK_TESTS, spark43_answers, spark43_log_path

GENERATED = DATA / "generated" / "detectors"
YARN_SHELL = SPARK_TESTS / "logs" / "application_1628109047826_1317105"  # Spark 3.1 shell, speculation on
CONCURRENT = SPARK_TESTS / "logs" / "application_1553914137147_0018"  # jobs 1 and 2 overlap
SETTING = re.compile(r"(spark\.[A-Za-z0-9_.]+)=([^\s,;)]+)")


def _epoch_ms(text: str) -> int:
    return int(dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fGMT").replace(tzinfo=dt.timezone.utc).timestamp() * 1000)


@pytest.fixture(scope="module")
def session():
    s = Session()
    yield s
    s.close()


@pytest.fixture(scope="module")
def skewed(session):
    log = session.load(spark43_log_path("skewed_join"), cache=False)
    return log, log.insights()


@pytest.fixture(scope="module")
def shell(session):
    log = session.load(YARN_SHELL, cache=False)
    return log, log.insights()


# ---- the time breakdown ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ["skewed_join", "multi_job_etl", "failed_tasks", "aborted", "inprogress", "healthy"])
def test_parts_tile_the_run_from_start_to_end(session, case):
    log = session.load(spark43_log_path(case), cache=False)
    account = log.time_account()
    attempt = spark43_answers(case)["application.json"]["attempts"][0]
    assert account.start_ms == attempt["startTimeEpoch"]
    if attempt["completed"]:
        assert account.duration_ms == attempt["duration"]
    parts = account.parts
    assert parts[0].start_ms == account.start_ms and parts[-1].end_ms == account.end_ms
    assert all(a.end_ms == b.start_ms for a, b in zip(parts, parts[1:])), "parts leave no hole and never overlap"
    assert sum(p.ms for p in parts) == account.duration_ms
    frame = log.time_breakdown()
    assert list(frame.columns[:6]) == ["part", "kind", "start_ms", "end_ms", "ms", "share"]
    assert frame["ms"].sum() == account.duration_ms


def test_the_demo_starts_its_only_job_at_the_history_servers_submission_time(skewed):
    log, _ = skewed
    answers = spark43_answers("skewed_join")
    start = answers["application.json"]["attempts"][0]["startTimeEpoch"]
    (job,) = answers["jobs.json"]
    parts = {p.kind: p for p in log.time_account().parts}
    assert parts["before_first_job"].ms == _epoch_ms(job["submissionTime"]) - start  # 4,785 ms of the 7,547
    assert parts["jobs"].ms == _epoch_ms(job["completionTime"]) - _epoch_ms(job["submissionTime"])
    assert parts["before_first_job"].share > 0.6


def test_concurrent_jobs_are_one_span_and_their_time_is_not_counted_twice(session):
    log = session.load(CONCURRENT, cache=False)
    jobs = {r["job_id"]: r for r in log.rows("SELECT job_id, submitted_ms, completed_ms FROM jobs")}
    assert jobs[2]["submitted_ms"] < jobs[1]["completed_ms"], "the log's jobs 1 and 2 overlap"
    account = log.time_account()
    spans = [p for p in account.parts if p.kind == "jobs"]
    merged = next(p for p in spans if 1 in p.job_ids)
    assert merged.job_ids == [1, 2] and merged.part == "jobs 1-2"
    assert merged.ms == max(jobs[1]["completed_ms"], jobs[2]["completed_ms"]) - jobs[1]["submitted_ms"]
    assert sum(p.ms for p in account.parts) == account.duration_ms


def test_cores_busy_time_is_the_tasks_time_and_the_critical_path_is_bounded_by_its_stages(session):
    log = session.load(spark43_log_path("multi_job_etl"), cache=False)
    account = log.time_account()
    task_ms = log.rows("SELECT sum(duration_ms) AS ms FROM tasks")[0]["ms"]
    assert account.cores.busy_core_ms == task_ms  # local[2]: the driver's two cores run every task
    assert account.cores.cores == 2
    driver_added = log.rows("SELECT added_ms FROM executors WHERE executor_id = 'driver'")[0]["added_ms"]
    assert account.cores.allocated_core_ms == 2 * (account.end_ms - driver_added)
    assert sum(p.busy_core_ms for p in account.parts if p.kind != "jobs") == 0, "no task runs outside a job"
    walls = {r["stage_id"]: r["wall"] for r in log.rows(
        "SELECT stage_id, completed_ms - submitted_ms AS wall FROM stages")}
    for job in account.jobs:
        stage_ids = log.rows("SELECT stage_ids FROM jobs WHERE job_id = $j", {"j": job.job_id})[0]["stage_ids"]
        ran = [walls[s] for s in stage_ids if walls.get(s) is not None]  # skipped stages never ran
        assert max(ran) <= job.critical_path_ms <= job.stage_wall_sum_ms == sum(ran)
        assert job.longest_task_path_ms <= job.critical_path_ms
        assert job.ideal_ms == round(job.task_ms / 2)


def test_an_interactive_shell_says_the_gaps_are_a_person(shell):
    log, found = shell
    account = log.time_account()
    assert account.interactive  # "Spark shell"
    before = next(i for i in found if i.key == "driver_gaps:before the first job")
    assert "interactive" in before.suggestion and before.confidence == "low"
    # 178 s of the 4.6 min passed before the first job; the finding now says so in its title
    first_job_ms = log.rows("SELECT min(submitted_ms) - (SELECT start_ms FROM applications) AS ms FROM jobs")[0]["ms"]
    assert before.impact_ms == first_job_ms
    assert "3.0 min" in before.title


def test_summary_opens_with_where_the_time_went_and_its_json_adds_up(tmp_path):
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["summary", str(spark43_log_path("multi_job_etl")), "--no-cache"]) == 0
    text = out.getvalue().splitlines()
    assert "Where the time went" in text[:8]
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["summary", str(spark43_log_path("multi_job_etl")), "--no-cache", "--json"]) == 0
    data = json.loads(out.getvalue())
    assert data["duration_ms"] == spark43_answers("multi_job_etl")["application.json"]["attempts"][0]["duration"]
    assert abs(sum(p["ms"] for p in data["time_breakdown"]) - data["duration_ms"]) <= 0.01 * data["duration_ms"]
    assert {"part", "ms", "kind", "start_ms", "end_ms", "share", "what"} <= set(data["time_breakdown"][0])


def test_the_demo_report_shows_where_all_of_its_time_went(skewed, tmp_path):
    from sparksword_nb.html_report import report_html

    log, _ = skewed
    page = report_html(log)
    data = json.loads(re.search(r'<script type="application/json" id="sw-data">(.*?)</script>', page, re.S).group(1))
    time = data["header"]["time"]
    assert time["duration_ms"] == 7547
    assert sum(time["parts"]["ms"]) == time["duration_ms"]
    assert "The findings explain" in time["explained"]


# ---- findings that add up -------------------------------------------------------------------------------

def test_findings_about_the_same_time_name_each_other_and_are_counted_once(skewed):
    log, found = skewed
    by_type = {i.type: i for i in found}
    skew, aqe = by_type["data_skew"], by_type["aqe_disabled_or_mitigated"]
    assert aqe.impact_ms == skew.impact_ms  # the AQE finding restates the skew's time
    assert skew.key in aqe.overlaps and aqe.key in skew.overlaps
    explained = explained_time(found, log.time_account())
    before = next(p for p in log.time_account().parts if p.kind == "before_first_job")
    # the start-up, plus the job's time once: the largest of the overlapping findings about job 0
    in_job = max(i.impact_ms for i in found if "job 0" in i.time_parts)
    assert explained.explained_ms == before.ms + in_job
    assert explained.explained_ms < sum(i.impact_ms for i in found)
    assert all(i.time_parts for i in found if i.impact_ms > 0)


# ---- never contradict the log ---------------------------------------------------------------------------

def test_speculation_that_ran_is_described_not_suggested_again(shell):
    log, found = shell
    conf = dict(log.sql("SELECT key, value FROM config WHERE key LIKE 'spark.speculation%'").fetchall())
    assert conf["spark.speculation"] == "true" and conf["spark.speculation.multiplier"] == "4"
    (copy,) = log.rows("SELECT task_id, executor_id, duration_ms FROM tasks WHERE speculative")
    (straggler,) = [i for i in found if i.type == "straggler"]
    assert "spark.speculation=true" not in straggler.suggestion
    assert "multiplier 4" in straggler.suggestion and "quantile 0.9" in straggler.suggestion
    assert f"task id {copy['task_id']}" in straggler.suggestion
    assert f"killed after {copy['duration_ms'] / 1000:.1f} s" in straggler.suggestion


def test_a_speculative_copy_killed_because_its_twin_succeeded_is_no_failure(shell):
    log, found = shell
    (killed,) = log.rows("""SELECT end_reason_detail."Kill Reason" AS why FROM tasks WHERE status = 'KILLED'""")
    assert killed["why"] == "another attempt succeeded"
    assert not [i for i in found if i.type == "task_failures"]


def test_a_finding_with_an_empty_title_or_description_cannot_be_made():
    base = dict(type="x", title="Stage 0: 2 failed task attempt(s)", description="Stage 0 had 2 failed attempts.",
                evidence={"n": 1}, confidence="high", confidence_reason="measured", impact_ms=0, impact_share=0,
                suggestion="Fix it.", docs_url="https://spark.apache.org/docs/latest/")
    Insight(**base)
    for field, text in (("title", "Stage 0: "), ("description", "Stage 0 had . Reasons: .")):
        with pytest.raises(ValueError, match="placeholder"):
            Insight(**{**base, field: text})


def test_the_suggested_skew_settings_are_ones_the_what_if_confirms_would_split(skewed):
    log, found = skewed
    (skew,) = [i for i in found if i.type == "data_skew"]
    suggested = dict(SETTING.findall(skew.suggestion))
    assert "spark.sql.adaptive.advisoryPartitionSizeInBytes" in suggested, "a split needs the advisory size too"
    estimate = whatif(log, 2, suggested)
    assert estimate.skew_join is not None and skew.evidence["heaviest_task_index"] in estimate.skew_join.skewed_partitions
    assert skew.evidence["aqe_would_split"] is True


def test_the_what_if_says_why_a_lower_threshold_alone_splits_nothing(skewed):
    log, _ = skewed
    estimate = whatif(log, 2, {"spark.sql.adaptive.enabled": "true",
                               "spark.sql.adaptive.skewJoin.skewedPartitionThresholdInBytes": "256k"})
    assert estimate.skew_join.skewed_partitions == []
    assert "advisoryPartitionSizeInBytes" in estimate.skew_join.why_none
    assert "split target size" in estimate.skew_join.why_none


def test_suggestions_never_ask_for_a_value_the_log_already_has(session):
    # aqe_skew runs with AQE on: its broadcast advice must not ask to turn AQE on
    log = session.load(spark43_log_path("aqe_skew"), cache=False)
    conf = dict(log.sql("SELECT key, value FROM config WHERE section = 'spark'").fetchall())
    assert conf["spark.sql.adaptive.enabled"] == "true"
    for insight in log.insights():
        for key, value in SETTING.findall(insight.suggestion):
            assert conf.get(key, "").lower() != value.lower(), (insight.key, key, value)


# ---- data properties, even when cheap today --------------------------------------------------------------

def test_a_skew_of_the_data_is_reported_while_it_still_costs_little(session):
    log = session.load(next((GENERATED / "cheap_skew").glob("eventlog_v2_*")), cache=False)
    med, top = log.rows("""
        WITH t AS (SELECT shuffle_local_bytes_read + shuffle_remote_bytes_read AS b, duration_ms FROM tasks
                   WHERE stage_id = 1 AND status = 'SUCCESS')
        SELECT quantile_disc(b, 0.5) AS med, max(b) AS top FROM t""")[0].values()
    assert top >= 10 * med, "the hot key's partition holds over 10x the median task's shuffle bytes"
    (skew,) = [i for i in log.insights() if i.type == "data_skew"]
    assert skew.stage_ids == [1] and skew.severity == "low"
    assert skew.evidence["costs_time_today"] is False
    assert "grows with the data" in skew.title
    assert "not the reduce stage of a sort-merge join" in skew.suggestion, "a repartition stage is no join"
    assert not [i for i in log.insights() if i.type == "aqe_disabled_or_mitigated"], \
        "AQE would not split a repartition, so no finding may say it would act"


# ---- panels tell the truth -------------------------------------------------------------------------------

def test_outliers_are_marked_per_task_not_per_bin(skewed):
    log, _ = skewed
    payload = task_histogram(log, 2, metric="shuffle_read")
    assert sum(payload["outlier_counts"]) == payload["outliers"]["count"] == 1
    fence = payload["outliers"]["fence"]
    values = [r["v"] for r in log.rows("""SELECT shuffle_local_bytes_read + shuffle_remote_bytes_read AS v FROM tasks
                                          WHERE stage_id = 2 AND status = 'SUCCESS'""")]
    assert sum(v > fence for v in values) == 1
    assert all(o <= c for o, c in zip(payload["outlier_counts"], payload["counts"]))


def test_one_ratio_definition_for_the_panels_and_the_findings(skewed, shell):
    log, found = skewed
    (skew,) = [i for i in found if i.type == "data_skew"]
    assert task_histogram(log, 2, metric="shuffle_read")["skew_ratio"] == skew.evidence["read_bytes_ratio"]
    log, found = shell
    (straggler,) = [i for i in found if i.type == "straggler"]
    graph = stage_graph(log)
    assert graph["stages"]["skew_ratio"][0] == straggler.evidence["duration_ratio"]
    assert task_histogram(log, 0)["skew_ratio"] == straggler.evidence["duration_ratio"]
    # the History Server's duration Max ranks the killed copy (53.2 s); the ratio uses the longest success
    summary_max = task_histogram(log, 0)["quantiles"]["values"][4]
    assert summary_max != task_histogram(log, 0)["max"] == straggler.evidence["longest_task_ms"]
