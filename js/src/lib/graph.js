// The stage DAG's view model and layout: which units are visible (stages, or jobs when the application
// is too big to draw stage by stage), and where each goes. Pure functions over plain objects, so they
// are unit-tested in node and the widget only turns their output into SVG.

import dagre from "@dagrejs/dagre";
import { decodeTable } from "./payload.js";
import { SEVERITY_RANK } from "./color.js";

export const STAGE_SIZE = { width: 200, height: 50 };
export const JOB_SIZE = { width: 160, height: 46 };
const EDGE_LABEL = { width: 64, height: 14 };
const GRID_GAP = 24;
const CLUSTER_PAD = { top: 28, side: 12, bottom: 12 };

/** The stage graph decoded from a StageDag payload: stages, edges, jobs, metrics. */
export function decodeStageGraph(payload) {
  const strings = payload?.strings ?? [];
  const stages = decodeTable(payload?.stages, strings, ["label", "name", "status", "severity"]);
  const jobs = decodeTable(payload?.jobs, strings, ["status", "name"]);
  const edges = decodeTable(payload?.edges, strings, []);
  const byId = new Map(stages.map((st) => [st.stage_id, st]));
  return { stages, jobs, edges, byId, metrics: payload?.metrics ?? [] };
}

/** A metric's value for a stage; severity is ranked so it can be coloured like a number. */
export function stageValue(stage, metric) {
  if (!metric) return null;
  const v = stage[metric.column];
  if (metric.unit === "severity") return SEVERITY_RANK[v ?? "none"] ?? 0;
  return v === undefined ? null : v;
}

/** A metric's value for a whole job (its stages combined as the metric says: sum, max or the job's own). */
export function jobValue(job, stages, metric) {
  if (!metric) return null;
  if (metric.job === "job" && job[metric.column] !== undefined) return job[metric.column];
  const values = stages.map((st) => stageValue(st, metric)).filter((v) => v !== null && v !== undefined);
  if (!values.length) return null;
  return metric.job === "sum" ? values.reduce((a, b) => a + b, 0) : values.reduce((a, b) => Math.max(a, b));
}

/**
 * What to draw: every stage when there are at most `maxNodes`, else one card per job, with the jobs in
 * `expanded` opened to their stages. A stage belongs to its first job (`job_id`), as Spark's job page
 * draws a reused stage under the job that ran it.
 */
export function visibleUnits(graph, { maxNodes = 300, expanded = new Set() } = {}) {
  if (graph.stages.length <= maxNodes) {
    return { mode: "stages", stages: graph.stages, edges: graph.edges, jobs: [] };
  }
  const stagesByJob = new Map();
  for (const st of graph.stages) {
    if (!stagesByJob.has(st.job_id)) stagesByJob.set(st.job_id, []);
    stagesByJob.get(st.job_id).push(st);
  }
  const known = new Set(graph.jobs.map((j) => j.job_id));
  const jobs = graph.jobs.map((j) => ({ ...j, stages: stagesByJob.get(j.job_id) ?? [], expanded: expanded.has(j.job_id) }));
  // stages whose job the log never named still get a card, so no stage disappears
  for (const [jobId, stages] of stagesByJob) {
    if (!known.has(jobId)) jobs.push({ job_id: jobId, name: null, status: null, stages, expanded: expanded.has(jobId) });
  }
  jobs.sort((a, b) => (a.job_id ?? -1) - (b.job_id ?? -1));
  const shown = new Set(jobs.filter((j) => j.expanded).flatMap((j) => j.stages.map((st) => st.stage_id)));
  const byStageJob = new Map(graph.stages.map((st) => [st.stage_id, st.job_id]));
  const edges = graph.edges.filter(
    (e) => shown.has(e.parent) && shown.has(e.child) && byStageJob.get(e.parent) === byStageJob.get(e.child),
  );
  return { mode: "jobs", stages: graph.stages.filter((st) => shown.has(st.stage_id)), edges, jobs };
}

/**
 * Layered layout of stages (dagre, top to bottom like Spark's UI). Returns nodes with centre x/y and
 * edges with polyline points and a label position; deterministic for the same input order.
 */
export function layoutStages(stages, edges, { nodeSize = STAGE_SIZE, labels = true, groups = null } = {}) {
  // stages grouped (by job) when there is more than one group: dagre lays each group out as a box of its own
  const keys = groups ? [...new Set(stages.map((st) => groups.get(st.stage_id)).filter((k) => k != null))] : [];
  const grouped = keys.length > 1;
  const g = new dagre.graphlib.Graph({ multigraph: false, compound: grouped });
  g.setGraph({ rankdir: "TB", nodesep: 28, ranksep: 46, edgesep: 12, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set();
  if (grouped) for (const key of keys) g.setNode(`group:${key}`, { label: key, paddingTop: 22, paddingLeft: 8, paddingRight: 8, paddingBottom: 8 });
  for (const st of [...stages].sort((a, b) => a.stage_id - b.stage_id)) {
    g.setNode(String(st.stage_id), { width: nodeSize.width, height: nodeSize.height });
    const key = grouped ? groups.get(st.stage_id) : null;
    if (key != null) g.setParent(String(st.stage_id), `group:${key}`);
    ids.add(st.stage_id);
  }
  const kept = edges.filter((e) => ids.has(e.parent) && ids.has(e.child) && e.parent !== e.child);
  for (const e of kept) {
    const label = labels && e.bytes > 0 ? { ...EDGE_LABEL, labelpos: "c" } : {};
    g.setEdge(String(e.parent), String(e.child), label);
  }
  dagre.layout(g);
  const nodes = [...ids].map((id) => {
    const n = g.node(String(id));
    return { id, x: n.x, y: n.y, width: n.width, height: n.height };
  });
  const laidEdges = kept.map((e) => {
    const le = g.edge(String(e.parent), String(e.child));
    return { parent: e.parent, child: e.child, bytes: e.bytes, points: le.points, labelX: le.x, labelY: le.y };
  });
  // each group's box from its own stages (dagre's cluster box, made to hold its padding and title)
  const boxes = grouped ? keys.map((key) => {
    const mine = nodes.filter((n) => groups.get(n.id) === key);
    const x0 = Math.min(...mine.map((n) => n.x - n.width / 2)) - 8;
    const y0 = Math.min(...mine.map((n) => n.y - n.height / 2)) - 22;
    const x1 = Math.max(...mine.map((n) => n.x + n.width / 2)) + 8;
    const y1 = Math.max(...mine.map((n) => n.y + n.height / 2)) + 8;
    return { key, x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
  }) : [];
  const { width = 0, height = 0 } = g.graph();
  return { nodes, edges: laidEdges, width, height, groups: boxes };
}

/**
 * The collapsed view: job cards flowed in rows (job id order, as they ran), an expanded job showing
 * its own stage DAG inside its cell. Cross-job edges are left out: the cards are ordered, not linked.
 */
export function layoutJobs(view, { rowWidth = 1200 } = {}) {
  const cells = view.jobs.map((job) => {
    if (!job.expanded) return { job, width: JOB_SIZE.width, height: JOB_SIZE.height, inner: null };
    const ids = new Set(job.stages.map((st) => st.stage_id));
    const inner = layoutStages(job.stages, view.edges.filter((e) => ids.has(e.parent) && ids.has(e.child)));
    return {
      job,
      width: Math.max(JOB_SIZE.width, inner.width + 2 * CLUSTER_PAD.side),
      height: inner.height + CLUSTER_PAD.top + CLUSTER_PAD.bottom,
      inner,
    };
  });
  const placed = [];
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  let width = 0;
  for (const cell of cells) {
    if (x > 0 && x + cell.width > rowWidth) {
      y += rowHeight + GRID_GAP;
      x = 0;
      rowHeight = 0;
    }
    placed.push({ ...cell, x, y });
    x += cell.width + GRID_GAP;
    rowHeight = Math.max(rowHeight, cell.height);
    width = Math.max(width, x - GRID_GAP);
  }
  const nodes = [];
  const edges = [];
  for (const cell of placed) {
    if (!cell.inner) continue;
    const dx = cell.x + CLUSTER_PAD.side;
    const dy = cell.y + CLUSTER_PAD.top;
    for (const n of cell.inner.nodes) nodes.push({ ...n, x: n.x + dx, y: n.y + dy });
    for (const e of cell.inner.edges) {
      edges.push({
        ...e,
        points: e.points.map((p) => ({ x: p.x + dx, y: p.y + dy })),
        labelX: e.labelX === undefined ? undefined : e.labelX + dx,
        labelY: e.labelY === undefined ? undefined : e.labelY + dy,
      });
    }
  }
  return { cells: placed, nodes, edges, width, height: y + rowHeight };
}

/** An SVG path through dagre's edge points (a smooth curve through the midpoints, like dagre-d3's basis). */
export function edgePath(points) {
  if (!points?.length) return "";
  if (points.length < 3) return `M${points.map((p) => `${r(p.x)},${r(p.y)}`).join("L")}`;
  let d = `M${r(points[0].x)},${r(points[0].y)}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mx = (points[i].x + points[i + 1].x) / 2;
    const my = (points[i].y + points[i + 1].y) / 2;
    d += `Q${r(points[i].x)},${r(points[i].y)} ${r(mx)},${r(my)}`;
  }
  const last = points[points.length - 1];
  return `${d}L${r(last.x)},${r(last.y)}`;
}

function r(v) {
  return Math.round(v * 10) / 10;
}
