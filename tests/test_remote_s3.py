"""Event logs in S3, read through fsspec from moto's real S3 server on loopback; every answer is the History
Server's for the same log."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import sparksword_nb as ss
from sparksword_nb import SparkswordError
from sparksword_nb.errors import SeveralApplications

from conftest import assert_loaded_as_the_history_server_read_it, spark43_answers, spark43_log_path
from servers import free_port, moto_s3, running

pytest.importorskip("s3fs")
pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")

BUCKET = "spark-logs"
CASES = ("skewed_join", "rolling", "zstd_single", "healthy")


def _upload(client, local: Path, prefix: str) -> None:
    if local.is_dir():
        for f in sorted(local.iterdir()):
            client.upload_file(str(f), BUCKET, f"{prefix}/{local.name}/{f.name}")
    else:
        client.upload_file(str(local), BUCKET, f"{prefix}/{local.name}")


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    """moto's S3 server with the bucket `spark-logs`: history/ holds four real logs, one/ holds one."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env, running(moto_s3(port), endpoint, timeout_s=60):
        for key, value in {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "testing",
                           "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_EC2_METADATA_DISABLED": "true"}.items():
            env.setenv(key, value)
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        for case in CASES:
            _upload(client, spark43_log_path(case), "history")
        _upload(client, spark43_log_path("skewed_join"), "one")
        yield client


@pytest.mark.parametrize("case", CASES)
def test_each_kind_of_log_loads_from_s3_as_the_history_server_read_it(s3, case):
    local = spark43_log_path(case)
    url = f"s3://{BUCKET}/history/{local.name}" + ("/" if local.is_dir() else "")
    assert_loaded_as_the_history_server_read_it(ss.Session().load(url, cache=False), case)


def test_a_rolling_log_folder_by_its_own_url(s3):
    log = ss.Session().load(f"s3://{BUCKET}/one/{spark43_log_path('skewed_join').name}", cache=False)
    assert_loaded_as_the_history_server_read_it(log, "skewed_join")


def test_a_remote_history_folder_is_a_choice_and_only_the_chosen_log_is_downloaded(s3):
    folder = f"s3://{BUCKET}/history/"
    with pytest.raises(SeveralApplications) as info:
        ss.Session().load(folder, cache=False)
    table = info.value.table()
    ids = {spark43_answers(c)["application.json"]["id"]: c for c in CASES}
    assert set(table["app_id"]) == set(ids)  # read from each log's first bytes, not a download
    assert set(table["name"]) == {spark43_answers(c)["application.json"]["name"] for c in CASES}
    assert table["path"].str.startswith(f"s3://{BUCKET}/history/").all()
    assert table.equals(ss.applications_in(folder))
    mirror = Path(os.environ["SPARKSWORD_CACHE_DIR"]) / "remote"
    before = {p.name for p in mirror.rglob("events_*")} if mirror.exists() else set()
    log = ss.Session().load(folder, app=spark43_answers("healthy")["application.json"]["id"], cache=False)
    assert_loaded_as_the_history_server_read_it(log, "healthy")
    fetched = {p.name for p in mirror.rglob("events_*")} - before
    assert fetched <= {p.name for p in spark43_log_path("healthy").iterdir()}
    log = ss.Session().load(folder, app="0", cache=False)  # the newest application
    assert log.app_id == table["app_id"][0]


def test_an_unchanged_object_is_not_downloaded_again_and_a_grown_one_is(s3):
    source = spark43_log_path("inprogress")  # a plain log of an application still running
    key = f"grow/{source.name}"
    whole = source.read_bytes()
    half = whole[: whole.index(b"\n", len(whole) // 2) + 1]
    s3.put_object(Bucket=BUCKET, Key=key, Body=half)
    mirror = Path(os.environ["SPARKSWORD_CACHE_DIR"]) / "remote"
    before = set(mirror.rglob(source.name))  # other tests' copies of the same log
    first = ss.Session().load(f"s3://{BUCKET}/{key}")
    copies = sorted(set(mirror.rglob(source.name)) - before)
    assert len(copies) == 1 and copies[0].stat().st_size == len(half)
    stamp = copies[0].stat().st_mtime_ns
    tasks_then = first.rows("SELECT count(*) AS n FROM tasks")[0]["n"]
    again = ss.Session().load(f"s3://{BUCKET}/{key}")
    assert copies[0].stat().st_mtime_ns == stamp  # one metadata request, no download
    assert again.rows("SELECT count(*) AS n FROM tasks")[0]["n"] == tasks_then
    s3.put_object(Bucket=BUCKET, Key=key, Body=whole)  # the application wrote on
    grown = ss.Session().load(f"s3://{BUCKET}/{key}")
    assert copies[0].stat().st_size == len(whole)
    assert_loaded_as_the_history_server_read_it(grown, "inprogress")
    assert grown.rows("SELECT count(*) AS n FROM tasks")[0]["n"] > tasks_then


def test_a_missing_bucket_or_key_is_one_line_naming_the_url(s3):
    with pytest.raises(SparkswordError, match=rf"^s3://{BUCKET}/nothing-here: no such object or folder$"):
        ss.Session().load(f"s3://{BUCKET}/nothing-here", cache=False)
    with pytest.raises(SparkswordError, match=r"^s3://no-such-bucket/x: "):
        ss.Session().load("s3://no-such-bucket/x", cache=False)


def test_missing_credentials_are_one_line_without_a_secret(s3, monkeypatch, tmp_path):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(SparkswordError) as info:
        ss.Session().load(f"s3://{BUCKET}/one/", cache=False, storage_options={"skip_instance_cache": True})
    assert "no credentials" in str(info.value) and "\n" not in str(info.value)


def test_credentials_in_storage_options_are_used_and_never_shown(s3):
    options = {"key": "testing", "secret": "very-secret-value", "skip_instance_cache": True}
    log = ss.Session().load(f"s3://{BUCKET}/one/", cache=False, storage_options=options)
    assert log.app_id == spark43_answers("skewed_join")["application.json"]["id"]
    with pytest.raises(SparkswordError) as info:
        ss.Session().load(f"s3://{BUCKET}/missing", cache=False, storage_options=options)
    assert "very-secret-value" not in str(info.value)


def test_the_cli_reads_s3_with_storage_options(s3):
    import json
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    run = subprocess.run([sys.executable, "-m", "sparksword_nb.cli", "summary", f"s3://{BUCKET}/one/", "--json",
                          "--storage-option", "key=testing", "--storage-option", "secret=testing"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["app_id"] == spark43_answers("skewed_join")["application.json"]["id"]
    listed = subprocess.run([sys.executable, "-m", "sparksword_nb.cli", "apps", f"s3://{BUCKET}/history/", "--json",
                             "--storage-option", "key=testing", "--storage-option", "secret=testing"],
                            capture_output=True, text=True, timeout=120, env=env)
    assert listed.returncode == 0, listed.stderr
    assert {r["app_id"] for r in json.loads(listed.stdout)} == {spark43_answers(c)["application.json"]["id"]
                                                               for c in CASES}


def test_cache_info_counts_the_downloaded_copies_and_clear_removes_them(s3, tmp_path, monkeypatch, capsys):
    from sparksword_nb.cli import main

    monkeypatch.setenv("SPARKSWORD_CACHE_DIR", str(tmp_path / "cache"))
    ss.Session().load(f"s3://{BUCKET}/one/")
    source = spark43_log_path("skewed_join")
    assert main(["cache", "info"]) == 0
    shown = capsys.readouterr().out
    copies = len(list(source.iterdir()))  # the rolling folder's files, each with its version note
    assert f"remote logs      {2 * copies} downloaded files" in shown
    assert main(["cache", "clear"]) == 0
    assert f"removed 1 cached parse and {2 * copies} downloaded files of remote logs" in capsys.readouterr().out
    assert not (tmp_path / "cache" / "remote").exists()


def test_a_fleet_of_an_s3_prefix_equals_the_fleet_of_the_same_logs_on_disk(s3, tmp_path):
    local = tmp_path / "history"
    local.mkdir()
    for case in CASES:
        source = spark43_log_path(case)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, local / source.name)
    columns = ["app_id", "name", "user", "start_ms", "duration_ms", "status", "core_ms_allocated", "core_ms_busy"]
    on_disk = ss.fleet(local, store=tmp_path / "local.duckdb", progress=False)
    remote = ss.fleet(f"s3://{BUCKET}/history/", store=tmp_path / "s3.duckdb", workers=2, progress=False)
    assert remote.read == len(CASES) and not remote.errors()
    ours = remote.apps.sort_values("app_id", ignore_index=True)
    assert ours[columns].equals(on_disk.apps.sort_values("app_id", ignore_index=True)[columns])
    for row in ours.to_dict("records"):
        case = next(c for c in CASES if spark43_answers(c)["application.json"]["id"] == row["app_id"])
        attempt = spark43_answers(case)["application.json"]["attempts"][0]
        assert row["duration_ms"] == attempt["duration"] and (row["status"] == "completed") == attempt["completed"]
        assert row["key"].startswith(f"s3://{BUCKET}/history/#")
    assert [sorted(t) for t in ours["finding_types"]] == [
        sorted(t) for t in on_disk.apps.sort_values("app_id", ignore_index=True)["finding_types"]]
    remote.close()
    again = ss.fleet(f"s3://{BUCKET}/history/", store=tmp_path / "s3.duckdb", progress=False)
    assert (again.read, again.reused) == (0, len(CASES))  # the listing says nothing changed: nothing fetched
    again.close()
    # one object of the rolling log is written again (as Spark rewrites its last file): that application only
    rolling = spark43_log_path("rolling")
    last = sorted(rolling.iterdir())[-1]
    s3.upload_file(str(last), BUCKET, f"history/{rolling.name}/{last.name}")
    third = ss.fleet(f"s3://{BUCKET}/history/", store=tmp_path / "s3.duckdb", progress=False)
    assert (third.read, third.reused) == (1, len(CASES) - 1)
    rolled = third.apps[third.apps["key"].str.endswith(rolling.name.removeprefix("eventlog_v2_"))]
    assert list(rolled["app_id"]) == [spark43_answers("rolling")["application.json"]["id"]]
    assert list(rolled["load_s"] > 0) == [True]
    third.close()
    on_disk.close()
