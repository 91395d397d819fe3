"""Run the same small PySpark jobs under different settings, so a what-if estimate made from one run
can be checked against what Spark itself did in another.

Usage (needs `pip install pyspark==4.3.0` in a separate venv, and Java 17):
    python make_pairs.py OUTDIR [scenario ...]
Each scenario writes one application's event log under OUTDIR; nothing here edits an event.
The job shapes follow ../../../../shared/tools/gen_eventlogs.py (`_pair_job`).
"""
import os
import sys
import time

from pyspark.sql import SparkSession, functions as F

OUT = os.path.abspath(sys.argv[1])
os.makedirs(OUT, exist_ok=True)


def session(name, master="local[2]", **conf):
    b = (SparkSession.Builder().master(master).appName(name)
         .config("spark.eventLog.enabled", "true")
         .config("spark.eventLog.dir", "file://" + OUT)
         .config("spark.ui.enabled", "false")
         .config("spark.driver.memory", "2g")
         .config("spark.sql.shuffle.partitions", "200"))
    for k, v in conf.items():
        b = b.config(k.replace("__", "."), v)
    return b.getOrCreate()


def group_job(s, rows, keys, map_partitions=2):
    """The pair_b job: hash-partitioned aggregation, one record per key per map task."""
    df = s.range(0, rows, 1, map_partitions).withColumn("k", (F.col("id") * 7919) % keys) \
        .withColumn("v", F.sha2(F.col("id").cast("string"), 256))
    df.groupBy("k").agg(F.max("v").alias("m"), F.count("*").alias("n")).write.format("noop").mode("overwrite").save()


def skew_join_job(s):
    """A sort-merge join where 30% of the big side's rows share one key (its 64-byte pad is kept)."""
    big = s.range(0, 1_000_000, 1, 8).withColumn(
        "k", F.when(F.col("id") % 10 < 3, F.lit(7)).otherwise(F.col("id") % 5000)) \
        .withColumn("pad", F.sha2(F.col("id").cast("string"), 256))
    other = s.range(0, 100_000, 1, 4).withColumn("k", F.col("id") % 5000).withColumn("w", F.col("id") * 2)
    big.join(other, "k").groupBy((F.col("k") % 10).alias("b")).agg(F.sum("w"), F.max("pad")) \
        .write.format("noop").mode("overwrite").save()


def broadcast_job(s):
    big = s.range(0, 1_000_000, 1, 4).withColumn("k", F.col("id") % 1000)
    small = s.range(0, 1000, 1, 2).withColumnRenamed("id", "k").withColumn("name", F.concat(F.lit("n"), F.col("k")))
    big.join(small, "k").groupBy("name").count().write.format("noop").mode("overwrite").save()


def reuse_job(s, cached):
    """One aggregated DataFrame used by two actions: without cache() the second recomputes it from the start."""
    df = s.range(0, 2_000_000, 1, 4).withColumn("k", (F.col("id") * 7919) % 20_000) \
        .withColumn("v", F.sha2(F.col("id").cast("string"), 256)).groupBy("k").agg(F.max("v").alias("m"))
    if cached:
        df = df.cache()
    df.filter(F.col("k") % 2 == 0).write.format("noop").mode("overwrite").save()
    df.filter(F.col("k") % 2 == 1).write.format("noop").mode("overwrite").save()


NO_AQE = dict(spark__sql__adaptive__enabled="false")


def aqe(advisory, min_size="1k", parallelism_first="true", **more):
    return dict(spark__sql__adaptive__enabled="true",
                spark__sql__adaptive__coalescePartitions__enabled="true",
                spark__sql__adaptive__advisoryPartitionSizeInBytes=advisory,
                spark__sql__adaptive__coalescePartitions__minPartitionSize=min_size,
                spark__sql__adaptive__coalescePartitions__parallelismFirst=parallelism_first, **more)


# name -> (job, session settings)
SCENARIOS = {
    # the pair_b job under more AQE settings (its static run is tests/data/spark-4.3.0/pair_b_static)
    "b_aqe_64k_nopf": (lambda s: group_job(s, 1_000_000, 3_000), aqe("64k", parallelism_first="false")),
    "b_aqe_16k_nopf": (lambda s: group_job(s, 1_000_000, 3_000), aqe("16k", parallelism_first="false")),
    "b_aqe_40k_min12k": (lambda s: group_job(s, 1_000_000, 3_000), aqe("40k", min_size="12k", parallelism_first="false")),
    "b_p50": (lambda s: group_job(s, 1_000_000, 3_000), dict(NO_AQE, spark__sql__shuffle__partitions="50")),
    "b_p37": (lambda s: group_job(s, 1_000_000, 3_000), dict(NO_AQE, spark__sql__shuffle__partitions="37")),
    "b_p400": (lambda s: group_job(s, 1_000_000, 3_000), dict(NO_AQE, spark__sql__shuffle__partitions="400")),
    # a bigger job: 20,000 keys, 4 map tasks
    "c_static": (lambda s: group_job(s, 2_000_000, 20_000, 4), NO_AQE),
    "c_p64": (lambda s: group_job(s, 2_000_000, 20_000, 4), dict(NO_AQE, spark__sql__shuffle__partitions="64")),
    "c_aqe_256k": (lambda s: group_job(s, 2_000_000, 20_000, 4), aqe("256k")),
    "c_aqe_100k_nopf": (lambda s: group_job(s, 2_000_000, 20_000, 4), aqe("100k", parallelism_first="false")),
    # the same job with HighlyCompressedMapStatus (average block sizes) in both runs
    "h_static": (lambda s: group_job(s, 2_000_000, 20_000, 4),
                 dict(NO_AQE, spark__shuffle__minNumPartitionsToHighlyCompress="100")),
    "h_aqe_100k_nopf": (lambda s: group_job(s, 2_000_000, 20_000, 4),
                        aqe("100k", parallelism_first="false", spark__shuffle__minNumPartitionsToHighlyCompress="100")),
    # skewed sort-merge join: static, and AQE skew-join splitting
    "d_static": (skew_join_job, dict(NO_AQE, spark__sql__autoBroadcastJoinThreshold="-1", spark__sql__shuffle__partitions="64")),
    "d_p128": (skew_join_job, dict(NO_AQE, spark__sql__autoBroadcastJoinThreshold="-1", spark__sql__shuffle__partitions="128")),
    "d_aqe_skew": (skew_join_job, dict(aqe("1m", parallelism_first="false"), spark__sql__autoBroadcastJoinThreshold="-1",
                                       spark__sql__shuffle__partitions="64",
                                       spark__sql__adaptive__skewJoin__enabled="true",
                                       spark__sql__adaptive__skewJoin__skewedPartitionFactor="5",
                                       spark__sql__adaptive__skewJoin__skewedPartitionThresholdInBytes="4m")),
    # broadcast: sort-merge join with broadcast off, then the default threshold
    "e_static": (broadcast_job, dict(NO_AQE, spark__sql__autoBroadcastJoinThreshold="-1", spark__sql__shuffle__partitions="32")),
    "e_bcast": (broadcast_job, dict(NO_AQE, spark__sql__autoBroadcastJoinThreshold="10m", spark__sql__shuffle__partitions="32")),
    # rounding pairs (issue 10): static seeds and AQE coalescing runs across partition counts, map-task counts
    # and advisory sizes (minimum partition size 1k), so the coalesced count can be checked exactly
    "g_static": (lambda s: group_job(s, 1_000_000, 50_000, 8), dict(NO_AQE, spark__sql__shuffle__partitions="300")),
    "g_aqe_2m": (lambda s: group_job(s, 1_000_000, 50_000, 8),
                 aqe("2m", parallelism_first="false", spark__sql__shuffle__partitions="300")),
    "g_aqe_1m": (lambda s: group_job(s, 1_000_000, 50_000, 8),
                 aqe("1m", parallelism_first="false", spark__sql__shuffle__partitions="300")),
    "g_aqe_512k": (lambda s: group_job(s, 1_000_000, 50_000, 8),
                   aqe("512k", parallelism_first="false", spark__sql__shuffle__partitions="300")),
    "g_aqe_256k": (lambda s: group_job(s, 1_000_000, 50_000, 8),
                   aqe("256k", parallelism_first="false", spark__sql__shuffle__partitions="300")),
    "k_static": (lambda s: group_job(s, 1_000_000, 100_000, 2), dict(NO_AQE, spark__sql__shuffle__partitions="200")),
    "k_aqe_1m": (lambda s: group_job(s, 1_000_000, 100_000, 2), aqe("1m", parallelism_first="false")),
    "k_aqe_300k": (lambda s: group_job(s, 1_000_000, 100_000, 2), aqe("300k", parallelism_first="false")),
    "m_static": (lambda s: group_job(s, 1_000_000, 20_000, 4), dict(NO_AQE, spark__sql__shuffle__partitions="300")),
    "m_aqe_2m_pf": (lambda s: group_job(s, 1_000_000, 20_000, 4), aqe("2m", spark__sql__shuffle__partitions="300")),
    "m_aqe_600k": (lambda s: group_job(s, 1_000_000, 20_000, 4),
                   aqe("600k", parallelism_first="false", spark__sql__shuffle__partitions="300")),
    # executor count: one core, then two
    "f_cores1": (lambda s: group_job(s, 2_000_000, 20_000, 8), dict(NO_AQE, master="local[1]", spark__sql__shuffle__partitions="48")),
    "f_cores2": (lambda s: group_job(s, 2_000_000, 20_000, 8), dict(NO_AQE, master="local[2]", spark__sql__shuffle__partitions="48")),
    # comparing runs (issue 15): the c job twice with the same settings, once with twice the input, and a reused
    # DataFrame without and with cache()
    "r_twin_a": (lambda s: group_job(s, 2_000_000, 20_000, 4), NO_AQE),
    "r_twin_b": (lambda s: group_job(s, 2_000_000, 20_000, 4), NO_AQE),
    "r_static_4m": (lambda s: group_job(s, 4_000_000, 20_000, 4), NO_AQE),
    "n_nocache": (lambda s: reuse_job(s, False), NO_AQE),
    "n_cache": (lambda s: reuse_job(s, True), NO_AQE),
}

if __name__ == "__main__":
    names = sys.argv[2:] or list(SCENARIOS)
    if len(names) > 1:
        # One JVM per run: Spark reads some settings once per JVM (MapStatus's
        # spark.shuffle.minNumPartitionsToHighlyCompress is a lazy val), so runs must not share one.
        import subprocess
        for name in names:
            subprocess.run([sys.executable, __file__, OUT, name], check=True)
        sys.exit(0)
    for name in names:
        job, conf = SCENARIOS[name]
        conf = dict(conf)
        started = time.time()
        before = set(os.listdir(OUT))
        s = session(name, **conf)
        job(s)
        s.stop()
        print(f"{name}: {time.time() - started:.1f}s -> {sorted(set(os.listdir(OUT)) - before)}", flush=True)
