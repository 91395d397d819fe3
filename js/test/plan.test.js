import { test } from "node:test";
import assert from "node:assert/strict";
import { layoutPlan, headlineMetrics, metricTotal } from "../src/lib/plan.js";
import { safeUrl, truncate } from "../src/lib/dom.js";

// skewed_join's plan (sql_plan_nodes of the real log): Range -> Project -> Exchange inside/around codegen.
const NODES = [
  { id: 17, name: "WholeStageCodegen (3)", cluster: null, is_cluster: true },
  { id: 16, name: "Exchange", cluster: null, is_cluster: false },
  { id: 18, name: "Project", cluster: 17, is_cluster: false },
  { id: 19, name: "Range", cluster: 17, is_cluster: false },
];
const EDGES = [[19, 18], [18, 16]];

test("operators flow top to bottom and codegen boxes surround their operators", () => {
  const lay = layoutPlan(NODES, EDGES);
  const at = new Map(lay.nodes.map((n) => [n.id, n]));
  assert.ok(at.get(19).y < at.get(18).y && at.get(18).y < at.get(16).y);
  const box = at.get(17);
  for (const id of [18, 19]) {
    const n = at.get(id);
    assert.ok(n.x - n.width / 2 >= box.x - box.width / 2 && n.x + n.width / 2 <= box.x + box.width / 2);
    assert.ok(n.y - n.height / 2 >= box.y - box.height / 2 && n.y + n.height / 2 <= box.y + box.height / 2);
  }
  assert.equal(lay.edges.length, 2);
});

test("a node shows rows, then sizes and times; totals come out of the History Server's strings", () => {
  const metrics = [["spill size", "0.0 B"], ["time in aggregation build", "total (min, med, max (stageId: taskId))\n21 ms (0 ms, 0 ms, 8 ms (stage 3.0: task 24))"], ["number of output rows", "1,000"]];
  assert.deepEqual(headlineMetrics(metrics).map((m) => m.name), ["number of output rows", "time in aggregation build"]);
  assert.equal(metricTotal(metrics[1][1]), "21 ms");
  assert.equal(metricTotal("1,000"), "1,000");
});

test("only http(s) links survive; long labels are cut", () => {
  assert.equal(safeUrl("https://spark.apache.org/docs/latest/"), "https://spark.apache.org/docs/latest/");
  assert.equal(safeUrl("javascript:alert(1)"), null);
  assert.equal(safeUrl(" JaVaScRiPt:alert(1)"), null);
  assert.equal(safeUrl("data:text/html,<img src=x onerror=alert(1)>"), null);
  assert.equal(truncate("abcdef", 4), "abc\u2026");
  assert.equal(truncate("abc", 4), "abc");
});
