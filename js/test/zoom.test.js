import { test } from "node:test";
import assert from "node:assert/strict";
import { zoomAt, fitTransform, centerOn, transformAttr, MAX_SCALE } from "../src/lib/zoom.js";

test("zooming keeps the point under the cursor still", () => {
  const t = { k: 1, x: 10, y: 20 };
  const z = zoomAt(t, 100, 50, 2);
  // content point under (100, 50) before: ((100-10)/1, (50-20)/1) = (90, 30)
  assert.equal(z.k, 2);
  assert.equal(90 * z.k + z.x, 100);
  assert.equal(30 * z.k + z.y, 50);
  assert.equal(zoomAt(t, 0, 0, 1000).k, MAX_SCALE);
});

test("fit shrinks big content into the view and never enlarges small content", () => {
  const big = fitTransform(2000, 1000, 800, 400, 0);
  assert.ok(Math.abs(big.k - 0.4) < 1e-9);
  assert.equal(fitTransform(100, 50, 800, 400).k, 1);
  const c = centerOn({ k: 2, x: 0, y: 0 }, 10, 10, 100, 100);
  assert.equal(10 * c.k + c.x, 50);
  assert.equal(transformAttr({ k: 1, x: 1, y: 2 }), "translate(1.00,2.00) scale(1.0000)");
});

test("a view is as tall as its content at the width-fitting scale, within bounds", async () => {
  const { viewHeight } = await import("../src/lib/zoom.js");
  assert.equal(viewHeight(400, 100, 832), 160); // small graph: the minimum
  assert.equal(viewHeight(400, 300, 832), 332); // fits at scale 1: content + padding
  assert.equal(viewHeight(1600, 1000, 832), 532); // scaled to width 800/1600 = 0.5
  assert.equal(viewHeight(400, 5000, 832), 720); // tall graph: capped, the user pans
  assert.equal(viewHeight(0, 0, 800), 160);
});

test("a width-only fit keeps tall content readable and starts at its top", () => {
  const t = fitTransform(1000, 5000, 832, 400, 16, { widthOnly: true });
  assert.equal(t.k, 0.8);
  assert.equal(t.y, 16);
});
