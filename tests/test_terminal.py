"""What the terminal commands print fits the terminal (issue 16): wrapped at words, tables clipped, JSON whole."""
from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest

from sparksword_nb.cli import main

from conftest import SPARK_TESTS, spark43_log_path

YARN_SHELL = str(SPARK_TESTS / "logs" / "application_1628109047826_1317105")


def _run(argv: list[str], columns: int, monkeypatch) -> str:
    monkeypatch.setenv("COLUMNS", str(columns))
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


@pytest.mark.parametrize("columns", [100, 70])
@pytest.mark.parametrize("command", ["demo", "summary", "insights", "samples"])
def test_no_line_is_wider_than_the_terminal(command, columns, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the demo writes its report here
    argv = {"demo": ["demo", "--no-cache"], "samples": ["samples"],
            "summary": ["summary", str(spark43_log_path("skewed_join")), "--no-cache"],
            "insights": ["insights", YARN_SHELL, "--no-cache"]}[command]
    text = _run(argv, columns, monkeypatch)
    widest = max(text.splitlines(), key=len)
    assert len(widest) <= columns, widest
    assert len(text.splitlines()) > 3


def test_json_is_not_wrapped(monkeypatch):
    text = _run(["insights", YARN_SHELL, "--no-cache", "--json"], 60, monkeypatch)
    found = json.loads(text)
    assert any(len(i["suggestion"]) > 60 for i in found), "long texts stay whole in JSON"
