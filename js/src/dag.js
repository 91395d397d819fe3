// StageDag: the application's stages as a layered DAG, coloured by a metric; click selects a stage.
import "./lib/style.css";
import { h, s, clear, truncate } from "./lib/dom.js";
import { formatValue, formatBytes, formatMs, formatCount, formatRatio, plural } from "./lib/format.js";
import { sequentialScale, SEVERITY_COLORS, textColorOn, rampColor } from "./lib/color.js";
import {
  decodeStageGraph,
  visibleUnits,
  layoutStages,
  layoutJobs,
  edgePath,
  stageValue,
  jobValue,
  JOB_SIZE,
} from "./lib/graph.js";
import { attachPanZoom, fitTransform, centerOn, viewHeight } from "./lib/zoom.js";
import { createTooltip } from "./lib/tooltip.js";

const SEVERITY_NAMES = ["none", "low", "medium", "high"];

function metricOf(graph, key) {
  return graph.metrics.find((m) => m.key === key) ?? graph.metrics[0] ?? null;
}

function colorScale(values, metric) {
  if (metric?.unit === "severity") return (v) => SEVERITY_COLORS[SEVERITY_NAMES[v ?? 0]] ?? SEVERITY_COLORS.none;
  return sequentialScale(values, { log: metric?.unit !== "ratio" });
}

function stageRows(st) {
  return [
    ["Spark name", st.name],
    ["Stage", `${st.stage_id} (attempt ${st.attempt})`],
    ["Status", st.status],
    ["Job", st.job_id],
    ["Tasks", `${formatCount(st.num_tasks)}${st.failed_tasks ? ` (${formatCount(st.failed_tasks)} failed)` : ""}`],
    ["Duration", formatMs(st.duration_ms)],
    ["Input", formatBytes(st.input_bytes)],
    ["Shuffle read", formatBytes(st.shuffle_read_bytes)],
    ["Shuffle write", formatBytes(st.shuffle_write_bytes)],
    ["Spill (disk)", formatBytes(st.spill_bytes)],
    ["Skew (max / median task)", st.skew_ratio === null ? null : formatRatio(st.skew_ratio)],
    ["Insights", st.insights ? `${st.insights} (${st.severity})` : null],
  ];
}

function render({ model, el, signal }) {
  el.classList.add("sw-root");
  const panel = h("div", { class: "sw-panel sw-dag-panel" });
  const select = h("select", { "aria-label": "colour stages by", title: "colour stages by" });
  const legend = h("span", { class: "sw-legend" });
  const info = h("span", { class: "sw-info" });
  const btn = (label, title) => h("button", { type: "button", title }, [label]);
  const zoomIn = btn("+", "zoom in");
  const zoomOut = btn("\u2212", "zoom out");
  const fit = btn("fit", "fit the whole graph");
  panel.appendChild(
    h("div", { class: "sw-toolbar sw-one-line" }, [
      h("span", { class: "sw-title" }, ["Stages"]),
      info,
      h("span", { class: "sw-spacer" }),
      select,
      legend,
      zoomOut,
      zoomIn,
      fit,
    ]),
  );
  const area = h("div", { class: "sw-area" });
  area.style.height = `${Math.min(model.get("height") || 560, 420)}px`;
  const svg = s("svg", { class: "sw-dag", role: "img", "aria-label": "stage DAG" });
  const defs = s("defs", {}, [
    s("marker", { id: "sw-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, [
      s("path", { d: "M0,0L10,5L0,10z", fill: "#888" }),
    ]),
  ]);
  const viewport = s("g", { class: "sw-viewport" });
  svg.append(defs, viewport);
  area.appendChild(svg);
  panel.appendChild(area);
  el.appendChild(panel);
  const tooltip = createTooltip(panel);
  const zoom = attachPanZoom(svg, viewport, { signal });

  const expanded = new Set();
  let graph = decodeStageGraph(model.get("payload"));
  let laid = null; // the current layout: {mode, nodes, edges, cells, width, height}
  let stageNodes = new Map(); // stage id -> <g>
  let jobNodes = new Map(); // job id -> <g> of a collapsed card

  function fillSelect() {
    clear(select);
    for (const m of graph.metrics) select.appendChild(h("option", { value: m.key }, [m.label]));
    select.value = metricOf(graph, model.get("color_by"))?.key ?? "";
  }

  function positionOf(ev) {
    const box = panel.getBoundingClientRect();
    return [ev.clientX - box.left, ev.clientY - box.top];
  }

  function selectStage(id) {
    model.set("selected_stage", id);
    model.save_changes();
  }

  function drawStage(parent, node) {
    const st = graph.byId.get(node.id);
    const g = s("g", {
      class: `sw-stage sw-status-${st.status ?? "UNKNOWN"}`,
      transform: `translate(${node.x - node.width / 2},${node.y - node.height / 2})`,
      tabindex: "0",
      role: "button",
      "aria-label": `stage ${st.stage_id}: ${st.label ?? st.name ?? ""}`,
      dataset: { stageId: st.stage_id },
    });
    g.append(
      s("rect", { width: node.width, height: node.height, rx: "4" }),
      s("text", { class: "sw-label", x: "8", y: "18" }, [truncate(st.label || st.name || `Stage ${st.stage_id}`, 30)]),
      s("text", { class: "sw-sub", x: "8", y: "36" }),
    );
    g.addEventListener("click", () => {
      // the card would cover the node just chosen: it has done its job
      tooltip.hide();
      if (!zoom.dragged()) selectStage(st.stage_id);
    });
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" || ev.key === " ") {
        ev.preventDefault();
        selectStage(st.stage_id);
      }
    });
    g.addEventListener("pointerenter", (ev) => {
      const [x, y] = positionOf(ev);
      tooltip.show(st.label || st.name, stageRows(st), x, y);
    });
    g.addEventListener("pointerleave", () => tooltip.hide());
    parent.appendChild(g);
    stageNodes.set(st.stage_id, g);
  }

  function drawJobCell(parent, cell) {
    const job = cell.job;
    if (cell.inner) {
      const title = s("text", { class: "sw-cluster-title", x: "8", y: "17" }, [
        truncate(`Job ${job.job_id} \u00b7 ${plural(job.stages.length, "stage")} \u00b7 click to close`, 60),
      ]);
      const g = s("g", { class: "sw-cluster", transform: `translate(${cell.x},${cell.y})`, dataset: { jobId: job.job_id } }, [
        s("rect", { width: cell.width, height: cell.height, rx: "6" }),
        title,
      ]);
      title.style.pointerEvents = "all";
      title.addEventListener("click", () => {
        if (zoom.dragged()) return;
        expanded.delete(job.job_id);
        relayout();
      });
      parent.appendChild(g);
      return;
    }
    const g = s("g", {
      class: `sw-job sw-status-${job.status ?? "UNKNOWN"}`,
      transform: `translate(${cell.x},${cell.y})`,
      tabindex: "0",
      role: "button",
      "aria-label": `job ${job.job_id}, ${job.stages.length} stages: open`,
      dataset: { jobId: job.job_id },
    });
    g.append(
      s("rect", { width: JOB_SIZE.width, height: JOB_SIZE.height, rx: "8" }),
      s("text", { x: "8", y: "17" }, [`Job ${job.job_id} \u00b7 ${plural(job.stages.length, "stage")}`]),
      s("text", { class: "sw-sub", x: "8", y: "34" }),
    );
    const open = () => {
      if (zoom.dragged()) return;
      expanded.add(job.job_id);
      relayout();
    };
    g.addEventListener("click", open);
    g.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") open();
    });
    g.addEventListener("pointerenter", (ev) => {
      const [x, y] = positionOf(ev);
      tooltip.show(job.name ?? `Job ${job.job_id}`, [
        ["Job", job.job_id],
        ["Status", job.status],
        ["Stages", job.stages.map((st) => st.stage_id).join(", ")],
        ["Duration", formatMs(job.duration_ms)],
      ], x, y);
    });
    g.addEventListener("pointerleave", () => tooltip.hide());
    parent.appendChild(g);
    jobNodes.set(job.job_id, g);
  }

  function drawEdges(parent, edges) {
    for (const e of edges) {
      parent.appendChild(s("path", { class: "sw-edge", d: edgePath(e.points), "marker-end": "url(#sw-arrow)", dataset: { from: e.parent, to: e.child } }));
      if (e.bytes > 0 && e.labelX !== undefined) {
        const text = formatBytes(e.bytes);
        const w = text.length * 5.6 + 6;
        parent.appendChild(
          s("g", { class: "sw-edge-label", transform: `translate(${e.labelX - w / 2},${e.labelY - 7})` }, [
            s("rect", { width: w.toFixed(1), height: "14", rx: "2" }),
            s("text", { x: "3", y: "10.5" }, [text]),
          ]),
        );
      }
    }
  }

  /** Colours, second lines, legend and selection: everything that changes without a new layout. */
  function paint() {
    const metric = metricOf(graph, model.get("color_by"));
    const shownStages = [...stageNodes.keys()].map((id) => graph.byId.get(id));
    const jobs = laid?.cells?.filter((c) => !c.inner).map((c) => c.job) ?? [];
    const values = [...shownStages.map((st) => stageValue(st, metric)), ...jobs.map((j) => jobValue(j, j.stages, metric))];
    const color = colorScale(values, metric);
    const show = (v) => (metric?.unit === "severity" ? SEVERITY_NAMES[v ?? 0] : formatValue(v, metric?.unit));
    for (const st of shownStages) {
      const g = stageNodes.get(st.stage_id);
      const v = stageValue(st, metric);
      const fill = color(v);
      g.querySelector("rect").setAttribute("fill", fill);
      for (const t of g.querySelectorAll("text")) t.setAttribute("fill", textColorOn(fill));
      g.querySelector(".sw-sub").textContent = truncate(`Stage ${st.stage_id} \u00b7 ${metric ? `${metric.label}: ${show(v)}` : st.status}`, 34);
      g.classList.toggle("sw-selected", st.stage_id === model.get("selected_stage"));
    }
    for (const job of jobs) {
      const g = jobNodes.get(job.job_id);
      const v = jobValue(job, job.stages, metric);
      const fill = color(v);
      g.querySelector("rect").setAttribute("fill", fill);
      for (const t of g.querySelectorAll("text")) t.setAttribute("fill", textColorOn(fill));
      g.querySelector(".sw-sub").textContent = truncate(metric ? `${metric.label}: ${show(v)}` : "", 30);
    }
    clear(legend);
    if (metric?.unit === "severity") {
      for (const name of SEVERITY_NAMES) {
        const sw = h("span", { class: "sw-swatch" });
        sw.style.background = SEVERITY_COLORS[name];
        legend.append(sw, name);
      }
    } else if (metric && color.constant) {
      const value = color.domain[0];
      legend.append(value === 0 ? `no ${metric.label} in this application` : `every stage: ${show(value)}`);
    } else if (metric && color.domain && color.domain[0] !== null) {
      const ramp = h("span", { class: "sw-legend-ramp" });
      ramp.style.background = `linear-gradient(to right, ${[0, 0.25, 0.5, 0.75, 1].map(rampColor).join(",")})`;
      legend.append(formatValue(color.domain[0], metric.unit), ramp, formatValue(color.domain[1], metric.unit));
    }
  }

  function relayout({ refit = false } = {}) {
    const started = performance.now();
    tooltip.hide();
    clear(viewport);
    stageNodes = new Map();
    jobNodes = new Map();
    if (!graph.stages.length) {
      info.textContent = info.title = "no stages in this application";
      laid = null;
      panel.dataset.drawMs = "0";
      return;
    }
    const view = visibleUnits(graph, { maxNodes: model.get("max_nodes") ?? 300, expanded });
    const edgeLayer = s("g", { class: "sw-edges" });
    const nodeLayer = s("g", { class: "sw-nodes" });
    if (view.mode === "stages") {
      // an application of several jobs: each job's stages in a box of its own, titled with the job
      const groups = new Map(view.stages.filter((st) => st.job_id != null).map((st) => [st.stage_id, `Job ${st.job_id}`]));
      const lay = layoutStages(view.stages, view.edges, { groups });
      laid = { mode: "stages", ...lay, cells: [] };
      const boxLayer = s("g", { class: "sw-jobs" });
      for (const box of lay.groups) {
        boxLayer.appendChild(s("g", { class: "sw-cluster sw-jobgroup", transform: `translate(${box.x},${box.y})`, dataset: { job: box.key } }, [
          s("rect", { width: box.width, height: box.height, rx: "6" }),
          s("text", { x: "8", y: "15" }, [box.key]),
        ]));
      }
      viewport.appendChild(boxLayer);
      info.textContent = info.title = `${plural(graph.stages.length, "stage")} \u00b7 ${plural(graph.edges.length, "shuffle dependency", "shuffle dependencies")}`;
    } else {
      const lay = layoutJobs(view, { rowWidth: Math.max(640, area.clientWidth || 960) * 1.6 });
      laid = { mode: "jobs", ...lay };
      info.textContent = info.title = `${graph.stages.length} stages in ${view.jobs.length} jobs: click a job to open it`;
      const clusterLayer = s("g", { class: "sw-jobs" });
      for (const cell of lay.cells) drawJobCell(clusterLayer, cell);
      viewport.appendChild(clusterLayer);
    }
    panel.dataset.mode = laid.mode;
    drawEdges(edgeLayer, laid.edges);
    for (const node of laid.nodes) drawStage(nodeLayer, node);
    viewport.append(edgeLayer, nodeLayer);
    paint();
    if (refit) fitView();
    panel.dataset.drawMs = (performance.now() - started).toFixed(1);
  }

  function fitView() {
    if (!laid) return;
    const width = area.getBoundingClientRect().width || 800;
    const height = viewHeight(laid.width, laid.height, width, { max: model.get("height") || 560 });
    area.style.height = `${height}px`;
    // a wall of job cards is read row by row: fit its width and let the user pan down
    zoom.set(fitTransform(laid.width, laid.height, width, height, 16, { widthOnly: laid.mode === "jobs" }));
  }

  /** Make the selected stage visible: open its job when collapsed, and pan to it when off screen. */
  function reveal(id) {
    const st = graph.byId.get(id);
    if (!st || !laid) return;
    if (laid.mode === "jobs" && !stageNodes.has(id)) {
      expanded.add(st.job_id);
      relayout();
    }
    const node = laid.nodes.find((n) => n.id === id);
    if (!node) return;
    const box = area.getBoundingClientRect();
    const t = zoom.get();
    const sx = node.x * t.k + t.x;
    const sy = node.y * t.k + t.y;
    if (sx < 0 || sy < 0 || sx > box.width || sy > box.height) zoom.set(centerOn(t, node.x, node.y, box.width, box.height));
  }

  select.addEventListener("change", () => {
    model.set("color_by", select.value);
    model.save_changes();
  });
  zoomIn.addEventListener("click", () => zoom.zoomBy(1.25));
  zoomOut.addEventListener("click", () => zoom.zoomBy(0.8));
  fit.addEventListener("click", fitView);

  const onPayload = () => {
    graph = decodeStageGraph(model.get("payload"));
    expanded.clear();
    fillSelect();
    relayout({ refit: true });
  };
  const onColor = () => {
    select.value = metricOf(graph, model.get("color_by"))?.key ?? "";
    paint();
  };
  const onSelected = () => {
    paint();
    const id = model.get("selected_stage");
    if (id !== null && id !== undefined) reveal(id);
  };
  const onHeight = () => fitView();
  model.on("change:payload", onPayload);
  model.on("change:color_by", onColor);
  model.on("change:selected_stage", onSelected);
  const onMaxNodes = () => relayout({ refit: true });
  model.on("change:max_nodes", onMaxNodes);
  model.on("change:height", onHeight);

  fillSelect();
  // the area has its size only once attached: lay out now, fit when the browser has measured it
  relayout();
  requestAnimationFrame(() => {
    fitView();
    const id = model.get("selected_stage");
    if (id !== null && id !== undefined && laid?.mode === "jobs") reveal(id);
  });
  return () => {
    model.off("change:payload", onPayload);
    model.off("change:color_by", onColor);
    model.off("change:selected_stage", onSelected);
    model.off("change:height", onHeight);
    model.off("change:max_nodes", onMaxNodes);
  };
}

export default { render };
