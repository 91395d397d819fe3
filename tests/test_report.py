"""`sparksword report` / `write_report`: one self-contained offline HTML file with the History Server's numbers.

The browser side (it renders, fetches nothing, hostile names stay text) is tests/browser/test_report_offline.py;
these tests read the file itself.
"""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from sparksword_nb import Session
from sparksword_nb.cli import main
from sparksword_nb.html_report import write_report

import conftest as root_conftest  # tests/conftest.py: the real logs and the History Server's answers

CASE = "skewed_join"


def _data_island(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="sw-data">(.*?)</script>', html, flags=re.S)
    assert match, "the report carries its data as a JSON island"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def report_html(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("report") / "out.html"
    assert main(["report", str(root_conftest.spark43_log_path(CASE)), "-o", str(out), "--no-cache"]) == 0
    return out.read_text(encoding="utf-8")


def test_report_is_one_file_that_loads_nothing(report_html):
    # no external script, stylesheet, image or font; a CSP that forbids any request
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", report_html)
    assert "<link" not in report_html and "@import" not in report_html
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)"', report_html)
    assert csp and "default-src 'none'" in csp.group(1) and "connect-src 'none'" in csp.group(1)
    assert len(report_html.encode()) < 2_000_000


def test_report_holds_the_history_servers_numbers(report_html):
    answers = root_conftest.spark43_answers(CASE)
    data = _data_island(report_html)
    stage_ids = sorted(s["stageId"] for s in answers["stages.json"])
    counts = data["header"]["counts"]
    assert counts["jobs"] == len(answers["jobs.json"])
    assert counts["stages"] == len(stage_ids)
    assert counts["tasks"] == sum(len(answers[f"taskList_{s}_0.json"]) for s in stage_ids)
    assert data["header"]["duration_ms"] == answers["application.json"]["attempts"][0]["duration"]
    assert sorted(data["dag"]["payload"]["stages"]["stage_id"]) == stage_ids
    # every stage's duration histogram is in the file, with the History Server's quantiles
    for stage in stage_ids:
        hist = data["histograms"][f"{stage}|duration"]
        assert hist["quantiles"]["values"] == answers[f"taskSummary_{stage}_0.json"]["duration"], stage
        assert sum(hist["counts"]) == len([t for t in answers[f"taskList_{stage}_0.json"] if t["status"] == "SUCCESS"])


def test_report_is_the_same_bytes_for_the_same_log(report_html, tmp_path):
    session = Session()
    try:
        log = session.load(root_conftest.spark43_log_path(CASE), cache=False)
        again = write_report(log, tmp_path / "again.html").read_text(encoding="utf-8")
    finally:
        session.close()
    assert again == report_html


def test_demo_writes_the_report_and_points_at_the_tutorials(tmp_path, capsys):
    out = tmp_path / "demo.html"
    assert main(["demo", "--report", str(out), "--top", "1"]) == 0
    printed = capsys.readouterr().out
    assert out.is_file() and str(out.resolve()) in printed
    assert "jupyter lab" in printed and "01_getting_started.ipynb" in printed
    assert _data_island(out.read_text(encoding="utf-8"))["header"]["name"] == "skewed_join"


def test_report_to_a_directory_is_one_clear_error(tmp_path, capsys):
    assert main(["report", str(root_conftest.spark43_log_path(CASE)), "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "is a directory" in err
