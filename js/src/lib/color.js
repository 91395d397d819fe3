// Colour scales for node fills: a sequential ramp for measured metrics, fixed colours for severities.

// Light yellow to dark red (ColorBrewer YlOrRd): dark means "look here".
const RAMP = ["#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#e31a1c", "#bd0026", "#800026"];
export const NO_VALUE = "#e6e6e6";
// Every node has the same value (e.g. no spill anywhere): nothing to look at, so no "warm" colour.
export const CONSTANT_VALUE = "#eef1f4";
export const SEVERITY_COLORS = { none: "#dff0d8", low: "#fff3b0", medium: "#fdae61", high: "#d7301f" };
export const SEVERITY_RANK = { none: 0, low: 1, medium: 2, high: 3 };

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function rgbToHex([r, g, b]) {
  return "#" + [r, g, b].map((c) => Math.round(c).toString(16).padStart(2, "0")).join("");
}

/** The ramp colour at t in [0, 1] (linear interpolation between the ramp's stops). */
export function rampColor(t) {
  const clamped = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0));
  const pos = clamped * (RAMP.length - 1);
  const i = Math.min(RAMP.length - 2, Math.floor(pos));
  const f = pos - i;
  const a = hexToRgb(RAMP[i]);
  const b = hexToRgb(RAMP[i + 1]);
  return rgbToHex(a.map((c, k) => c + (b[k] - c) * f));
}

/**
 * A scale value -> colour over the values' range. Byte and time metrics span orders of magnitude,
 * so `log` spreads them (log1p); null/NaN values get the neutral grey.
 */
export function sequentialScale(values, { log = true } = {}) {
  const xs = values.filter((v) => v !== null && v !== undefined && Number.isFinite(Number(v))).map(Number);
  const f = log ? (v) => Math.log1p(Math.max(0, v)) : (v) => v;
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of xs) {
    lo = Math.min(lo, f(x));
    hi = Math.max(hi, f(x));
  }
  if (!xs.length) lo = hi = 0;
  const scale = (v) => {
    if (v === null || v === undefined || !Number.isFinite(Number(v))) return NO_VALUE;
    if (hi === lo) return CONSTANT_VALUE;
    return rampColor((f(Number(v)) - lo) / (hi - lo));
  };
  scale.domain = xs.length ? [xs.reduce((a, b) => Math.min(a, b)), xs.reduce((a, b) => Math.max(a, b))] : [null, null];
  scale.constant = xs.length > 0 && hi === lo;
  return scale;
}

/** Black or white text, whichever reads better on `hex`. */
export function textColorOn(hex) {
  const [r, g, b] = hexToRgb(hex);
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#222222" : "#ffffff";
}
