"""The shipped bundles in Chromium, outside Jupyter: what each panel draws, sends back, and how fast."""
from __future__ import annotations

import json
import re

import pytest

from sparksword_nb.widgets import InsightsPanel, SkewHistogram, SqlPlan, StageDag

import conftest as root_conftest  # tests/conftest.py: the real logs and the History Server's answers
from browser.conftest import widget_state
from browser.logs import HOSTILE, write_big_log, write_hostile_log


@pytest.fixture(scope="module")
def skewed(spark43_session):
    return spark43_session("skewed_join")


def test_dag_draws_one_node_per_stage_and_clicks_select(mock_host, skewed, artifacts):
    dag = StageDag(skewed)
    host = mock_host("dag", widget_state(dag))
    page = host.page
    expected = sorted(s["stageId"] for s in root_conftest.spark43_answers("skewed_join")["stages.json"])
    nodes = page.locator("svg.sw-dag g.sw-stage[data-stage-id]")
    assert sorted(int(n.get_attribute("data-stage-id")) for n in nodes.all()) == expected
    assert page.locator("svg.sw-dag path.sw-edge").count() == len(dag.payload["edges"]["parent"])
    # the join stage is labelled by its operators, and its shuffle input is on its edges
    join = page.locator('g.sw-stage[data-stage-id="2"]')
    assert "SortMergeJoin" in join.locator("text.sw-label").text_content()
    assert page.locator("g.sw-edge-label text", has_text="699.0 KiB").count() == 1
    join.dispatch_event("click")
    assert host.saved[-1]["selected_stage"] == 2
    host.set("selected_stage", 1)
    assert page.locator("g.sw-stage.sw-selected").get_attribute("data-stage-id") == "1"
    # hovering shows Spark's own name as a detail
    join.dispatch_event("pointerenter", {"clientX": 100, "clientY": 100})
    assert "collect at /opt/spark-demo/jobs/gen_eventlogs.py:33" in page.locator(".sw-tooltip").text_content()
    # clicking the node puts the card away: it must not cover the node just chosen
    join.dispatch_event("click")
    assert not page.locator(".sw-tooltip").is_visible()
    # the colour menu changes the fills and tells Python
    before = join.locator("rect").get_attribute("fill")
    page.select_option("select", "shuffle_write")
    assert host.saved[-1]["color_by"] == "shuffle_write"
    assert join.locator("rect").get_attribute("fill") != before
    page.screenshot(path=str(artifacts / "mock-dag.png"), full_page=True)


def test_histogram_shows_the_history_servers_quantiles(mock_host, skewed, artifacts):
    skew = SkewHistogram(skewed, 2)
    host = mock_host("skew", widget_state(skew))
    page = host.page
    assert page.locator("svg.sw-hist g.sw-bin").count() == len(skew.payload["counts"])
    # outliers are marked per task: each bin's outlier part counts its tasks above the fence
    marked = [int(b.get_attribute("data-outliers")) for b in page.locator("svg.sw-hist g.sw-bin").all()]
    assert marked == skew.payload["outlier_counts"] and sum(marked) == skew.payload["outliers"]["count"] >= 1
    hs = root_conftest.spark43_answers("skewed_join")["taskSummary_2_0.json"]["duration"]
    cells = [c.text_content() for c in page.locator("table.sw-quantiles tr.sw-current td[data-quantile]").all()]
    assert cells == [f"{int(v)} ms" for v in hs]
    page.select_option("select", "shuffle_read")
    assert host.saved[-1]["metric"] == "shuffle_read"
    page.screenshot(path=str(artifacts / "mock-skew.png"), full_page=True)


def test_insights_open_to_evidence_and_select_stages(mock_host, skewed):
    panel = InsightsPanel(skewed)
    if panel.payload["status"] != "ok" or not panel.insights:
        pytest.skip(f"no insights to show: {panel.payload.get('message')}")
    host = mock_host("insights", widget_state(panel))
    page = host.page
    assert page.locator("details.sw-insight").count() == len(panel.insights)
    # the first finding with stages (the top one is the time before the first job, which has none)
    n, first = next((n, i) for n, i in enumerate(panel.insights) if i["stage_ids"])
    item = page.locator("details.sw-insight").nth(n)
    assert item.locator("summary").text_content().count(first["title"]) == 1
    item.locator("summary").click()
    item.locator("button.sw-chip").first.click()
    assert host.saved[-1]["selected_stage"] == first["stage_ids"][0]
    assert item.locator("a").first.get_attribute("href") == first["docs_url"]
    if first["overlaps"]:
        assert "counted once" in item.locator(".sw-time-parts").text_content()


def test_sql_plan_draws_every_operator(mock_host, skewed, artifacts):
    plan = SqlPlan(skewed, 0)
    host = mock_host("sqlplan", widget_state(plan))
    hs = root_conftest.spark43_answers("skewed_join")["sql.json"][0]
    drawn = host.page.locator("g.sw-plan-node[data-node-id]")
    operators = [n for n in hs["nodes"] if not n["nodeName"].startswith("WholeStageCodegen")]
    assert sorted(int(n.get_attribute("data-node-id")) for n in drawn.all()) == sorted(n["nodeId"] for n in operators)
    host.page.screenshot(path=str(artifacts / "mock-sqlplan.png"), full_page=True)


def test_a_multi_job_dag_boxes_each_jobs_stages(mock_host, spark43_session, artifacts):
    log = spark43_session("multi_job_etl")
    jobs = root_conftest.spark43_answers("multi_job_etl")["jobs.json"]
    dag = StageDag(log)
    stage_job = {}
    for job in jobs:
        for stage in job["stageIds"]:
            stage_job.setdefault(stage, job["jobId"])  # a stage shared by later jobs is drawn with its first
    page = mock_host("dag", widget_state(dag)).page
    boxes = page.locator("svg.sw-dag g.sw-jobgroup")
    drawn = {int(n.get_attribute("data-stage-id")) for n in page.locator("g.sw-stage[data-stage-id]").all()}
    assert boxes.count() == len({stage_job[s] for s in drawn}) > 1
    for box in boxes.all():
        job = int(box.get_attribute("data-job").removeprefix("Job "))
        frame = box.locator("rect").bounding_box()
        for stage in drawn:
            node = page.locator(f'g.sw-stage[data-stage-id="{stage}"] rect').bounding_box()
            inside = (node["x"] >= frame["x"] - 0.5 and node["y"] >= frame["y"] - 0.5
                      and node["x"] + node["width"] <= frame["x"] + frame["width"] + 0.5
                      and node["y"] + node["height"] <= frame["y"] + frame["height"] + 0.5)
            assert inside == (stage_job[stage] == job), f"stage {stage} and job {job}"
    page.screenshot(path=str(artifacts / "mock-dag-jobs.png"), full_page=True)


@pytest.fixture(scope="module")
def thousand_stages(session, tmp_path_factory):
    out = write_big_log(root_conftest.spark43_log_path("failed_tasks"), tmp_path_factory.mktemp("big") / "app", 500)
    return session.load(out, cache=False)


def test_1000_stages_collapse_to_jobs_and_draw_within_a_second(mock_host, thousand_stages, artifacts):
    dag = StageDag(thousand_stages)
    state = widget_state(dag)
    host = mock_host("dag", state)
    page = host.page
    jobs = len(dag.payload["jobs"]["job_id"])
    assert page.locator("g.sw-job[data-job-id]").count() == jobs == 500
    panel = page.locator(".sw-dag-panel")
    assert panel.get_attribute("data-mode") == "jobs"
    draw_ms = float(panel.get_attribute("data-draw-ms"))
    print(f"1,000 stages: payload {len(json.dumps(state['payload'])):,} bytes, drawn in {draw_ms:.0f} ms "
          f"(render {host.render_ms:.0f} ms)")
    assert host.render_ms <= 1000
    # a click opens the job to its stages
    page.locator('g.sw-job[data-job-id="7"]').dispatch_event("click")
    opened = sorted(int(n.get_attribute("data-stage-id")) for n in page.locator("g.sw-stage[data-stage-id]").all())
    expected = sorted(s for s, j in zip(dag.payload["stages"]["stage_id"], dag.payload["stages"]["job_id"]) if j == 7)
    assert opened == expected and expected
    # selecting a stage from Python opens its job
    host.set("selected_stage", 999)
    assert page.locator('g.sw-stage.sw-selected[data-stage-id="999"]').count() == 1
    page.screenshot(path=str(artifacts / "mock-dag-1000-stages.png"))


def test_untrusted_names_are_text_in_every_panel(mock_host, session, tmp_path, artifacts):
    path = write_hostile_log(root_conftest.spark43_log_path("skewed_join"), tmp_path / "hostile-app")
    log = session.load(path, cache=False)
    panels = [("dag", StageDag(log)), ("skew", SkewHistogram(log, 2)), ("sqlplan", SqlPlan(log, 0)),
              ("insights", InsightsPanel(log))]
    for name, widget in panels:
        host = mock_host(name, widget_state(widget))
        page = host.page
        if name == "dag":
            page.locator('g.sw-stage[data-stage-id="2"]').dispatch_event("pointerenter", {"clientX": 50, "clientY": 50})
        if name == "sqlplan":
            page.locator("g.sw-plan-node").first.dispatch_event("pointerenter", {"clientX": 50, "clientY": 50})
        page.wait_for_timeout(100)
        assert page.locator("img").count() == 0, name
        assert page.evaluate("() => window.__sw_xss") is None, name
        text = page.locator("#host").text_content()
        if name != "insights":
            assert re.search(re.escape("<img src=x onerror="), text), name
        page.screenshot(path=str(artifacts / f"mock-hostile-{name}.png"), full_page=True)
    assert HOSTILE.startswith("<img")


@pytest.mark.parametrize("case", root_conftest.spark43_cases())
def test_every_spark_4_3_log_draws(browser, spark43_session, case):
    """Each real log's DAG, its first stage's histogram and its first SQL plan draw without a script error."""
    from browser.conftest import MockHost

    log = spark43_session(case)
    answers = root_conftest.spark43_answers(case)
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        dag = StageDag(log, insights=[])
        MockHost(page, "dag", widget_state(dag))
        stage_ids = sorted({s["stageId"] for s in answers["stages.json"]})
        assert sorted(int(n.get_attribute("data-stage-id")) for n in page.locator("g.sw-stage").all()) == stage_ids
        MockHost(page, "skew", widget_state(SkewHistogram(log, stage_ids[0])))
        assert page.locator(".sw-skew-panel").get_attribute("data-stage-id") == str(stage_ids[0])
        if answers["sql.json"]:
            hs = answers["sql.json"][0]
            MockHost(page, "sqlplan", widget_state(SqlPlan(log, hs["id"])))
            operators = [n for n in hs["nodes"] if not n["nodeName"].startswith("WholeStageCodegen")]
            assert page.locator("g.sw-plan-node").count() == len(operators)
    finally:
        page.close()
    assert not errors, errors


def test_summary_table_rows_switch_the_metric(mock_host, skewed):
    skew = SkewHistogram(skewed, 2)
    host = mock_host("skew", widget_state(skew))
    rows = host.page.locator("table.sw-quantiles tr[data-metric]")
    assert rows.count() == len(skew.payload["summary"])
    host.page.locator('table.sw-quantiles tr[data-metric="gc_time"]').click()
    assert host.saved[-1]["metric"] == "gc_time"
