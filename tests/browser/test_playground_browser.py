"""The partition playground in Chromium: the shipped bundle with a mock host (the kernel's part played by
the real Python widget), and end to end in a real JupyterLab, a slider moved like a user would."""
from __future__ import annotations

import json
import time

import nbformat
import pytest
from playwright.sync_api import expect

from sparksword_nb.spark.units import parse_bytes
from sparksword_nb.widgets import Playground

import conftest as root_conftest  # tests/conftest.py: the real logs and the History Server's answers
from browser.conftest import widget_state
from browser.logs import HOSTILE, write_hostile_log

ADVISORY = "spark.sql.adaptive.advisoryPartitionSizeInBytes"
MIN_SIZE = "spark.sql.adaptive.coalescePartitions.minPartitionSize"


@pytest.fixture(scope="module")
def static_log(session):
    return session.load(root_conftest.spark43_log_path("pair_b_static"))


def answer(host, widget: Playground) -> None:
    """Play the kernel: apply what the panel saved last to the Python widget, send its answer back."""
    saved = host.saved[-1]
    keys = ("settings", "stage") if widget.mode == "seeded" else (
        "input_bytes", "input_partitions", "operators", "skew", "shuffle_partitions", "executors",
        "cores_per_executor", "memory_per_core")
    with widget.hold_trait_notifications():
        for key in keys:
            setattr(widget, key, saved[key])
        widget.request_id = saved["request_id"]
    for key in (*keys, "estimate"):
        host.set(key, json.loads(json.dumps(getattr(widget, key))))


def stage_bars(page, selector: str):
    return page.locator(f"svg.sw-pg-bars {selector} rect.sw-pg-bar")


def test_free_playground_sends_the_shape_and_redraws_the_answer(mock_host, artifacts):
    w = Playground(skew=0.2)
    host = mock_host("playground", widget_state(w), width=1100)
    page = host.page
    agg = page.locator('svg.sw-pg-bars g.sw-pg-stage[data-stage="1"]')
    assert page.locator("svg.sw-pg-bars g.sw-pg-stage").count() == len(w.estimate["stages"]) == 2
    assert agg.get_attribute("data-tasks") == "200"
    assert stage_bars(page, 'g[data-stage="1"]').count() == 100  # 200 partitions, 2 per bar
    assert page.locator("svg.sw-pg-bars g.sw-pg-cut").count() == 1
    assert page.locator(".sw-pg-legend").text_content().startswith("estimated")
    # a slider move sends only the shape, with a request id
    slider = page.locator('input[type="range"][data-key="shuffle_partitions"]')
    slider.fill("300")  # what a drag ending at 30% of the track sends
    shown = int(page.locator('[data-control="shuffle_partitions"] .sw-pg-value').text_content().replace(",", ""))
    assert host.saved[-1]["shuffle_partitions"] == shown and host.saved[-1]["request_id"] == 1
    assert page.locator(".sw-playground").get_attribute("data-busy") == "1"
    # while that request is unanswered, newer moves wait and merge: the newest value wins
    slider.fill("320")
    slider.fill("350")
    assert len(host.saved) == 1
    newest = int(page.locator('[data-control="shuffle_partitions"] .sw-pg-value').text_content().replace(",", ""))
    answer(host, w)
    assert w.shuffle_partitions == shown
    assert host.saved[-1]["shuffle_partitions"] == newest and host.saved[-1]["request_id"] == 2
    answer(host, w)
    expect(agg).to_have_attribute("data-tasks", str(newest))
    assert stage_bars(page, 'g[data-stage="1"]').count() == newest
    assert page.locator(".sw-playground").get_attribute("data-busy") == "0"
    # the operator chain: a preset replaces it, and the kernel's answer adds the stages
    page.select_option('select[aria-label="operator preset"]', "join \u2192 groupBy")
    assert [op["kind"] for op in host.saved[-1]["operators"]] == ["join", "aggregate"]
    answer(host, w)
    assert page.locator("svg.sw-pg-bars g.sw-pg-stage").count() == 3
    assert page.locator("svg.sw-pg-bars g.sw-pg-cut").count() == 2
    page.screenshot(path=str(artifacts / "mock-playground-free.png"), full_page=True)


def test_seeded_playground_aqe_512k_shows_sparks_3_partitions(mock_host, static_log, artifacts):
    """Seeded from pair_b_static: moving the AQE sliders to what pair_b_aqe ran with shows the 3 tasks
    Spark ran there, beside the 200 measured ones."""
    w = Playground.from_log(static_log, stage=1)
    host = mock_host("playground", widget_state(w), width=1100)
    page = host.page
    measured = page.locator('svg.sw-pg-bars g.sw-pg-stage[data-role="measured"]')
    estimated = page.locator('svg.sw-pg-bars g.sw-pg-stage[data-role="estimated"]')
    hs_static = [s for s in root_conftest.spark43_answers("pair_b_static")["stages.json"] if s["stageId"] == 1][0]
    assert measured.get_attribute("data-tasks") == str(hs_static["numTasks"])
    assert page.locator(".sw-pg-legend").text_content().startswith("measured")
    # nothing changed yet: the right column is the model checked against the log, not a what-if
    assert "No setting changed" in page.locator(".sw-pg-notes").text_content()
    assert page.locator(".sw-pg-badge.sw-pg-check").count() == 1
    aqe_box = page.locator('input[type="checkbox"][data-key="spark.sql.adaptive.enabled"]')
    assert not aqe_box.is_checked()  # pair_b_static ran without AQE
    # AQE's own options do nothing while AQE is off: they are greyed out until it is turned on
    advisory = page.locator(f'input[type="range"][data-key="{ADVISORY}"]')
    assert advisory.is_disabled()
    assert "AQE is off" in page.locator(f'[data-control="{ADVISORY}"]').get_attribute("title")
    aqe_box.check()
    answer(host, w)
    assert advisory.is_enabled()
    assert page.locator(".sw-pg-unchanged").count() == 0 and page.locator(".sw-pg-badge.sw-pg-check").count() == 0
    # the user moves both AQE sliders (1 KiB .. 1 GiB: every power of two is a position)
    advisory.fill("450")
    answer(host, w)
    page.locator(f'input[type="range"][data-key="{MIN_SIZE}"]').fill("0")
    answer(host, w)
    env = dict(root_conftest.spark43_answers("pair_b_aqe")["environment.json"]["sparkProperties"])
    assert w.settings == {"spark.sql.adaptive.enabled": True, ADVISORY: parse_bytes(env[ADVISORY]),
                          MIN_SIZE: parse_bytes(env[MIN_SIZE])}
    hs_aqe = [s for s in root_conftest.spark43_answers("pair_b_aqe")["stages.json"]
              if s["status"] == "COMPLETE" and s["shuffleReadBytes"]][0]
    expect(estimated).to_have_attribute("data-tasks", str(hs_aqe["numTasks"]))
    assert stage_bars(page, '[data-role="estimated"]').count() == hs_aqe["numTasks"] == 3
    assert page.locator('tr[data-row="tasks"] td[data-side="estimated"]').text_content() == "3"
    assert page.locator('tr[data-row="tasks"] td[data-side="measured"]').text_content() == "200"
    # beside the estimated time range, why it is as wide as it is (the kernel's words)
    why = page.locator('tr[data-row="time"] td[data-side="estimated"] .sw-pg-why')
    assert why.text_content() == w.estimate["estimated"]["time_why"] and "scatter" in why.text_content()
    # AQE stays on, and the control says the value is the what-if's
    assert aqe_box.is_checked()
    assert page.locator('[data-control="spark.sql.adaptive.enabled"] .sw-pg-source').text_content() == "what-if"
    assert "AQE coalescing" in page.locator(".sw-pg-notes").text_content()
    assert page.locator(".sw-pg-assumptions li").count() == len(w.estimate["assumptions"])
    page.screenshot(path=str(artifacts / "mock-playground-seeded.png"), full_page=True)
    # the reset button returns a setting to the value the stage ran with
    page.locator(f'[data-control="{MIN_SIZE}"] button.sw-pg-reset').click()
    assert MIN_SIZE not in host.saved[-1]["settings"]


def test_seeded_stage_names_are_text(mock_host, session, tmp_path):
    path = write_hostile_log(root_conftest.spark43_log_path("skewed_join"), tmp_path / "hostile-app")
    w = Playground.from_log(session.load(path, cache=False))
    host = mock_host("playground", widget_state(w))
    page = host.page
    page.wait_for_timeout(100)
    assert page.locator("img").count() == 0
    assert page.evaluate("() => window.__sw_xss") is None
    assert HOSTILE in page.locator(".sw-pg-subtitle").text_content()
    assert page.locator(".sw-pg-subtitle").get_attribute("title") == w.stage_info["name"]
    # the static fallback escapes them
    fallback = w._repr_html_()
    assert HOSTILE not in fallback and "&lt;img src=x" in fallback


# ---- end to end in JupyterLab ------------------------------------------------------------------------

def _notebook(log_path: str) -> nbformat.NotebookNode:
    cells = [
        "from sparksword_nb.widgets import Playground\nw = Playground()\nw",
        "print(f'python: shuffle_partitions={w.shuffle_partitions} tasks={w.estimate[\"stages\"][1][\"tasks\"]}')",
        f"%load_ext sparksword_nb\n%sparksword {log_path};",
        "%sparksword playground --stage 1 -o pg",
        "print(f'seeded: {pg.settings} -> {pg.estimate[\"estimated\"][\"tasks\"]} tasks')",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _run_cell(page, index: int) -> None:
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def test_playground_in_jupyterlab(jupyterlab, browser, artifacts):
    started = time.monotonic()
    url, root = jupyterlab
    nbformat.write(_notebook(str(root_conftest.spark43_log_path("pair_b_static"))), root / "playground.ipynb")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(f"{url}/lab/tree/playground.ipynb?reset")
        page.locator("#jp-main-statusbar >> text=Idle").first.wait_for(timeout=90_000)
        _run_cell(page, 0)
        free = page.locator(".jp-OutputArea-output").filter(has=page.locator('.sw-playground[data-mode="free"]')).first
        agg = free.locator('svg.sw-pg-bars g.sw-pg-stage[data-stage="1"]')
        expect(agg).to_have_attribute("data-tasks", "200", timeout=60_000)
        # move the shuffle-partitions slider with the mouse, as a user would: a click at 30% of its track
        slider = free.locator('input[type="range"][data-key="shuffle_partitions"]')
        box = slider.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2)
        shown = free.locator('[data-control="shuffle_partitions"] .sw-pg-value')
        expect(shown).not_to_have_text("200")
        value = int(shown.text_content().replace(",", ""))
        # the kernel's answer redraws the bars: one per partition
        expect(agg).to_have_attribute("data-tasks", str(value), timeout=30_000)
        expect(agg.locator("rect.sw-pg-bar")).to_have_count(value)
        expect(free.locator(".sw-playground")).to_have_attribute("data-busy", "0", timeout=10_000)
        # and Python's trait followed
        _run_cell(page, 1)
        expect(page.locator(".jp-OutputArea-output", has_text=f"python: shuffle_partitions={value} tasks={value}")
               ).to_be_visible(timeout=30_000)
        free.screenshot(path=str(artifacts / "jupyterlab-playground-free.png"))

        # seeded from a real stage through the magic: measured beside estimated
        _run_cell(page, 2)
        _run_cell(page, 3)
        seeded = page.locator(".jp-OutputArea-output").filter(has=page.locator('.sw-playground[data-mode="seeded"]')).first
        expect(seeded.locator('g.sw-pg-stage[data-role="measured"]')).to_have_attribute("data-tasks", "200", timeout=60_000)
        estimated = seeded.locator('g.sw-pg-stage[data-role="estimated"]')
        expect(estimated).to_have_attribute("data-tasks", "200")
        seeded.locator('input[type="checkbox"][data-key="spark.sql.adaptive.enabled"]').check()
        expect(estimated).not_to_have_attribute("data-tasks", "200", timeout=30_000)
        tasks = estimated.get_attribute("data-tasks")
        _run_cell(page, 4)
        expect(page.locator(".jp-OutputArea-output",
                            has_text=f"seeded: {{'spark.sql.adaptive.enabled': True}} -> {tasks} tasks")
               ).to_be_visible(timeout=30_000)
        seeded.screenshot(path=str(artifacts / "jupyterlab-playground-seeded.png"))
        assert not [e for e in errors if "sparksword" in e or "sw-" in e], errors
    finally:
        page.close()
        (root / "playground.ipynb").unlink(missing_ok=True)
    print(f"\nJupyterLab playground test: {time.monotonic() - started:.1f} s (server start excluded)")
