"""The panels' Python side: payloads against the History Server's answers, state sync, sizes, fallbacks."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
import traitlets

from sparksword_nb import SparkswordError
from sparksword_nb.widgets import InsightsPanel, Report, SkewHistogram, SqlPlan, StageDag
from sparksword_nb.widgets.data import (
    STAGE_METRIC_KEYS,
    TASK_METRICS,
    stage_graph,
    stage_labels,
    task_histogram,
    task_quantiles,
)

from conftest import spark43_answers, spark43_cases, spark43_log_path

ROOT = Path(__file__).resolve().parent.parent


def _decode(payload: dict, table: str, string_columns: tuple[str, ...] = ()) -> list[dict]:
    """Rows of a columnar payload table, interned strings resolved (what the JS lib does)."""
    cols = payload[table]
    strings = payload.get("strings", [])
    n = len(next(iter(cols.values()))) if cols else 0
    return [{c: (strings[v[i]] if c in string_columns and v[i] is not None else v[i]) for c, v in cols.items()}
            for i in range(n)]


def _ms(date: str | None) -> int | None:
    if date is None:
        return None
    moment = datetime.strptime(date.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(round(moment.timestamp() * 1000))


def _latest_attempts(stages: list[dict]) -> dict[int, dict]:
    latest: dict[int, dict] = {}
    for st in stages:
        if st["stageId"] not in latest or st["attemptId"] > latest[st["stageId"]]["attemptId"]:
            latest[st["stageId"]] = st
    return latest


# ---- payloads equal the History Server's numbers ------------------------------------------------------

@pytest.mark.parametrize("case", spark43_cases())
def test_dag_nodes_are_the_history_servers_stages(spark43_session, case):
    log = spark43_session(case)
    answers = spark43_answers(case)
    payload = stage_graph(log)
    nodes = {n["stage_id"]: n for n in _decode(payload, "stages", ("label", "name", "status", "severity"))}
    expected = _latest_attempts(answers["stages.json"])
    assert sorted(nodes) == sorted(expected)
    for stage_id, hs in expected.items():
        node = nodes[stage_id]
        assert (node["attempt"], node["status"], node["num_tasks"]) == (hs["attemptId"], hs["status"], hs["numTasks"])
        assert node["name"] == hs["name"]
        assert node["shuffle_read_bytes"] == hs["shuffleReadBytes"]
        assert node["shuffle_write_bytes"] == hs["shuffleWriteBytes"]
        assert node["input_bytes"] == hs["inputBytes"]
        assert node["spill_bytes"] == hs["diskBytesSpilled"]
        assert node["failed_tasks"] == hs["numFailedTasks"]
        # the UI's stage duration: submitted until completed
        submitted, completed = _ms(hs.get("submissionTime")), _ms(hs.get("completionTime"))
        assert node["duration_ms"] == (completed - submitted if submitted and completed else None)
    # a stage is drawn under the first job that lists it
    first_job: dict[int, int] = {}
    for job in sorted(answers["jobs.json"], key=lambda j: j["jobId"]):
        for stage_id in job["stageIds"]:
            first_job.setdefault(stage_id, job["jobId"])
    assert {s: n["job_id"] for s, n in nodes.items() if s in first_job} == first_job
    assert sorted(_decode(payload, "jobs")[i]["job_id"] for i in range(len(payload["jobs"]["job_id"]))) == \
        sorted(j["jobId"] for j in answers["jobs.json"])


@pytest.mark.parametrize("case", spark43_cases())
def test_dag_edges_are_shuffles_labelled_with_the_bytes_written(spark43_session, case):
    log = spark43_session(case)
    expected = _latest_attempts(spark43_answers(case)["stages.json"])
    edges = _decode(stage_graph(log), "edges")
    children = {e["child"] for e in edges}
    for e in edges:
        assert e["parent"] in expected and e["child"] in expected
        assert e["bytes"] == expected[e["parent"]]["shuffleWriteBytes"]
    # every stage that read a shuffle has a parent in the drawing
    for stage_id, hs in expected.items():
        if hs["shuffleReadBytes"] > 0:
            assert stage_id in children, f"stage {stage_id} read a shuffle but has no parent edge"


@pytest.mark.parametrize("case", spark43_cases())
def test_histogram_quantiles_are_the_history_servers_task_summary(spark43_session, case):
    log = spark43_session(case)
    summaries = {(int(m.group(1)), int(m.group(2))): summary for name, summary in spark43_answers(case).items()
                 if (m := re.fullmatch(r"taskSummary_(\d+)_(\d+)\.json", name))}
    for (stage_id, attempt), summary in summaries.items():
        n, ours = task_quantiles(log, stage_id, attempt)
        for metric in TASK_METRICS:
            expected = summary
            for key in metric.summary_path:
                expected = expected[key]
            assert ours[metric.key] == pytest.approx(expected), (stage_id, metric.key)
    # the panel shows those quantiles, and bins every successful task once
    for (stage_id, attempt), _summary in list(summaries.items())[:2]:
        for metric in TASK_METRICS[:2]:
            payload = task_histogram(log, stage_id, attempt, metric.key)
            assert payload["quantiles"]["values"] == payload["summary"][metric.key]
            assert sum(payload["counts"]) == payload["tasks"]
            assert len(payload["edges"]) == len(payload["counts"]) + 1


def test_outliers_are_the_tasks_above_the_fence(spark43_session):
    """skewed_join: 60% of the rows on one key, so the reduce stage's heavy tasks stand out."""
    log = spark43_session("skewed_join")
    tasks = {t["taskId"]: t for t in spark43_answers("skewed_join")["taskList_2_0.json"]}
    p = task_histogram(log, 2, 0, "duration")
    q1, q3 = p["quantiles"]["values"][1], p["quantiles"]["values"][3]
    fence = q3 + 1.5 * (q3 - q1)
    assert p["outliers"]["fence"] == pytest.approx(fence)
    above = sorted((t["duration"], t["taskId"]) for t in tasks.values() if t["status"] == "SUCCESS" and t["duration"] > fence)
    assert p["outliers"]["count"] == len(above) > 0
    assert [o["task_id"] for o in p["outliers"]["tasks"]] == [tid for _, tid in sorted(above, key=lambda x: (-x[0], x[1]))]
    assert [o["value"] for o in p["outliers"]["tasks"]] == [tasks[o["task_id"]]["duration"] for o in p["outliers"]["tasks"]]


def test_stage_labels_name_the_plan_operators_not_the_call_site(spark43_session):
    log = spark43_session("skewed_join")
    plan = spark43_answers("skewed_join")["sql.json"][0]
    operators = {n["nodeName"] for n in plan["nodes"]}
    labels = stage_labels(log)
    assert sorted(labels) == [0, 1, 2, 3]
    for label in labels.values():
        steps = label.split(" \u2192 ")
        assert all(step in operators for step in steps), label
        assert not any(step.startswith("WholeStageCodegen") for step in steps), label
    # the join stage says it joins; Spark's own name says only where collect() was called
    assert "SortMergeJoin" in labels[2]
    names = {n["stage_id"]: n["name"] for n in _decode(stage_graph(log), "stages", ("name",))}
    assert names[2] == "collect at /opt/spark-demo/jobs/gen_eventlogs.py:33"


def test_rdd_api_stages_are_labelled_by_their_rdd_scopes():
    """An RDD-API log of the Spark suite: no SQL, so the scopes (parallelize, map) name the stage."""
    from sparksword_nb import Session

    session = Session()
    try:
        log = session.load(ROOT / "tests/data/spark-tests/logs/app-20180109111548-0000", cache=False)
        scopes = log.sql("SELECT stage_id, list(DISTINCT scope_name) AS s FROM rdds GROUP BY 1").fetchall()
        labels = stage_labels(log)
        for stage_id, names in scopes:
            assert set(labels[stage_id].split(" \u2192 ")) == set(names)
    finally:
        session.close()


@pytest.mark.parametrize("case", ["skewed_join", "multi_job_etl", "aqe_skew"])
def test_sql_plan_is_the_history_servers_graph(spark43_session, case):
    log = spark43_session(case)
    for hs in spark43_answers(case)["sql.json"]:
        plan = SqlPlan(log, hs["id"])
        nodes = {n["id"]: n for n in plan.payload["nodes"]}
        assert sorted(nodes) == sorted(n["nodeId"] for n in hs["nodes"])
        for n in hs["nodes"]:
            assert nodes[n["nodeId"]]["name"] == n["nodeName"]
            assert nodes[n["nodeId"]]["metrics"] == [[m["name"], m["value"]] for m in n["metrics"]]
        assert sorted(map(tuple, plan.payload["edges"])) == sorted((e["fromId"], e["toId"]) for e in hs["edges"])
        assert repr(plan) == (f"SqlPlan(app={log.app_id!r}, execution={hs['id']}, "
                              f"nodes={sum(not n['is_cluster'] for n in plan.payload['nodes'])}, "
                              f"edges={len(hs['edges'])})")


# ---- widget state, messages and sizes ------------------------------------------------------------------

def _sent_messages(widget) -> list[dict]:
    sent: list[dict] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data)
    return sent


def _from_browser(widget, **state) -> None:
    """Exactly what the front end sends when the panel calls model.set(...); model.save_changes()."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []})


def test_clicking_a_stage_selects_it_in_every_panel_of_the_report(spark43_session):
    log = spark43_session("skewed_join")
    report = Report(log)
    sent = _sent_messages(report.skew)
    # the report opens on the top insight's stage (or the longest stage when insights are unavailable)
    first = report.selected_stage
    assert first == report.skew.stage == report.insights.selected_stage is not None
    other = 0 if first != 0 else 1
    _from_browser(report.dag, selected_stage=other)
    assert report.selected_stage == report.dag.selected_stage == other
    assert report.skew.stage == other and report.skew.payload["stage_id"] == other
    assert report.insights.selected_stage == other
    # the new histogram travelled to the browser
    assert any(m and m.get("state", {}).get("payload", {}).get("stage_id") == other for m in sent)
    # and an insight's click selects in the DAG
    _from_browser(report.insights, selected_stage=3)
    assert report.dag.selected_stage == 3 and report.skew.stage == 3


def test_python_side_selection_and_colour_reach_the_browser(spark43_session):
    dag = StageDag(spark43_session("skewed_join"))
    sent = _sent_messages(dag)
    dag.selected_stage = 1
    dag.color_by = "skew_ratio"
    updates = [m["state"] for m in sent if m and m.get("method") == "update"]
    assert {"selected_stage": 1} in updates and {"color_by": "skew_ratio"} in updates
    with pytest.raises(traitlets.TraitError, match="unknown stage: 99"):
        dag.selected_stage = 99
    with pytest.raises(traitlets.TraitError):
        dag.color_by = "nonsense"
    _from_browser(dag, color_by="spill")
    assert dag.color_by == "spill"


def test_histogram_follows_its_metric_menu(spark43_session):
    log = spark43_session("skewed_join")
    skew = SkewHistogram(log, 2)
    _from_browser(skew, metric="shuffle_read")
    hs = spark43_answers("skewed_join")["taskSummary_2_0.json"]
    assert skew.payload["metric"]["key"] == "shuffle_read"
    assert skew.payload["quantiles"]["values"] == hs["shuffleReadMetrics"]["readBytes"]
    skew.stage = None
    assert skew.payload["stage_id"] is None and "Select a stage" in skew.payload["message"]
    with pytest.raises(SparkswordError, match="unknown stage: 42"):
        SkewHistogram(log, 42)


def test_a_20000_task_stage_sends_bins_not_tasks(spark43_session):
    log = spark43_session("many_tasks")
    big = max(_decode(stage_graph(log), "stages"), key=lambda s: s["num_tasks"])
    assert big["num_tasks"] == 20000
    skew = SkewHistogram(log, big["stage_id"])
    assert skew.payload["tasks"] == 20000 == sum(skew.payload["counts"])
    assert len(skew.payload["outliers"]["tasks"]) <= 10
    assert len(json.dumps(skew.payload)) < 4000


@pytest.fixture(scope="module")
def thousand_stage_log(tmp_path_factory):
    """failed_tasks (2 stages, a retried task) repeated 500 times: a real 1,000-stage application."""
    from sparksword_nb import Session

    from browser.logs import write_big_log

    out = write_big_log(spark43_log_path("failed_tasks"), tmp_path_factory.mktemp("big") / "app-1000", 500)
    session = Session()
    yield session.load(out, cache=False)
    session.close()


def test_a_1000_stage_application_travels_in_under_200_kb(thousand_stage_log):
    dag = StageDag(thousand_stage_log)
    assert len(dag.stage_ids) == 1000
    state = dag.get_state()
    # everything the front end receives for the panel, its JS bundle included
    total = len(json.dumps(state, separators=(",", ":")))
    payload = len(json.dumps(state["payload"], separators=(",", ":")))
    print(f"1,000-stage StageDag: payload {payload:,} bytes, with the bundle {total:,} bytes")
    assert total <= 200_000
    assert payload <= 120_000


def test_payloads_and_reprs_are_deterministic(tmp_path):
    from sparksword_nb import Session

    def build():
        session = Session()
        log = session.load(spark43_log_path("multi_job_etl"))
        report = Report(log)
        out = (json.dumps(report.dag.payload, sort_keys=False), json.dumps(report.skew.payload),
               json.dumps(report.insights.payload), repr(report), repr(report.dag), repr(report.skew),
               repr(report.insights), report._repr_html_())
        session.close()
        return out

    first, second = build(), build()
    assert first == second
    for text in first[3:7]:
        assert not re.search(r"0x[0-9a-f]{6,}", text), text


def test_reprs_say_what_is_shown(spark43_session):
    log = spark43_session("skewed_join")
    report = Report(log)
    assert repr(report.dag) == f"StageDag(app='{log.app_id}', stages=4, edges=3, selected_stage={report.selected_stage})"
    assert repr(report) == (f"Report(app='{log.app_id}', jobs=1, stages=4, tasks=36, "
                            f"insights={len(report.insights.insights)})")
    bundle, _ = report._repr_mimebundle_()
    assert bundle["text/plain"] == repr(report)
    assert "application/vnd.jupyter.widget-view+json" in bundle and "<table" in bundle["text/html"]


def test_insights_are_sorted_by_impact_and_point_at_stages(spark43_session):
    log = spark43_session("skewed_join")
    panel = InsightsPanel(log)
    if panel.payload["status"] != "ok":
        pytest.skip(f"detectors not available: {panel.payload['message']}")
    impacts = [i["impact_ms"] for i in panel.insights]
    assert impacts == sorted(impacts, reverse=True)
    stage_ids = {n for n in StageDag(log, insights=log.insights()).stage_ids}
    for item in panel.insights:
        assert set(item["stage_ids"]) <= stage_ids
        assert set(item) >= {"title", "description", "evidence", "confidence", "confidence_reason", "severity",
                             "suggestion", "docs_url", "impact_ms", "type"}
    # the DAG colours the stages the findings name
    severities = {n["stage_id"]: n["severity"] for n in _decode(StageDag(log).payload, "stages", ("severity",))}
    for item in panel.insights:
        for stage_id in item["stage_ids"]:
            assert severities[stage_id] != "none"


def test_the_report_survives_a_detector_that_fails_on_the_data(spark43_session, monkeypatch):
    from sparksword_nb.widgets import data

    log = spark43_session("skewed_join")

    def failing(*_args, **_kwargs):
        raise SparkswordError("SQL error while deriving ssw_stage_stats: a column this log lacks")

    monkeypatch.setattr(data, "run_detectors", failing)
    report = Report(log)
    assert report.insights.payload["status"] == "error"
    assert "a column this log lacks" in report.insights.payload["message"]
    assert repr(report.insights) == f"InsightsPanel(app='{log.app_id}', insights=0, status='error')"
    # without findings the report opens on the longest stage (stage 2 in the History Server's numbers)
    durations = {s["stageId"]: _ms(s["completionTime"]) - _ms(s["submissionTime"])
                 for s in spark43_answers("skewed_join")["stages.json"]}
    assert report.selected_stage == max(durations, key=durations.get)


def test_unknown_sql_execution_is_one_clear_error(spark43_session):
    with pytest.raises(SparkswordError, match=r"unknown SQL execution: 7 \(known: 0\)"):
        SqlPlan(spark43_session("skewed_join"), 7)


# ---- untrusted text --------------------------------------------------------------------------------------

def test_static_fallback_escapes_names_from_the_log(tmp_path):
    from sparksword_nb import Session

    from browser.logs import HOSTILE, write_hostile_log

    path = write_hostile_log(spark43_log_path("skewed_join"), tmp_path / "hostile-app")
    session = Session()
    try:
        log = session.load(path, cache=False)
        report = Report(log)
        plan = SqlPlan(log, 0)
        for html in (report._repr_html_(), plan._repr_html_(), report.skew._repr_html_()):
            assert "<img" not in html
            assert "&lt;img src=x onerror=" in html
        # the payloads carry the names as plain text for the panels to show as text
        assert any(HOSTILE in s for s in report.dag.payload["strings"])
    finally:
        session.close()


# ---- the front end -------------------------------------------------------------------------------------

def test_magic_choices_match_the_widgets():
    from sparksword_nb.magic import COLOR_BY_CHOICES, TASK_METRIC_CHOICES

    assert COLOR_BY_CHOICES == STAGE_METRIC_KEYS
    assert TASK_METRIC_CHOICES == tuple(m.key for m in TASK_METRICS)


def test_every_widget_ships_a_built_bundle_without_network_imports():
    static = ROOT / "sparksword_nb" / "static"
    for name in ("dag", "skew", "insights", "sqlplan", "report"):
        text = (static / f"{name}.js").read_text()
        assert "export" in text and "default" in text
        # no CDN: a bundle must not import anything by URL (a notebook may have no network)
        assert not re.search(r"""import\s*\(?\s*["']https?://""", text), name
        assert not re.search(r"""from\s*["']https?://""", text), name
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert (static / f"{name}.css").is_file()


def test_js_lib_unit_tests_pass():
    node = shutil.which("node")
    if node is None or not (ROOT / "js" / "node_modules" / "@dagrejs" / "dagre").is_dir():
        pytest.skip("node or js/node_modules missing (pip install -e . runs npm install)")
    done = subprocess.run([node, "--test", "test/"], cwd=ROOT / "js", capture_output=True, text=True, timeout=120)
    summary = [line for line in done.stdout.splitlines() if line.startswith(("# pass", "# fail"))]
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert summary and summary[-1] == "# fail 0", summary
