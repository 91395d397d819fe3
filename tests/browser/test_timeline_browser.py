"""The executor timeline (a static plotly figure) drawn by plotly.js in Chromium: every stage's legend entry is
inside the figure, however many stages the application ran."""
from __future__ import annotations

import pytest

import conftest as root_conftest


@pytest.mark.parametrize("case", ["rolling", "skewed_join"])
def test_every_legend_entry_is_inside_the_figure(case, browser, spark43_session, tmp_path, artifacts):
    from sparksword_nb.widgets.timeline import timeline_figure

    log = spark43_session(case)
    stages = len({s["stageId"] for s in root_conftest.spark43_answers(case)["stages.json"]
                  if s["status"] != "SKIPPED"})
    page_file = tmp_path / "timeline.html"
    timeline_figure(log).write_html(page_file, include_plotlyjs=True, full_html=True,
                                    default_width="900px")  # plotly.js inside the page: nothing fetched
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(page_file.as_uri())
    page.locator(".main-svg .legend").first.wait_for(timeout=30_000)
    figure = page.locator(".main-svg").first.bounding_box()
    entries = page.locator(".legend .traces")
    assert entries.count() == stages
    for box in (entries.nth(i).bounding_box() for i in range(entries.count())):
        assert box is not None and box["y"] >= figure["y"] and box["y"] + box["height"] <= figure["y"] + figure["height"]
        assert box["x"] + box["width"] <= figure["x"] + figure["width"] + 1
    page.screenshot(path=str(artifacts / f"timeline-{case}.png"), full_page=True)
    page.close()
