// Layout of a SQL physical plan: operators as nodes, data flowing top to bottom (scans first, as the
// Spark SQL page draws it), operators fused by whole-stage codegen boxed in their WholeStageCodegen.

import dagre from "@dagrejs/dagre";

export const PLAN_NODE = { width: 190, height: 44 };

/**
 * Positions for plan `nodes` ({id, name, cluster, is_cluster}) and `edges` ([from, to] = data flows
 * from -> to). Clusters get x/y/width/height around their members.
 */
export function layoutPlan(nodes, edges) {
  const g = new dagre.graphlib.Graph({ compound: true });
  g.setGraph({ rankdir: "TB", nodesep: 24, ranksep: 36, marginx: 8, marginy: 8 });
  g.setDefaultEdgeLabel(() => ({}));
  const clusters = new Set(nodes.filter((n) => n.is_cluster).map((n) => n.id));
  const members = new Map();
  for (const n of nodes) {
    if (n.is_cluster) continue;
    g.setNode(String(n.id), { width: PLAN_NODE.width, height: PLAN_NODE.height });
    if (n.cluster !== null && n.cluster !== undefined && clusters.has(n.cluster)) {
      members.set(n.cluster, (members.get(n.cluster) ?? 0) + 1);
    }
  }
  for (const id of clusters) {
    // an empty cluster would be laid out as a zero-size node: leave it out
    if (!members.get(id)) continue;
    g.setNode(String(id), { paddingTop: 22, paddingLeft: 10, paddingRight: 10, paddingBottom: 8 });
  }
  for (const n of nodes) {
    if (!n.is_cluster && members.get(n.cluster)) g.setParent(String(n.id), String(n.cluster));
  }
  const ids = new Set(nodes.filter((n) => !n.is_cluster).map((n) => n.id));
  const kept = edges.filter(([a, b]) => ids.has(a) && ids.has(b) && a !== b);
  for (const [a, b] of kept) g.setEdge(String(a), String(b));
  dagre.layout(g);
  const out = nodes
    .filter((n) => g.hasNode(String(n.id)))
    .map((n) => {
      const p = g.node(String(n.id));
      return { id: n.id, is_cluster: !!n.is_cluster, x: p.x, y: p.y, width: p.width, height: p.height };
    });
  const laidEdges = kept.map(([a, b]) => ({ from: a, to: b, points: g.edge(String(a), String(b)).points }));
  const { width = 0, height = 0 } = g.graph();
  return { nodes: out, edges: laidEdges, width, height };
}

/** The metrics worth printing on a plan node: rows first, then sizes and times, at most `max`. */
export function headlineMetrics(metrics, max = 2) {
  const rank = (name) => {
    if (/output rows/.test(name)) return 0;
    if (/^(data size|size of files read|written output|bytes written)/.test(name)) return 1;
    if (/(time|duration)/.test(name)) return 2;
    return 3;
  };
  return [...(metrics ?? [])]
    .map((m, i) => ({ name: m[0], value: m[1], i }))
    .filter((m) => m.value !== null && m.value !== undefined && m.value !== "")
    .sort((a, b) => rank(a.name) - rank(b.name) || a.i - b.i)
    .filter((m) => rank(m.name) < 3)
    .slice(0, max);
}

/** A History Server metric value as one line: "total (min, med, max ...)\n12 ms (...)" -> "12 ms". */
export function metricTotal(value) {
  const text = String(value ?? "");
  const lines = text.split("\n");
  if (lines.length > 1 && /^total/.test(lines[0])) return lines[1].split(" (")[0].trim();
  return text.trim();
}
