"""The partition playground's Python side: state round trips, payload sizes, and the seeded mode against
what Spark really did (the History Server's answers for the pair_b runs)."""
from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any

import numpy as np
import pytest
import traitlets

from sparksword_nb import SparkswordError
from sparksword_nb.simulate.replay import stage_makespan
from sparksword_nb.simulate.shape import simulate_shape
from sparksword_nb.widgets import Playground
from sparksword_nb.widgets.playground import (
    MAX_BARS,
    MAX_CORE_ROWS,
    MAX_TASK_RECTS,
    SEEDED_KEYS,
    partition_bars,
    seedable_stages,
    task_schedule,
)

from conftest import spark43_answers, spark43_cases, spark43_log_path

# Small JSON: what one answer from the kernel may weigh, whatever the partition count.
PAYLOAD_LIMIT = 32 * 1024


def payload_bytes(widget: Playground) -> int:
    return len(json.dumps(widget.estimate, separators=(",", ":")))


def send_from_panel(widget: Playground, **state: Any) -> list[dict]:
    """Deliver what the panel sends when a slider moves (one comm message); return what the kernel sends back."""
    sent: list[dict] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data)
    widget._handle_msg({"content": {"data": {"method": "update", "state": state, "buffer_paths": []}}, "buffers": []})
    return [d for d in sent if d.get("method") == "update"]


def spark_properties(case: str) -> dict[str, str]:
    return dict(spark43_answers(case)["environment.json"]["sparkProperties"])


def reduce_stage(case: str) -> dict:
    """The History Server's completed stage that read the shuffle (each pair_b run has exactly one)."""
    (stage,) = [s for s in spark43_answers(case)["stages.json"] if s["status"] == "COMPLETE" and s["shuffleReadBytes"]]
    return stage


def task_reads(case: str, stage: dict) -> np.ndarray:
    """Per reduce task in partition order, the shuffle bytes it read (History Server taskList)."""
    tasks = spark43_answers(case)[f"taskList_{stage['stageId']}_{stage['attemptId']}.json"]
    tasks = sorted((t for t in tasks if t["status"] == "SUCCESS"), key=lambda t: t["partitionId"])
    return np.array([t["taskMetrics"]["shuffleReadMetrics"]["localBytesRead"]
                     + t["taskMetrics"]["shuffleReadMetrics"]["remoteBytesRead"] for t in tasks], dtype=float)


def hs_ms(date: str) -> float:
    """A History Server date ("2026-11-21T23:05:35.853GMT") as epoch milliseconds."""
    moment = datetime.strptime(date.replace("GMT", "+0000"), "%Y-%m-%dT%H:%M:%S.%f%z")
    return moment.timestamp() * 1000


def settings_of(case: str, seed: str = "pair_b_static") -> dict[str, str]:
    """The playground settings a run used that its seed run did not (from their environment pages)."""
    run, base = spark_properties(case), spark_properties(seed)
    return {k: v for k, v in run.items() if k in SEEDED_KEYS and base.get(k) != v}


@pytest.fixture(scope="module")
def static_log(spark43_session):
    return spark43_session("pair_b_static")


# ---- free mode ----------------------------------------------------------------------------------------

def test_setting_a_trait_updates_the_estimate():
    w = Playground(input_bytes=4 * 1024**3, input_partitions=32, shuffle_partitions=200)
    assert [s["tasks"] for s in w.estimate["stages"]] == [32, 200]
    w.shuffle_partitions = 64
    # the estimate is the shape model's, for the new shape
    expected = simulate_shape(w.shape)
    stages = w.estimate["stages"]
    assert [s["tasks"] for s in stages] == [s.tasks for s in expected] == [32, 64]
    assert [s["shuffle_write_bytes"] for s in stages] == [s.shuffle_write_bytes for s in expected]
    assert [s["waves"] for s in stages] == [s.waves for s in expected]
    assert stages[1]["bars"]["mean"] == [round(b) for b in expected[1].partition_bytes]
    # the shuffle cut carries what the map side writes
    assert w.estimate["cuts"] == [{"after": 0, "operator": "aggregate", "bytes": expected[0].shuffle_write_bytes}]
    assert w.estimate["mode"] == "free" and w.estimate["assumptions"] and "not a promise" in w.estimate["note"]


def test_a_slider_message_computes_once_and_answers_its_request():
    w = Playground()
    replies = send_from_panel(w, shuffle_partitions=64, skew=0.25, request_id=7)
    estimates = [r["state"]["estimate"] for r in replies if "estimate" in r["state"]]
    assert len(estimates) == 1
    assert estimates[0]["request_id"] == 7
    assert w.shuffle_partitions == 64 and w.skew == 0.25
    # the heaviest key's quarter of the shuffled data stays whole in one partition (then reduced by the
    # aggregate's factor)
    agg = estimates[0]["stages"][1]
    assert agg["tasks"] == 64
    factor = w.operators[1]["factor"]
    assert max(agg["bars"]["max"]) == pytest.approx(agg["shuffle_read_bytes"] * factor * (0.25 + 0.75 / 64), rel=1e-6)
    # the same shape asked again is answered from the cache, still with the new request id
    replies = send_from_panel(w, request_id=8)
    assert [r["state"]["estimate"]["request_id"] for r in replies if "estimate" in r["state"]] == [8]


def test_payload_stays_small_for_any_partition_count():
    w = Playground(input_partitions=20_000, shuffle_partitions=100_000, executors=500, cores_per_executor=8,
                   operators=[{"kind": "filter", "factor": 0.5}, {"kind": "join", "other_bytes": 2 * 1024**3},
                              {"kind": "aggregate", "factor": 0.1}])
    sizes = payload_bytes(w)
    assert sizes <= PAYLOAD_LIMIT, sizes
    for stage in w.estimate["stages"]:
        assert len(stage["bars"]["mean"]) <= MAX_BARS
        assert stage["bars"]["per_bar"] == math.ceil(stage["tasks"] / MAX_BARS)
        assert len(stage["schedule"]["core"]) <= MAX_TASK_RECTS + MAX_CORE_ROWS
        assert stage["schedule"]["rows"] == MAX_CORE_ROWS and stage["schedule"]["cores"] == 4000
    assert [s["tasks"] for s in w.estimate["stages"]] == [20_000, 100_000, 100_000]
    print(f"\nfree payload: default shape {payload_bytes(Playground()):,} bytes; 100,000 partitions {sizes:,} bytes")


def test_drawn_waves_take_the_estimated_stage_time():
    """The task rectangles are placed by the rule the estimate times (greedy list scheduling)."""
    w = Playground(skew=0.4, executors=3, cores_per_executor=5)
    for stage in w.estimate["stages"]:
        assert stage["schedule"]["makespan_ms"] == pytest.approx(stage["time_ms"][1], abs=0.1)
        assert sum(stage["schedule"]["tasks"]) == stage["tasks"]  # 15 cores: every core has a row
    times = [5.0, 1.0, 1.0, 1.0, 4.0, 2.0]
    sched = task_schedule(times, 2)
    # by hand: core 0 runs 5 then (free first at 5) the last task 2; core 1 runs the three 1s and the 4
    assert sched["makespan_ms"] == stage_makespan(times, 2) == 7.0
    assert list(zip(sched["core"], sched["start"], sched["end"])) == [
        (0, 0.0, 5.0), (0, 5.0, 7.0), (1, 0.0, 1.0), (1, 1.0, 2.0), (1, 2.0, 3.0), (1, 3.0, 7.0)]


def test_bars_keep_a_heavy_partition_visible_when_grouped():
    sizes = [10.0] * 1000
    sizes[501] = 5000.0
    bars = partition_bars(sizes, flags=[s > 100 for s in sizes])
    assert bars["per_bar"] == 10 and len(bars["mean"]) == 100
    assert bars["max"][50] == 5000 and bars["mean"][50] == 509 and bars["spill"] == [int(i == 50) for i in range(100)]


def test_bad_shapes_are_refused_with_a_clear_message():
    w = Playground()
    with pytest.raises(traitlets.TraitError, match="unknown operator 'explode'"):
        w.operators = [{"kind": "explode"}]
    with pytest.raises(traitlets.TraitError, match="factor"):
        w.operators = [{"kind": "filter", "factor": 0}]
    with pytest.raises(traitlets.TraitError):
        w.shuffle_partitions = 0
    with pytest.raises(traitlets.TraitError, match="free playground has no stage"):
        w.stage = 1
    assert w.operators[0]["kind"] == "filter"  # unchanged by the refused values


def test_repr_is_deterministic_and_the_fallback_is_html():
    a, b = Playground(skew=0.1), Playground(skew=0.1)
    assert repr(a) == repr(b) == ("Playground(mode='free', input='10.0 GiB', input_partitions=80, "
                                  "operators='filter -> aggregate', skew=0.1, shuffle_partitions=200, cores=8, stages=2)")
    data, _ = a._repr_mimebundle_()
    assert data["text/plain"] == repr(a)
    assert "<table" in data["text/html"] and "Assumptions" in data["text/html"]
    assert "application/vnd.jupyter.widget-view+json" in data
    json.dumps(a.get_state())  # the whole state serializes


# ---- seeded mode, against the History Server ----------------------------------------------------------

def test_seeded_measured_side_is_what_the_history_server_shows(static_log):
    hs = reduce_stage("pair_b_static")
    w = Playground.from_log(static_log, stage=hs["stageId"])
    m = w.estimate["measured"]
    assert m["tasks"] == hs["numTasks"] == 200
    assert m["shuffle_read_bytes"] == hs["shuffleReadBytes"]
    summary = spark43_answers("pair_b_static")[f"taskSummary_{hs['stageId']}_0.json"]
    assert m["quantiles"] == [int(v) for v in summary["shuffleReadMetrics"]["readBytes"]]
    # the measured stage time: first task launched until the stage completed
    stage = spark43_answers("pair_b_static")[f"stage_{hs['stageId']}_0.json"]
    wall = hs_ms(stage["completionTime"]) - hs_ms(stage["firstTaskLaunchedTime"])
    assert m["time_ms"] == [wall, wall, wall]
    assert w.stage_info["name"] == hs["name"]


def test_aqe_advisory_512k_shows_the_partitions_spark_chose(static_log):
    """From pair_b_static, the settings pair_b_aqe ran with (AQE on, advisory 512k) show 3 partitions: the
    number Spark chose in pair_b_aqe; each bar within 10% of what that task read."""
    settings = settings_of("pair_b_aqe")
    assert settings["spark.sql.adaptive.advisoryPartitionSizeInBytes"] == "512k"
    w = Playground.from_log(static_log, stage=reduce_stage("pair_b_static")["stageId"])
    replies = send_from_panel(w, settings=settings, request_id=1)
    assert len([r for r in replies if "estimate" in r["state"]]) == 1
    real = task_reads("pair_b_aqe", reduce_stage("pair_b_aqe"))
    est = w.estimate["estimated"]
    assert est["tasks"] == reduce_stage("pair_b_aqe")["numTasks"] == len(real) == 3
    assert est["bars"]["per_bar"] == 1
    assert np.all(np.abs(np.array(est["bars"]["mean"]) - real) <= 0.10 * real)
    assert any(d["title"] == "AQE coalescing" for d in w.estimate["decisions"])
    # what the panel shows beside each control: the value used and where it came from
    assert w.estimate["effective"]["spark.sql.adaptive.advisoryPartitionSizeInBytes"] == "524288 (what-if)"
    assert w.settings["spark.sql.adaptive.advisoryPartitionSizeInBytes"] == 512 * 1024
    assert "3 estimated" in repr(w)
    print(f"\nseeded payload (pair_b_static stage 1, AQE 512k): {payload_bytes(w):,} bytes")
    assert payload_bytes(w) <= PAYLOAD_LIMIT


def test_sixteen_shuffle_partitions_show_pair_b_p16s_tasks(static_log):
    settings = settings_of("pair_b_p16")
    assert settings == {"spark.sql.shuffle.partitions": "16"}
    w = Playground.from_log(static_log)
    w.settings = settings
    real = task_reads("pair_b_p16", reduce_stage("pair_b_p16"))
    bars = np.array(w.estimate["estimated"]["bars"]["mean"], dtype=float)
    assert len(bars) == len(real) == 16
    assert np.all(np.abs(bars - real) <= 0.10 * real)
    # back to the log's own settings: the estimate is the measured stage again
    w.settings = {}
    assert w.estimate["estimated"]["tasks"] == w.estimate["measured"]["tasks"] == 200


def test_estimated_waves_take_the_estimated_stage_time(static_log):
    w = Playground.from_log(static_log, settings={"spark.sql.shuffle.partitions": 37, "spark.executor.instances": 3})
    est = w.estimate["estimated"]
    assert est["cores"] == 6
    assert est["schedule"]["makespan_ms"] == pytest.approx(est["time_ms"][1], rel=1e-6, abs=0.1)
    measured = w.estimate["measured"]
    assert measured["schedule"]["makespan_ms"] == pytest.approx(w.estimate["model_check"]["replay_ms"], abs=0.1)
    assert any(d["title"].startswith("Job ") for d in w.estimate["decisions"])


def test_seedable_stages_are_the_history_servers_shuffle_readers(spark43_session):
    log = spark43_session("skewed_join")
    hs = [s for s in spark43_answers("skewed_join")["stages.json"] if s["status"] == "COMPLETE" and s["shuffleReadBytes"]]
    assert sorted(s["stage_id"] for s in seedable_stages(log)) == sorted(s["stageId"] for s in hs)
    w = Playground.from_log(log)
    first = max(hs, key=lambda s: (s["shuffleReadBytes"], -s["stageId"]))
    assert w.stage == first["stageId"]
    assert w.stage_info["join"]  # the join stage: the join-only controls are enabled
    assert not any("disabled" in c for c in w.controls)
    # the panel's stage picker: another stage, its own measured shape, the settings cleared
    w.settings = {"spark.sql.shuffle.partitions": 8}
    other = min(hs, key=lambda s: (s["shuffleReadBytes"], s["stageId"]))
    replies = send_from_panel(w, stage=other["stageId"], settings={}, request_id=3)
    assert len([r for r in replies if "estimate" in r["state"]]) == 1
    assert w.stage_info["stage_id"] == other["stageId"] and w.estimate["request_id"] == 3
    assert w.estimate["measured"]["tasks"] == other["numTasks"]
    assert w.estimate["measured"]["shuffle_read_bytes"] == other["shuffleReadBytes"]
    assert w.estimate["estimated"]["tasks"] == other["numTasks"]  # no setting changed: the stage as it ran


@pytest.mark.parametrize("case", spark43_cases())
def test_every_spark_4_3_log_seeds_its_largest_shuffle_read(spark43_session, case):
    """Each real log: the default seed is the stage the History Server says read the most shuffle data, and
    its measured side is that stage; a log without such a stage is refused in one line."""
    log = spark43_session(case)
    hs = [s for s in spark43_answers(case)["stages.json"] if s["status"] == "COMPLETE" and s["shuffleReadBytes"]]
    if not hs:
        with pytest.raises(SparkswordError, match="read shuffle data"):
            Playground.from_log(log)
        return
    top = max(hs, key=lambda s: (s["shuffleReadBytes"], -s["stageId"]))
    w = Playground.from_log(log)
    assert w.stage == top["stageId"]
    assert "error" not in w.estimate, w.estimate.get("error")
    assert w.estimate["measured"]["shuffle_read_bytes"] == top["shuffleReadBytes"]
    assert w.estimate["measured"]["tasks"] == top["numTasks"]
    assert payload_bytes(w) <= PAYLOAD_LIMIT
    assert len(w.stage_info["stages"]) == min(len(hs), 100)


def test_bad_seeds_and_settings_are_refused(static_log):
    with pytest.raises(SparkswordError, match="^unknown stage: 999$"):
        Playground.from_log(static_log, stage=999)
    with pytest.raises(SparkswordError, match="reads no shuffle data"):
        Playground.from_log(static_log, stage=0)
    w = Playground.from_log(static_log)
    with pytest.raises(traitlets.TraitError, match="does not offer spark.memory.fraction"):
        w.settings = {"spark.memory.fraction": "0.5"}
    with pytest.raises(traitlets.TraitError, match="bad value for spark.sql.shuffle.partitions"):
        w.settings = {"spark.sql.shuffle.partitions": "many"}
    with pytest.raises(traitlets.TraitError, match="unknown stage: 12345"):
        w.stage = 12345
    assert w.stage == 1 and w.settings == {}


# ---- the magic -------------------------------------------------------------------------------------------

@pytest.fixture
def ip():
    """IPython's test shell (a real InteractiveShell) with the extension loaded; unloaded after."""
    from IPython.terminal.interactiveshell import TerminalInteractiveShell
    from IPython.testing.globalipapp import start_ipython

    # start_ipython() builds the shell once per process and returns None afterwards (test_magic.py may
    # have started it already): the shell is then the singleton instance
    shell = start_ipython() or TerminalInteractiveShell.instance()
    shell.run_line_magic("load_ext", "sparksword_nb")
    # %config settings outlive an unload (test_magic.py turns this one on): the default one-line errors
    shell.run_line_magic("config", "SparkswordMagics.verbose_errors = False")
    yield shell
    shell.run_line_magic("unload_ext", "sparksword_nb")


def run(ip, cell: str):
    result = ip.run_cell(cell)
    result.raise_error()
    return result.result


def test_magic_shows_the_free_and_the_seeded_playground(ip):
    free = run(ip, "%sparksword playground")
    assert isinstance(free, Playground) and free.mode == "free"
    run(ip, f"%sparksword {spark43_log_path('pair_b_static')};")
    seeded = run(ip, "%sparksword playground --stage 1 -o pg")
    assert ip.user_ns["pg"] is seeded
    assert seeded.mode == "seeded" and seeded.stage == 1
    assert seeded.estimate["measured"]["tasks"] == reduce_stage("pair_b_static")["numTasks"]
    with pytest.raises(SparkswordError, match="unknown stage: 7"):
        run(ip, "%sparksword playground --stage 7")
