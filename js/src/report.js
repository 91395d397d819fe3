// Report: what `%sparksword PATH` shows. A header with the application's facts, then the stage DAG,
// the linked task histogram and the insights, each a child widget rendered in its slot.
import "./lib/style.css";
import { h } from "./lib/dom.js";
import { formatMs, formatCount } from "./lib/format.js";

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
