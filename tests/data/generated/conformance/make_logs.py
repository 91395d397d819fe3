"""Real Spark event logs for History Server situations seen on other people's clusters (issue 12).

Usage (needs `pip install pyspark==4.3.0` in a separate venv, and Java 17):
    python make_logs.py OUTDIR [scenario ...]
Each scenario runs in its own JVM and writes one application's event log under OUTDIR; nothing edits an event.
Then `history_server_answers.sh OUTDIR ANSWERS` (shared/tools) records what a real History Server answers.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

from pyspark.sql import SparkSession, functions as F

# every JVM (driver, local-cluster workers and executors) talks over loopback only
os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"
OUT = os.path.abspath(sys.argv[1])
os.makedirs(OUT, exist_ok=True)


def session(name, master="local[2]", **conf):
    b = (SparkSession.Builder().master(master).appName(name)
         .config("spark.eventLog.enabled", "true")
         .config("spark.eventLog.dir", "file://" + OUT)
         .config("spark.ui.enabled", "false")
         .config("spark.driver.host", "127.0.0.1")
         .config("spark.driver.bindAddress", "127.0.0.1"))
    for k, v in conf.items():
        b = b.config(k.replace("__", "."), v)
    return b.getOrCreate()


def credential_settings():
    """Settings whose names hold "credential": Spark 4.3's default redaction hides their values."""
    s = session("credential_settings",
                spark__hadoop__fs__s3a__aws__credentials__provider="org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider",
                spark__sql__catalog__demo__credential__source="instance-profile")
    s.range(0, 1000).groupBy((F.col("id") % 3).alias("k")).count().collect()
    s.stop()


def reused_subquery():
    """One scalar subquery used twice in a filter: the plan holds a Subquery and a ReusedSubquery of it."""
    s = session("reused_subquery", spark__sql__adaptive__enabled="false")
    s.range(0, 10_000).withColumn("v", F.col("id") % 97).createOrReplaceTempView("t")
    s.sql("""SELECT count(*) FROM t
             WHERE v > (SELECT avg(v) FROM t WHERE id % 2 = 0)
                OR id < (SELECT avg(v) FROM t WHERE id % 2 = 0)""").collect()
    s.stop()


def executor_lost():
    """local-cluster with two single-core executors; a map task kills its own executor's JVM once, after that
    executor's earlier map tasks succeeded: Spark ends those again as Resubmitted and re-runs them."""
    marker = os.path.join(tempfile.mkdtemp(), "killed")
    s = session("executor_lost", master="local-cluster[2,1,1024]", spark__sql__adaptive__enabled="false",
                spark__task__maxFailures="4", spark__sql__shuffle__partitions="8")

    def work(index, rows):
        import os as _os
        import time as _t
        if index == 30 and not _os.path.exists(marker):
            open(marker, "w").close()
            # the Python worker's parent is PySpark's daemon; the daemon's parent is the executor JVM
            daemon = _os.getppid()
            with open(f"/proc/{daemon}/stat") as f:
                jvm = int(f.read().rsplit(")", 1)[1].split()[1])
            _os.kill(jvm, signal.SIGKILL)
            _t.sleep(30)
        _t.sleep(0.05)
        return ((r % 8, 1) for r in rows)

    s.sparkContext.parallelize(range(40_000), 40).mapPartitionsWithIndex(work) \
        .reduceByKey(lambda a, b: a + b).collect()
    s.stop()


SCENARIOS = {f.__name__: f for f in (credential_settings, reused_subquery, executor_lost)}

if __name__ == "__main__":
    names = sys.argv[2:] or list(SCENARIOS)
    if len(names) > 1:
        for name in names:
            subprocess.run([sys.executable, __file__, OUT, name], check=True)
        sys.exit(0)
    started = time.time()
    before = set(os.listdir(OUT))
    SCENARIOS[names[0]]()
    print(f"{names[0]}: {time.time() - started:.1f}s -> {sorted(set(os.listdir(OUT)) - before)}", flush=True)
