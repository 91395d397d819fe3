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
