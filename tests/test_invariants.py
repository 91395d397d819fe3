"""Invariants of the time breakdown and the findings on every real event log we have (issue 10).

Over tests/data and the bundled samples, and, when present, ../shared/eventlogs and ../shared/external (a
user's clone has neither: those cases are skipped). For each application:
- the time breakdown's parts tile the run: they add up to its duration, with no hole and no overlap;
- every finding has a real title, description and evidence (the model refuses placeholders; no "N% of" above
  100, no ratio without a number), its impact is
  between 0 and the application's duration, and it lies in parts of that breakdown;
- no suggestion asks for a setting value the application already had;
- overlaps are mutual, and the findings together never explain more than the run's duration.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from sparksword_nb import Session, SparkswordError
from sparksword_nb.detectors.accounting import explained_time

from conftest import DATA

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
SETTING = re.compile(r"(spark\.[A-Za-z0-9_.]+)=([^\s,;)]+)")
# Inputs that are no event log at all; the bad-input tests check their one-line errors.
NOT_EVENT_LOGS = {"driverlog", "malformed_json_eventlog.zstd"}
_LOG_SUFFIXES = ("", ".zstd", ".zst", ".lz4", ".snappy", ".lzf", ".gz", ".inprogress")


def _entries(root: Path) -> list[Path]:
    """The event logs below `root`: rolling eventlog_v2_* directories and single files (answers excluded)."""
    found: list[Path] = []
    if not root.is_dir():
        return found
    for path in sorted(root.rglob("*")):
        parts = set(path.relative_to(root).parts)
        if {"history-server", "expectations"} & parts or any(p.startswith("eventlog_v2_") for p in path.parent.parts):
            continue
        if path.is_dir() and path.name.startswith("eventlog_v2_"):
            found.append(path)
        elif (path.is_file() and not path.name.startswith(".") and path.suffix in _LOG_SUFFIXES
              and path.name not in ("README", "Makefile") and path.parent.name != "answers"):
            found.append(path)
    return found


def _corpus() -> list:
    cases = []
    for label, root in (("tests", DATA), ("samples", ROOT / "sparksword_nb" / "samples"),
                        ("shared-eventlogs", SHARED / "eventlogs"), ("external", SHARED / "external" / "logs")):
        for path in _entries(root):
            cases.append(pytest.param(path, id=f"{label}/{path.relative_to(root)}"))
    return cases


CORPUS = _corpus()


@pytest.mark.parametrize("path", CORPUS)
def test_time_and_findings_invariants(path: Path):
    session = Session()
    try:
        try:
            logs = session.load_all(path, cache=False)
        except SparkswordError:
            if path.name in NOT_EVENT_LOGS:
                pytest.skip("not an event log: refused with a one-line error, as the bad-input tests check")
            raise
        for log in logs:
            _check_application(log)
    finally:
        session.close()


def _check_application(log) -> None:
    account = log.time_account()
    where = f"{log.app_id}/{log.attempt_id}"
    if account.parts:
        assert sum(p.ms for p in account.parts) == account.duration_ms, where
        assert account.parts[0].start_ms == account.start_ms and account.parts[-1].end_ms == account.end_ms, where
        assert all(a.end_ms == b.start_ms for a, b in zip(account.parts, account.parts[1:])), where
    part_names = {p.part for p in account.parts}
    conf = dict(log.sql("SELECT key, value FROM config WHERE section = 'spark'").fetchall())
    found = log.insights()
    keys = {i.key for i in found}
    assert len(keys) == len(found), f"{where}: finding keys are unique"
    for insight in found:
        what = f"{where} {insight.key}"
        assert insight.title.strip() and insight.description.strip() and insight.evidence, what
        # no share of anything above all of it, no ratio glued to a placeholder ("farx")
        for text in (insight.title, insight.description, insight.confidence_reason):
            assert all(int(p) <= 100 for p in re.findall(r"(\d+)% of", text)), f"{what}: {text[:120]}"
            assert not re.search(r"\b(far|None|nan)x\b", text), f"{what}: {text[:120]}"
        assert 0 <= insight.impact_ms <= max(account.duration_ms, 0), f"{what}: impact {insight.impact_ms}"
        assert set(insight.time_parts) <= part_names, what
        for other in insight.overlaps:
            assert other in keys, what
            partner = next(i for i in found if i.key == other)
            assert insight.key in partner.overlaps, f"{what}: overlap with {other} is mutual"
        for key, value in SETTING.findall(insight.suggestion):
            had = conf.get(key)
            assert had is None or had.strip().lower() != value.strip().lower(), \
                f"{what}: suggests {key}={value}, which the application already had"
    explained = explained_time(found, account)
    assert 0 <= explained.explained_ms <= account.duration_ms, where


def test_the_corpus_is_the_real_logs_we_ship():
    """The collection above finds every bundled test case (a wrong filter would pass vacuously)."""
    ids = {p.id for p in CORPUS}
    assert any(i.startswith("tests/spark-4.3.0/skewed_join/") for i in ids)
    assert any(i.startswith("tests/spark-tests/logs/application_1628109047826_1317105") for i in ids)
    assert any(i.startswith("tests/generated/detectors/cheap_skew/") for i in ids)
    assert len([i for i in ids if i.startswith("tests/")]) >= 60
