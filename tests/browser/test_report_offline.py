"""The HTML report (`sparksword report LOG -o out.html`) in Debian's Chromium, with the network blocked.

The page is served from a made-up origin through Playwright's router, which answers the report's URL and
aborts (and records) every other request, so anything the report tried to fetch would fail the test. The same
file is also opened from disk in an offline browser context, the way a user opens a mailed report.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from sparksword_nb.html_report import write_report

import conftest as root_conftest  # tests/conftest.py: the real logs and the History Server's answers
from browser.logs import HOSTILE, write_hostile_log

CASE = "skewed_join"
REPORT_URL = "http://sparksword-report.invalid/report.html"


@pytest.fixture(scope="module")
def report_file(session, tmp_path_factory) -> Path:
    log = session.load(root_conftest.spark43_log_path(CASE), cache=False)
    return write_report(log, tmp_path_factory.mktemp("report") / "report.html")


def _open_blocked(browser, html: str, viewport: dict[str, int]):
    """A page showing `html` at REPORT_URL; every other request is aborted and recorded."""
    page = browser.new_page(viewport=viewport)
    fetched: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)

    def route(r):
        if r.request.url == REPORT_URL:
            r.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            fetched.append(r.request.url)
            r.abort()

    page.route("**/*", route)
    # blob: URLs (the bundles imported the way anywidget imports them) never reach the router; watch them too
    page.on("request", lambda req: None if req.url == REPORT_URL or req.url.startswith(("blob:", "data:"))
            else fetched.append(req.url))
    page.goto(REPORT_URL)
    return page, fetched, errors


def test_report_renders_offline_with_the_history_servers_numbers(browser, report_file, session, artifacts):
    answers = root_conftest.spark43_answers(CASE)
    stage_ids = sorted(s["stageId"] for s in answers["stages.json"])
    page, fetched, errors = _open_blocked(browser, report_file.read_text(encoding="utf-8"),
                                          {"width": 1300, "height": 900})
    expect(page.locator("#sw-report")).to_have_attribute("data-rendered", "true", timeout=30_000)

    # the header: the application and its size as the History Server counts it
    title = page.locator(".sw-report-header h3").text_content()
    facts = [f.text_content() for f in page.locator(".sw-report-header .sw-facts > span").all()]
    app = answers["application.json"]
    tasks = sum(len(answers[f"taskList_{s}_0.json"]) for s in stage_ids)
    assert app["id"] in title and app["name"] in title
    assert {f"jobs {len(answers['jobs.json'])}", f"stages {len(stage_ids)}", f"tasks {tasks}"} <= set(facts), facts

    # the stage DAG: one node per stage of the History Server's stage list, and its shuffle edges
    nodes = page.locator("svg.sw-dag g.sw-stage[data-stage-id]")
    assert sorted(int(n.get_attribute("data-stage-id")) for n in nodes.all()) == stage_ids
    assert page.locator("svg.sw-dag path.sw-edge").count() >= 1

    # the histogram of the first stage shown, with the History Server's task-duration quantiles
    skew = page.locator(".sw-skew-panel")
    first = int(skew.get_attribute("data-stage-id"))
    expected = [f"{int(v)} ms" for v in answers[f"taskSummary_{first}_0.json"]["duration"]]
    cells = skew.locator('table.sw-quantiles tr[data-metric="duration"] td[data-quantile]').all()
    assert [c.text_content() for c in cells] == expected
    assert skew.locator("svg.sw-hist rect.sw-bar").count() >= 1

    # the insights, most costly first, as the detectors found them
    found = session.logs[0].insights()
    assert found, "the skewed join has findings"
    summaries = page.locator("details.sw-insight summary")
    assert summaries.count() == len(found)
    assert found[0].title in summaries.first.text_content()

    # linked panels: clicking another stage shows its histogram, from the payloads inside the file
    other = next(s for s in stage_ids if s != first)
    page.locator(f'g.sw-stage[data-stage-id="{other}"]').dispatch_event("click")
    expect(skew).to_have_attribute("data-stage-id", str(other))
    expected = [f"{int(v)} ms" for v in answers[f"taskSummary_{other}_0.json"]["duration"]]
    cells = skew.locator('table.sw-quantiles tr[data-metric="duration"] td[data-quantile]').all()
    assert [c.text_content() for c in cells] == expected
    page.locator(f'g.sw-stage[data-stage-id="{first}"]').dispatch_event("click")
    expect(skew).to_have_attribute("data-stage-id", str(first))

    page.screenshot(path=str(artifacts / "report-offline.png"), full_page=True)
    assert fetched == [], f"the report tried to fetch: {fetched}"
    assert errors == [], errors
    page.close()


def test_report_opens_from_disk_in_an_offline_browser(browser, report_file):
    context = browser.new_context(offline=True, viewport={"width": 1200, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(report_file.resolve().as_uri())
    expect(page.locator("#sw-report")).to_have_attribute("data-rendered", "true", timeout=30_000)
    assert page.locator("svg.sw-dag g.sw-stage").count() == len(root_conftest.spark43_answers(CASE)["stages.json"])
    assert errors == []
    context.close()


def test_untrusted_names_stay_text(browser, session, tmp_path, artifacts):
    """A log whose stage, RDD, SQL and application names carry markup: shown as text, nothing runs."""
    hostile = session.load(write_hostile_log(root_conftest.spark43_log_path(CASE), tmp_path / "hostile-app"),
                           cache=False)
    html = write_report(hostile, tmp_path / "hostile.html").read_text(encoding="utf-8")
    # nowhere in the file is the payload markup: escaped in the tables, \u003c-escaped in the JSON data
    assert "<img" not in html
    page, fetched, errors = _open_blocked(browser, html, {"width": 1300, "height": 900})
    expect(page.locator("#sw-report")).to_have_attribute("data-rendered", "true", timeout=30_000)
    page.locator("#sw-static summary").click()  # open the static tables too
    page.wait_for_timeout(200)
    assert page.locator("img").count() == 0
    assert page.evaluate("() => window.__sw_xss") is None
    assert HOSTILE in page.locator(".sw-report-header h3").text_content()
    assert HOSTILE in page.locator("#sw-static").text_content()
    assert HOSTILE in page.title()
    page.screenshot(path=str(artifacts / "report-hostile-names.png"), full_page=True)
    assert fetched == [] and errors == [], (fetched, errors)
    page.close()


def test_report_shows_where_the_time_went_and_never_paints_a_metric_that_is_zero(browser, report_file, session, artifacts):
    """Issue 10: the time bar first; spill (0 everywhere) in neutral colours with a sentence; the histogram's
    metric menu stays whole after choosing a metric that is 0 for every task; outliers marked per task."""
    answers = root_conftest.spark43_answers(CASE)
    page, fetched, errors = _open_blocked(browser, report_file.read_text(encoding="utf-8"),
                                          {"width": 1300, "height": 900})
    expect(page.locator("#sw-report")).to_have_attribute("data-rendered", "true", timeout=30_000)

    # the time bar: the run's parts in order, the first one the time before the History Server's first job
    account = session.logs[0].time_account()
    segments = page.locator(".sw-timebar .sw-timeseg")
    assert [s.get_attribute("data-part") for s in segments.all()] == [p.part for p in account.parts]
    bar = page.locator(".sw-timebar").bounding_box()
    widths = [s.bounding_box()["width"] for s in segments.all()]
    assert abs(sum(widths) - bar["width"]) <= len(widths) + 1, "the parts fill the bar: they add up to the run"
    legend = page.locator(".sw-timelegend").text_content()
    assert "before the first job 4.8 s 63%" in legend, legend
    assert "The findings explain" in page.locator(".sw-explained").text_content()
    assert answers["application.json"]["attempts"][0]["duration"] == account.duration_ms

    # colour by spill: every stage spilled 0 bytes (the History Server's stage list), so nothing is warm
    assert all(s["diskBytesSpilled"] == 0 for s in answers["stages.json"])
    page.locator('select[aria-label="colour stages by"]').select_option("spill")
    fills = {r.get_attribute("fill") for r in page.locator("svg.sw-dag g.sw-stage rect").all()}
    assert len(fills) == 1, fills
    assert "no spill (disk) in this application" in page.locator(".sw-legend").text_content()

    # a metric that is 0 for every task keeps the menu whole, and the reader can go back
    metric = page.locator('select[aria-label="task metric"]')
    options = metric.locator("option").count()
    assert options == 8
    metric.select_option("spill_disk")
    expect(page.locator(".sw-skew-panel .sw-empty")).to_contain_text("0 for every task")
    assert metric.locator("option").count() == options
    metric.select_option("shuffle_read")
    # stage 2 of the skewed join: one task read 30x the median; only that task is marked, not its bin-mates
    page.locator('g.sw-stage[data-stage-id="2"]').dispatch_event("click")
    expect(page.locator(".sw-skew-panel")).to_have_attribute("data-stage-id", "2")
    bins = page.locator("svg.sw-hist g.sw-bin")
    marked = [int(b.get_attribute("data-outliers")) for b in bins.all()]
    assert sum(marked) == 1 and page.locator("svg.sw-hist rect.sw-outlier").count() == 1
    assert "longest successful task" in page.locator(".sw-ratio").text_content()
    # an opened finding shows what to do right under what was seen, with no inner box to scroll
    page.locator("details.sw-insight summary").first.click()
    expect(page.locator("details.sw-insight[open] .sw-suggestion").first).to_be_visible()
    box = page.locator(".sw-insights").evaluate("e => [e.scrollHeight, e.clientHeight]")
    assert box[0] <= box[1] + 1, box
    page.screenshot(path=str(artifacts / "report-time-and-zero-metrics.png"), full_page=True)
    assert fetched == [] and errors == [], (fetched, errors)
    page.close()


@pytest.mark.parametrize("width", [900, 1400])
def test_report_fits_its_window_without_sideways_scroll_or_clipped_tables(browser, report_file, artifacts, width):
    """Issue 16: at 900 px the two panes stack; at 1400 px they sit side by side; nothing is cut off."""
    page, fetched, errors = _open_blocked(browser, report_file.read_text(encoding="utf-8"),
                                          {"width": width, "height": 1000})
    expect(page.locator("#sw-report")).to_have_attribute("data-rendered", "true", timeout=30_000)
    scroll, client = page.evaluate("[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]")
    assert scroll <= client, f"sideways scroll at {width} px: {scroll} > {client}"
    for table in page.locator(".sw-panel table").all():
        clipped = table.evaluate("""t => {
            const panel = t.closest('.sw-panel').getBoundingClientRect(), box = t.getBoundingClientRect();
            if (box.width === 0) return false;  // not shown (a closed finding's evidence)
            return box.right > panel.right + 0.5 || box.left < panel.left - 0.5;
        }""")
        assert not clipped, f"a table is cut off at {width} px"
    dag = page.locator(".sw-slot-dag").bounding_box()
    skew = page.locator(".sw-slot-skew").bounding_box()
    assert (skew["y"] >= dag["y"] + dag["height"] - 1) == (width == 900), "stacked at 900 px, side by side at 1400"
    page.screenshot(path=str(artifacts / f"report-{width}px.png"), full_page=True)
    assert fetched == [] and errors == [], (fetched, errors)
    page.close()
