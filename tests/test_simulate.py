"""The what-if engine checked against Spark itself.

Each check makes an estimate from one real run (the seed) and compares it with what Spark did in another
real run of the same job under the setting asked about. The truth is the History Server's answer for the
other run (its taskList: each reduce task's shuffle read bytes), never our own output. Spark's own rules are
also checked on the examples of Spark's test suites (MapStatusSuite, ShufflePartitionsUtilSuite).

Run with `-rP` to see the predicted-vs-real table each check prints.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sparksword_nb import Session, SparkswordError
from sparksword_nb.simulate import whatif
from sparksword_nb.spark import shuffle as rules
from sparksword_nb.spark.units import parse_bytes

DATA = Path(__file__).parent / "data"
SPARK43 = DATA / "spark-4.3.0"
GENERATED = DATA / "generated"


def _case_dir(case: str) -> Path:
    return SPARK43 / case if (SPARK43 / case).is_dir() else GENERATED / case


def _log_path(case: str) -> Path:
    (path,) = [p for p in _case_dir(case).iterdir() if p.name.startswith("eventlog_v2_")]
    return path


def _hs(case: str, name: str):
    return json.loads((_case_dir(case) / "history-server" / name).read_text())


def real_task_reads(case: str, stage: int, attempt: int = 0) -> np.ndarray:
    """Per reduce task (partition order), the shuffle bytes the History Server says it read."""
    tasks = [t for t in _hs(case, f"taskList_{stage}_{attempt}.json") if t["status"] == "SUCCESS"]
    tasks.sort(key=lambda t: t["partitionId"])
    reads = [t["taskMetrics"]["shuffleReadMetrics"] for t in tasks]
    return np.array([r["localBytesRead"] + r["remoteBytesRead"] for r in reads], dtype=float)


@pytest.fixture(scope="module")
def logs():
    session = Session()
    loaded = {}

    def get(case: str):
        if case not in loaded:
            loaded[case] = session.load(_log_path(case), cache=False)
        return loaded[case]

    yield get
    session.close()


def aqe(advisory: str, min_size: str = "1k", parallelism_first: str | None = None, **more: str) -> dict[str, str]:
    settings = {
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.advisoryPartitionSizeInBytes": advisory,
        "spark.sql.adaptive.coalescePartitions.minPartitionSize": min_size,
    }
    if parallelism_first is not None:
        settings["spark.sql.adaptive.coalescePartitions.parallelismFirst"] = parallelism_first
    settings.update({k.replace("__", "."): v for k, v in more.items()})
    return settings


def size_quantiles(values: np.ndarray) -> dict[str, int]:
    ordered = np.sort(values)
    pick = lambda q: int(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))])  # noqa: E731
    return {"min": pick(0), "p25": pick(0.25), "median": pick(0.5), "p75": pick(0.75), "max": pick(1)}


def _report(name: str, estimate, real: np.ndarray) -> tuple[np.ndarray, dict, dict]:
    """Print predicted vs real; return (predicted per task, predicted quantiles, real quantiles)."""
    predicted = np.array(estimate.estimated.partition_bytes, dtype=float)
    pq = estimate.estimated.partition_bytes_q.model_dump()
    rq = size_quantiles(real)
    print(f"\n[{name}] reduce tasks: predicted {len(predicted)}, Spark {len(real)}")
    print(f"[{name}] total bytes: predicted {predicted.sum():.0f}, Spark {real.sum():.0f}")
    if len(predicted) == len(real):
        err = (predicted - real) / real
        print(f"[{name}] per-task error: max {np.abs(err).max():.1%}, median {np.median(np.abs(err)):.1%}")
        if len(real) <= 16:
            print(f"[{name}] predicted {predicted.astype(int).tolist()}")
            print(f"[{name}] Spark     {real.astype(int).tolist()}")
    for key in pq:
        print(f"[{name}] {key:>6}: predicted {pq[key]:>9}  Spark {rq[key]:>9}  ({(pq[key] - rq[key]) / rq[key]:+.1%})")
    return predicted, pq, rq


def _within(predicted: float, real: float, tolerance: float) -> bool:
    return abs(predicted - real) <= tolerance * real


# ---- the checks the issue asks for -------------------------------------------------------------------
def test_aqe_coalescing_512k_predicts_pair_b_aqe(logs):
    """From pair_b_static alone: AQE with a 512 KB advisory size -> Spark chose 3 partitions in pair_b_aqe."""
    est = whatif(logs("pair_b_static"), 1, aqe("512k"))
    real = real_task_reads("pair_b_aqe", 2)
    predicted, _, _ = _report("pair_b_aqe", est, real)
    assert len(real) == 3
    assert est.estimated.tasks == len(real)
    assert np.all(np.abs(predicted - real) <= 0.10 * real)
    # the rounded sizes AQE itself saw are in the run's AQEShuffleRead "partition data size" updates
    print(f"[pair_b_aqe] sizes AQE saw: predicted {est.aqe.seen_sizes}")


def test_sixteen_static_partitions_predict_pair_b_p16(logs):
    """From pair_b_static alone: spark.sql.shuffle.partitions=16 -> pair_b_p16's per-task shuffle reads."""
    est = whatif(logs("pair_b_static"), 1, {"spark.sql.shuffle.partitions": "16"})
    real = real_task_reads("pair_b_p16", 1)
    predicted, _, _ = _report("pair_b_p16", est, real)
    assert len(predicted) == len(real) == 16
    assert np.all(np.abs(predicted - real) <= 0.10 * real), (predicted - real) / real


# ---- more pairs generated with tests/data/generated/make_pairs.py -----------------------------------
# (seed case, stage, settings, target case, target stage, exact per-task sizes expected)
COALESCING = [
    ("pair_b_static", 1, aqe("64k", parallelism_first="false"), "b_aqe_64k_nopf", 2, True),
    ("pair_b_static", 1, aqe("40k", min_size="12k", parallelism_first="false"), "b_aqe_40k_min12k", 2, True),
    # 30 partitions of ~15 KB: MapStatus rounding moves some split points by a partition (see the report)
    ("pair_b_static", 1, aqe("16k", parallelism_first="false"), "b_aqe_16k_nopf", 2, False),
    ("c_static", 1, aqe("256k"), "c_aqe_256k", 2, True),
    ("c_static", 1, aqe("100k", parallelism_first="false"), "c_aqe_100k_nopf", 2, True),
    # HighlyCompressedMapStatus (minNumPartitionsToHighlyCompress=100 in both runs): AQE sees averages
    ("h_static", 1, aqe("100k", parallelism_first="false"), "h_aqe_100k_nopf", 2, True),
    # skew join: partition 11 holds 30% of the big side; AQE splits it by map ranges, then coalesces
    ("d_static", 2, aqe("1m", parallelism_first="false", spark__sql__adaptive__skewJoin__skewedPartitionThresholdInBytes="4m"),
     "d_aqe_skew", 4, True),
    # issue 10's rounding pairs: 300 and 200 static partitions, 8, 2 and 4 map tasks, advisory 256k to 2m
    ("g_static", 1, aqe("2m", parallelism_first="false"), "g_aqe_2m", 2, True),
    # the count is exact; rounding moves one split point by a partition (the next task evens it out)
    ("g_static", 1, aqe("1m", parallelism_first="false"), "g_aqe_1m", 2, False),
    ("g_static", 1, aqe("256k", parallelism_first="false"), "g_aqe_256k", 2, True),
    ("k_static", 1, aqe("1m", parallelism_first="false"), "k_aqe_1m", 2, True),
    ("k_static", 1, aqe("300k", parallelism_first="false"), "k_aqe_300k", 2, True),
    ("m_static", 1, aqe("2m", parallelism_first="true"), "m_aqe_2m_pf", 2, True),
    ("m_static", 1, aqe("600k", parallelism_first="false"), "m_aqe_600k", 2, False),
]
# A pair whose count the static log cannot decide: partition 44 sits at the 512 KiB target's edge, and whether
# it joins its neighbour depends on how each of the 8 map tasks' blocks rounds (not in the log).
UNDECIDED = [("g_static", 1, aqe("512k", parallelism_first="false"), "g_aqe_512k", 2)]


@pytest.mark.parametrize("seed,stage,settings,target,target_stage,per_task", COALESCING, ids=[c[3] for c in COALESCING])
def test_aqe_predicts_partition_count_exactly(logs, seed, stage, settings, target, target_stage, per_task):
    est = whatif(logs(seed), stage, settings)
    real = real_task_reads(target, target_stage)
    predicted, pq, rq = _report(target, est, real)
    assert est.estimated.tasks == len(real)
    assert _within(predicted.sum(), real.sum(), 0.02)
    if per_task:
        assert np.all(np.abs(predicted - real) <= 0.10 * real)
    for key in ("p25", "median", "p75"):
        assert _within(pq[key], rq[key], 0.10), key


@pytest.mark.parametrize("seed,stage,settings,target,target_stage",
                         [c[:5] for c in COALESCING] + UNDECIDED, ids=[c[3] for c in COALESCING + UNDECIDED])
def test_spark_coalesced_count_lies_in_the_stated_range(logs, seed, stage, settings, target, target_stage):
    est = whatif(logs(seed), stage, settings)
    real = len(real_task_reads(target, target_stage))
    low, high = est.aqe.count_range
    assert low <= real <= high and low <= est.estimated.tasks <= high
    assert high - low <= 1, "the range is as narrow as the rounding allows"
    if high > low:
        assert f"the count is {low}-{high}" in est.aqe.rounding_note


def test_skew_split_matches_spark(logs):
    est = whatif(logs("d_static"), 2, next(c[2] for c in COALESCING if c[3] == "d_aqe_skew"))
    stages = {s["stageId"]: s for s in _hs("d_aqe_skew", "stages.json")}
    assert est.skew_join is not None and est.skew_join.skewed_partitions == [11]
    # Spark split partition 11 into 8 tasks: 64 partitions became 71 tasks
    assert est.skew_join.tasks_from_splits == stages[4]["numTasks"] - 64 == 7


# (seed, stage, partitions, target, target stage, per-task check)
REPARTITION = [
    ("pair_b_static", 1, 50, "b_p50", 1, True),  # 50 divides 200: each new partition is 4 whole old ones
    ("pair_b_static", 1, 37, "b_p37", 1, False),  # coprime: which keys go where is unknown
    ("pair_b_static", 1, 400, "b_p400", 1, False),
    ("c_static", 1, 64, "c_p64", 1, False),
    ("d_static", 2, 128, "d_p128", 2, False),  # the heavy key stays whole
]


@pytest.mark.parametrize("seed,stage,n,target,target_stage,per_task", REPARTITION, ids=[c[3] for c in REPARTITION])
def test_shuffle_partitions_predict_sizes(logs, seed, stage, n, target, target_stage, per_task):
    est = whatif(logs(seed), stage, {"spark.sql.shuffle.partitions": str(n)})
    real = real_task_reads(target, target_stage)
    predicted, pq, rq = _report(target, est, real)
    assert len(predicted) == len(real) == n
    assert _within(predicted.sum(), real.sum(), 0.05)
    if per_task:
        assert np.all(np.abs(predicted - real) <= 0.10 * real)
    # the middle of the size distribution; min and max of many small partitions are printed, not checked
    for key in ("p25", "median", "p75"):
        assert _within(pq[key], rq[key], 0.10), key


def test_heavy_key_stays_whole(logs):
    est = whatif(logs("d_static"), 2, {"spark.sql.shuffle.partitions": "128"})
    real = real_task_reads("d_p128", 2)
    print(f"\n[d_p128] largest partition: predicted {max(est.estimated.partition_bytes)}, Spark {real.max():.0f}")
    assert _within(max(est.estimated.partition_bytes), real.max(), 0.10)


def test_broadcast_prediction_matches_spark(logs):
    """A 32 KB join side under a 10 MB threshold: Spark broadcast it and joined in the big side's 4 tasks."""
    est = whatif(logs("e_static"), 2, {"spark.sql.autoBroadcastJoinThreshold": "10m"})
    assert est.broadcast is not None and est.broadcast.broadcast_side == "right"
    real_stages = _hs("e_bcast", "stages.json")
    # the broadcast run has no shuffled join: its join runs in the stage that scans the big side
    join_stage = [s for s in real_stages if s["numTasks"] == 4]
    print(f"\n[e_bcast] join tasks: predicted {est.estimated.tasks}, Spark {join_stage[0]['numTasks']}")
    assert est.estimated.tasks == join_stage[0]["numTasks"]
    off = whatif(logs("e_static"), 2, {"spark.sql.autoBroadcastJoinThreshold": "16k"})
    assert off.broadcast.broadcast_side is None


def test_executor_count_replay(logs):
    """Sparklens-style replay: at the real core count the job replay is within 10% of the real job time;
    from one core to two (and back) the direction is right. Errors are printed (a 2-core machine runs two
    tasks slower than one, which the replay does not know)."""
    for seed, target, cores in (("f_cores1", "f_cores2", 2), ("f_cores2", "f_cores1", 1)):
        est = whatif(logs(seed), 1, {"spark.executor.instances": "1", "spark.executor.cores": str(cores)})
        real_jobs = {j["jobId"]: j for j in _hs(target, "jobs.json")}
        (job,) = est.jobs
        seed_real = {j["jobId"]: j for j in _hs(seed, "jobs.json")}[job.job_id]
        real_ms = _hs_job_ms(real_jobs[job.job_id])
        seed_ms = _hs_job_ms(seed_real)
        err_real = (job.replay_real_cores_ms - seed_ms) / seed_ms
        err_whatif = (job.replay_whatif_cores_ms - real_ms) / real_ms
        print(f"\n[{seed}->{target}] job {job.job_id}: replay at real cores {job.replay_real_cores_ms:.0f} ms vs "
              f"real {seed_ms:.0f} ms ({err_real:+.1%}); what-if {cores} cores {job.replay_whatif_cores_ms:.0f} ms vs "
              f"Spark {real_ms:.0f} ms ({err_whatif:+.1%}); stage model error {est.model_error.error:+.1%}")
        assert abs(err_real) <= 0.10
        assert (job.replay_whatif_cores_ms < job.replay_real_cores_ms) == (real_ms < seed_ms)


def _hs_job_ms(job: dict) -> float:
    from datetime import datetime

    fmt = "%Y-%m-%dT%H:%M:%S.%f%Z"
    start = datetime.strptime(job["submissionTime"].replace("GMT", "UTC"), fmt)
    end = datetime.strptime(job["completionTime"].replace("GMT", "UTC"), fmt)
    return (end - start).total_seconds() * 1000


def test_seeded_from_an_aqe_run_reproduces_it(logs):
    """Seeded from the coalesced stage of pair_b_aqe itself, with its own settings, the estimate is that stage."""
    est = whatif(logs("pair_b_aqe"), 2, {})
    real = real_task_reads("pair_b_aqe", 2)
    predicted, _, _ = _report("pair_b_aqe (self)", est, real)
    assert est.estimated.tasks == 3
    assert np.all(np.abs(predicted - real) <= 0.10 * real)
    assert any("AQE" in a for a in est.assumptions)


# ---- Spark's rules on Spark's own test examples ------------------------------------------------------
def test_compress_size_matches_map_status_suite():
    # MapStatusSuite "compressSize"
    assert rules.compress_size(0) == 0
    assert rules.compress_size(1) == 1
    assert rules.compress_size(2) == 8
    assert rules.compress_size(10) == 25
    assert rules.compress_size(1_000_000) == 145
    assert rules.compress_size(1_000_000_000) == 218
    assert rules.compress_size(10**18) == 255
    for size in (2, 10, 1000, 123_456, 10**9):
        assert size <= rules.rounded_size(size) <= size * 1.1


def _specs(bytes_per_shuffle, target, min_num=1, min_size=0):
    _, specs = rules.coalesce_partitions(bytes_per_shuffle, advisory_size=target, min_num_partitions=min_num,
                                         min_partition_size=min_size)
    return None if specs is None else [(s.start, s.end) for s in specs]


@pytest.mark.parametrize(
    "shuffles,expected",
    [
        ([[10, 0, 20, 0, 0]], [(0, 5)]),
        ([[10, 0, 90, 20, 0]], [(0, 3), (3, 5)]),
        ([[110, 10, 100, 110, 0]], [(0, 1), (1, 2), (2, 3), (3, 4)]),
        ([[100, 110, 100, 110, 110]], None),
        ([[30, 30, 0, 40, 110]], [(0, 4), (4, 5)]),
        ([[0, 10, 0, 20, 0], [30, 0, 70, 0, 30]], [(0, 2), (2, 4), (4, 5)]),
        ([[0, 99, 0, 20, 0], [30, 0, 70, 0, 30]], [(0, 1), (1, 2), (2, 4), (4, 5)]),
        ([[0, 100, 40, 30, 0], [30, 0, 60, 0, 110]], None),
    ],
)
def test_coalesce_matches_shuffle_partitions_util_suite(shuffles, expected):
    # ShufflePartitionsUtilSuite "1 shuffle" and "2 shuffles", target size 100
    assert _specs(shuffles, 100) == expected


def test_coalesce_min_num_partitions_and_empty_partitions():
    # ShufflePartitionsUtilSuite "enforce minimal number of coalesced partitions"
    assert _specs([[10, 5, 5, 0, 20], [5, 10, 0, 10, 5]], 100, min_num=2) == [(0, 3), (3, 5)]
    assert _specs([[10, 50, 20, 80, 20], [40, 10, 0, 10, 30]], 100, min_num=2) == [(0, 1), (1, 3), (3, 4), (4, 5)]
    # "do not create partition spec for 0-size partitions"
    assert _specs([[200, 0, 0, 0, 0], [100, 0, 300, 0, 0]], 100, min_num=2) == [(0, 1), (2, 3)]


def test_coalesce_after_skew_split_matches_suite():
    # ShufflePartitionsUtilSuite "coalesce after skew splitting": skew sections at partitions 2 and 5
    sizes = [[10, 5, 300, 10, 8, 10, 10, 20], [10, 10, 10, 8, 10, 200, 7, 20]]
    indices = [0, 1, 2, 2, 2, 3, 4, 5, 5, 6, 7]
    out = rules.coalesce_with_skew(sizes, indices, target_size=100, min_partition_size=0)
    assert out == [(0, 2), (2, 3), (2, 3), (2, 3), (3, 5), (5, 6), (5, 6), (6, 8)]


def test_parse_bytes_like_spark():
    assert parse_bytes("512k") == 512 * 1024
    assert parse_bytes("64m") == 64 * 1024**2
    assert parse_bytes("1g") == 1024**3
    assert parse_bytes("1048576") == 1048576
    with pytest.raises(ValueError):
        parse_bytes("lots")


# ---- errors and the CLI -------------------------------------------------------------------------------
def test_bad_requests_raise_one_line_errors(logs):
    log = logs("pair_b_static")
    with pytest.raises(SparkswordError, match="unknown stage: 99"):
        whatif(log, 99, {})
    with pytest.raises(SparkswordError, match="reads no shuffle"):
        whatif(log, 0, {})
    with pytest.raises(SparkswordError, match="unsupported setting spark.foo"):
        whatif(log, 1, {"spark.foo": "1"})
    with pytest.raises(SparkswordError, match="bad value for spark.sql.shuffle.partitions"):
        whatif(log, 1, {"spark.sql.shuffle.partitions": "many"})


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sparksword_nb.cli", *args], capture_output=True, text=True,
                          cwd=Path(__file__).parent.parent)


def test_cli_whatif_prints_the_estimate_and_assumptions():
    out = _cli("whatif", str(_log_path("pair_b_static")), "--stage", "1",
               "--set", "spark.sql.adaptive.advisoryPartitionSizeInBytes=512k",
               "--set", "spark.sql.adaptive.coalescePartitions.minPartitionSize=1k")
    assert out.returncode == 0, out.stderr
    assert "reduce tasks           200           3" in out.stdout
    assert "Assumptions" in out.stdout and "not a promise" in out.stdout
    as_json = _cli("whatif", str(_log_path("pair_b_static")), "--stage", "1", "--set",
                   "spark.sql.shuffle.partitions=16", "--json")
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout)["estimated"]["tasks"] == 16


def test_cli_whatif_errors_are_one_line():
    out = _cli("whatif", str(_log_path("pair_b_static")), "--stage", "1", "--set", "nonsense")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].startswith("sparksword: --set takes key=value")


# ---- the free-form shape model ----------------------------------------------------------------------
def test_shape_model_cuts_stages_at_wide_operators():
    from sparksword_nb.simulate.shape import Cluster, Operator, Shape, simulate_shape

    shape = Shape(
        input_bytes=10 * 1024**3, input_partitions=80,
        operators=[Operator("filter", factor=0.5), Operator("aggregate", factor=0.1), Operator("map")],
        skew=0.3, shuffle_partitions=100, cluster=Cluster(executors=2, cores_per_executor=4),
    )
    scan, agg = simulate_shape(shape)
    assert (scan.tasks, agg.tasks) == (80, 100)
    assert scan.shuffle_write_bytes == agg.shuffle_read_bytes == 5 * 1024**3
    assert scan.waves == 10 and agg.waves == 12.5
    # the heaviest key (30% of the shuffled data) stays in one partition
    assert max(agg.partition_bytes) > 20 * sorted(agg.partition_bytes)[50]
    low, mid, high = agg.time_ms
    assert low < mid < high


def test_shape_model_rejects_unknown_operators():
    from sparksword_nb.simulate.shape import Operator, Shape, simulate_shape

    with pytest.raises(SparkswordError, match="unknown operator 'explode'"):
        simulate_shape(Shape(input_bytes=1, input_partitions=1, operators=[Operator("explode")]))


def test_an_estimated_time_range_says_why_it_is_as_wide_as_it_is(logs):
    from sparksword_nb.simulate.fit import time_model
    from sparksword_nb.simulate.measured import measure_stage

    est = whatif(logs("pair_b_static"), 1, {"spark.sql.shuffle.partitions": "16"})
    _, _, low, high, _ = time_model(measure_stage(logs("pair_b_static"), 1))
    t = est.estimated.time
    assert f"x{low:.2f} to x{high:.2f}" in t.why and "scatter" in t.why
    assert t.why.startswith("wide because") == (high / low > 2)
    assert t.low_ms <= t.mid_ms <= t.high_ms
    # no setting changed: the stage's own tasks replayed, nothing to explain
    same = whatif(logs("pair_b_static"), 1, {})
    assert same.estimated.time.why == "the measured task times, replayed"
    assert same.measured.time.why == "measured"
