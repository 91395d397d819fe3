// SkewHistogram: one stage's distribution of a task metric, with the History Server's quantiles and
// the outlier tasks marked. Python computes the bins in DuckDB; only bins and a few tasks arrive here.
import "./lib/style.css";
import { h, s, clear, truncate } from "./lib/dom.js";
import { formatValue, formatCount, formatRatio, plural } from "./lib/format.js";
import { histogramBars, ticks } from "./lib/histogram.js";
import { createTooltip } from "./lib/tooltip.js";

const QUANTILE_NAMES = ["Min", "25th percentile", "Median", "75th percentile", "Max"];
const SHORT_Q = ["min", "p25", "med", "p75", "max"];
const W = 460;
const H = 200;
const BOX = { x0: 48, x1: W - 12, y0: 44, y1: H - 28 };

function drawHistogram(svg, p, tooltip, container) {
  clear(svg);
  const unit = p.metric.unit;
  // a bin's outlier tasks (above the fence) are drawn as their own part of its bar, never the whole bin
  const { bars, x, y, maxCount } = histogramBars(p.edges, p.counts, BOX, p.outlier_counts ?? []);
  const fence = p.outliers?.fence;
  const barLayer = s("g", { class: "sw-bars" });
  for (const b of bars) {
    const group = s("g", { class: "sw-bin", dataset: { count: b.count, outliers: b.outliers } });
    group.appendChild(s("rect", {
      class: "sw-bar",
      x: b.x.toFixed(1),
      y: b.y.toFixed(1),
      width: b.width.toFixed(1),
      height: b.height.toFixed(1),
    }));
    if (b.outlierHeight > 0) {
      group.appendChild(s("rect", {
        class: "sw-bar sw-outlier",
        x: b.x.toFixed(1),
        y: b.y.toFixed(1),
        width: b.width.toFixed(1),
        height: b.outlierHeight.toFixed(1),
      }));
    }
    group.addEventListener("pointerenter", (ev) => {
      const box = container.getBoundingClientRect();
      tooltip.show(plural(b.count, "task"), [
        ["from", formatValue(b.lo, unit)],
        ["to", formatValue(b.hi, unit)],
        ["outliers", b.outliers ? `${formatCount(b.outliers)} above ${formatValue(fence, unit)}` : null],
      ], ev.clientX - box.left, ev.clientY - box.top);
    });
    group.addEventListener("pointerleave", () => tooltip.hide());
    barLayer.appendChild(group);
  }
  // axes: value ticks below, a count scale on the left
  const axis = s("g", { class: "sw-axis" });
  axis.appendChild(s("line", { x1: BOX.x0, x2: BOX.x1, y1: BOX.y1, y2: BOX.y1 }));
  const lo = p.edges[0];
  const hi = p.edges[p.edges.length - 1];
  for (const v of ticks(lo, hi, 5)) {
    const px = x(v);
    if (px < BOX.x0 - 0.5 || px > BOX.x1 + 0.5) continue;
    axis.append(
      s("line", { x1: px, x2: px, y1: BOX.y1, y2: BOX.y1 + 4 }),
      s("text", { x: px, y: BOX.y1 + 15, "text-anchor": "middle" }, [formatValue(v, unit)]),
    );
  }
  for (const c of ticks(0, maxCount, 3).filter(Number.isInteger)) {
    axis.append(s("text", { x: BOX.x0 - 6, y: y(c) + 3, "text-anchor": "end" }, [formatCount(c)]));
  }
  axis.appendChild(s("text", { x: 4, y: BOX.y0 - 6 }, ["tasks"]));
  const qLayer = s("g", { class: "sw-q" });
  (p.quantiles?.values ?? []).forEach((v, i) => {
    if (v === null || v === undefined || i === 0 || i === 4) return; // min and max are the axis ends
    const px = x(v);
    qLayer.append(
      s("line", { x1: px, x2: px, y1: BOX.y0, y2: BOX.y1, dataset: { quantile: SHORT_Q[i] } }),
      // p25, median and p75 each get their own row so close quantiles stay readable
      s("text", {
        x: px > BOX.x1 - 30 ? px - 2 : px + 2,
        y: BOX.y0 - 28 + (i - 1) * 11,
        "text-anchor": px > BOX.x1 - 30 ? "end" : "start",
      }, [SHORT_Q[i]]),
    );
  });
  const fenceLayer = s("g", { class: "sw-fence" });
  if (fence !== null && fence !== undefined && fence < hi) {
    const px = x(fence);
    fenceLayer.appendChild(s("line", { x1: px, x2: px, y1: BOX.y0, y2: BOX.y1 }));
  }
  svg.append(barLayer, axis, qLayer, fenceLayer);
}

function render({ model, el }) {
  el.classList.add("sw-root");
  const panel = h("div", { class: "sw-panel sw-skew-panel" });
  const title = h("span", { class: "sw-title" });
  const select = h("select", { "aria-label": "task metric" });
  panel.appendChild(h("div", { class: "sw-toolbar" }, [title, h("span", { class: "sw-spacer" }), h("label", {}, ["metric: ", select])]));
  const subtitle = h("div", { class: "sw-info sw-skew-subtitle" });
  subtitle.style.padding = "4px 8px 0";
  const area = h("div", { class: "sw-area" });
  const svg = s("svg", { class: "sw-hist", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": "task histogram" });
  area.appendChild(svg);
  const table = h("table", { class: "sw-table sw-quantiles" });
  const outliers = h("div", { class: "sw-outliers" });
  const empty = h("div", { class: "sw-empty" });
  panel.append(subtitle, empty, area, table, outliers);
  el.appendChild(panel);
  const tooltip = createTooltip(panel);

  function draw() {
    const p = model.get("payload") ?? {};
    clear(select);
    for (const m of p.metrics ?? []) select.appendChild(h("option", { value: m.key }, [m.label]));
    select.value = model.get("metric");
    clear(table);
    clear(outliers);
    tooltip.hide();
    if (p.stage_id === null || p.stage_id === undefined) {
      title.textContent = "Task distribution";
      subtitle.textContent = "";
      empty.textContent = p.message || "Select a stage in the DAG to see its tasks.";
      empty.style.display = "block";
      area.style.display = "none";
      panel.dataset.stageId = "";
      return;
    }
    panel.dataset.stageId = String(p.stage_id);
    const attempt = p.attempt === undefined || p.attempt === null ? "" : ` (attempt ${p.attempt})`;
    const label = (p.metrics ?? []).find((m) => m.key === p.metric.key)?.label ?? p.metric.label;
    title.textContent = `Stage ${p.stage_id}${attempt}: ${label}`;
    subtitle.textContent = truncate(p.label || p.name || "", 90);
    subtitle.title = p.name ?? "";
    if (!p.tasks) {
      empty.textContent = p.message || "No successful task with metrics in this stage.";
      empty.style.display = "block";
      area.style.display = "none";
      return;
    }
    empty.style.display = "none";
    area.style.display = "block";
    drawHistogram(svg, p, tooltip, panel);
    const unit = p.metric.unit;
    // the History Server's "Summary Metrics for Completed Tasks"; a row click shows that metric
    table.appendChild(h("caption", {}, [
      `Task summary as the History Server shows it (${formatCount(p.tasks)} successful tasks; click a row to chart it)`,
    ]));
    table.appendChild(h("tr", {}, [h("th", {}, ["Metric"]), ...QUANTILE_NAMES.map((q) => h("th", {}, [q]))]));
    for (const m of p.metrics ?? []) {
      const values = p.summary?.[m.key];
      if (!values) continue;
      const current = m.key === p.metric.key;
      const row = h("tr", { class: current ? "sw-current" : "sw-other", dataset: { metric: m.key }, title: `show ${m.label}` }, [
        h("td", {}, [m.label]),
        ...values.map((v, i) => h("td", { dataset: { quantile: SHORT_Q[i] } }, [formatValue(v, m.unit)])),
      ]);
      row.addEventListener("click", () => {
        model.set("metric", m.key);
        model.save_changes();
      });
      table.appendChild(row);
    }
    // one definition of the ratio, the findings' too: the longest successful task over the History Server's median
    const ratio = p.skew_ratio === null || p.skew_ratio === undefined ? "" :
      ` \u00b7 ${p.metric.label}: longest successful task ${formatValue(p.max, unit)} / median ${formatValue(p.median, unit)} = ${formatRatio(p.skew_ratio)}`;
    outliers.appendChild(h("div", { class: "sw-ratio" }, [`${formatCount(p.tasks)} successful tasks${ratio}`]));
    if (p.max !== undefined && p.quantiles?.values?.[4] !== undefined && p.quantiles.values[4] !== p.max) {
      outliers.appendChild(h("div", { class: "sw-note" }, [
        `The summary's Max (${formatValue(p.quantiles.values[4], unit)}) is the History Server's: it ranks failed and killed attempts too.`,
      ]));
    }
    const o = p.outliers;
    if (o?.count) {
      outliers.appendChild(
        h("div", {}, [`${plural(o.count, "outlier task")} by ${p.metric.label}, above ${formatValue(o.fence, unit)} (75th percentile + 1.5 \u00d7 IQR):`]),
      );
      const list = h("ul", { class: "sw-outlier-list" });
      for (const t of o.tasks) {
        list.appendChild(h("li", {}, [`task ${t.task_id} (index ${t.index}, executor ${t.executor_id}): ${formatValue(t.value, unit)}`]));
      }
      outliers.appendChild(list);
    }
  }

  select.addEventListener("change", () => {
    model.set("metric", select.value);
    model.save_changes();
  });
  model.on("change:payload", draw);
  draw();
  return () => model.off("change:payload", draw);
}

export default { render };
