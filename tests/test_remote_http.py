"""Logs behind a real Spark History Server (pyspark's, on loopback) by the URL a user copies from the browser, and
log files on a plain HTTP server; every answer is the History Server's for the same log."""
from __future__ import annotations

import json
import shutil
import time
import urllib.request

import pytest

import sparksword_nb as ss
from sparksword_nb import SparkswordError
from sparksword_nb.errors import SeveralApplications

from conftest import assert_loaded_as_the_history_server_read_it, spark43_answers, spark43_log_path
from servers import free_port, history_server, http_files, running, spark_home

CASES = ("skewed_join", "zstd_single", "inprogress")


@pytest.fixture(scope="module")
def shs(tmp_path_factory):
    """A real Spark History Server over a folder of three real logs (one still in progress)."""
    if spark_home() is None:
        pytest.skip("pyspark (with Java) is not installed")
    logs = tmp_path_factory.mktemp("shs-logs")
    for case in CASES:
        source = spark43_log_path(case)
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, logs / source.name)
    port = free_port()
    work = tmp_path_factory.mktemp("shs-work")
    command, env = history_server(logs, port, work)
    base = f"http://127.0.0.1:{port}"
    with running(command, f"{base}/api/v1/applications", timeout_s=120, env=env, log=work / "shs.out"):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # the listing fills as the server scans the folder
            with urllib.request.urlopen(f"{base}/api/v1/applications", timeout=10) as response:
                if len(json.load(response)) == len(CASES):
                    break
            time.sleep(0.5)
        yield base


def test_the_history_servers_applications_are_a_table(shs):
    table = ss.applications_in(shs)
    assert set(table["app_id"]) == {spark43_answers(c)["application.json"]["id"] for c in CASES}
    for case in CASES:
        hs = spark43_answers(case)["application.json"]
        row = table[table["app_id"] == hs["id"]].iloc[0]
        assert row["name"] == hs["name"]
        assert row["status"] == ("completed" if hs["attempts"][0]["completed"] else "in progress")
        if hs["attempts"][0]["completed"]:
            assert row["duration_ms"] == hs["attempts"][0]["duration"]
    with pytest.raises(SeveralApplications):
        ss.Session().load(shs, cache=False)


def test_a_fleet_of_a_history_server_is_its_applications_as_it_lists_them(shs, tmp_path):
    fleet = ss.fleet(shs, store=tmp_path / "fleet.duckdb", workers=2, progress=False)
    assert not fleet.errors()
    apps = fleet.apps
    assert set(apps["app_id"]) == {spark43_answers(c)["application.json"]["id"] for c in CASES}
    for case in CASES:
        hs = spark43_answers(case)["application.json"]
        row = apps[apps["app_id"] == hs["id"]].iloc[0]
        assert row["status"] == ("completed" if hs["attempts"][0]["completed"] else "in progress")
        if hs["attempts"][0]["completed"]:
            assert row["duration_ms"] == hs["attempts"][0]["duration"]
        assert row["key"].startswith(f"{shs}#")
    fleet.close()
    again = ss.fleet(shs, store=tmp_path / "fleet.duckdb", progress=False)
    # the finished applications are current; the one in progress may have moved on, so it is read again
    assert again.reused >= len(CASES) - 1
    again.close()


@pytest.mark.parametrize("case", CASES)
def test_an_application_loads_through_the_history_servers_logs_download(shs, case):
    app_id = spark43_answers(case)["application.json"]["id"]
    assert_loaded_as_the_history_server_read_it(ss.Session().load(shs, app=app_id, cache=False), case)


def test_a_ui_page_url_copied_from_the_browser_names_its_application(shs):
    app_id = spark43_answers("skewed_join")["application.json"]["id"]
    log = ss.Session().load(f"{shs}/history/{app_id}/jobs/", cache=False)
    assert_loaded_as_the_history_server_read_it(log, "skewed_join")


def test_an_unknown_application_is_one_line(shs):
    with pytest.raises(SparkswordError, match=r"has no application 'app-nope'; it lists: local-"):
        ss.Session().load(shs, app="app-nope", cache=False)


@pytest.fixture(scope="module")
def http(tmp_path_factory):
    folder = tmp_path_factory.mktemp("http-files")
    shutil.copy2(spark43_log_path("zstd_single"), folder)
    port = free_port()
    with running(http_files(folder, port), f"http://127.0.0.1:{port}/", timeout_s=30):
        yield f"http://127.0.0.1:{port}"


def test_a_log_file_on_an_http_server_loads(http):
    pytest.importorskip("aiohttp")
    name = spark43_log_path("zstd_single").name
    assert_loaded_as_the_history_server_read_it(ss.Session().load(f"{http}/{name}", cache=False), "zstd_single")


def test_an_http_server_that_is_no_history_server_is_one_line(http):
    with pytest.raises(SparkswordError, match=r"is not a Spark History Server"):
        ss.Session().load(http, cache=False)
    with pytest.raises(SparkswordError, match=r"/missing\.zstd: no such object or folder$"):
        ss.Session().load(f"{http}/missing.zstd", cache=False)


def test_a_server_that_is_not_there_is_one_line():
    with pytest.raises(SparkswordError, match=r"^http://127\.0\.0\.1:\d+/api/v1/applications: cannot connect"):
        ss.Session().load(f"http://127.0.0.1:{free_port()}", cache=False)


@pytest.fixture
def cut_off_server():
    """An HTTP server on loopback that announces a real log's full length, sends half of it and hangs up."""
    import http.server
    import threading

    data = spark43_log_path("zstd_single").read_bytes()

    class CutOff(http.server.BaseHTTPRequestHandler):
        def _headers(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()

        def do_HEAD(self) -> None:  # noqa: N802 - the handler's protocol names
            self._headers()

        def do_GET(self) -> None:  # noqa: N802
            self._headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CutOff)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_an_interrupted_download_is_one_line_and_leaves_nothing_in_the_cache(cut_off_server):
    import os
    from pathlib import Path

    pytest.importorskip("aiohttp")
    name = spark43_log_path("zstd_single").name
    mirror = Path(os.environ["SPARKSWORD_CACHE_DIR"]) / "remote"
    before = set(mirror.rglob("*")) if mirror.exists() else set()
    with pytest.raises(SparkswordError) as info:
        ss.Session().load(f"{cut_off_server}/{name}", cache=False)
    assert str(info.value).startswith(f"{cut_off_server}/{name}: ") and "\n" not in str(info.value)
    left = {p for p in mirror.rglob("*") if p.is_file()} - before
    assert not left  # neither a half-written log nor its .part file
