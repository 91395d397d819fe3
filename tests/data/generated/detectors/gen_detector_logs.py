"""Real Spark event logs for detectors that no bundled log shows (same style as shared/tools/gen_eventlogs.py).
Usage: python gen_detector_logs.py OUTDIR [scenario ...]"""
import os, sys, time
OUT = os.path.abspath(sys.argv[1])
os.makedirs(OUT, exist_ok=True)
from pyspark.sql import SparkSession, functions as F


def session(name, **conf):
    b = (SparkSession.Builder().master(conf.pop("master", "local[2]")).appName(name)
         .config("spark.eventLog.enabled", "true")
         .config("spark.eventLog.dir", "file://" + OUT)
         .config("spark.ui.enabled", "false")
         .config("spark.driver.memory", conf.pop("driver_memory", "2g"))
         .config("spark.sql.shuffle.partitions", "200"))
    for k, v in conf.items():
        b = b.config(k.replace("__", "."), v)
    return b.getOrCreate()


def straggler():
    """One task of eight sleeps 3 s on the same data as its peers: a straggler, not skew."""
    s = session("straggler", spark__sql__shuffle__partitions="8")
    def slow_one(it):
        from pyspark import TaskContext
        import time as _t
        if TaskContext.get().partitionId() == 5:
            _t.sleep(3)
        return it
    s.sparkContext.parallelize(range(80_000), 8).mapPartitions(slow_one).map(lambda x: (x % 8, 1)).reduceByKey(lambda a, b: a + b).collect()
    s.stop()


def large_partition():
    """repartition(1) of ~250 MB: one task carries the whole stage."""
    s = session("large_partition", spark__sql__adaptive__enabled="false")
    df = s.range(0, 2_000_000).withColumn("pad", F.sha2(F.col("id").cast("string"), 512))
    df.repartition(1).write.format("noop").mode("overwrite").save()
    s.stop()


def too_few_partitions():
    """A CPU-heavy stage of 2 tasks on 4 cores."""
    s = session("too_few_partitions", master="local[4]", spark__sql__adaptive__enabled="false")
    df = s.range(0, 6_000_000, 1, 2)
    for i in range(6):
        df = df.withColumn(f"h{i}", F.sha2(F.concat(F.col("id").cast("string"), F.lit(str(i))), 256))
    df.select(F.max(F.concat(*[F.col(f"h{i}") for i in range(6)]))).collect()
    s.stop()


def oversized_broadcast():
    """A broadcast hint on a ~150 MB table."""
    s = session("oversized_broadcast", spark__sql__adaptive__enabled="false")
    big = s.range(0, 1_000_000).withColumn("k", F.col("id") % 1000)
    wide = s.range(0, 1_000_000).withColumnRenamed("id", "k").withColumn("pad", F.sha2(F.col("k").cast("string"), 512))
    big.join(F.broadcast(wide), "k").agg(F.count("*")).collect()
    s.stop()


def gc_pressure():
    """collect_list of millions of strings in a small heap."""
    s = session("gc_pressure", driver_memory="1g", spark__sql__shuffle__partitions="4", spark__sql__adaptive__enabled="false")
    df = s.range(0, 3_000_000, 1, 4).withColumn("s", F.concat(F.lit("value-"), F.col("id").cast("string")))
    df.groupBy((F.col("id") % 8).alias("g")).agg(F.size(F.collect_list("s")).alias("n")).collect()
    s.stop()


def driver_gap():
    """Two jobs with 15 s of driver-side work (a sleep) between them, on 4 cores."""
    s = session("driver_gap", master="local[4]", spark__sql__shuffle__partitions="8")
    s.range(0, 200_000).groupBy((F.col("id") % 10).alias("m")).count().collect()
    time.sleep(15)
    s.range(0, 200_000).groupBy((F.col("id") % 7).alias("m")).count().collect()
    s.stop()


def recomputation():
    """The same aggregation and the same RDD computed by two actions each, without cache."""
    s = session("recomputation", spark__sql__shuffle__partitions="8", spark__sql__adaptive__enabled="false")
    df = (s.range(0, 3_000_000).withColumn("pad", F.sha2(F.col("id").cast("string"), 256))
          .groupBy((F.col("id") % 100).alias("k")).agg(F.max("pad").alias("m")))
    df.count()
    df.collect()
    rdd = s.sparkContext.parallelize(range(300_000), 4).map(lambda x: (x * 7919) % 1000)
    rdd.count()
    rdd.sum()
    s.stop()


def shuffle_heavy():
    """A wide, uncompressed shuffle of ~600 MB: writing it is a large share of the map stage."""
    s = session("shuffle_heavy", spark__sql__shuffle__partitions="8", spark__sql__adaptive__enabled="false",
                spark__shuffle__compress="false")
    df = s.range(0, 4_000_000).withColumn("pad", F.sha2(F.col("id").cast("string"), 512))
    df.repartition(8, "id").write.format("noop").mode("overwrite").save()
    s.stop()


def aqe_skew_split():
    """A skewed join big enough for AQE to split the skewed partition."""
    s = session("aqe_skew_split", spark__sql__adaptive__enabled="true",
                spark__sql__adaptive__skewJoin__enabled="true",
                spark__sql__adaptive__advisoryPartitionSizeInBytes="512k",
                spark__sql__adaptive__skewJoin__skewedPartitionThresholdInBytes="1m",
                spark__sql__adaptive__coalescePartitions__enabled="false",
                spark__sql__shuffle__partitions="16",
                spark__sql__autoBroadcastJoinThreshold="-1")
    big = s.range(0, 4_000_000).withColumn("k", F.when(F.col("id") % 4 == 0, F.lit(1)).otherwise(F.col("id") % 5000))
    other = s.range(0, 400_000).withColumn("k", F.col("id") % 5000)
    big.join(other, "k").count()
    s.stop()


def cheap_skew():
    """30% of the rows on one key, repartitioned by key into 64 partitions, with no work per row: one task
    reads ~30x the median shuffle bytes but takes little longer than its peers (a data property, cheap today)."""
    s = session("cheap_skew", spark__sql__adaptive__enabled="false")
    df = s.range(0, 400_000, 1, 4).withColumn("k", F.when(F.col("id") % 10 < 3, F.lit(0)).otherwise(F.col("id") % 997))
    df.repartition(64, "k").write.format("noop").mode("overwrite").save()
    s.stop()


SCENARIOS = {f.__name__: f for f in [cheap_skew, straggler, large_partition, too_few_partitions, oversized_broadcast, gc_pressure,
                                      driver_gap, recomputation, shuffle_heavy, aqe_skew_split]}

if __name__ == "__main__":
    for n in sys.argv[2:] or list(SCENARIOS):
        t = time.time()
        before = set(os.listdir(OUT))
        try:
            SCENARIOS[n]()
        except Exception as e:  # a scenario that fails still leaves its (real) log
            print(f"{n}: failed: {str(e)[:200]}", flush=True)
        new = sorted(set(os.listdir(OUT)) - before)
        print(f"{n}: {time.time()-t:.1f}s -> {new}", flush=True)
