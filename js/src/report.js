// Report: what `%sparksword PATH` shows. A header with the application's facts, then the stage DAG,
// the linked task histogram and the insights, each a child widget rendered in its slot.
import "./lib/style.css";
import { h } from "./lib/dom.js";
import { formatMs, formatCount, formatShare } from "./lib/format.js";

// One colour per kind of part: job time blue, driver-only time in warm and grey tones.
export const KIND_COLORS = {
  before_first_job: "#9aa7b4",
  jobs: "#3d85c6",
  between_jobs: "#f1b14c",
  after_last_job: "#b79ad6",
  no_jobs: "#c9ced4",
};

/** "Where the time went": a bar of the run's parts in time order, totals by kind, what the findings explain. */
export function timeBar(t) {
  if (!t || !(t.duration_ms > 0)) return null;
  const bar = h("div", { class: "sw-timebar", role: "img", "aria-label": t.headline ?? "where the time went" });
  const parts = t.parts ?? {};
  (parts.part ?? []).forEach((name, i) => {
    const seg = h("div", { class: "sw-timeseg", dataset: { kind: parts.kind[i], part: name } });
    seg.style.left = `${(100 * parts.offset_ms[i]) / t.duration_ms}%`;
    seg.style.width = `${(100 * parts.ms[i]) / t.duration_ms}%`;
    seg.style.background = KIND_COLORS[parts.kind[i]] ?? KIND_COLORS.no_jobs;
    seg.title = `${name}: ${formatMs(parts.ms[i])} (${formatShare(parts.ms[i] / t.duration_ms)})\n${parts.what[i]}`;
    bar.appendChild(seg);
  });
  const legend = h("div", { class: "sw-timelegend" }, (t.kinds ?? []).map((k) => {
    const sw = h("span", { class: "sw-swatch" });
    sw.style.background = KIND_COLORS[k.kind] ?? KIND_COLORS.no_jobs;
    const count = k.parts > 1 ? ` (${formatCount(k.parts)})` : "";
    return h("span", { dataset: { kind: k.kind } }, [sw, `${k.label}${count} `, h("b", {}, [formatMs(k.ms)]),
      ` ${formatShare(k.ms / t.duration_ms)}`]);
  }));
  return h("div", { class: "sw-time" }, [
    h("div", { class: "sw-time-title" }, [`Where the ${formatMs(t.duration_ms)} went`,
      t.ended ? "" : " (no application end: measured to the last event)"]),
    bar,
    legend,
    t.explained ? h("div", { class: "sw-explained" }, [t.explained]) : null,
  ]);
}

function fact(label, value) {
  if (value === null || value === undefined || value === "") return null;
  return h("span", {}, [`${label} `, h("b", {}, [String(value)])]);
}

function header(p) {
  const counts = p.counts ?? {};
  const failed = (n, what) => (n ? ` (${formatCount(n)} failed)` : "") + (what ?? "");
  return h("div", { class: "sw-panel sw-report-header" }, [
    h("h3", {}, [p.name ? `${p.name} \u00b7 ${p.app_id}` : p.app_id ?? "Spark application"]),
    h("div", { class: "sw-facts" }, [
      fact("Spark", p.spark_version),
      fact("user", p.user),
      fact("started", p.start),
      fact("duration", p.duration_ms === null || p.duration_ms === undefined ? null : formatMs(p.duration_ms)),
      fact("status", p.status),
      fact("executors", p.executors === undefined ? null : `${formatCount(p.executors)} (${formatCount(p.cores)} cores)`),
      fact("jobs", counts.jobs === undefined ? null : formatCount(counts.jobs) + failed(counts.failed_jobs)),
      fact("stages", counts.stages === undefined ? null : formatCount(counts.stages) + failed(counts.failed_stages)),
      fact("tasks", counts.tasks === undefined ? null : formatCount(counts.tasks) + failed(counts.failed_tasks)),
      fact("SQL queries", counts.sql ? formatCount(counts.sql) : null),
    ]),
    timeBar(p.time),
  ]);
}

async function render({ model, el, host, signal }) {
  el.classList.add("sw-root");
  const root = h("div", { class: "sw-report" });
  let head = header(model.get("header") ?? {});
  const slot = (name) => h("div", { class: `sw-slot sw-slot-${name}`, dataset: { slot: name } });
  const dagSlot = slot("dag");
  const skewSlot = slot("skew");
  const insightsSlot = slot("insights");
  root.append(head, h("div", { class: "sw-report-row" }, [dagSlot, skewSlot]), insightsSlot);
  el.appendChild(root);
  const onHeader = () => {
    const next = header(model.get("header") ?? {});
    root.replaceChild(next, head);
    head = next;
  };
  model.on("change:header", onHeader);
  for (const [name, target] of [["dag", dagSlot], ["skew", skewSlot], ["insights", insightsSlot]]) {
    const ref = model.get(name);
    if (!ref) continue;
    const child = await host.getWidget(ref);
    await child.render({ el: target, signal });
  }
  return () => model.off("change:header", onHeader);
}

export default { render };
