"""%sparksword and %%sparksword in a real IPython shell."""
from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from IPython.core.error import UsageError

from sparksword_nb import EventLog, SparkswordError
from sparksword_nb.widgets import InsightsPanel, Report, SkewHistogram, SqlPlan, StageDag

from conftest import run_cell as run
from conftest import spark43_answers, spark43_log_path

SKEWED = spark43_log_path("skewed_join")
HEALTHY = spark43_log_path("healthy")


def test_loading_a_log_shows_the_report_and_binds_the_log(ip):
    report = run(ip, f"%sparksword {SKEWED} -o log")
    assert isinstance(report, Report)
    log = ip.user_ns["log"]
    assert isinstance(log, EventLog)
    app = spark43_answers("skewed_join")["application.json"]
    assert log.app_id == app["id"]
    assert repr(report).startswith(f"Report(app='{app['id']}', jobs=1, stages=4, tasks=36")
    # the displayed value is the report; `_` holds it as for any expression
    assert ip.user_ns["_"] is report


def test_subcommands_show_their_panels(ip):
    run(ip, f"%sparksword {SKEWED};")
    dag = run(ip, "%sparksword dag --color-by spill")
    assert isinstance(dag, StageDag) and dag.color_by == "spill"
    assert sorted(dag.stage_ids) == sorted(s["stageId"] for s in spark43_answers("skewed_join")["stages.json"])
    skew = run(ip, "%sparksword skew 2 --metric shuffle_read -o h")
    assert isinstance(skew, SkewHistogram) and ip.user_ns["h"] is skew
    summary = spark43_answers("skewed_join")["taskSummary_2_0.json"]
    assert skew.payload["quantiles"]["values"] == summary["shuffleReadMetrics"]["readBytes"]
    assert isinstance(run(ip, "%sparksword insights"), InsightsPanel)
    plan = run(ip, "%sparksword sql-plan 0")
    assert isinstance(plan, SqlPlan)
    assert len(plan.payload["nodes"]) == len(spark43_answers("skewed_join")["sql.json"][0]["nodes"])


def test_cell_form_runs_sql_over_the_current_log(ip):
    run(ip, f"%sparksword {SKEWED};")
    df = run(ip, "%%sparksword -o counts\n"
                 "SELECT stage_id, count(*) FILTER (WHERE status = 'SUCCESS') AS done\n"
                 "FROM tasks GROUP BY stage_id ORDER BY stage_id")
    assert isinstance(df, pd.DataFrame) and ip.user_ns["counts"] is df
    expected = {s["stageId"]: s["numCompleteTasks"] for s in spark43_answers("skewed_join")["stages.json"]}
    assert dict(zip(df["stage_id"], df["done"])) == expected


def test_list_and_use_switch_between_loaded_logs(ip):
    run(ip, f"%sparksword {SKEWED};")
    run(ip, f"%sparksword {HEALTHY};")
    skewed_id = spark43_answers("skewed_join")["application.json"]["id"]
    healthy_id = spark43_answers("healthy")["application.json"]["id"]
    listed = run(ip, "%sparksword list")
    assert list(listed["app_id"]) == [skewed_id, healthy_id]
    assert list(listed["current"]) == [False, True]
    assert run(ip, f"%sparksword use {skewed_id}").app_id == skewed_id
    df = run(ip, "%%sparksword\nSELECT count(DISTINCT stage_id) AS n FROM stages")
    assert df["n"][0] == len(spark43_answers("skewed_join")["stages.json"])
    # --app picks a loaded log for one command without switching
    df = run(ip, f"%%sparksword --app {healthy_id}\nSELECT count(DISTINCT stage_id) AS n FROM stages")
    assert df["n"][0] == len(spark43_answers("healthy")["stages.json"])
    with pytest.raises(SparkswordError, match="no loaded log named 'nope'"):
        run(ip, "%sparksword use nope")


def test_domain_errors_print_one_line(ip, capsys):
    result = ip.run_cell("%sparksword /no/such/eventlog")
    assert isinstance(result.error_in_exec, SparkswordError)
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if line.strip()]
    assert lines == ["SparkswordError: /no/such/eventlog: no such file or directory"], out
    with pytest.raises(SparkswordError, match="no event log loaded"):
        run(ip, "%sparksword dag")
    run(ip, f"%sparksword {SKEWED};")
    with pytest.raises(SparkswordError, match="unknown stage: 99"):
        run(ip, "%sparksword skew 99")
    with pytest.raises(SparkswordError, match=r"unknown SQL execution: 5"):
        run(ip, "%sparksword sql-plan 5")
    with pytest.raises(SparkswordError, match="SQL error"):
        run(ip, "%%sparksword\nSELECT no_such_column FROM stages")


def test_bad_flags_are_usage_errors(ip):
    for line in ("%sparksword --bogus", "%sparksword skew", "%sparksword skew two", "%sparksword dag extra",
                 "%sparksword skew 1 --metric nonsense", "%sparksword", "%%sparksword stray\nSELECT 1"):
        result = ip.run_cell(line)
        assert isinstance(result.error_in_exec, UsageError), line
        assert not result.success


def test_usage_is_documented(ip):
    doc = ip.find_line_magic("sparksword").__doc__
    for word in ("PATH", "--app", "-o NAME", "skew STAGE", "sql-plan ID", "use NAME", "--metric"):
        assert word in doc, word


def test_trailing_semicolon_silences_the_output(ip):
    assert run(ip, f"%sparksword {SKEWED} -o log;") is None
    assert isinstance(ip.user_ns["log"], EventLog)
    assert ip.run_cell("%sparksword dag;").result is None
    assert isinstance(ip.run_cell("%sparksword dag").result, StageDag)


def test_variables_expand_and_a_doubled_dollar_is_a_literal_one(ip):
    ip.user_ns["x"] = "skewed_join"
    with pytest.raises(SparkswordError, match=r"/tmp/skewed_join/log: no such file"):
        run(ip, "%sparksword /tmp/$x/log")
    with pytest.raises(SparkswordError, match=r"/tmp/\$x/log: no such file"):
        run(ip, "%sparksword /tmp/$$x/log")


def test_config_settings_apply(ip):
    run(ip, f"%sparksword {SKEWED};")
    ip.run_line_magic("config", "SparkswordMagics.max_dag_nodes = 2")
    ip.run_line_magic("config", "SparkswordMagics.color_by = 'skew_ratio'")
    ip.run_line_magic("config", "SparkswordMagics.skew_metric = 'gc_time'")
    dag = run(ip, "%sparksword dag")
    assert (dag.max_nodes, dag.color_by) == (2, "skew_ratio")
    assert run(ip, "%sparksword skew 2").metric == "gc_time"
    report = run(ip, f"%sparksword {SKEWED}")
    assert (report.dag.max_nodes, report.skew.metric) == (2, "gc_time")
    ip.run_line_magic("config", "SparkswordMagics.verbose_errors = True")
    with pytest.raises(RuntimeError, match="unknown stage: 99"):
        run(ip, "%sparksword skew 99")


def test_unload_closes_the_connection_and_removes_the_magic(shell):
    shell.run_line_magic("load_ext", "sparksword_nb")
    run(shell, f"%sparksword {SKEWED} -o log")
    log = shell.user_ns["log"]
    shell.run_line_magic("unload_ext", "sparksword_nb")
    with pytest.raises(duckdb.Error):
        log.session.con.execute("SELECT 1")
    assert shell.find_line_magic("sparksword") is None
    result = shell.run_cell("%sparksword dag")
    assert isinstance(result.error_in_exec, UsageError)
    # and it loads again
    shell.run_line_magic("load_ext", "sparksword_nb")
    assert shell.find_line_magic("sparksword") is not None
    shell.run_line_magic("unload_ext", "sparksword_nb")


def test_timeline_is_a_static_plotly_figure_of_where_tasks_ran(ip):
    import plotly.graph_objects as go

    run(ip, f"%sparksword {SKEWED};")
    fig = run(ip, "%sparksword timeline")
    assert isinstance(fig, go.Figure)
    # one bar per executor and stage; their task counts are the History Server's per-executor totals
    per_executor: dict[str, int] = {}
    for trace in fig.data:
        for executor, data in zip(trace.y, trace.customdata):
            per_executor[executor] = per_executor.get(executor, 0) + int(data[1])
    expected = {f"executor {e['id']}": e["totalTasks"] for e in spark43_answers("skewed_join")["allexecutors.json"]
                if e["totalTasks"]}
    assert per_executor == expected
    assert {t.name for t in fig.data} == {f"stage {s['stageId']}" for s in spark43_answers("skewed_join")["stages.json"]}
