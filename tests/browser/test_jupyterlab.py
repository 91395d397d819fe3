"""End to end: %sparksword in a real JupyterLab, driven through Chromium like a user would."""
from __future__ import annotations

import json

import nbformat
from playwright.sync_api import expect

import conftest as root_conftest  # tests/conftest.py: the real logs and the History Server's answers
from browser.logs import write_hostile_log

CASE = "skewed_join"


def _open_notebook(browser, url: str, root, name: str, cells: list[str]):
    """Write a notebook of `cells` into JupyterLab's folder, open it in a new page, wait for its kernel."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / name)
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{url}/lab/tree/{name}?reset")
    page.locator("#jp-main-statusbar >> text=Idle").first.wait_for(timeout=90_000)
    return page


def _run_cell(page, index: int) -> None:
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Shift+Enter")


def test_report_in_jupyterlab(jupyterlab, browser, tmp_path, artifacts):
    url, root = jupyterlab
    hostile = write_hostile_log(root_conftest.spark43_log_path(CASE), tmp_path / "hostile-app")
    stage_ids = sorted(s["stageId"] for s in root_conftest.spark43_answers(CASE)["stages.json"])
    page = _open_notebook(browser, url, root, "report.ipynb", [
        "%load_ext sparksword_nb",
        f"%sparksword {root_conftest.spark43_log_path(CASE)}",
        "report = _\nprint('loaded', type(report).__name__)",
        "print(f'selected = {report.selected_stage} skew = {report.skew.stage} '\n"
        "      f'insights = {report.insights.selected_stage}')",
        f"%sparksword {hostile}",
    ])
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for i in range(4):
        _run_cell(page, i)

    # the report: one node per stage of the History Server's stage list
    first_report = page.locator(".jp-OutputArea-output").filter(has=page.locator(".sw-report")).first
    dag = first_report.locator("svg.sw-dag")
    dag.wait_for(timeout=90_000)
    nodes = first_report.locator("g.sw-stage[data-stage-id]")
    expect(nodes).to_have_count(len(stage_ids), timeout=30_000)
    assert sorted(int(n.get_attribute("data-stage-id")) for n in nodes.all()) == stage_ids
    expect(page.locator(".jp-OutputArea-output", has_text="loaded Report")).to_be_visible(timeout=60_000)

    # click a stage: the histogram and Python's selected_stage follow (through the kernel)
    skew_panel = first_report.locator(".sw-skew-panel")
    current = skew_panel.get_attribute("data-stage-id")
    target = next(s for s in stage_ids if str(s) != current)
    first_report.locator(f'g.sw-stage[data-stage-id="{target}"]').dispatch_event("click")
    expect(skew_panel).to_have_attribute("data-stage-id", str(target), timeout=30_000)
    expect(first_report.locator("g.sw-stage.sw-selected")).to_have_attribute("data-stage-id", str(target))
    expect(skew_panel.locator("svg.sw-hist rect.sw-bar").first).to_be_attached()
    _run_cell(page, 3)
    expect(page.locator(".jp-OutputArea-output",
                        has_text=f"selected = {target} skew = {target} insights = {target}")).to_be_visible(timeout=30_000)
    first_report.screenshot(path=str(artifacts / "jupyterlab-report.png"))

    # a log whose names carry HTML: shown as text, nothing runs
    _run_cell(page, 4)
    outputs = page.locator(".jp-OutputArea-output").filter(has=page.locator(".sw-report"))
    expect(outputs).to_have_count(2, timeout=90_000)
    hostile_report = outputs.nth(1)
    expect(hostile_report.locator("g.sw-stage[data-stage-id]")).to_have_count(len(stage_ids), timeout=30_000)
    assert hostile_report.locator("img").count() == 0
    header = hostile_report.locator(".sw-report-header h3").text_content()
    assert header.startswith('<img src=x onerror="window.__sw_xss')
    labels = " ".join(t.text_content() for t in hostile_report.locator("g.sw-stage text.sw-label").all())
    assert "<img src=x" in labels
    assert page.evaluate("() => window.__sw_xss") is None
    hostile_report.screenshot(path=str(artifacts / "jupyterlab-hostile-names.png"))
    page.screenshot(path=str(artifacts / "jupyterlab-page.png"), full_page=True)
    assert not [e for e in errors if "sparksword" in e or "sw-" in e], errors
    page.close()
    # keep the executed notebook's outputs out of the next run
    (root / "report.ipynb").unlink()
    json.dumps(errors)


def test_a_folder_of_applications_opens_the_clicked_row_in_jupyterlab(jupyterlab, browser, artifacts):
    url, root = jupyterlab
    folder = root_conftest.SPARK_TESTS / "logs"
    import sparksword_nb as ss

    expected = ss.applications_in(folder)["app_id"][2]
    page = _open_notebook(browser, url, root, "picker.ipynb", [
        "%load_ext sparksword_nb", f"%sparksword {folder} -o picked", "print('picked', picked.app_id)"])
    _run_cell(page, 0)
    _run_cell(page, 1)
    button = page.get_by_role("button", name="open 2", exact=True)
    button.wait_for(timeout=90_000)
    table = page.locator(".jp-OutputArea-output", has_text="holds 18 applications")
    expect(table).to_be_visible()
    table.screenshot(path=str(artifacts / "jupyterlab-app-picker.png"))
    button.click()
    # the click reaches the kernel, which loads that application and shows its report below the table
    report = page.locator(".jp-OutputArea-output .sw-report")
    report.locator("svg.sw-dag").wait_for(timeout=90_000)
    _run_cell(page, 2)
    expect(page.locator(".jp-OutputArea-output", has_text=f"picked {expected}")).to_be_visible(timeout=30_000)
    page.close()
    (root / "picker.ipynb").unlink()


def test_compare_view_links_the_two_dags_in_jupyterlab(jupyterlab, browser, artifacts):
    url, root = jupyterlab
    page = _open_notebook(browser, url, root, "compare.ipynb", [
        "%load_ext sparksword_nb", "%sparksword compare pair_b_static pair_b_aqe -o comparison",
        "view = _\nprint('twin', view.after_dag.selected_stage, 'row', view.selected_pair)"])
    _run_cell(page, 0)
    _run_cell(page, 1)
    dags = page.locator(".jp-OutputArea-output svg.sw-dag")
    expect(dags).to_have_count(2, timeout=90_000)
    before, after = (page.locator(".jp-OutputArea-output .sw-dag-panel").nth(i) for i in (0, 1))
    for panel in (before, after):  # half a notebook's width: the toolbar stays one line (its info text gives way)
        toolbar = panel.locator(".sw-toolbar").first.bounding_box()
        title = panel.locator(".sw-toolbar .sw-title").first.bounding_box()
        assert toolbar["height"] < 2 * title["height"] + 10, toolbar
    # the static run's map stage 0: its twin in the AQE run is stage 0; its reduce stage 1: the AQE run's stage 2
    before.locator('g.sw-stage[data-stage-id="0"]').dispatch_event("click")
    expect(after.locator("g.sw-stage.sw-selected")).to_have_attribute("data-stage-id", "0", timeout=30_000)
    before.locator('g.sw-stage[data-stage-id="1"]').dispatch_event("click")
    expect(after.locator("g.sw-stage.sw-selected")).to_have_attribute("data-stage-id", "2", timeout=30_000)
    _run_cell(page, 2)
    expect(page.locator(".jp-OutputArea-output", has_text="twin 2 row 1")).to_be_visible(timeout=30_000)
    page.locator(".jp-OutputArea-output").filter(has=page.locator("svg.sw-dag")).first.screenshot(
        path=str(artifacts / "jupyterlab-compare.png"))
    page.close()
    (root / "compare.ipynb").unlink()


def test_the_fleet_of_a_history_folder_in_jupyterlab_opens_a_chosen_application(jupyterlab, browser, artifacts):
    url, root = jupyterlab
    folder = root_conftest.SPARK_TESTS / "logs"
    import sparksword_nb as ss

    chosen = ss.applications_in(folder)["app_id"][3]
    page = _open_notebook(browser, url, root, "fleet.ipynb", [
        "%load_ext sparksword_nb", f"%sparksword fleet {folder} -o fl",
        "print('fleet', len(fl.apps), fl.slower()['name'].tolist())"])
    _run_cell(page, 0)
    _run_cell(page, 1)
    view = page.locator(".jp-OutputArea-output", has_text="Findings that cost the most")
    view.wait_for(timeout=120_000)
    # the slower job's durations are drawn as a line, the latest run marked
    expect(view.locator(".sw-fleet svg polyline")).to_have_count(1)
    expect(view.locator(".sw-fleet", has_text="slower: 26.9 s")).to_be_visible()
    view.screenshot(path=str(artifacts / "jupyterlab-fleet.png"))
    choice = view.locator("select")
    label = next(text for text in choice.locator("option").all_inner_texts() if text.startswith(chosen))
    choice.select_option(label=label)
    view.get_by_role("button", name="open", exact=True).click()
    view.locator(".sw-report svg.sw-dag").wait_for(timeout=90_000)
    expect(view.locator(".sw-report", has_text=chosen).first).to_be_visible()
    _run_cell(page, 2)
    expect(page.locator(".jp-OutputArea-output", has_text="fleet 18 ['Spark shell']")).to_be_visible(timeout=30_000)
    page.close()
    (root / "fleet.ipynb").unlink()
