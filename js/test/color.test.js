import { test } from "node:test";
import assert from "node:assert/strict";
import { rampColor, sequentialScale, textColorOn, NO_VALUE, CONSTANT_VALUE } from "../src/lib/color.js";

test("the ramp runs from light to dark and clamps", () => {
  assert.equal(rampColor(0), "#ffffcc");
  assert.equal(rampColor(1), "#800026");
  assert.equal(rampColor(-3), "#ffffcc");
  assert.equal(rampColor(7), "#800026");
  assert.equal(rampColor(NaN), "#ffffcc");
});

test("a scale maps the smallest value to the lightest colour and the largest to the darkest", () => {
  const scale = sequentialScale([10, 1000, 100000]);
  assert.equal(scale(10), rampColor(0));
  assert.equal(scale(100000), rampColor(1));
  assert.deepEqual(scale.domain, [10, 100000]);
  // log spacing: 1000 sits in the middle of 10..100000
  const mid = sequentialScale([10, 1000, 100000], { log: false });
  assert.notEqual(scale(1000), mid(1000));
});

test("missing values are grey; a metric equal everywhere (no spill anywhere) gets a neutral colour", () => {
  const scale = sequentialScale([null, 5, undefined]);
  assert.equal(scale(null), NO_VALUE);
  assert.equal(scale(5), CONSTANT_VALUE);
  assert.equal(scale.constant, true);
  // skewed_join's spill is 0 in all four stages: no stage may look warmer than another
  const zeros = sequentialScale([0, 0, 0, 0]);
  assert.equal(zeros(0), CONSTANT_VALUE);
  assert.equal(zeros.constant, true);
  assert.deepEqual(zeros.domain, [0, 0]);
  assert.equal(sequentialScale([1, 2]).constant, false);
  assert.deepEqual(sequentialScale([]).domain, [null, null]);
});

test("text colour contrasts with its fill", () => {
  assert.equal(textColorOn("#ffffcc"), "#222222");
  assert.equal(textColorOn("#800026"), "#ffffff");
});
