// The offline HTML report's stand-in for the anywidget host: one model per panel, linked as the Python
// Report widget links them (a stage selected in the DAG or an insight is selected everywhere, and the
// histogram shows that stage from the payloads computed ahead). `boot` draws the page; the rest is pure.

/** A minimal anywidget model over a plain state object: get/set/on/off, change:<key> events. */
export function makeModel(state) {
  const listeners = {};
  return {
    get: (key) => state[key],
    set: (key, value) => {
      if (state[key] === value) return;
      state[key] = value;
      for (const f of [...(listeners["change:" + key] || [])]) f();
    },
    on: (event, f) => {
      (listeners[event] = listeners[event] || []).push(f);
    },
    off: (event, f) => {
      if (!event) {
        for (const k of Object.keys(listeners)) delete listeners[k];
        return;
      }
      listeners[event] = f ? (listeners[event] || []).filter((g) => g !== f) : [];
    },
    save_changes: () => {},
    send: () => {},
  };
}

/**
 * The histogram payload of `stage` for `metric` from those computed ahead; else a note saying why it is not
 * in the file, with the metric list kept so the reader can choose another metric from there.
 */
export function histogramFor(data, stage, metric) {
  const key = stage + "|" + metric;
  if (key in data.histograms) return data.histograms[key];
  const note = data.notes[key] || data.notes[String(stage)] || data.notes["*"];
  return {
    stage_id: stage,
    metric: { key: metric, label: metric, unit: "" },
    metrics: data.skew.payload.metrics || [],
    tasks: 0,
    message: note,
  };
}

/** The report's four models, linked as traitlets links them in Python. */
export function linkedModels(data) {
  const models = {
    report: makeModel({ header: data.header, dag: "dag", skew: "skew", insights: "insights" }),
    dag: makeModel(data.dag),
    skew: makeModel(data.skew),
    insights: makeModel(data.insights),
  };
  const showStage = () =>
    models.skew.set("payload", histogramFor(data, models.skew.get("stage"), models.skew.get("metric")));
  models.skew.on("change:stage", showStage);
  models.skew.on("change:metric", showStage);
  models.dag.on("change:selected_stage", () => {
    const id = models.dag.get("selected_stage");
    models.insights.set("selected_stage", id);
    if (id !== null && id !== undefined) models.skew.set("stage", id);
  });
  models.insights.on("change:selected_stage", () =>
    models.dag.set("selected_stage", models.insights.get("selected_stage")),
  );
  return models;
}

/** Draw the report into #sw-report from the page's JSON data and panel bundles (imported from blob: URLs). */
export async function boot(document, importModule) {
  const read = (id) => JSON.parse(document.getElementById(id).textContent);
  const root = document.getElementById("sw-report");
  try {
    const data = read("sw-data");
    const bundles = read("sw-bundles");
    const modules = {};
    for (const name of ["report", "dag", "skew", "insights"]) {
      const mod = await importModule(bundles[name]);
      modules[name] = typeof mod.default === "function" ? await mod.default() : mod.default;
    }
    const models = linkedModels(data);
    const controller = new AbortController();
    const host = {
      getWidget: async (ref) => ({
        render: ({ el, signal }) => modules[ref].render({ model: models[ref], el, signal: signal || controller.signal, host }),
      }),
    };
    for (const [name, widget] of Object.entries(modules)) await widget.initialize?.({ model: models[name] });
    await modules.report.render({ model: models.report, el: root, host, signal: controller.signal });
    root.dataset.rendered = "true";
  } catch (err) {
    root.textContent = "The interactive report could not be drawn (" + String(err) + "); " +
      "the static tables below hold the same facts.";
    root.className = "sw-report-error";
    document.getElementById("sw-static").open = true;
  }
}
