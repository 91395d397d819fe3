// SqlPlan: one SQL execution's physical plan as a graph, each operator with its metrics.
import "./lib/style.css";
import { h, s, clear, truncate } from "./lib/dom.js";
import { formatMs } from "./lib/format.js";
import { layoutPlan, headlineMetrics, metricTotal } from "./lib/plan.js";
import { edgePath } from "./lib/graph.js";
import { attachPanZoom, fitTransform, viewHeight } from "./lib/zoom.js";
import { createTooltip } from "./lib/tooltip.js";

function render({ model, el, signal }) {
  el.classList.add("sw-root");
  const panel = h("div", { class: "sw-panel sw-plan-panel" });
  const title = h("span", { class: "sw-title" });
  const info = h("span", { class: "sw-info" });
  const fit = h("button", { type: "button", title: "fit the whole plan" }, ["fit"]);
  const zoomIn = h("button", { type: "button", title: "zoom in" }, ["+"]);
  const zoomOut = h("button", { type: "button", title: "zoom out" }, ["\u2212"]);
  panel.appendChild(h("div", { class: "sw-toolbar" }, [title, info, h("span", { class: "sw-spacer" }), zoomOut, zoomIn, fit]));
  const area = h("div", { class: "sw-area" });
  area.style.height = "320px";
  const svg = s("svg", { class: "sw-plan", role: "img", "aria-label": "SQL plan" });
  svg.appendChild(
    s("defs", {}, [
      s("marker", { id: "sw-plan-arrow", viewBox: "0 0 10 10", refX: "9", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, [
        s("path", { d: "M0,0L10,5L0,10z", fill: "#888" }),
      ]),
    ]),
  );
  const viewport = s("g", { class: "sw-viewport" });
  svg.appendChild(viewport);
  area.appendChild(svg);
  panel.appendChild(area);
  el.appendChild(panel);
  const tooltip = createTooltip(panel);
  const zoom = attachPanZoom(svg, viewport, { signal });
  let laid = null;

  function draw() {
    const p = model.get("payload") ?? {};
    clear(viewport);
    tooltip.hide();
    title.textContent = p.execution_id === undefined || p.execution_id === null ? "SQL plan" : `SQL execution ${p.execution_id}`;
    info.textContent = truncate([p.description, p.status, p.duration_ms === null || p.duration_ms === undefined ? null : formatMs(p.duration_ms)].filter(Boolean).join(" \u00b7 "), 120);
    const nodes = p.nodes ?? [];
    if (!nodes.length) {
      laid = null;
      return;
    }
    const byId = new Map(nodes.map((n) => [n.id, n]));
    laid = layoutPlan(nodes, p.edges ?? []);
    const clusterLayer = s("g", { class: "sw-clusters" });
    const edgeLayer = s("g", { class: "sw-edges" });
    const nodeLayer = s("g", { class: "sw-nodes" });
    for (const n of laid.nodes) {
      const src = byId.get(n.id);
      const x = n.x - n.width / 2;
      const y = n.y - n.height / 2;
      if (n.is_cluster) {
        const g = s("g", { class: "sw-cluster", transform: `translate(${x},${y})`, dataset: { nodeId: n.id } }, [
          s("rect", { width: n.width, height: n.height, rx: "6" }),
          s("text", { x: "8", y: "15" }, [truncate(`${src.name}${src.metrics?.length ? ` \u00b7 ${metricTotal(src.metrics[0][1])}` : ""}`, 50)]),
        ]);
        clusterLayer.appendChild(g);
        continue;
      }
      const headline = headlineMetrics(src.metrics);
      const g = s("g", { class: "sw-plan-node", transform: `translate(${x},${y})`, dataset: { nodeId: n.id }, tabindex: "0" }, [
        s("rect", { width: n.width, height: n.height, rx: "4", fill: "#e8f1fa" }),
        s("text", { x: "8", y: "17" }, [truncate(src.name, 30)]),
        s("text", { class: "sw-sub", x: "8", y: "34", fill: "#555" }, [
          truncate(headline.map((m) => `${m.name.replace("number of ", "")}: ${metricTotal(m.value)}`).join(" \u00b7 "), 36),
        ]),
      ]);
      g.addEventListener("pointerenter", (ev) => {
        const box = panel.getBoundingClientRect();
        tooltip.show(src.name, [["", src.desc], ...(src.metrics ?? []).map(([k, v]) => [k, v])], ev.clientX - box.left, ev.clientY - box.top);
      });
      g.addEventListener("pointerleave", () => tooltip.hide());
      g.addEventListener("click", () => {
        if (zoom.dragged()) return;
        model.set("selected_node", n.id);
        model.save_changes();
      });
      nodeLayer.appendChild(g);
    }
    for (const e of laid.edges) {
      edgeLayer.appendChild(s("path", { class: "sw-edge", d: edgePath(e.points), "marker-end": "url(#sw-plan-arrow)" }));
    }
    viewport.append(clusterLayer, edgeLayer, nodeLayer);
  }

  function fitView() {
    if (!laid) return;
    const width = area.getBoundingClientRect().width || 800;
    const height = viewHeight(laid.width, laid.height, width, { max: model.get("height") || 720 });
    area.style.height = `${height}px`;
    zoom.set(fitTransform(laid.width, laid.height, width, height));
  }
  fit.addEventListener("click", fitView);
  zoomIn.addEventListener("click", () => zoom.zoomBy(1.25));
  zoomOut.addEventListener("click", () => zoom.zoomBy(0.8));
  const onPayload = () => {
    draw();
    fitView();
  };
  model.on("change:payload", onPayload);
  draw();
  requestAnimationFrame(fitView);
  return () => model.off("change:payload", onPayload);
}

export default { render };
