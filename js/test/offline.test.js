import { test } from "node:test";
import assert from "node:assert/strict";
import { makeModel, histogramFor, linkedModels } from "../src/offline.js";

// The shape report_html writes into the page (sw-data), reduced to what the links read.
const metrics = [{ key: "duration", label: "duration", unit: "ms" }, { key: "spill_disk", label: "spill (disk)", unit: "bytes" }];
const data = () => ({
  header: {},
  dag: { selected_stage: 2 },
  skew: { stage: 2, metric: "duration", payload: { stage_id: 2, metrics } },
  insights: { selected_stage: 2 },
  histograms: { "2|duration": { stage_id: 2, tasks: 16, metrics }, "0|duration": { stage_id: 0, tasks: 2, metrics } },
  notes: { "*": "not in this report", "2|spill_disk": "Stage 2: spill (disk) is 0 for every task with metrics." },
});

test("a model fires change events only when a value changes, and off() removes listeners", () => {
  const model = makeModel({ a: 1 });
  let calls = 0;
  const f = () => (calls += 1);
  model.on("change:a", f);
  model.set("a", 1);
  model.set("a", 2);
  assert.equal(calls, 1);
  model.off("change:a", f);
  model.set("a", 3);
  assert.equal(calls, 1);
  assert.equal(model.get("a"), 3);
});

test("a metric that is 0 for every task shows its note and keeps the metric menu", () => {
  const p = histogramFor(data(), 2, "spill_disk");
  assert.equal(p.tasks, 0);
  assert.match(p.message, /0 for every task/);
  assert.deepEqual(p.metrics.map((m) => m.key), ["duration", "spill_disk"]);
  assert.equal(histogramFor(data(), 9, "duration").message, "not in this report");
});

test("selecting a stage in the DAG selects it in the insights and shows its histogram", () => {
  const d = data();
  const models = linkedModels(d);
  models.dag.set("selected_stage", 0);
  assert.equal(models.insights.get("selected_stage"), 0);
  assert.equal(models.skew.get("payload"), d.histograms["0|duration"]);
  models.insights.set("selected_stage", 2);
  assert.equal(models.dag.get("selected_stage"), 2);
  models.skew.set("metric", "spill_disk");
  assert.match(models.skew.get("payload").message, /0 for every task/);
});
