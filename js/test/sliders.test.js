import { test } from "node:test";
import assert from "node:assert/strict";
import { STEPS, toPosition, fromPosition } from "../src/lib/sliders.js";

const ADVISORY = { kind: "bytes", scale: "log", min: 1024, max: 1024 ** 3 };

test("from 1 KiB to 1 GiB every power of two is a slider position", () => {
  // 512 KiB: 9 of 20 doublings above 1 KiB
  assert.equal(toPosition(512 * 1024, ADVISORY), 450);
  assert.equal(fromPosition(450, ADVISORY), 512 * 1024);
  assert.equal(fromPosition(0, ADVISORY), 1024);
  assert.equal(fromPosition(STEPS, ADVISORY), 1024 ** 3);
  for (let k = 0; k <= 20; k++) assert.equal(fromPosition(toPosition(1024 * 2 ** k, ADVISORY), ADVISORY), 1024 * 2 ** k);
});

test("values outside the range sit at the ends; counts are integers; floats keep their step", () => {
  const parts = { kind: "int", scale: "log", min: 1, max: 20000 };
  assert.equal(toPosition(0, parts), 0);
  assert.equal(toPosition(1e9, parts), STEPS);
  assert.ok(Number.isInteger(fromPosition(333, parts)));
  assert.equal(fromPosition(toPosition(200, parts), parts), 200);
  const skew = { kind: "float", scale: "linear", min: 0, max: 0.95, step: 0.01 };
  assert.equal(fromPosition(STEPS, skew), 0.95);
  assert.equal(fromPosition(toPosition(0.3, skew), skew), 0.3);
});
