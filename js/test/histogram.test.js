import { test } from "node:test";
import assert from "node:assert/strict";
import { histogramBars, ticks, linearScale } from "../src/lib/histogram.js";

const BOX = { x0: 0, x1: 100, y0: 0, y1: 50 };

test("bars span their bins and heights follow counts; a lone task stays visible", () => {
  // skewed_join stage 2 durations: 13 tasks in the first bin, 3 outliers in the last (from the real log)
  const { bars, maxCount } = histogramBars([44, 144, 244, 345, 445, 545, 646], [13, 0, 0, 0, 0, 3], BOX);
  assert.equal(bars.length, 6);
  assert.equal(maxCount, 13);
  assert.equal(bars[0].height, 50);
  assert.equal(bars[1].height, 0);
  assert.ok(Math.abs(bars[5].height - (50 * 3) / 13) < 1e-9);
  assert.ok(bars[0].x < bars[5].x);
  const lone = histogramBars([0, 1, 2], [1000, 1], BOX).bars[1];
  assert.ok(lone.height >= 1);
});

test("outliers are marked per task: a bin's outlier part is as tall as its outlier tasks, not the whole bin", () => {
  // skewed_join stage 2 shuffle read: 15 normal tasks and 1 outlier (from the real log); a bin that holds
  // both keeps its normal tasks unmarked
  const { bars } = histogramBars([0, 10, 20], [15, 1], BOX, [0, 1]);
  assert.equal(bars[0].outliers, 0);
  assert.equal(bars[0].outlierHeight, 0);
  assert.equal(bars[1].outliers, 1);
  assert.ok(bars[1].outlierHeight >= 1 && bars[1].outlierHeight <= bars[1].height);
  const mixed = histogramBars([0, 10], [16], BOX, [1]).bars[0];
  assert.ok(mixed.outlierHeight < mixed.height / 4, "one outlier of 16 tasks marks a sixteenth of the bar");
  assert.equal(histogramBars([0, 10], [4], BOX).bars[0].outlierHeight, 0);
});

test("one value (all tasks equal) draws a single full-width bar", () => {
  const { bars } = histogramBars([5, 6], [7], BOX);
  assert.equal(bars.length, 1);
  assert.equal(bars[0].x, 0);
  assert.ok(bars[0].width >= 98);
  assert.equal(histogramBars([0, 1], [], BOX).bars.length, 0);
});

test("ticks are round numbers inside the range", () => {
  assert.deepEqual(ticks(0, 100, 5), [0, 20, 40, 60, 80, 100]);
  assert.deepEqual(ticks(44, 646, 5), [200, 400, 600]);
  assert.deepEqual(ticks(3, 3), [3]);
  assert.equal(linearScale([0, 10], [0, 100]).invert(50), 5);
});
