import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeStageGraph, visibleUnits, layoutStages, layoutJobs, edgePath, stageValue, jobValue } from "../src/lib/graph.js";
import { decodeTable } from "../src/lib/payload.js";

// The shape StageDag sends (see sparksword_nb/widgets/data.py): columnar tables, interned strings.
function payload(n, { perJob = 2 } = {}) {
  const ids = [...Array(n).keys()];
  return {
    strings: ["Range \u2192 Exchange", "collect at x.py:1", "COMPLETE", "none", "SUCCEEDED"],
    metrics: [
      { key: "duration", label: "duration", column: "duration_ms", unit: "ms", job: "job" },
      { key: "shuffle_read", label: "shuffle read", column: "shuffle_read_bytes", unit: "bytes", job: "sum" },
      { key: "severity", label: "insight severity", column: "severity", unit: "severity", job: "max" },
    ],
    stages: {
      stage_id: ids,
      label: ids.map(() => 0),
      name: ids.map(() => 1),
      status: ids.map(() => 2),
      severity: ids.map(() => 3),
      job_id: ids.map((i) => Math.floor(i / perJob)),
      duration_ms: ids.map((i) => 10 * (i + 1)),
      shuffle_read_bytes: ids.map((i) => (i % perJob ? 100 : 0)),
    },
    // within a job, each stage reads the previous one's shuffle
    edges: {
      parent: ids.filter((i) => i % perJob).map((i) => i - 1),
      child: ids.filter((i) => i % perJob),
      bytes: ids.filter((i) => i % perJob).map(() => 4096),
    },
    jobs: {
      job_id: [...Array(Math.ceil(n / perJob)).keys()],
      status: [...Array(Math.ceil(n / perJob)).keys()].map(() => 4),
      duration_ms: [...Array(Math.ceil(n / perJob)).keys()].map((j) => 1000 + j),
      name: [...Array(Math.ceil(n / perJob)).keys()].map(() => 1),
    },
  };
}

test("columnar tables decode to rows with strings resolved", () => {
  const rows = decodeTable({ a: [1, 2], s: [0, null] }, ["x"], ["s"]);
  assert.deepEqual(rows, [{ a: 1, s: "x" }, { a: 2, s: null }]);
  const g = decodeStageGraph(payload(4));
  assert.equal(g.stages.length, 4);
  assert.equal(g.stages[0].label, "Range \u2192 Exchange");
  assert.equal(g.byId.get(3).job_id, 1);
  assert.equal(g.edges.length, 2);
});

test("up to maxNodes every stage is drawn; above, jobs are drawn and open on demand", () => {
  const g = decodeStageGraph(payload(10));
  assert.equal(visibleUnits(g, { maxNodes: 10 }).mode, "stages");
  const collapsed = visibleUnits(g, { maxNodes: 9 });
  assert.equal(collapsed.mode, "jobs");
  assert.equal(collapsed.jobs.length, 5);
  assert.equal(collapsed.stages.length, 0);
  const opened = visibleUnits(g, { maxNodes: 9, expanded: new Set([2]) });
  assert.deepEqual(opened.stages.map((s) => s.stage_id), [4, 5]);
  assert.deepEqual(opened.edges.map((e) => [e.parent, e.child]), [[4, 5]]);
  // every stage belongs to exactly one job card
  assert.equal(collapsed.jobs.reduce((n, j) => n + j.stages.length, 0), 10);
});

test("a job combines its stages' values as the metric says", () => {
  const g = decodeStageGraph(payload(4));
  const job = g.jobs[1];
  const stages = g.stages.filter((s) => s.job_id === 1);
  assert.equal(jobValue(job, stages, g.metrics[0]), 1001); // the job's own duration
  assert.equal(jobValue(job, stages, g.metrics[1]), 100); // shuffle read summed
  assert.equal(stageValue(g.stages[0], g.metrics[2]), 0); // severity "none" ranks 0
});

test("the layered layout puts parents above children, without overlaps, the same every time", () => {
  const g = decodeStageGraph(payload(12, { perJob: 3 }));
  const a = layoutStages(g.stages, g.edges);
  const b = layoutStages(g.stages, g.edges);
  assert.deepEqual(a, b);
  const pos = new Map(a.nodes.map((n) => [n.id, n]));
  for (const e of g.edges) assert.ok(pos.get(e.parent).y < pos.get(e.child).y, `edge ${e.parent}->${e.child}`);
  for (const p of a.nodes) {
    for (const q of a.nodes) {
      if (p.id >= q.id) continue;
      const apart = Math.abs(p.x - q.x) >= (p.width + q.width) / 2 || Math.abs(p.y - q.y) >= (p.height + q.height) / 2;
      assert.ok(apart, `stages ${p.id} and ${q.id} overlap`);
    }
  }
  assert.ok(a.edges.every((e) => e.labelX !== undefined && e.points.length >= 2));
  assert.ok(a.width > 0 && a.height > 0);
});

test("job cards flow in rows without overlapping, an opened job holds its stages inside its cell", () => {
  const g = decodeStageGraph(payload(40));
  const view = visibleUnits(g, { maxNodes: 10, expanded: new Set([3]) });
  const lay = layoutJobs(view, { rowWidth: 800 });
  assert.equal(lay.cells.length, 20);
  assert.ok(lay.cells.every((c) => c.x + c.width <= Math.max(800, c.width) + 1e-9));
  for (const c of lay.cells) {
    for (const d of lay.cells) {
      if (c === d) continue;
      const apart = c.x + c.width <= d.x || d.x + d.width <= c.x || c.y + c.height <= d.y || d.y + d.height <= c.y;
      assert.ok(apart, `jobs ${c.job.job_id} and ${d.job.job_id} overlap`);
    }
  }
  const open = lay.cells.find((c) => c.job.job_id === 3);
  assert.deepEqual(lay.nodes.map((n) => n.id).sort(), [6, 7]);
  for (const n of lay.nodes) {
    assert.ok(n.x - n.width / 2 >= open.x && n.x + n.width / 2 <= open.x + open.width);
    assert.ok(n.y - n.height / 2 >= open.y && n.y + n.height / 2 <= open.y + open.height);
  }
});

test("edge paths start and end at the edge's end points", () => {
  const d = edgePath([{ x: 0, y: 0 }, { x: 10, y: 20 }, { x: 20, y: 40 }]);
  assert.match(d, /^M0,0/);
  assert.match(d, /L20,40$/);
  assert.equal(edgePath([]), "");
});

test("stages grouped by job: each job's box holds its stages and no other job's", () => {
  const g = decodeStageGraph(payload(12, { perJob: 3 }));
  const groups = new Map(g.stages.map((s) => [s.stage_id, `Job ${s.job_id}`]));
  const lay = layoutStages(g.stages, g.edges, { groups });
  assert.equal(lay.groups.length, new Set(groups.values()).size);
  const pos = new Map(lay.nodes.map((n) => [n.id, n]));
  const inside = (n, box) => n.x - n.width / 2 >= box.x - 1e-6 && n.x + n.width / 2 <= box.x + box.width + 1e-6 &&
    n.y - n.height / 2 >= box.y - 1e-6 && n.y + n.height / 2 <= box.y + box.height + 1e-6;
  for (const box of lay.groups) {
    for (const st of g.stages) {
      const mine = groups.get(st.stage_id) === box.key;
      assert.equal(inside(pos.get(st.stage_id), box), mine, `stage ${st.stage_id} and ${box.key}`);
    }
  }
  for (const e of g.edges) assert.ok(pos.get(e.parent).y < pos.get(e.child).y, `edge ${e.parent}->${e.child}`);
  // one group is no grouping: the plain layout, no boxes
  assert.deepEqual(layoutStages(g.stages, g.edges, { groups: new Map(g.stages.map((s) => [s.stage_id, "x"])) }).groups, []);
});
