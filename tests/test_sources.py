"""Finding the applications a path means: single files, rolling dirs (+ .compact), history dirs, globs."""
from __future__ import annotations

import io
import json
import os
import shutil
from pathlib import Path

import pytest

from sparksword_nb.errors import SparkswordError
from sparksword_nb.ingest.codecs import decode_to
from sparksword_nb.ingest.sources import AppLog, discover

from conftest import SPARK43, SPARK_TESTS, spark43_cases

ROLLING_CASE = next((SPARK43 / "rolling").glob("eventlog_v2_*"))
APP = ROLLING_CASE.name.removeprefix("eventlog_v2_")  # local-1795302271411
REAL_EVENTS = sorted(ROLLING_CASE.glob("events_*"))  # events_1_<app>.zstd, events_2_<app>.zstd


def expected_shape(case: str) -> tuple[str | None, bool, bool]:
    """(codec, in_progress, rolling) of a Spark 4.3.0 case, from its README description."""
    if case == "inprogress":
        return None, True, False
    if case == "plain_single":
        return None, False, False
    if case.endswith("_single"):
        return case.removesuffix("_single"), False, False
    if case.startswith("compressed_"):
        return case.removeprefix("compressed_"), False, True
    return "zstd", case == "crashed_driver", True


@pytest.mark.parametrize("case", spark43_cases())
def test_each_spark43_case_dir_is_one_application(case):
    apps = discover(SPARK43 / case)
    assert len(apps) == 1
    app = apps[0]
    assert (app.codec, app.in_progress, app.rolling) == expected_shape(case)
    answer = json.loads((SPARK43 / case / "history-server/application.json").read_text())
    assert app.log_name == answer["id"]
    assert app.in_progress == (not answer["attempts"][-1]["completed"])
    assert all(p.is_absolute() and p.is_file() for p in app.files)
    # the case dir, its log and (for rolling logs) the rolling dir itself all mean the same application
    (log_path,) = [p for p in (SPARK43 / case).iterdir() if p.name != "history-server"]
    assert discover(log_path) == apps
    assert discover(str(log_path)) == apps


def test_rolling_log_files_are_in_index_order():
    (app,) = discover(ROLLING_CASE)
    assert [p.name for p in app.files] == [f"events_1_{APP}.zstd", f"events_2_{APP}.zstd"]
    assert app.files[0].parent == ROLLING_CASE.absolute()


def test_spark_suite_history_dir_has_18_applications():
    apps = discover(SPARK_TESTS / "logs")
    assert len(apps) == 18
    names = [a.log_name for a in apps]
    assert names == sorted(names)
    assert {"local-1430917381535_1", "local-1430917381535_2", "local-1426533911241", "local-1426633911242",
            "app-20161115172038-0000", "application_1628109047826_1317105"} <= set(names)
    assert all(a.codec is None and not a.in_progress and not a.rolling and len(a.files) == 1 for a in apps)
    assert all(a.files[0].name == a.log_name for a in apps)


def test_spark_suite_broken_attempts():
    for case in ("last-attempt-incomplete", "previous-attempt-incomplete"):
        apps = discover(SPARK_TESTS / "logs-broken" / case)
        assert [a.log_name for a in apps] == ["application_1656321732247_0006_1", "application_1656321732247_0006_2"]


def test_glob_patterns():
    singles = discover(str(SPARK43 / "*_single"))
    assert sorted((a.codec or "none") for a in singles) == ["lz4", "lzf", "none", "snappy", "zstd"]
    rolling = discover(str(SPARK43 / "*" / "eventlog_v2_*"))
    assert len(rolling) == len(spark43_cases()) - 6 and all(a.rolling for a in rolling)
    assert len(discover(str(SPARK43 / "*"))) == len(spark43_cases())
    assert [a.log_name for a in discover(str(SPARK_TESTS / "logs" / "local-1430917381535_?"))] == [
        "local-1430917381535_1", "local-1430917381535_2"]


def test_glob_dedup_of_repeated_matches(tmp_path):
    hist = tmp_path / "hist"
    hist.mkdir()
    log = next((SPARK43 / "lz4_single").glob("local-*.lz4"))
    shutil.copy(log, hist)
    (hist / "x").mkdir()
    (hist / "y").mkdir()
    apps = discover(str(hist / "[xy]" / ".."))  # both matches are hist itself
    assert len(apps) == 1 and apps[0].log_name == log.name.removesuffix(".lz4")


def test_glob_without_match(tmp_path):
    with pytest.raises(SparkswordError, match="no file or directory matches this pattern"):
        discover(str(tmp_path / "nothing-*"))


def test_an_existing_path_with_glob_characters_is_taken_literally(tmp_path):
    d = tmp_path / "logs[1]"
    d.mkdir()
    shutil.copy(REAL_EVENTS[0], d / "app-1")
    (app,) = discover(d)
    assert app.files == (d / "app-1",)


# --------------------------------------------------------------------------------------------- rolling dirs


def make_rolling(root: Path, indices: list[str], status: str | None = "", dirname: str | None = None) -> Path:
    """A rolling dir whose event files are copies of the real rolling log's files, renamed to `indices`
    (e.g. ["1", "2", "3.compact"]); status "" = complete, ".inprogress", or None = no appstatus file."""
    d = root / (dirname or f"eventlog_v2_{APP}")
    d.mkdir(parents=True)
    for k, idx in enumerate(indices):
        n, _, compact = idx.partition(".")
        shutil.copy(REAL_EVENTS[k % 2], d / f"events_{n}_{APP}.zstd{'.compact' if compact else ''}")
    if status is not None:
        (d / f"appstatus_{APP}{status}").touch()
    return d


def names(app: AppLog) -> list[str]:
    return [p.name.removesuffix(f"_{APP}.zstd").removesuffix(f"_{APP}.zstd.compact") + (
        ".compact" if p.name.endswith(".compact") else "") for p in app.files]


def test_rolling_indices_sort_numerically(tmp_path):
    d = make_rolling(tmp_path, [str(i) for i in range(1, 12)])
    (app,) = discover(d)
    assert names(app) == [f"events_{i}" for i in range(1, 12)]
    assert app.rolling and not app.in_progress and app.codec == "zstd" and app.log_name == APP


def test_rolling_log_read_from_the_renamed_copies_decodes(tmp_path):
    d = make_rolling(tmp_path, ["1", "2"])
    (app,) = discover(d)
    out = io.BytesIO()
    for p in app.files:
        decode_to(p, app.codec, out, tolerate_torn_tail=False)
    lines = out.getvalue().decode().splitlines()
    assert json.loads(lines[0])["Event"] == "SparkListenerLogStart"
    assert json.loads(lines[-1])["Event"] == "SparkListenerApplicationEnd"


def test_rolling_compact_file_sorts_after_its_index_and_drops_older_files(tmp_path):
    d = make_rolling(tmp_path, ["1", "2", "3", "3.compact", "4"])
    (app,) = discover(d)
    assert names(app) == ["events_3.compact", "events_4"]
    assert app.codec == "zstd"


def test_rolling_only_the_last_compact_file_counts(tmp_path):
    d = make_rolling(tmp_path, ["2.compact", "5.compact", "5", "6", "7"])
    (app,) = discover(d)
    assert names(app) == ["events_5.compact", "events_6", "events_7"]


def test_rolling_compact_file_alone(tmp_path):
    (app,) = discover(make_rolling(tmp_path, ["4.compact"]))
    assert names(app) == ["events_4.compact"]


def test_rolling_missing_middle_file(tmp_path):
    d = make_rolling(tmp_path, ["1", "2", "4"])
    with pytest.raises(SparkswordError, match=r"missing event log file events_3\b") as err:
        discover(d)
    assert str(d) in str(err.value)


def test_rolling_missing_file_after_compaction(tmp_path):
    with pytest.raises(SparkswordError, match=r"missing event log file events_4, events_5"):
        discover(make_rolling(tmp_path, ["3.compact", "6"]))


def test_rolling_missing_first_file(tmp_path):
    with pytest.raises(SparkswordError, match=r"missing event log file events_1"):
        discover(make_rolling(tmp_path, ["2", "3"]))


def test_rolling_in_progress_status(tmp_path):
    (app,) = discover(make_rolling(tmp_path / "a", ["1", "2"], status=".inprogress"))
    assert app.in_progress
    (app,) = discover(make_rolling(tmp_path / "b", ["1", "2"], status=None))
    assert app.in_progress  # no appstatus file: lenient, in progress
    (app,) = discover(make_rolling(tmp_path / "c", ["1", "2"], status=""))
    assert not app.in_progress


def test_rolling_dir_without_event_files(tmp_path):
    d = make_rolling(tmp_path, [])
    with pytest.raises(SparkswordError, match="no events_<n>_\\* files"):
        discover(d)


def test_rolling_crc_and_hidden_files_are_ignored(tmp_path):
    d = make_rolling(tmp_path, ["1", "2"])
    (d / f".events_1_{APP}.zstd.crc").write_bytes(b"crc")
    (d / f".appstatus_{APP}.crc").write_bytes(b"crc")
    (d / f"events_3_{APP}.zstd.crc").write_bytes(b"crc")
    (app,) = discover(d)
    assert names(app) == ["events_1", "events_2"]


def test_rolling_dir_with_another_name_is_recognised_by_its_files(tmp_path):
    d = make_rolling(tmp_path, ["1", "2"], dirname="copied-log")
    (app,) = discover(d)
    assert app.rolling and app.log_name == APP and names(app) == ["events_1", "events_2"]


def test_rolling_mixed_codecs_are_refused(tmp_path):
    d = make_rolling(tmp_path, ["1"])
    shutil.copy(REAL_EVENTS[1], d / f"events_2_{APP}.lz4")
    with pytest.raises(SparkswordError, match="different codecs"):
        discover(d)


# ------------------------------------------------------------------------------ single files, history dirs


@pytest.mark.parametrize(
    "name, log_name, codec, in_progress",
    [
        ("local-1.lz4.inprogress", "local-1", "lz4", True),
        ("local-1795302288874.inprogress", "local-1795302288874", None, True),
        ("app-20161115172038-0000", "app-20161115172038-0000", None, False),
        ("application_1_0001_2.zstd", "application_1_0001_2", "zstd", False),
        ("local-1.json", "local-1.json", None, False),
        (".hidden", ".hidden", None, False),
    ],
)
def test_a_single_file_is_always_one_log(tmp_path, name, log_name, codec, in_progress):
    p = tmp_path / name
    shutil.copy(REAL_EVENTS[0], p)
    (app,) = discover(p)
    assert app == AppLog(log_name=log_name, files=(p,), codec=codec, in_progress=in_progress, rolling=False)


def test_history_dir_mixes_single_files_and_rolling_dirs(tmp_path):
    shutil.copytree(ROLLING_CASE, tmp_path / ROLLING_CASE.name)
    for case in ("lz4_single", "inprogress"):
        for p in (SPARK43 / case).glob("local-*"):
            shutil.copy(p, tmp_path)
    (tmp_path / ".local-9.crc").write_bytes(b"x")
    (tmp_path / "local-1795302281612.lz4.crc").write_bytes(b"x")
    (tmp_path / "notes").mkdir()  # not a rolling dir: not entered
    shutil.copy(REAL_EVENTS[0], tmp_path / "notes" / "local-7")
    apps = discover(tmp_path)
    assert [(a.log_name, a.codec, a.in_progress, a.rolling) for a in apps] == [
        ("local-1795302271411", "zstd", False, True),
        ("local-1795302281612", "lz4", False, False),
        ("local-1795302288874", None, True, False),
    ]


def test_missing_path(tmp_path):
    with pytest.raises(SparkswordError, match="no such file or directory") as err:
        discover(tmp_path / "nope")
    assert str(tmp_path / "nope") in str(err.value)


def test_empty_dir(tmp_path):
    with pytest.raises(SparkswordError, match="no Spark event logs found in directory"):
        discover(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / ".hidden").write_text("x")
    with pytest.raises(SparkswordError, match="no Spark event logs found in directory"):
        discover(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read everything")
def test_unreadable_paths(tmp_path):
    p = tmp_path / "local-1"
    shutil.copy(REAL_EVENTS[0], p)
    p.chmod(0)
    with pytest.raises(SparkswordError, match="cannot read"):
        discover(p)
    d = tmp_path / "locked"
    d.mkdir()
    d.chmod(0)
    try:
        with pytest.raises(SparkswordError, match="cannot"):
            discover(d)
    finally:
        d.chmod(0o700)


def test_fingerprint_changes_when_a_file_grows(tmp_path):
    d = make_rolling(tmp_path, ["1", "2"], status=".inprogress")
    (app,) = discover(d)
    before = app.fingerprint()
    assert [f[0] for f in before] == [str(p) for p in app.files]
    assert [f[1] for f in before] == [p.stat().st_size for p in REAL_EVENTS]
    with open(app.files[-1], "ab") as f:
        f.write(b"\x00")
    assert app.fingerprint() != before
    app.files[-1].unlink()
    with pytest.raises(SparkswordError):
        app.fingerprint()


def test_home_directory_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    shutil.copy(REAL_EVENTS[0], tmp_path / "local-5")
    (app,) = discover("~/local-5")
    assert app.files == (tmp_path / "local-5",)
