// Pan and zoom for an SVG drawing: drag to pan, ctrl/cmd + wheel (or a trackpad pinch) and the +/-
// buttons to zoom. A plain wheel keeps scrolling the notebook, which a widget must not take over.

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 4;

/** The transform that zooms by `factor` about the point (px, py) of the view, clamped to the scale range. */
export function zoomAt(t, px, py, factor, [lo, hi] = [MIN_SCALE, MAX_SCALE]) {
  const k = Math.min(hi, Math.max(lo, t.k * factor));
  const f = k / t.k;
  return { k, x: px - (px - t.x) * f, y: py - (py - t.y) * f };
}

/**
 * The transform that fits content of size (w, h) into a view of (vw, vh), never enlarging past 1.
 * With `widthOnly` the content fits the width and starts at the top (taller content is panned).
 */
export function fitTransform(w, h, vw, vh, pad = 16, { widthOnly = false } = {}) {
  if (!(w > 0) || !(h > 0)) return { k: 1, x: pad, y: pad };
  const byHeight = widthOnly ? Infinity : (vh - 2 * pad) / h;
  const k = Math.max(MIN_SCALE, Math.min(1, (vw - 2 * pad) / w, byHeight));
  return { k, x: (vw - w * k) / 2, y: Math.max(pad, (vh - h * k) / 2) };
}

/**
 * The height a view needs to show content of size (w, h) at the scale that fits its width (never
 * enlarged), clamped to [min, max]: small graphs get a short panel, big ones a tall one to pan in.
 */
export function viewHeight(w, h, vw, { min = 160, max = 720, pad = 16 } = {}) {
  if (!(w > 0) || !(h > 0)) return min;
  const k = Math.max(MIN_SCALE, Math.min(1, (vw - 2 * pad) / w));
  return Math.round(Math.min(max, Math.max(min, h * k + 2 * pad)));
}

/** The transform that centres the content point (cx, cy) in the view, keeping the scale. */
export function centerOn(t, cx, cy, vw, vh) {
  return { k: t.k, x: vw / 2 - cx * t.k, y: vh / 2 - cy * t.k };
}

/** A transform as an SVG transform attribute. */
export function transformAttr(t) {
  return `translate(${t.x.toFixed(2)},${t.y.toFixed(2)}) scale(${t.k.toFixed(4)})`;
}

/**
 * Wire pan/zoom onto `svg`, moving group `g`. Returns {get, set, zoomBy, dragged} where `dragged()`
 * says whether the last pointer gesture moved (so a click at its end is not a selection).
 */
export function attachPanZoom(svg, g, { signal } = {}) {
  let t = { k: 1, x: 0, y: 0 };
  let start = null;
  let moved = false;
  const apply = () => g.setAttribute("transform", transformAttr(t));
  const opts = signal ? { signal } : undefined;
  svg.addEventListener(
    "wheel",
    (ev) => {
      if (!(ev.ctrlKey || ev.metaKey)) return;
      ev.preventDefault();
      const box = svg.getBoundingClientRect();
      t = zoomAt(t, ev.clientX - box.left, ev.clientY - box.top, Math.exp(-ev.deltaY * 0.002));
      apply();
    },
    { passive: false, ...(opts ?? {}) },
  );
  svg.addEventListener(
    "pointerdown",
    (ev) => {
      if (ev.button !== 0) return;
      start = { x: ev.clientX, y: ev.clientY, t };
      moved = false;
    },
    opts,
  );
  svg.addEventListener(
    "pointermove",
    (ev) => {
      if (!start) return;
      const dx = ev.clientX - start.x;
      const dy = ev.clientY - start.y;
      if (!moved && Math.hypot(dx, dy) < 4) return;
      if (!moved) svg.setPointerCapture?.(ev.pointerId);
      moved = true;
      t = { k: start.t.k, x: start.t.x + dx, y: start.t.y + dy };
      apply();
    },
    opts,
  );
  const end = () => {
    start = null;
  };
  svg.addEventListener("pointerup", end, opts);
  svg.addEventListener("pointercancel", end, opts);
  apply();
  return {
    get: () => t,
    set(next) {
      t = next;
      apply();
    },
    zoomBy(factor) {
      const box = svg.getBoundingClientRect();
      t = zoomAt(t, box.width / 2, box.height / 2, factor);
      apply();
    },
    dragged: () => moved,
  };
}
