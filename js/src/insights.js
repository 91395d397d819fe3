// InsightsPanel: the detectors' findings, largest impact first; each opens to its evidence, and its
// stage chips select the stage (the DAG and the histogram follow through Python).
import "./lib/style.css";
import { h, clear } from "./lib/dom.js";
import { formatMs, evidenceEntry, plural } from "./lib/format.js";

function evidenceTable(evidence) {
  const table = h("table", { class: "sw-table sw-evidence" });
  for (const [key, value] of evidence ?? []) {
    const [label, text, raw] = evidenceEntry(key, value);
    // formatted for reading; the measured value as logged on hover
    table.appendChild(h("tr", {}, [h("td", { title: key }, [label]), h("td", { title: raw }, [text])]));
  }
  return table;
}

function render({ model, el }) {
  el.classList.add("sw-root");
  const panel = h("div", { class: "sw-panel sw-insights-panel" });
  const info = h("span", { class: "sw-info" });
  panel.appendChild(h("div", { class: "sw-toolbar" }, [h("span", { class: "sw-title" }, ["Insights"]), info]));
  const list = h("div", { class: "sw-insights" });
  panel.appendChild(list);
  el.appendChild(panel);
  const open = new Set(); // keep what the user expanded across redraws

  function select(id) {
    model.set("selected_stage", id);
    model.save_changes();
  }

  function draw() {
    const p = model.get("payload") ?? {};
    const items = p.insights ?? [];
    clear(list);
    if (p.status !== "ok") {
      info.textContent = "";
      list.appendChild(h("div", { class: "sw-empty" }, [p.message || "Insights are not available."]));
      return;
    }
    info.textContent = items.length ? `${plural(items.length, "finding")}, largest impact first` : "";
    if (!items.length) {
      list.appendChild(h("div", { class: "sw-empty" }, ["No problem found: every detector ran and none fired."]));
      return;
    }
    const selected = model.get("selected_stage");
    items.forEach((it, i) => {
      const details = h("details", {
        class: `sw-insight${it.stage_ids?.includes(selected) ? " sw-selected" : ""}`,
        dataset: { type: it.type, index: i },
      });
      details.open = open.has(i);
      details.addEventListener("toggle", () => (details.open ? open.add(i) : open.delete(i)));
      const summary = h("summary", {}, [
        h("span", { class: `sw-badge sw-sev-${it.severity}` }, [it.severity]),
        h("span", { class: "sw-insight-title" }, [it.title]),
        h("span", { class: "sw-impact" }, [`impact ${formatMs(it.impact_ms)}`]),
      ]);
      const chips = h("div", {}, [
        it.stage_ids?.length ? "Stages: " : null,
        ...(it.stage_ids ?? []).map((id) => {
          const chip = h("button", { type: "button", class: "sw-chip", dataset: { stageId: id } }, [`stage ${id}`]);
          chip.addEventListener("click", (ev) => {
            ev.preventDefault();
            select(id);
          });
          return chip;
        }),
      ]);
      const link = it.docs_url ? h("a", { href: it.docs_url, target: "_blank", rel: "noopener noreferrer" }, ["Spark docs"]) : null;
      const body = h("div", { class: "sw-insight-body" }, [
        // what was seen, then what to do, then why we think so; the numbers last
        h("p", {}, [it.description]),
        h("p", { class: "sw-suggestion" }, [h("b", {}, ["Suggestion: "]), it.suggestion]),
        chips,
        it.time_parts?.length
          ? h("p", { class: "sw-time-parts" }, [h("b", {}, ["Time: "]), it.time_parts.slice(0, 4).join(", "),
            ...(it.overlaps?.length ? [` \u00b7 the same time as ${it.overlaps.join(", ")} (counted once)`] : [])])
          : null,
        h("p", {}, [h("b", {}, ["Confidence: "]), `${it.confidence} \u2013 ${it.confidence_reason}`]),
        evidenceTable(it.evidence),
        link,
      ]);
      details.append(summary, body);
      // clicking the title also selects the finding's first stage, as the issue asks
      summary.addEventListener("click", () => {
        if (it.stage_ids?.length) select(it.stage_ids[0]);
      });
      list.appendChild(details);
    });
  }

  // a selection only re-marks the findings: redrawing would close what the user opened
  const mark = () => {
    const selected = model.get("selected_stage");
    const items = model.get("payload")?.insights ?? [];
    list.querySelectorAll("details.sw-insight").forEach((node) => {
      const it = items[Number(node.dataset.index)];
      node.classList.toggle("sw-selected", !!it?.stage_ids?.includes(selected));
    });
  };
  const redraw = () => {
    open.clear();
    draw();
  };
  model.on("change:payload", redraw);
  model.on("change:selected_stage", mark);
  draw();
  return () => {
    model.off("change:payload", redraw);
    model.off("change:selected_stage", mark);
  };
}

export default { render };
