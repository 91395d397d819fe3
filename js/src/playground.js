// Playground: the partition-shape playground. The sliders send only the shape (free mode) or the Spark
// settings (seeded mode); the kernel computes the estimate and sends aggregates back: bars per stage,
// tasks as runs on cores, quantiles, times, assumptions. One request is in flight at a time and the
// newest slider value always wins, so dragging never queues up work in the kernel.
import "./lib/style.css";
import "./lib/playground.css";
import { h, s, clear, truncate } from "./lib/dom.js";
import { formatBytes, formatMs, formatCount, formatShare, plural } from "./lib/format.js";
import { ticks } from "./lib/histogram.js";
import { STEPS, toPosition, fromPosition } from "./lib/sliders.js";

const W = 760;
const OPERATORS = ["filter", "map", "aggregate", "join", "broadcast_join", "sort", "repartition", "coalesce"];
const WIDE = new Set(["aggregate", "join", "sort", "repartition"]);
const OPERATOR_HELP = {
  filter: "narrow: keeps a share of the rows (factor = selectivity)",
  map: "narrow: transforms each row (factor = output / input size)",
  aggregate: "wide: groupBy / aggregate, shuffles by key (factor = reduction)",
  join: "wide: shuffled join with another table of the given size",
  broadcast_join: "narrow: joins a small table copied to every task",
  sort: "wide: orderBy, range-partitions the data",
  repartition: "wide: repartition(n), spreads rows evenly",
  coalesce: "narrow: coalesce(n), merges neighbouring partitions",
};
const PRESETS = {
  "filter \u2192 groupBy": [{ kind: "filter", factor: 0.5 }, { kind: "aggregate", factor: 0.1 }],
  "join \u2192 groupBy": [{ kind: "join", factor: 1, other_bytes: 2 * 1024 ** 3 }, { kind: "aggregate", factor: 0.05 }],
  "broadcast join": [{ kind: "broadcast_join", factor: 1, other_bytes: 8 * 1024 ** 2 }],
  "sort": [{ kind: "sort", factor: 1 }],
  "repartition(400)": [{ kind: "repartition", factor: 1, partitions: 400 }],
  "coalesce(8)": [{ kind: "filter", factor: 0.05 }, { kind: "coalesce", factor: 1, partitions: 8 }],
};
const FREE_CONTROLS = [
  { section: "Input" },
  { key: "input_bytes", label: "input size", kind: "bytes", scale: "log", min: 1024 ** 2, max: 10 * 1024 ** 4 },
  { key: "input_partitions", label: "input partitions", kind: "int", scale: "log", min: 1, max: 20000 },
  { section: "Operators" },
  { section: "Shuffle" },
  { key: "shuffle_partitions", label: "spark.sql.shuffle.partitions", kind: "int", scale: "log", min: 1, max: 20000 },
  { key: "skew", label: "key skew (heaviest key's share)", kind: "float", scale: "linear", min: 0, max: 0.95, step: 0.01 },
  { section: "Cluster" },
  { key: "executors", label: "executors", kind: "int", scale: "log", min: 1, max: 1000 },
  { key: "cores_per_executor", label: "cores per executor", kind: "int", scale: "linear", min: 1, max: 32 },
  { key: "memory_per_core", label: "memory per core", kind: "bytes", scale: "log", min: 64 * 1024 ** 2, max: 64 * 1024 ** 3 },
];
const OTHER_SIZES = [1, 8, 64, 512].map((m) => m * 1024 ** 2).concat([2, 16, 128].map((g) => g * 1024 ** 3));

function formatValue(value, kind) {
  if (value === null || value === undefined) return "\u2013";
  if (kind === "bytes") return Number(value) < 0 ? "off" : formatBytes(value);
  if (kind === "float") return formatShare(Number(value));
  if (kind === "bool") return value ? "on" : "off";
  return formatCount(value);
}

function pct(x) {
  return x === null || x === undefined ? "\u2013" : `${x >= 0 ? "+" : ""}${formatShare(x)}`;
}

function timeRange(t) {
  if (!t) return "\u2013";
  if (t[0] === t[2]) return formatMs(t[1]);
  return `${formatMs(t[0])} \u2013 ${formatMs(t[2])}`;
}

// ---- requests -----------------------------------------------------------------------------------------
/** Send trait changes with a request id; while one is unanswered, merge newer changes and send them after. */
function createSender(model, onBusy) {
  let inflight = null;
  let pending = null;
  let timer = null;
  function flush() {
    if (inflight !== null || pending === null) return;
    for (const [k, v] of Object.entries(pending)) model.set(k, v);
    pending = null;
    inflight = (model.get("request_id") ?? 0) + 1;
    model.set("request_id", inflight);
    model.save_changes();
    onBusy(true);
    clearTimeout(timer);
    // an answer can be lost (kernel restarted or busy with a long cell): do not wait for it forever
    timer = setTimeout(() => settle(), 5000);
  }
  function settle() {
    inflight = null;
    clearTimeout(timer);
    onBusy(false);
    flush();
  }
  return {
    send(changes) {
      pending = { ...(pending ?? {}), ...changes };
      flush();
    },
    answered(id) {
      if (inflight !== null && id !== undefined && id >= inflight) settle();
    },
    /** The value the user asked for last: a change still waiting to be sent, else the model's. */
    value(key) {
      return pending && Object.prototype.hasOwnProperty.call(pending, key) ? pending[key] : model.get(key);
    },
    dispose() {
      clearTimeout(timer);
    },
  };
}

// ---- controls -----------------------------------------------------------------------------------------
/** A labelled slider; `onInput(value)` fires while dragging. Returns {row, set(value), input}. */
function slider(spec, onInput) {
  const input = h("input", {
    type: "range", min: 0, max: STEPS, step: 1, "aria-label": spec.label, dataset: { key: spec.key },
  });
  const out = h("span", { class: "sw-pg-value" });
  const row = h("div", { class: "sw-pg-control", dataset: { control: spec.key } }, [
    h("label", { class: "sw-pg-label" }, [spec.label]), input, out,
  ]);
  const set = (value) => {
    input.value = String(toPosition(value, spec));
    out.textContent = formatValue(value, spec.kind);
  };
  input.addEventListener("input", () => {
    const value = fromPosition(Number(input.value), spec);
    out.textContent = formatValue(value, spec.kind);
    onInput(value);
  });
  return { row, set, input, out };
}

function operatorRow(op, index, onChange, onRemove) {
  const kind = h("select", { "aria-label": `operator ${index + 1}`, dataset: { op: index } });
  for (const k of OPERATORS) kind.appendChild(h("option", { value: k }, [k]));
  kind.value = op.kind;
  kind.title = OPERATOR_HELP[op.kind] ?? "";
  const factor = h("input", {
    type: "number", min: 0.001, max: 100, step: 0.05, value: op.factor ?? 1, class: "sw-pg-num",
    "aria-label": "factor (output / input bytes)", title: "factor: output bytes / input bytes",
  });
  const parts = ["repartition", "coalesce"].includes(op.kind)
    ? h("input", { type: "number", min: 1, max: 100000, step: 1, value: op.partitions ?? 200, class: "sw-pg-num",
      "aria-label": "partitions", title: "partitions (n)" })
    : null;
  let other = null;
  if (op.kind === "join" || op.kind === "broadcast_join") {
    other = h("select", { "aria-label": "other side size", title: "the other side's size" });
    const sizes = OTHER_SIZES.includes(op.other_bytes) || !op.other_bytes ? OTHER_SIZES : [...OTHER_SIZES, op.other_bytes].sort((a, b) => a - b);
    for (const b of sizes) other.appendChild(h("option", { value: b }, [formatBytes(b)]));
    other.value = String(op.other_bytes || OTHER_SIZES[3]);
  }
  const remove = h("button", { type: "button", class: "sw-pg-remove", title: "remove", "aria-label": "remove operator" }, ["\u00d7"]);
  const read = () => {
    const k = kind.value;
    return {
      kind: k,
      factor: Math.min(100, Math.max(0.001, Number(factor.value) || 1)),
      partitions: ["repartition", "coalesce"].includes(k) ? Math.max(1, Math.round(Number(parts?.value) || 200)) : null,
      other_bytes: k === "join" || k === "broadcast_join" ? Number(other?.value || OTHER_SIZES[3]) : 0,
    };
  };
  kind.addEventListener("change", () => onChange(read()));
  factor.addEventListener("change", () => onChange(read()));
  parts?.addEventListener("change", () => onChange(read()));
  other?.addEventListener("change", () => onChange(read()));
  remove.addEventListener("click", onRemove);
  const badge = h("span", { class: `sw-pg-opkind${WIDE.has(op.kind) ? " sw-pg-wide" : ""}` }, [WIDE.has(op.kind) ? "wide" : "narrow"]);
  return h("div", { class: "sw-pg-op", dataset: { kind: op.kind } }, [
    kind, h("span", { class: "sw-pg-x" }, ["\u00d7"]), factor, parts, other, badge, remove,
  ]);
}

// ---- drawings -----------------------------------------------------------------------------------------
/** Bars of one stage (or the measured / estimated side) in a box; `ymax` shared when given. */
function drawBars(g, bars, box, { ymax, spillAbove, cls }) {
  const n = bars.mean.length;
  const top = Math.max(1, ymax ?? Math.max(1, ...bars.max));
  const y = (v) => box.y1 - (Math.min(v, top) / top) * (box.y1 - box.y0);
  const step = (box.x1 - box.x0) / Math.max(n, 1);
  const gap = step > 4 ? 1 : 0;
  const layer = s("g", { class: "sw-pg-barlayer" });
  for (let i = 0; i < n; i++) {
    const x = box.x0 + i * step;
    const mean = bars.mean[i];
    const rect = s("rect", {
      class: `sw-pg-bar ${cls ?? ""}${bars.spill[i] ? " sw-pg-spill" : ""}`,
      x: x.toFixed(2), width: Math.max(0.5, step - gap).toFixed(2),
      y: Math.min(y(mean), box.y1 - (mean > 0 ? 1 : 0)).toFixed(2),
      height: Math.max(mean > 0 ? 1 : 0, box.y1 - y(mean)).toFixed(2),
      dataset: { bytes: mean, index: i },
    });
    const from = i * bars.per_bar;
    const to = Math.min(bars.partitions, from + bars.per_bar) - 1;
    const title = bars.per_bar > 1
      ? `partitions ${from}\u2013${to}: mean ${formatBytes(mean)}, max ${formatBytes(bars.max[i])}`
      : `partition ${from}: ${formatBytes(mean)}`;
    rect.appendChild(s("title", {}, [title + (bars.spill[i] ? " (spill)" : "")]));
    layer.appendChild(rect);
    if (bars.per_bar > 1 && bars.max[i] > mean) {
      layer.appendChild(s("line", {
        class: "sw-pg-maxtick", x1: x.toFixed(2), x2: (x + Math.max(0.5, step - gap)).toFixed(2),
        y1: y(bars.max[i]).toFixed(2), y2: y(bars.max[i]).toFixed(2),
      }));
    }
  }
  g.appendChild(layer);
  g.appendChild(s("line", { class: "sw-pg-base", x1: box.x0, x2: box.x1, y1: box.y1, y2: box.y1 }));
  g.appendChild(s("text", { class: "sw-pg-axis", x: box.x0, y: box.y0 - 3 }, [formatBytes(top)]));
  g.appendChild(s("text", { class: "sw-pg-axis", x: box.x1, y: box.y1 + 11, "text-anchor": "end" },
    [`${plural(bars.partitions, "partition")}${bars.per_bar > 1 ? ` (${bars.per_bar} per bar)` : ""}`]));
  if (spillAbove !== undefined && spillAbove !== null && spillAbove < top) {
    const py = y(spillAbove);
    g.appendChild(s("line", { class: "sw-pg-spillline", x1: box.x0, x2: box.x1, y1: py, y2: py }));
    g.appendChild(s("text", { class: "sw-pg-axis sw-pg-spilltext", x: box.x1, y: py - 2, "text-anchor": "end" },
      [`spill risk above ${formatBytes(spillAbove)}`]));
  }
}

/** Task runs on core rows from x offset `offsetMs`, in a box with a time scale `x`. */
function drawSchedule(g, sched, { x, y0, rowH, cls, offsetMs = 0 }) {
  for (let i = 0; i < sched.core.length; i++) {
    const x0 = x(offsetMs + sched.start[i]);
    const x1 = x(offsetMs + sched.end[i]);
    const rect = s("rect", {
      class: `sw-pg-task ${cls ?? ""}${i % 2 ? " sw-pg-odd" : ""}`,
      x: x0.toFixed(2), y: (y0 + sched.core[i] * rowH + 1).toFixed(2),
      width: Math.max(0.6, x1 - x0 - 0.4).toFixed(2), height: Math.max(1, rowH - 2),
      dataset: { core: sched.core[i], tasks: sched.tasks[i] },
    });
    rect.appendChild(s("title", {}, [`core ${sched.core[i]}: ${plural(sched.tasks[i], "task")}, ` +
      `${formatMs(sched.start[i])} \u2013 ${formatMs(sched.end[i])}`]));
    g.appendChild(rect);
  }
}

function timeAxis(g, x, maxMs, yTop, yBottom) {
  for (const t of ticks(0, maxMs, 6)) {
    const px = x(t);
    g.appendChild(s("line", { class: "sw-pg-grid", x1: px, x2: px, y1: yTop, y2: yBottom }));
    g.appendChild(s("text", { class: "sw-pg-axis", x: px, y: yBottom + 11, "text-anchor": "middle" }, [formatMs(t)]));
  }
}

function badge(kind) {
  const text = { measured: "measured", estimated: "estimated", check: "model check" }[kind] ?? kind;
  return h("span", { class: `sw-pg-badge sw-pg-${kind}` }, [text]);
}

// ---- free mode ----------------------------------------------------------------------------------------
function drawFree(view, e) {
  const { bars, waves, table, notes } = view;
  clear(bars);
  clear(waves);
  const stages = e.stages ?? [];
  const n = stages.length;
  // partitions as bars, one panel per stage, shuffle cuts between them
  const CUT = n > 1 ? 64 : 0;
  const H = 200;
  bars.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const panelW = (W - 8 - (n - 1) * CUT) / Math.max(n, 1);
  stages.forEach((st, i) => {
    const x0 = 4 + i * (panelW + CUT);
    const g = s("g", { class: "sw-pg-stage", dataset: { stage: i, tasks: st.tasks, bars: st.bars.mean.length } });
    g.appendChild(s("text", { class: "sw-pg-stagetitle", x: x0, y: 12 }, [truncate(`Stage ${i}: ${st.operators.join(" \u2192 ")}`, Math.max(12, Math.floor(panelW / 6.2)))]));
    g.appendChild(s("text", { class: "sw-pg-axis", x: x0, y: 25 }, [
      `${formatCount(st.tasks)} tasks \u00b7 median ${formatBytes(st.quantiles[2])} \u00b7 max ${formatBytes(st.quantiles[4])}`]));
    drawBars(g, st.bars, { x0, x1: x0 + panelW, y0: 44, y1: H - 16 }, { spillAbove: st.spill_above, cls: "sw-pg-est" });
    bars.appendChild(g);
    if (i < n - 1) {
      const cut = e.cuts?.[i];
      const cx = x0 + panelW + CUT / 2;
      const cg = s("g", { class: "sw-pg-cut", dataset: { after: i } });
      cg.appendChild(s("line", { x1: cx, x2: cx, y1: 30, y2: H - 10 }));
      cg.appendChild(s("text", { x: cx, y: 48, "text-anchor": "middle" }, ["\u2702 shuffle"]));
      if (cut) {
        cg.appendChild(s("text", { x: cx, y: 60, "text-anchor": "middle" }, [cut.operator]));
        cg.appendChild(s("text", { x: cx, y: 72, "text-anchor": "middle" }, [formatBytes(cut.bytes)]));
      }
      bars.appendChild(cg);
    }
  });
  // tasks as waves on the cores, stages one after another
  const rows = Math.max(1, ...stages.map((st) => st.schedule.rows));
  const rowH = rows > 12 ? 9 : 13;
  const top = 18;
  const HW = top + rows * rowH + 18;
  waves.setAttribute("viewBox", `0 0 ${W} ${HW}`);
  const total = Math.max(1, stages.reduce((a, st) => Math.max(a, st.offset_ms + st.schedule.makespan_ms), 0));
  const x = (t) => 44 + (t / total) * (W - 52);
  const g = s("g", {});
  timeAxis(g, x, total, top, top + rows * rowH);
  for (let r = 0; r < rows; r += rows > 8 ? 4 : 1) {
    g.appendChild(s("text", { class: "sw-pg-axis", x: 40, y: top + r * rowH + rowH - 3, "text-anchor": "end" }, [`core ${r}`]));
  }
  stages.forEach((st, i) => {
    const sg = s("g", { class: "sw-pg-wave", dataset: { stage: i, waves: st.waves } });
    drawSchedule(sg, st.schedule, { x, y0: top, rowH, cls: `sw-pg-c${i % 4}`, offsetMs: st.offset_ms });
    const near = x(st.offset_ms) > W - 130; // a short last stage: keep its label inside the drawing
    sg.appendChild(s("text", { class: "sw-pg-axis", x: near ? W - 4 : x(st.offset_ms) + 2, y: top - 5, "text-anchor": near ? "end" : "start" }, [
      `stage ${i}: ${plural(st.waves, "wave")}`]));
    if (i > 0) {
      const cx = x(st.offset_ms);
      sg.appendChild(s("line", { class: "sw-pg-cutline", x1: cx, x2: cx, y1: top - 14, y2: top + rows * rowH }));
    }
    waves.appendChild(sg);
  });
  waves.insertBefore(g, waves.firstChild);
  const cores = e.cores;
  view.wavesNote.textContent = rows < cores ? `the first ${rows} of ${formatCount(cores)} cores shown` : `${formatCount(cores)} cores`;
  // the numbers, all estimated
  clear(table);
  table.appendChild(h("tr", {}, ["stage", "tasks", "partition size min / median / max", "shuffle read",
    "shuffle write", "waves", "time (estimated range)", "tasks at spill risk"].map((t) => h("th", {}, [t]))));
  for (const st of stages) {
    const q = st.quantiles;
    table.appendChild(h("tr", { dataset: { stage: st.index } }, [
      `${st.index}: ${st.operators.join(" \u2192 ")}`, formatCount(st.tasks),
      `${formatBytes(q[0])} / ${formatBytes(q[2])} / ${formatBytes(q[4])}`,
      formatBytes(st.shuffle_read_bytes), formatBytes(st.shuffle_write_bytes), String(st.waves),
      timeRange(st.time_ms), formatCount(st.spill_risk),
    ].map((v) => h("td", {}, [v]))));
  }
  table.appendChild(h("tr", { class: "sw-pg-total" }, [h("td", {}, ["all stages"]), h("td", { colspan: 5 }),
    h("td", {}, [timeRange(e.total_time_ms)]), h("td")]));
  clear(notes);
}

// ---- seeded mode --------------------------------------------------------------------------------------
function drawSeeded(view, e) {
  const { bars, waves, table, notes } = view;
  // no setting changed: the right side is the model replaying the log, a check of the model, not a what-if
  const unchanged = Object.keys(e.settings ?? {}).length === 0;
  clear(bars);
  clear(waves);
  const m = e.measured;
  const est = e.estimated;
  // the measured partitions beside the estimated ones, on one size scale
  const H = 200;
  bars.setAttribute("viewBox", `0 0 ${W} ${H}`);
  // each side on its own size scale (its top is labelled): 3 coalesced partitions would flatten 200 small ones
  const half = (W - 40) / 2;
  [["measured", m, 4], ["estimated", est, 4 + half + 32]].forEach(([role, side, x0]) => {
    const g = s("g", { class: "sw-pg-stage", dataset: { role, tasks: side.tasks, bars: side.bars.mean.length } });
    g.appendChild(s("text", { class: "sw-pg-stagetitle", x: x0, y: 12 }, [
      role === "measured" ? "Measured: bytes each task read (event log)" : "Estimated: bytes each task would read (what-if)"]));
    g.appendChild(s("text", { class: "sw-pg-axis", x: x0, y: 25 }, [
      `${formatCount(side.tasks)} tasks \u00b7 median ${formatBytes(side.quantiles[2])} \u00b7 max ${formatBytes(side.quantiles[4])}` +
      (role === "estimated" && est.spread ? ` \u00b7 each \u00b1${formatShare(est.spread)}` : "")]));
    drawBars(g, side.bars, { x0, x1: x0 + half, y0: 44, y1: H - 16 }, { cls: role === "measured" ? "sw-pg-meas" : "sw-pg-est" });
    bars.appendChild(g);
  });
  // waves: the measured task times replayed on the measured cores, and the estimate, on one time axis
  const rowsM = m.schedule.rows;
  const rowsE = est.schedule.rows;
  const rowH = Math.max(rowsM, rowsE) > 12 ? 8 : 12;
  const top = 18;
  const gapY = 26;
  const yE = top + rowsM * rowH + gapY;
  const HW = yE + rowsE * rowH + 18;
  waves.setAttribute("viewBox", `0 0 ${W} ${HW}`);
  const total = Math.max(1, m.schedule.makespan_ms, est.schedule.makespan_ms, m.time_ms ? m.time_ms[1] : 0);
  const x = (t) => 44 + (t / total) * (W - 52);
  const axis = s("g", {});
  timeAxis(axis, x, total, top, yE + rowsE * rowH);
  waves.appendChild(axis);
  const mg = s("g", { class: "sw-pg-wave", dataset: { role: "measured", waves: m.waves } });
  mg.appendChild(s("text", { class: "sw-pg-axis", x: 44, y: top - 5 }, [
    `measured task times, replayed on ${m.cores} cores (${m.waves} waves)`]));
  drawSchedule(mg, m.schedule, { x, y0: top, rowH, cls: "sw-pg-meas" });
  if (m.time_ms) {
    const px = x(m.time_ms[1]);
    mg.appendChild(s("line", { class: "sw-pg-realline", x1: px, x2: px, y1: top - 2, y2: top + rowsM * rowH + 2 }));
    const right = px > W - 160;
    mg.appendChild(s("text", { class: "sw-pg-axis", x: right ? px - 2 : px + 2, y: top + rowsM * rowH + 10, "text-anchor": right ? "end" : "start" },
      [`measured stage time ${formatMs(m.time_ms[1])}`]));
  }
  const eg = s("g", { class: "sw-pg-wave", dataset: { role: "estimated", waves: est.waves } });
  eg.appendChild(s("text", { class: "sw-pg-axis", x: 44, y: yE - 5 }, [
    `estimated task times on ${est.cores} cores (${est.waves} waves)`]));
  drawSchedule(eg, est.schedule, { x, y0: yE, rowH, cls: "sw-pg-est" });
  for (const [g, y0, rows] of [[mg, top, rowsM], [eg, yE, rowsE]]) {
    g.appendChild(s("text", { class: "sw-pg-axis", x: 40, y: y0 + rowH - 3, "text-anchor": "end" }, ["core 0"]));
    if (rows > 1) g.appendChild(s("text", { class: "sw-pg-axis", x: 40, y: y0 + rows * rowH - 3, "text-anchor": "end" }, [`core ${rows - 1}`]));
  }
  waves.append(mg, eg);
  const shown = [m, est].filter((side) => side.schedule.rows < side.schedule.cores);
  view.wavesNote.textContent = shown.length ? `the first ${Math.max(rowsM, rowsE)} cores shown` : "";
  // measured beside estimated
  clear(table);
  table.appendChild(h("tr", {}, [h("th", {}, [""]), h("th", {}, [badge("measured"), " event log"]),
    unchanged ? h("th", {}, [badge("check"), " the model on the log's own settings"])
      : h("th", {}, [badge("estimated"), " what-if"])]));
  const q = (side) => `${formatBytes(side.quantiles[0])} / ${formatBytes(side.quantiles[2])} / ${formatBytes(side.quantiles[4])}`;
  const rows = [
    ["reduce tasks", formatCount(m.tasks), formatCount(est.tasks), "tasks"],
    ["partition size min / median / max", q(m), q(est), "sizes"],
    ["shuffle read", formatBytes(m.shuffle_read_bytes), formatBytes(est.shuffle_read_bytes), "read"],
    ["cores", formatCount(m.cores), formatCount(est.cores), "cores"],
    ["waves (tasks / cores)", String(m.waves), String(est.waves), "waves"],
    ["stage time", timeRange(m.time_ms), timeRange(est.time_ms), "time"],
    [m.spill_risk ? "tasks that spilled / at spill risk" : "tasks at spill risk", formatCount(m.spill_risk), formatCount(est.spill_risk), "spill"],
  ];
  for (const [label, a, b, key] of rows) {
    // beside an estimated time range: why it is as wide as it is
    const why = key === "time" && est.time_why ? h("div", { class: "sw-pg-why" }, [est.time_why]) : null;
    table.appendChild(h("tr", { dataset: { row: key }, class: a !== b ? "sw-pg-changed" : "" }, [
      h("td", {}, [label]), h("td", { dataset: { side: "measured" } }, [a]),
      h("td", { dataset: { side: "estimated" } }, [b, why])]));
  }
  clear(notes);
  for (const d of e.decisions ?? []) {
    notes.appendChild(h("div", { class: "sw-pg-decision" }, [h("b", {}, [`${d.title}: `]), d.text]));
  }
  const mc = e.model_check;
  if (unchanged) {
    notes.appendChild(h("div", { class: "sw-pg-decision sw-pg-unchanged" }, [h("b", {}, ["No setting changed: "]),
      "the right column is the model replaying this stage on its own settings, so its differences from the " +
      "measured column are the model's error, not a prediction. Change a setting on the left for a what-if."]));
  }
  if (mc) {
    notes.appendChild(h("div", { class: "sw-pg-decision" }, [h("b", {}, ["Model check: "]),
      `replaying the measured task times on the real ${mc.cores} cores gives ${formatMs(mc.replay_ms)} against the measured ` +
      `${formatMs(mc.real_ms)} (${pct(mc.error)}): estimated times carry at least that error.`]));
  }
}

// ---- the panel ----------------------------------------------------------------------------------------
function render({ model, el }) {
  el.classList.add("sw-root");
  const panel = h("div", { class: "sw-panel sw-playground" });
  const title = h("span", { class: "sw-title" }, ["Partition playground"]);
  const status = h("span", { class: "sw-info sw-pg-status" });
  const stagePick = h("select", { "aria-label": "stage", class: "sw-pg-stagepick" });
  const stageLabel = h("label", { class: "sw-pg-stagelabel" }, ["stage: ", stagePick]);
  panel.appendChild(h("div", { class: "sw-toolbar" }, [title, stageLabel, h("span", { class: "sw-spacer" }), status]));
  const subtitle = h("div", { class: "sw-info sw-pg-subtitle" });
  const error = h("div", { class: "sw-pg-error", role: "alert" });
  const controls = h("div", { class: "sw-pg-controls" });
  const legend = h("div", { class: "sw-pg-legend" });
  const bars = s("svg", { class: "sw-pg-bars", role: "img", "aria-label": "partition sizes" });
  const wavesTitle = h("div", { class: "sw-pg-heading" }, ["Tasks as waves on the cores"]);
  const wavesNote = h("span", { class: "sw-info sw-pg-wavesnote" });
  wavesTitle.appendChild(wavesNote);
  const waves = s("svg", { class: "sw-pg-waves", role: "img", "aria-label": "tasks on cores" });
  const table = h("table", { class: "sw-table sw-pg-summary" });
  const tableBox = h("div", { class: "sw-pg-tablebox" }, [table]);
  const notes = h("div", { class: "sw-pg-notes" });
  const assumptions = h("ul", { class: "sw-pg-assumptions" });
  const note = h("div", { class: "sw-pg-note" });
  const main = h("div", { class: "sw-pg-main" }, [
    legend, h("div", { class: "sw-pg-heading" }, ["Partitions as bars"]), bars, wavesTitle, waves, tableBox, notes,
    h("details", { class: "sw-pg-assume", open: true }, [h("summary", {}, ["Assumptions (every estimated number rests on these)"]), assumptions]),
    note,
  ]);
  panel.append(subtitle, error, h("div", { class: "sw-pg-body" }, [controls, main]));
  el.appendChild(panel);
  const view = { bars, waves, table, notes, wavesNote };

  const sender = createSender(model, (busy) => {
    status.textContent = busy ? "computing in the kernel\u2026" : "";
    panel.dataset.busy = busy ? "1" : "0";
  });
  const setters = {};

  function buildFreeControls() {
    clear(controls);
    for (const spec of FREE_CONTROLS) {
      if (spec.section === "Operators") {
        controls.appendChild(operatorsBox());
        continue;
      }
      if (spec.section) {
        controls.appendChild(h("div", { class: "sw-pg-section" }, [spec.section]));
        continue;
      }
      const c = slider(spec, (value) => sender.send({ [spec.key]: value }));
      c.set(model.get(spec.key));
      setters[spec.key] = c.set;
      controls.appendChild(c.row);
    }
  }

  const opsList = h("div", { class: "sw-pg-ops" });
  function operatorsBox() {
    const add = h("select", { "aria-label": "add operator" });
    add.appendChild(h("option", { value: "" }, ["+ add operator\u2026"]));
    for (const k of OPERATORS) add.appendChild(h("option", { value: k, title: OPERATOR_HELP[k] }, [k]));
    add.addEventListener("change", () => {
      if (!add.value) return;
      const op = { kind: add.value, factor: 1, partitions: ["repartition", "coalesce"].includes(add.value) ? 200 : null,
        other_bytes: add.value === "join" || add.value === "broadcast_join" ? OTHER_SIZES[3] : 0 };
      add.value = "";
      sendOps([...(sender.value("operators") ?? []), op]);
    });
    const preset = h("select", { "aria-label": "operator preset" });
    preset.appendChild(h("option", { value: "" }, ["presets\u2026"]));
    for (const name of Object.keys(PRESETS)) preset.appendChild(h("option", { value: name }, [name]));
    preset.addEventListener("change", () => {
      const ops = PRESETS[preset.value];
      preset.value = "";
      if (ops) sendOps(ops.map((op) => ({ factor: 1, partitions: null, other_bytes: 0, ...op })));
    });
    return h("div", { class: "sw-pg-opsbox" }, [
      h("div", { class: "sw-pg-section" }, ["Operators, after the scan"]), opsList, h("div", { class: "sw-pg-opadd" }, [add, preset]),
    ]);
  }
  function sendOps(ops) {
    drawOps(ops);
    sender.send({ operators: ops });
  }
  function drawOps(ops) {
    clear(opsList);
    if (!ops.length) opsList.appendChild(h("div", { class: "sw-info" }, ["no operator: the scan alone"]));
    ops.forEach((op, i) => {
      opsList.appendChild(operatorRow(op, i, (next) => {
        const list = [...(sender.value("operators") ?? [])];
        list[i] = next;
        sendOps(list);
      }, () => sendOps((sender.value("operators") ?? []).filter((_, j) => j !== i))));
    });
  }

  // seeded controls by key: {set(value), source(text), changed(bool)}
  const seeded = {};
  let effective = {};

  function putSetting(key, value) {
    const next = { ...(sender.value("settings") ?? {}) };
    if (value === undefined) delete next[key];
    else next[key] = value;
    sender.send({ settings: next });
    syncSeededControls();
  }

  function buildSeededControls() {
    clear(controls);
    for (const k of Object.keys(seeded)) delete seeded[k];
    controls.appendChild(h("div", { class: "sw-pg-section" }, ["What if these settings were\u2026"]));
    for (const spec of model.get("controls") ?? []) {
      const source = h("span", { class: "sw-pg-source" });
      const reset = h("button", { type: "button", class: "sw-pg-reset", "aria-label": `reset ${spec.label}`,
        title: `back to the value the stage ran with (${formatValue(spec.value, spec.kind)})` }, ["\u21ba"]);
      reset.addEventListener("click", () => putSetting(spec.key, undefined));
      let row;
      let set;
      if (spec.kind === "bool") {
        const box = h("input", { type: "checkbox", "aria-label": spec.label, dataset: { key: spec.key } });
        box.addEventListener("change", () => putSetting(spec.key, box.checked));
        row = h("div", { class: "sw-pg-control", dataset: { control: spec.key } }, [
          h("label", { class: "sw-pg-label sw-pg-check" }, [box, ` ${spec.label}`]), source, reset]);
        set = (v) => { box.checked = String(v) === "true"; };
      } else {
        let off = null;
        const c = slider(spec, (v) => {
          if (off) off.checked = false;
          putSetting(spec.key, v);
        });
        row = c.row;
        if (spec.off !== undefined) {
          off = h("input", { type: "checkbox", "aria-label": `${spec.label} off`, title: `off (${spec.off})` });
          off.addEventListener("change", () => {
            putSetting(spec.key, off.checked ? spec.off : fromPosition(Number(c.input.value), spec));
          });
          row.insertBefore(h("label", { class: "sw-pg-off" }, [off, "off"]), c.out);
        }
        row.append(source, reset);
        set = (v) => {
          const isOff = off !== null && Number(v) === spec.off;
          if (off) off.checked = isOff;
          if (!isOff) c.set(Number(v));
          else c.out.textContent = "off";
        };
      }
      row.title = spec.key;
      if (spec.disabled) {
        row.classList.add("sw-pg-disabled");
        row.title = `${spec.key}: ${spec.disabled}`;
        for (const input of row.querySelectorAll("input, button")) input.disabled = true;
      }
      seeded[spec.key] = { spec, set, source, reset };
      controls.appendChild(row);
    }
    syncSeededControls();
  }

  /** Show each setting's value: what the user set, else what the estimate used (log, default, implied). */
  function syncSeededControls() {
    const given = sender.value("settings") ?? {};
    for (const [key, c] of Object.entries(seeded)) {
      const changed = Object.prototype.hasOwnProperty.call(given, key);
      const used = /^(.*) \((.*)\)$/.exec(effective[key] ?? "");
      c.set(changed ? given[key] : used ? used[1] : c.spec.value);
      c.source.textContent = changed ? "what-if" : used ? used[2] : c.spec.source;
      c.reset.style.visibility = changed ? "visible" : "hidden";
      c.source.parentElement?.classList.toggle("sw-pg-set", changed);
    }
    // AQE's own options do nothing while AQE is off: grey them out and say so (a stage-given reason stays)
    const aqe = seeded["spark.sql.adaptive.enabled"];
    const aqeOn = aqe ? String(given["spark.sql.adaptive.enabled"] ?? aqeValue(aqe)) !== "false" : true;
    for (const [key, c] of Object.entries(seeded)) {
      if (!key.startsWith("spark.sql.adaptive.") || key === "spark.sql.adaptive.enabled" || c.spec.disabled) continue;
      const row = c.source.parentElement;
      row?.classList.toggle("sw-pg-disabled", !aqeOn);
      if (row) row.title = aqeOn ? key : `${key}: AQE is off; turn it on to use this`;
      for (const input of row?.querySelectorAll("input, button") ?? []) input.disabled = !aqeOn;
    }
  }

  /** The AQE toggle's value as the estimate used it (log, default) when the user has not set it. */
  function aqeValue(c) {
    const used = /^(.*) \((.*)\)$/.exec(effective["spark.sql.adaptive.enabled"] ?? "");
    return used ? used[1] : c.spec.value;
  }

  function drawHeader() {
    const info = model.get("stage_info") ?? {};
    const seeded = model.get("mode") === "seeded";
    panel.dataset.mode = seeded ? "seeded" : "free";
    stageLabel.style.display = seeded ? "" : "none";
    clear(legend);
    if (!seeded) {
      title.textContent = "Partition playground";
      subtitle.textContent = "Free mode: a shape you set, split into stages at each shuffle. Every number is an estimate.";
      legend.append(badge("estimated"), " every number here comes from the shape model, none from a log");
      return;
    }
    title.textContent = `Partition playground \u00b7 stage ${info.stage_id}`;
    subtitle.textContent = truncate(`${info.label ?? ""} \u00b7 ${info.app_id ?? ""} \u00b7 Spark's name: ${info.name ?? ""}`, 200);
    subtitle.title = info.name ?? "";
    clear(stagePick);
    for (const st of info.stages ?? []) {
      stagePick.appendChild(h("option", { value: st.stage_id }, [`${st.stage_id} (${formatCount(st.tasks)} tasks, read ${formatBytes(st.read_bytes)})`]));
    }
    stagePick.value = String(info.stage_id);
    legend.append(badge("measured"), " from the event log ", badge("estimated"), " from the what-if model, for the settings changed on the left");
  }

  function draw() {
    const e = model.get("estimate") ?? {};
    sender.answered(e.request_id);
    error.textContent = e.error ?? "";
    error.style.display = e.error ? "block" : "none";
    if (e.error) return; // keep the last good drawing under the message
    clear(assumptions);
    for (const a of e.assumptions ?? []) assumptions.appendChild(h("li", {}, [a]));
    note.textContent = e.note ?? "";
    if (e.mode === "seeded" && e.measured) {
      drawSeeded(view, e);
      effective = e.effective ?? {};
      syncSeededControls();
    } else if (e.mode === "free" && e.stages) {
      drawFree(view, e);
    }
    panel.dataset.requestId = String(e.request_id ?? "");
  }

  function rebuild() {
    for (const k of Object.keys(setters)) delete setters[k];
    drawHeader();
    if (model.get("mode") === "seeded") buildSeededControls();
    else {
      buildFreeControls();
      drawOps(model.get("operators") ?? []);
    }
    draw();
  }

  stagePick.addEventListener("change", () => sender.send({ stage: Number(stagePick.value), settings: {} }));
  const listeners = [
    ["change:estimate", draw],
    ["change:mode", rebuild],
    ["change:controls", rebuild],
    ["change:stage_info", drawHeader],
    ["change:operators", () => drawOps(sender.value("operators") ?? [])],
    ["change:settings", syncSeededControls],
    ...FREE_CONTROLS.filter((c) => c.key).map((c) => [`change:${c.key}`, () => setters[c.key]?.(sender.value(c.key))]),
  ];
  for (const [ev, f] of listeners) model.on(ev, f);
  rebuild();
  return () => {
    sender.dispose();
    for (const [ev, f] of listeners) model.off(ev, f);
  };
}

export default { render };
