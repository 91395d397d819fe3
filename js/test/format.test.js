import { test } from "node:test";
import assert from "node:assert/strict";
import { formatBytes, formatMs, formatCount, formatRatio, formatShare, formatValue, plural } from "../src/lib/format.js";

test("bytes read as Spark's Utils.bytesToString: a unit from twice its size, one decimal", () => {
  assert.equal(formatBytes(0), "0.0 B");
  assert.equal(formatBytes(612), "612.0 B");
  assert.equal(formatBytes(2047), "2047.0 B");
  assert.equal(formatBytes(2048), "2.0 KiB");
  assert.equal(formatBytes(11981), "11.7 KiB");
  assert.equal(formatBytes(537919488), "513.0 MiB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.0 GiB");
  assert.equal(formatBytes(null), "\u2013");
});

test("durations read as Spark's msDurationToString", () => {
  assert.equal(formatMs(0), "0 ms");
  assert.equal(formatMs(127), "127 ms");
  assert.equal(formatMs(999), "999 ms");
  assert.equal(formatMs(1234), "1.2 s");
  assert.equal(formatMs(150_000), "2.5 min");
  assert.equal(formatMs(4_500_000), "1.25 h");
  assert.equal(formatMs(undefined), "\u2013");
});

test("counts get thousands separators, ratios an x", () => {
  assert.equal(formatCount(3000000), "3,000,000");
  assert.equal(formatCount(999), "999");
  assert.equal(formatCount(1.5), "1.50");
  assert.equal(formatRatio(7.344), "7.3x");
  assert.equal(formatValue(2048, "bytes"), "2.0 KiB");
  assert.equal(formatValue(2048, "ms"), "2.0 s");
  assert.equal(formatValue(2048, "count"), "2,048");
});

test("evidence reads as labelled values with units, the raw value kept", async () => {
  const { evidenceEntry } = await import("../src/lib/format.js");
  // keys and values of skewed_join's data_skew finding
  assert.deepEqual(evidenceEntry("read_bytes_max", 478997), ["Read max", "467.8 KiB", "478997"]);
  assert.deepEqual(evidenceEntry("duration_ms_median", 88), ["Duration median", "88 ms", "88"]);
  assert.deepEqual(evidenceEntry("read_bytes_ratio", 30.1), ["Read ratio", "30.1x", "30.1"]);
  assert.deepEqual(evidenceEntry("heaviest_task_share", 0.658), ["Heaviest task share", "66%", "0.658"]);
  assert.deepEqual(evidenceEntry("spark.sql.adaptive.enabled", "false"), ["spark.sql.adaptive.enabled", "false", "false"]);
  assert.equal(evidenceEntry("successful_tasks", 16)[1], "16");
  assert.equal(evidenceEntry("gaps", ["32.5 s after the last job"])[1], "32.5 s after the last job");
});

test("a share reads as a whole percent, rounded half up", () => {
  assert.equal(formatShare(0), "0%");
  assert.equal(formatShare(0.125), "13%");
  assert.equal(formatShare(0.994), "99%");
  assert.equal(formatShare(1), "100%");
  assert.equal(formatShare(-0.25), "-25%");
  assert.equal(formatShare(null), "\u2013");
});

test("plural: one of a noun is singular, any other count plural, with the count formatted", () => {
  assert.equal(plural(1, "stage"), "1 stage");
  assert.equal(plural(0, "stage"), "0 stages");
  assert.equal(plural(2, "shuffle dependency", "shuffle dependencies"), "2 shuffle dependencies");
  assert.equal(plural(1, "shuffle dependency", "shuffle dependencies"), "1 shuffle dependency");
  assert.equal(plural(12000, "task"), "12,000 tasks");
});
