"""Comparing two runs on real pairs written by Spark 4.3.0: stages matched by what they do (AQE runs, broadcasts
and cache() renumber or remove stages), headlines that name the changed setting and the stage it changed, noise
told from change, and a different input flagged. Every stage number checked is the History Server's."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import sparksword_nb as ss
from sparksword_nb.text import human_ms

from conftest import DATA, SPARK43, run_cell

GENERATED = DATA / "generated"


def _case_dir(case: str) -> Path:
    return SPARK43 / case if (SPARK43 / case).is_dir() else GENERATED / case


def _log_path(case: str) -> Path:
    return next(p for p in _case_dir(case).iterdir() if p.name != "history-server")


def _hs_stages(case: str) -> dict[int, dict]:
    """The History Server's stage list of a case, by stage id (the latest attempt)."""
    stages = json.loads((_case_dir(case) / "history-server" / "stages.json").read_text())
    return {s["stageId"]: s for s in sorted(stages, key=lambda s: s["attemptId"])}


@pytest.fixture(scope="module")
def runs():
    session = ss.Session()
    loaded: dict[str, ss.EventLog] = {}

    def get(case: str) -> ss.EventLog:
        if case not in loaded:
            loaded[case] = session.load(_log_path(case), cache=False)
        return loaded[case]

    yield get
    session.close()


def _matched(comparison) -> dict[int | None, int | None]:
    """before stage id -> after stage id (None: removed), and None -> the added stages' ids."""
    import pandas as pd

    out: dict = {}
    for r in comparison.stages.to_dict("records"):
        b = None if pd.isna(r["before_stage_id"]) else int(r["before_stage_id"])
        a = None if pd.isna(r["after_stage_id"]) else int(r["after_stage_id"])
        if b is None:
            out.setdefault(None, []).append(a)
        else:
            out[b] = a
    return out


def _stage_row(comparison, before_stage: int) -> dict:
    return next(r for r in comparison.stages.to_dict("records") if r["before_stage_id"] == before_stage)


def test_fewer_static_partitions_name_the_setting_and_the_reduce_stage(runs):
    comparison = runs("pair_b_static").compare(runs("pair_b_p16"))
    before, after = _hs_stages("pair_b_static"), _hs_stages("pair_b_p16")
    assert _matched(comparison) == {0: 0, 1: 1}
    assert comparison.config_diff[["key", "before", "after"]].values.tolist() == [
        ["spark.sql.shuffle.partitions", "200", "16"]]
    row = _stage_row(comparison, 1)
    assert (row["before_tasks"], row["after_tasks"]) == (before[1]["numTasks"], after[1]["numTasks"]) == (200, 16)
    wall = (row["before_wall_ms"], row["after_wall_ms"])
    assert comparison.headline.startswith(
        f"spark.sql.shuffle.partitions 200 -> 16: the reduce stage 1 ran 16 tasks instead of 200, "
        f"{human_ms(wall[0])} -> {human_ms(wall[1])}")
    assert row["changed"] and row["verdict"] == "changed"


def test_an_aqe_runs_stages_match_their_static_twins(runs):
    comparison = runs("pair_b_static").compare(runs("pair_b_aqe"))
    after = _hs_stages("pair_b_aqe")
    # AQE runs the map stage as job 0 and the reduce stage as stage 2 of job 1 (stage 1 skipped)
    assert after[1]["status"] == "SKIPPED"
    assert _matched(comparison) == {0: 0, 1: 2}
    assert _stage_row(comparison, 1)["after_tasks"] == after[2]["numTasks"] == 3
    assert comparison.config_diff["key"].iloc[0] == "spark.sql.adaptive.enabled"
    assert comparison.headline.startswith("spark.sql.adaptive.enabled false -> true (and 2 more settings): "
                                          "the reduce stage 1 (now 2) ran 3 tasks instead of 200")
    # the map stage did the same work: its time difference is noise
    assert _stage_row(comparison, 0)["verdict"] == "within noise"
    # the defaults AQE's run changed are resolved and marked as such
    advisory = comparison.config_diff.set_index("key").loc["spark.sql.adaptive.advisoryPartitionSizeInBytes"]
    assert (advisory["before"], advisory["before_is_default"], advisory["after"]) == ("64m", True, "512k")


def test_aqe_skew_handling_splits_the_join_stage_and_the_skew_finding_goes(runs):
    comparison = runs("d_static").compare(runs("d_aqe_skew"))
    before, after = _hs_stages("d_static"), _hs_stages("d_aqe_skew")
    matched = _matched(comparison)
    # the join stage reads both sides' shuffles: the most shuffle bytes of the run
    join_before = max(before, key=lambda s: before[s]["shuffleReadBytes"])
    join_after = max((s for s in after if after[s]["status"] != "SKIPPED"), key=lambda s: after[s]["shuffleReadBytes"])
    assert matched[join_before] == join_after
    assert (_stage_row(comparison, join_before)["before_tasks"], _stage_row(comparison, join_before)["after_tasks"]) \
        == (before[join_before]["numTasks"], after[join_after]["numTasks"])
    assert comparison.headline.startswith("spark.sql.adaptive.enabled false -> true")
    assert any(f["type"] == "data_skew" for f in comparison.findings["only_before"])
    assert not any(f["type"] == "data_skew" for f in comparison.findings["only_after"])
    # the application's own time changed most before its first job: the headline says so, not only the stages
    assert "before the first job" in comparison.headline


def test_a_broadcast_removes_the_shuffle_stages_of_the_join(runs):
    comparison = runs("e_static").compare(runs("e_bcast"))
    matched = _matched(comparison)
    removed = sorted(b for b, a in matched.items() if b is not None and a is None)
    assert comparison.config_diff["key"].tolist() == ["spark.sql.autoBroadcastJoinThreshold"]
    assert comparison.headline.startswith("spark.sql.autoBroadcastJoinThreshold -1 -> 10m: ")
    assert "is gone" in comparison.headline and len(removed) == 2
    # the big side's scan is the same stage in both runs: 1,000,000 records read
    big = next(r for r in comparison.stages.to_dict("records") if r["before_input_records"] == 1_000_000)
    assert big["after_input_records"] == 1_000_000 and comparison.same_input


def test_more_cores_change_the_wall_time_not_the_work(runs):
    comparison = runs("f_cores1").compare(runs("f_cores2"))
    assert comparison.config_diff[["key", "before", "after"]].values.tolist() == [
        ["spark.master", "local[1]", "local[2]"]]
    assert "(task slots 1 -> 2)" in comparison.headline
    assert _matched(comparison) == {0: 0, 1: 1}
    assert not any("tasks instead" in w for w in comparison.stages["what"])


def test_cache_removes_the_recomputation(runs):
    comparison = runs("n_nocache").compare(runs("n_cache"))
    before, after = _hs_stages("n_nocache"), _hs_stages("n_cache")
    recomputed = [s for s in after if after[s]["status"] == "SKIPPED"]
    assert recomputed  # with cache() the second job skips its map stage
    matched = _matched(comparison)
    gone = [b for b, a in matched.items() if b is not None and a is None]
    assert gone == recomputed and before[gone[0]]["status"] == "COMPLETE"
    assert comparison.same_input and len(comparison.config_diff) == 0
    assert comparison.headline.startswith(f"no Spark setting differs: the map stage {gone[0]} is gone")


def test_a_larger_input_is_not_the_same_input(runs):
    comparison = runs("r_twin_a").compare(runs("r_static_4m"))
    assert not comparison.same_input
    assert comparison.headline.startswith("Not the same input (the stages that read the sources read 2,000,000 "
                                          "records before and 4,000,000 after)")
    assert comparison.to_json()["same_input"] is False


def test_two_runs_of_the_same_job_show_no_change_beyond_noise(runs):
    comparison = runs("r_twin_a").compare(runs("r_twin_b"))
    assert len(comparison.config_diff) == 0 and comparison.same_input
    assert not comparison.stages["changed"].any(), comparison.text()
    assert set(comparison.stages["verdict"]) <= {"within noise", "same"}
    assert comparison.headline.startswith("no Spark setting differs: no stage changed beyond run-to-run noise")
    assert comparison.findings == {"only_before": [], "only_after": []}


def test_the_json_shape_other_tools_read(runs):
    data = runs("pair_b_static").compare(runs("pair_b_aqe")).to_json()
    assert set(data) >= {"headline", "config_diff", "stages", "findings"}
    assert all(set(c) >= {"key", "before", "after"} for c in data["config_diff"])
    for stage in data["stages"]:
        assert set(stage) >= {"before", "after", "changed"}
        for side in ("before", "after"):
            assert stage[side] is None or set(stage[side]) >= {"stage_id", "tasks", "wall_ms", "run_ms"}
    assert set(data["findings"]) == {"only_before", "only_after"}
    json.dumps(data)  # plain JSON types only


def test_the_cli_compares_and_the_report_carries_the_comparison(tmp_path, runs):
    run = subprocess.run([sys.executable, "-m", "sparksword_nb.cli", "compare", "pair_b_static", "pair_b_p16", "--json"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["headline"] == runs("pair_b_static").compare(runs("pair_b_p16")).headline
    out = tmp_path / "report.html"
    report = subprocess.run([sys.executable, "-m", "sparksword_nb.cli", "report", "pair_b_static", "--compare",
                             "pair_b_p16", "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    page = out.read_text()
    assert 'id="sw-compare"' in page and "spark.sql.shuffle.partitions 200 -&gt; 16" in page


def test_the_magic_shows_both_dags_linked_through_the_matching(ip):
    from sparksword_nb.widgets.compare_view import CompareView

    view = run_cell(ip, "%sparksword compare pair_b_static pair_b_aqe -o comparison")
    assert isinstance(view, CompareView) and ip.user_ns["comparison"] is view.comparison
    view.before_dag.selected_stage = 1  # a click on the static run's reduce stage ...
    assert view.after_dag.selected_stage == 2  # ... selects its AQE twin
    assert "background" in view.table.value.split("data-pair='1'")[1].split(">")[0]
    view.after_dag.selected_stage = 0
    assert view.before_dag.selected_stage == 0
