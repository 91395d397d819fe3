"""`%sparksword` on the notebook's own SparkSession, in a real IPython kernel running a real local Spark 4 (pyspark,
Java 17): the application it is running, as far as its event log goes, refreshed live while a job runs."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from servers import spark_home

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A real IPython kernel (this interpreter) with a local[2] SparkSession logging events, and the extension."""
    if spark_home() is None:
        pytest.skip("pyspark (with Java) is not installed")
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("JAVA_HOME", "/usr/lib/jvm/java-17-openjdk-amd64")
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(tmp_path_factory.mktemp("kernel")))
    events = tmp_path_factory.mktemp("spark-events")
    try:
        execute(client, f"""
import time, json
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").appName("sparksword live test")
         .config("spark.eventLog.enabled", "true").config("spark.eventLog.dir", {str(events)!r})
         .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
spark.range(200000).selectExpr("id % 7 AS k").groupBy("k").count().collect()
%load_ext sparksword_nb
""")
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client, code: str, timeout: float = 300) -> str:
    """Run a cell; return what it printed; fail with the kernel's error text when it raised."""
    printed: list[str] = []
    errors: list[str] = []

    def output(message: dict) -> None:
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            printed.append(content["text"])
        elif kind == "error":
            errors.append("\n".join(content["traceback"]))

    reply = client.execute_interactive(code, timeout=timeout, output_hook=output)
    if reply["content"]["status"] != "ok":
        raise AssertionError("".join(errors) or reply["content"])
    return "".join(printed)


def values(client, code: str) -> dict:
    """The JSON a cell prints as its last line."""
    return json.loads(execute(client, code).strip().splitlines()[-1])


def test_no_argument_loads_the_running_application_as_far_as_it_logged(kernel):
    seen = values(kernel, """
%sparksword -o log;
tracker = spark.sparkContext.statusTracker()
print(json.dumps({"app_id": log.app_id, "spark_app_id": spark.sparkContext.applicationId,
                  "jobs": sorted(r["job_id"] for r in log.rows("SELECT job_id FROM jobs")),
                  "spark_jobs": sorted(tracker.getJobIdsForGroup()),
                  "completed": log.rows("SELECT completed FROM applications")[0]["completed"]}))
""")
    assert seen["app_id"] == seen["spark_app_id"]
    assert seen["jobs"] == seen["spark_jobs"] and seen["jobs"]
    assert seen["completed"] is False  # the application is still running
    # the session variable by name, and ss.load(spark), are the same application
    seen = values(kernel, """
%sparksword spark -o by_name;
import sparksword_nb as ss
print(json.dumps([by_name.app_id, ss.load(spark, cache=False).app_id]))
""")
    assert seen == [seen[0], seen[0]] and seen[0].startswith("local-")


def test_a_live_report_follows_a_running_job_and_stops_when_the_application_ends(kernel):
    before = values(kernel, """
live = %sparksword watch --every 0.25
print(json.dumps({"jobs": live.history[-1].jobs, "running": live.history[-1].running_jobs}))
""")
    # a job of 4 tasks of ~1.2 s on 2 cores: ~2.5 s during which the log says it runs
    execute(kernel, """
spark.sparkContext.parallelize(range(8), 4).map(lambda x: (time.sleep(0.6), x)[1]).count()
deadline = time.time() + 30
while time.time() < deadline and live.history[-1].running_jobs:
    time.sleep(0.2)
""")
    during = values(kernel, """
print(json.dumps({"seen_running": any(r.running_jobs for r in live.history),
                  "jobs": live.history[-1].jobs, "running": live.history[-1].running_jobs,
                  "changed": sum(r.changed for r in live.history), "finished": live.finished}))
""")
    assert during["seen_running"], "no refresh saw the job running"
    assert during["jobs"] == before["jobs"] + 1 and during["running"] == 0
    assert during["changed"] >= 2 and not during["finished"]
    ended = values(kernel, """
spark.stop()
deadline = time.time() + 30
while time.time() < deadline and not live.finished:
    time.sleep(0.2)
print(json.dumps({"finished": live.finished, "completed": live.history[-1].completed, "error": live.error}))
""")
    assert ended == {"finished": True, "completed": True, "error": None}


def test_with_event_logging_off_one_line_says_which_settings_to_add(kernel):
    execute(kernel, """
spark = (SparkSession.builder.master("local[1]").appName("no log")
         .config("spark.eventLog.enabled", "false").config("spark.ui.enabled", "false").getOrCreate())
""")
    try:
        with pytest.raises(AssertionError) as shown:  # what the notebook shows under the cell
            execute(kernel, "%sparksword")
    finally:
        execute(kernel, "spark.stop()")
    error = str(shown.value)
    assert error.startswith("SparkswordError: event logging is off for application local-")
    assert "spark.eventLog.enabled', 'true'" in error and "spark.eventLog.dir" in error and "\n" not in error
