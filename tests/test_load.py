"""Loading every kind of real event log into the canonical tables."""
from __future__ import annotations

import json
import os
import shutil

import pytest

import sparksword_nb as ss
from sparksword_nb import SparkswordError
from sparksword_nb.rest import answer
from sparksword_nb.store import CANONICAL_TABLES, VIEWS

from conftest import SPARK43, SPARK_TESTS, assert_same_answer, spark43_answers, spark43_cases, spark43_log_path


@pytest.mark.parametrize("case", spark43_cases())
def test_spark43_log_loads_with_the_history_servers_ids_and_counts(case, spark43_session):
    log = spark43_session(case)
    answers = spark43_answers(case)
    assert log.app_id == answers["application.json"]["id"]
    ours = {(s, a) for s, a in log.sql("SELECT stage_id, stage_attempt_id FROM stages").fetchall()}
    theirs = {(s["stageId"], s["attemptId"]) for s in answers["stages.json"]}
    assert ours == theirs
    # every task attempt the History Server lists, we have, in the same stage attempt
    for name, tasks in answers.items():
        if not name.startswith("taskList_"):
            continue
        stage, attempt = (int(x) for x in name.removesuffix(".json").split("_")[1:])
        got = log.sql(
            "SELECT task_id FROM tasks WHERE stage_id = ? AND stage_attempt_id = ? ORDER BY task_id", [stage, attempt]
        ).fetchall()
        assert [t[0] for t in got] == sorted(t["taskId"] for t in tasks), name


def test_every_spark_suite_log_loads_side_by_side(spark_tests_session):
    apps = spark_tests_session.applications()
    # 18 files; two apps have two attempts each
    assert len(apps) == 18
    assert apps["app_id"].nunique() == 16
    attempts = apps[apps["app_id"] == "local-1426533911241"]["attempt_id"].tolist()
    assert sorted(attempts) == ["1", "2"]


def test_old_field_names_are_read(spark_tests_session):
    """Spark 1.x writes no 'Local Bytes Read' / 'Total Records Read' and names stages without parents."""
    log = next(lg for lg in spark_tests_session.logs if lg.app_id == "local-1430917381534")
    read, blocks = log.sql(
        "SELECT sum(shuffle_remote_bytes_read + shuffle_local_bytes_read), sum(shuffle_local_blocks_fetched) "
        "FROM tasks WHERE stage_id = 1"
    ).fetchall()[0]
    raw = [json.loads(line) for line in (SPARK_TESTS / "logs" / "local-1430917381534").read_text().splitlines()]
    expected_read = sum(
        e["Task Metrics"]["Shuffle Read Metrics"].get("Remote Bytes Read", 0)
        + e["Task Metrics"]["Shuffle Read Metrics"].get("Local Bytes Read", 0)
        for e in raw
        if e["Event"] == "SparkListenerTaskEnd" and e["Stage ID"] == 1 and "Shuffle Read Metrics" in e["Task Metrics"]
    )
    assert read == expected_read > 0
    assert blocks > 0


def test_in_progress_rolling_zstd_with_torn_end_loads_and_says_what_it_skipped():
    log = ss.Session().load(spark43_log_path("crashed_driver"), cache=False)
    assert log.skipped, "the torn end of the crashed driver's log should be reported"
    app = log.table("applications").iloc[0]
    assert not app["completed"]
    assert log.sql("SELECT count(*) FROM tasks WHERE status = 'SUCCESS'").fetchall()[0][0] == 49


def test_plain_in_progress_file_with_torn_last_line(tmp_path):
    source = next((SPARK43 / "inprogress").glob("*.inprogress"))
    data = source.read_bytes()
    lines = data.splitlines(keepends=True)
    torn = tmp_path / source.name
    torn.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])
    log = ss.Session().load(torn, cache=False)
    assert any("torn last line" in s for s in log.skipped)
    assert log.report.events == len(lines) - 1


def test_broken_line_in_the_middle_is_an_error_naming_file_and_line(tmp_path):
    source = SPARK_TESTS / "logs" / "local-1422981780767"
    lines = source.read_bytes().splitlines(keepends=True)
    lines[10] = lines[10][:40] + b"\n"
    broken = tmp_path / "local-1422981780767"
    broken.write_bytes(b"".join(lines))
    with pytest.raises(SparkswordError) as info:
        ss.Session().load(broken, cache=False)
    message = str(info.value)
    assert str(broken) in message and "line 11" in message
    assert "\n" not in message


def test_history_dir_asks_which_app_and_lists_them():
    with pytest.raises(SparkswordError) as info:
        ss.Session().load(SPARK_TESTS / "logs", cache=False)
    assert "holds 18 applications" in str(info.value) and "app=" in str(info.value)
    assert "app-20161115172038-0000" in str(info.value)  # the first names, then how many more
    assert "local-1422981780767" in set(info.value.table()["app"])
    log = ss.Session().load(SPARK_TESTS / "logs", app="local-1422981780767", cache=False)
    assert log.app_id == "local-1422981780767"


def test_glob_of_several_logs(tmp_path):
    log = ss.Session().load(str(SPARK_TESTS / "logs" / "local-14229817*"), app="local-1422981780767", cache=False)
    assert log.app_id == "local-1422981780767"


def test_sql_and_tables_see_only_their_own_application():
    session = ss.Session()
    a = session.load(SPARK_TESTS / "logs" / "local-1422981780767", cache=False)
    b = session.load(SPARK_TESTS / "logs" / "local-1430917381534", cache=False)
    assert a.sql("SELECT DISTINCT app_id FROM tasks").fetchall() == [("local-1422981780767",)]
    assert b.table("stages")["app_id"].unique().tolist() == ["local-1430917381534"]
    total = session.con.sql("SELECT count(*) FROM tasks").fetchall()[0][0]
    assert total == a.sql("SELECT count(*) FROM tasks").fetchall()[0][0] + b.sql("SELECT count(*) FROM tasks").fetchall()[0][0]
    for name in (*CANONICAL_TABLES, *VIEWS):
        a.table(name)  # every table and view answers


def test_a_failed_load_leaves_earlier_applications_intact(tmp_path):
    session = ss.Session()
    good = session.load(SPARK_TESTS / "logs" / "local-1422981780767", cache=False)
    before = good.table("tasks")
    bad = tmp_path / "not-a-log.json"
    bad.write_text('{"hello": "world"}\n')
    with pytest.raises(SparkswordError):
        session.load(bad, cache=False)
    assert good.table("tasks").equals(before)
    assert len(session.applications()) == 1


def test_reloading_the_same_log_replaces_its_rows():
    session = ss.Session()
    first = session.load(SPARK_TESTS / "logs" / "local-1422981780767", cache=False)
    n = first.sql("SELECT count(*) FROM tasks").fetchall()[0][0]
    session.load(SPARK_TESTS / "logs" / "local-1422981780767", cache=False)
    assert first.sql("SELECT count(*) FROM tasks").fetchall()[0][0] == n


def test_reloading_a_log_that_grew_gives_the_time_account_of_its_new_rows(tmp_path):
    # an application still running when first loaded: two of its three jobs written, no ApplicationEnd
    full_log = SPARK_TESTS / "logs" / "local-1422981780767"
    lines = full_log.read_text().splitlines(keepends=True)
    growing = tmp_path / full_log.name
    growing.write_text("".join(lines[:61]))
    session = ss.Session()
    log = session.load(growing, cache=False)
    while_running = log.time_account()
    growing.write_text("".join(lines))
    session.load(growing, cache=False)
    after = log.time_account()
    finished = ss.Session().load(full_log, cache=False).time_account()
    assert (after.ended, after.duration_ms) == (finished.ended, finished.duration_ms)
    assert not while_running.ended and while_running.duration_ms < finished.duration_ms


def test_cache_skips_parsing_and_a_changed_file_is_read_again(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKSWORD_CACHE_DIR", str(tmp_path / "cache"))
    log_dir = tmp_path / "logs"
    shutil.copytree(spark43_log_path("skewed_join"), log_dir / spark43_log_path("skewed_join").name)
    path = log_dir / spark43_log_path("skewed_join").name
    first = ss.Session().load(path)
    expected = first.table("tasks")

    import sparksword_nb.store as store

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed again although the cache is valid")

    monkeypatch.setattr(store, "stage_app_log", must_not_parse)
    again = ss.Session().load(path)
    assert again.table("tasks").equals(expected)

    events = next(path.glob("events_*"))
    os.utime(events, ns=(events.stat().st_atime_ns, events.stat().st_mtime_ns + 10_000_000_000))
    with pytest.raises(AssertionError, match="parsed again"):
        ss.Session().load(path)


def _rows_in_memory(session: ss.Session, log) -> int:
    return session.con.execute(
        "SELECT count(*) FROM main._rows_tasks WHERE app_id = ? AND attempt_id = ?", [log.app_id, log.attempt_id]
    ).fetchall()[0][0]


def test_a_cached_application_is_read_in_place_and_answers_the_same(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKSWORD_CACHE_DIR", str(tmp_path / "cache"))
    path = spark43_log_path("skewed_join")
    parsed = ss.Session().load(path, cache=False)
    answers = spark43_answers("skewed_join")

    session = ss.Session()
    first = session.load(path)  # parsed, written to the cache, and read from there
    assert _rows_in_memory(session, first) == 0
    reopened_session = ss.Session()
    reopened = reopened_session.load(path)
    assert _rows_in_memory(reopened_session, reopened) == 0
    attached = reopened_session.con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE path LIKE ?", [str(tmp_path / "cache") + "%"]
    ).fetchall()[0][0]
    assert attached == 1
    for name in CANONICAL_TABLES:
        query = f"SELECT * FROM {name} ORDER BY ALL"
        assert reopened.sql(query).df().equals(parsed.sql(query).df()), name
    for endpoint in ("stages", "allexecutors", "jobs"):
        assert_same_answer(answer(reopened, f"applications/{reopened.app_id}/{endpoint}"), answers[f"{endpoint}.json"])


def test_reloading_a_cached_application_replaces_its_rows_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKSWORD_CACHE_DIR", str(tmp_path / "cache"))
    session = ss.Session()
    cached = session.load(spark43_log_path("skewed_join"))
    other = session.load(spark43_log_path("spill"), cache=False)
    tasks = cached.sql("SELECT count(*) FROM tasks").fetchall()[0][0]
    assert tasks > 0

    again = session.load(spark43_log_path("skewed_join"), cache=False)  # now from the parse, in memory
    assert again is cached and _rows_in_memory(session, again) == tasks
    assert again.sql("SELECT count(*) FROM tasks").fetchall()[0][0] == tasks
    assert session.con.execute(
        "SELECT count(*) FROM duckdb_databases() WHERE database_name LIKE '_cache_%'").fetchall()[0][0] == 0

    session.load(spark43_log_path("skewed_join"))  # back to the cache file
    assert _rows_in_memory(session, again) == 0
    assert again.sql("SELECT count(*) FROM tasks").fetchall()[0][0] == tasks
    apps = session.applications()
    assert sorted(apps["app_id"]) == sorted([cached.app_id, other.app_id])

    broken = tmp_path / "broken"
    broken.write_bytes(b'{"hello": "world"}\n')
    with pytest.raises(SparkswordError):
        session.load(broken)
    assert again.sql("SELECT count(*) FROM tasks").fetchall()[0][0] == tasks  # a failed load loses nothing


def test_a_database_file_session_copies_the_cache_and_reopens_without_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SPARKSWORD_CACHE_DIR", str(tmp_path / "cache"))
    path = spark43_log_path("skewed_join")
    ss.Session().load(path)  # the cache file exists
    database = tmp_path / "session.duckdb"
    session = ss.Session(database)
    log = session.load(path)
    tasks = log.sql("SELECT count(*) FROM tasks").fetchall()[0][0]
    assert _rows_in_memory(session, log) == tasks
    session.close()
    shutil.rmtree(tmp_path / "cache")
    import duckdb

    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM tasks").fetchall()[0][0] == tasks


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "empty"),
        (b"   \n\n  \n", "empty"),
        (b'{"hello": "world"}\n', "not a Spark event log"),
        (b"a,b,c\n1,2,3\n", "line 1"),
        (b'[{"Event": "SparkListenerLogStart"}]\n', "not a Spark event log"),
    ],
)
def test_input_that_is_not_an_event_log_gives_one_line(tmp_path, content, expected):
    bad = tmp_path / "app-1"
    bad.write_bytes(content)
    with pytest.raises(SparkswordError) as info:
        ss.Session().load(bad, cache=False)
    assert expected in str(info.value) and str(bad) in str(info.value)
    assert "\n" not in str(info.value)


def test_non_utf8_bytes_give_one_line(tmp_path):
    source = SPARK_TESTS / "logs" / "local-1422981780767"
    data = source.read_bytes().replace(b'"App Name":"Spark shell"', b'"App Name":"Spark \xff\xfe shell"')
    bad = tmp_path / "local-1422981780767"
    bad.write_bytes(data)
    try:
        log = ss.Session().load(bad, cache=False)
    except SparkswordError as err:
        assert str(bad) in str(err) and "\n" not in str(err)
    else:  # DuckDB may replace invalid bytes; then the rest of the log must be intact
        assert log.sql("SELECT count(*) FROM tasks").fetchall()[0][0] == 32


def test_missing_path_and_empty_dir(tmp_path):
    with pytest.raises(SparkswordError, match="no such file"):
        ss.Session().load(tmp_path / "nope", cache=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SparkswordError, match="no Spark event logs"):
        ss.Session().load(tmp_path / "empty", cache=False)


def test_an_application_of_more_than_one_row_group_keeps_every_column(monkeypatch):
    """Regression: DuckDB 2.0 lost app_id values of >122,880 rows created and filled in one transaction.

    The real many_tasks log (22,000 tasks) is staged, its task rows repeated 7x with new ids (as the
    benchmark's scaled logs do), then stored the way every load stores.
    """
    import sparksword_nb.store as store
    from sparksword_nb.ingest.loader import stage_app_log

    def staged_7x(con, app_log, **kwargs):
        report = stage_app_log(con, app_log, **kwargs)
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _stg_tasks AS "
            "SELECT * REPLACE (task_id + 1000000 * k AS task_id) FROM _stg_tasks, range(7) AS r(k)"
        )
        return report

    monkeypatch.setattr(store, "stage_app_log", staged_7x)
    log = ss.Session().load(spark43_log_path("many_tasks"), cache=False)
    assert log.sql("SELECT count(*) FROM tasks").fetchall()[0][0] == 154_000
    assert log.sql("SELECT app_id, count(*) FROM tasks GROUP BY ALL").fetchall() == [(log.app_id, 154_000)]


@pytest.mark.parametrize("case", ["skewed_join", "tiny_partitions", "spill", "pair_b_static"])
def test_stage_task_quantiles_view_uses_the_history_servers_order_statistics(case, spark43_session):
    log = spark43_session(case)
    for name, summary in spark43_answers(case).items():
        if not name.startswith("taskSummary_"):
            continue
        stage, attempt = (int(x) for x in name.removesuffix(".json").split("_")[1:])
        rows = log.sql(
            "SELECT run_time_ms_q, shuffle_read_bytes_q FROM stage_task_quantiles "
            "WHERE stage_id = ? AND stage_attempt_id = ?", [stage, attempt]
        ).fetchall()
        run_time, read = rows[0]
        assert [float(v) for v in run_time] == summary["executorRunTime"], name
        assert [float(v) for v in read] == summary["shuffleReadMetrics"]["readBytes"], name


def test_an_application_id_picks_its_latest_attempt_and_id_slash_attempt_an_earlier_one():
    """Spark's own multi-attempt test logs: local-1430917381535 ran attempts 1 and 2 (the History Server lists
    the latest first); the id is read from each log's ApplicationStart, not from the file name."""
    session = ss.Session()
    latest = session.load(SPARK_TESTS / "logs", app="local-1430917381535", cache=False)
    first = session.load(SPARK_TESTS / "logs", app="local-1430917381535/1", cache=False)
    assert (latest.app_id, latest.attempt_id) == ("local-1430917381535", "2")
    assert (first.app_id, first.attempt_id) == ("local-1430917381535", "1")
    with pytest.raises(ss.SparkswordError, match="no application 'local-1430917381535/3'"):
        session.load(SPARK_TESTS / "logs", app="local-1430917381535/3", cache=False)


@pytest.mark.parametrize("case", spark43_cases())
def test_completed_means_the_log_has_application_end_as_for_the_history_server(spark43_session, case):
    expected = spark43_answers(case)["application.json"]["attempts"][0]["completed"]
    log = spark43_session(case)
    assert log.rows("SELECT completed FROM applications")[0]["completed"] is expected


def test_the_cache_stays_small_and_within_its_bound(tmp_path, monkeypatch, capsys):
    """Issue 16: a small log makes a small cache file; the least recently used parse goes first; cache info/clear."""
    from sparksword_nb.cli import main
    from sparksword_nb.store import cache_info

    monkeypatch.setenv("SPARKSWORD_CACHE_DIR", str(tmp_path / "cache"))
    first, second = spark43_log_path("skewed_join"), spark43_log_path("healthy")
    ss.Session().load(first)
    (one,) = list((tmp_path / "cache").glob("*.duckdb"))
    assert one.stat().st_size < 1 << 20, "a log of a few hundred KB caches in well under 1 MB"
    # room for one parse only: loading a second log evicts the first, which was used less recently
    monkeypatch.setenv("SPARKSWORD_CACHE_MAX_BYTES", str(one.stat().st_size + 1000))
    ss.Session().load(second)
    files = list((tmp_path / "cache").glob("*.duckdb"))
    assert len(files) == 1 and files[0] != one
    assert cache_info()["files"] == 1
    assert main(["cache", "info"]) == 0
    assert "parsed logs      1" in capsys.readouterr().out
    assert main(["cache", "clear"]) == 0
    assert "removed 1 cached parse" in capsys.readouterr().out
    assert cache_info()["files"] == 0


def test_a_session_bounds_its_memory_and_a_load_within_the_bound_gives_the_same_numbers(monkeypatch, tmp_path):
    source = spark43_log_path("many_tasks")  # 115 MB of JSON once decoded
    unbounded = ss.Session(memory_limit="8GB").load(source, cache=False)
    monkeypatch.setenv("SPARKSWORD_TMPDIR", str(tmp_path))
    small = ss.Session(memory_limit="400MB")
    assert small.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].startswith("38")  # MiB
    log = small.load(source, cache=False)
    query = "SELECT count(*), sum(executor_run_time_ms), sum(shuffle_read_bytes) FROM tasks"
    assert log.sql(query).fetchall() == unbounded.sql(query).fetchall()
    monkeypatch.setenv("SPARKSWORD_MEMORY_LIMIT", "3GB")
    assert ss.Session().con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0].startswith("2.7")


def test_a_load_that_cannot_fit_the_bound_says_so_in_one_line():
    # the JSON reader's buffers cannot be written to disk: 250 MB is too little for them and the rows
    with pytest.raises(ss.SparkswordError, match=r"not enough memory to load it within the session's limit of "
                                                 r"238\.4 MiB \(raise it: SPARKSWORD_MEMORY_LIMIT=4GB"):
        ss.Session(memory_limit="250MB").load(spark43_log_path("many_tasks"), cache=False)


def test_a_bad_memory_limit_is_one_line():
    with pytest.raises(ss.SparkswordError, match=r"^bad memory limit 'lots' \(use e\.g\. 4GB\)"):
        ss.Session(memory_limit="lots")
