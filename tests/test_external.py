"""Logs from other people's clusters (Databricks, Photon, EMR, Dataproc, GPU; Spark 2.2-3.5) against what a real
History Server 4.3.0 answered for them (issue 12).

The corpus lives in ../shared/external, beside a checkout of this project; a user's clone does not have it, so
the test is skipped there. Its files are read in place, never copied into the project. The comparison is the
corpus's own tool (../shared/tools/check_external.py), run as a person runs it, from the project's root.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CHECK = SHARED / "tools" / "check_external.py"
# The two inputs that are no event log: each refused with a one-line error naming the file.
REFUSED = {
    "profiling__driverlog": "not a Spark event log",
    "profiling__malformed_json_eventlog.zstd": "is not valid JSON",
}

pytestmark = pytest.mark.skipif(
    not (CHECK.is_file() and (SHARED / "external" / "answers").is_dir()),
    reason="../shared/external is not beside this checkout (a user's clone does not have it)",
)


@pytest.fixture(scope="module")
def report() -> str:
    done = subprocess.run([sys.executable, str(CHECK)], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "TQDM_DISABLE": "1"})
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return done.stdout


def test_every_history_server_answer_is_reproduced(report: str):
    total = re.search(r"answers reproduced: (\d+)/(\d+); logs loaded: (\d+)/(\d+)", report)
    assert total, report[-2000:]
    ok, answers, loaded, logs = map(int, total.groups())
    differing = [line for line in report.splitlines() if line.startswith("  ")]
    assert ok == answers, "\n".join(differing[:40])
    assert answers >= 2626
    assert loaded == logs - len(REFUSED)


def test_only_the_inputs_that_are_no_event_log_are_refused_each_in_one_line(report: str):
    failed = {m.group(1): m.group(2) for m in re.finditer(r"^(\S+): 0/\d+  load failed \([\d.]+s\): (.*)$",
                                                          report, re.M)}
    assert set(failed) == set(REFUSED), failed
    for name, expected in REFUSED.items():
        assert expected in failed[name], failed[name]


def test_a_databricks_rotated_folder_is_one_application_and_a_part_alone_says_so():
    from sparksword_nb import Session

    folder = SHARED / "external" / "logs" / "qualification" / "db_sim_eventlog"
    session = Session()
    (log,) = session.load_all(folder, cache=False)
    assert log.app_id == "local-1623876083964" and not log.skipped
    part = session.load(folder / "eventlog", cache=False)
    assert any("one part of a Databricks rotated event log" in note and "eventlog-2021-06-15--15-00.gz" in note
               for note in part.skipped)
    assert part.rows("SELECT count(*) AS n FROM jobs")[0]["n"] < log.rows("SELECT count(*) AS n FROM jobs")[0]["n"]


def test_an_application_id_loads_its_latest_attempt_from_files_not_named_after_it():
    from sparksword_nb import Session

    folder = SHARED / "external" / "logs" / "qualification" / "multiple_attempts"
    session = Session()
    latest = session.load(folder, app="application_1724877841851_0016", cache=False)
    second = session.load(folder, app="application_1724877841851_0016/2", cache=False)
    assert (latest.attempt_id, second.attempt_id) == ("4", "2")


def test_databricks_logs_name_their_runtime_and_end_at_their_last_event():
    from sparksword_nb import Session
    from sparksword_nb.cli import summary_text

    log = Session().load(SHARED / "external" / "logs" / "qualification" / "nds_q88_photon_db_13_3.zstd", cache=False)
    text = summary_text(log)
    assert "Databricks 13.3.x-aarch64-photon-scala2.12" in text
    assert "Duration     -" not in text and "measured to the last event" in text


def test_photon_scans_count_the_bytes_served_from_its_disk_cache():
    """Photon's input bytes leave out its disk-cache hits: stage 44 of the NDS q88 run scanned 26 GB, 21 GB of
    it from the cache, while the History Server's input size says 5 GB. What a task reads is both."""
    import json

    from sparksword_nb import Session

    name = "qualification__nds_q88_photon_db_13_3.zstd"
    summary = json.loads((SHARED / "external" / "answers" / name / "taskSummary_44_0.json").read_text())
    input_median = summary["inputMetrics"]["bytesRead"][2]
    log = Session().load(SHARED / "external" / "logs" / "qualification" / "nds_q88_photon_db_13_3.zstd", cache=False)
    (straggler,) = [i for i in log.insights() if i.type == "straggler" and i.stage_ids == [44]]
    assert straggler.evidence["read_metric"] == "input"
    assert straggler.evidence["read_bytes_median"] > 2 * input_median, (straggler.evidence, input_median)
