// Geometry of a task-metric histogram: bars from bin edges and counts, and where quantiles fall.

/** A linear scale domain -> range (returns a function with .invert). */
export function linearScale([d0, d1], [r0, r1]) {
  const span = d1 - d0 || 1;
  const f = (v) => r0 + ((v - d0) / span) * (r1 - r0);
  f.invert = (p) => d0 + ((p - r0) / (r1 - r0 || 1)) * span;
  return f;
}

/**
 * Bars for bins `edges` (n + 1 numbers) and `counts` (n), inside a plot box. Heights share one
 * linear count axis from 0; a bin with any task gets at least 1 px so a lone outlier stays visible.
 * `outlierCounts` (n, optional) says how many of each bin's tasks are outliers: each bar carries the
 * height of that part (`outlierHeight`, at least 1 px when any), so outliers are marked per task.
 */
export function histogramBars(edges, counts, { x0, x1, y0, y1 }, outlierCounts = []) {
  const n = counts.length;
  if (!n || edges.length !== n + 1) return { bars: [], x: linearScale([0, 1], [x0, x1]), maxCount: 0 };
  const lo = edges[0];
  const hi = edges[n] === lo ? lo + 1 : edges[n];
  const x = linearScale([lo, hi], [x0, x1]);
  const maxCount = Math.max(1, ...counts);
  const y = linearScale([0, maxCount], [y1, y0]);
  const bars = counts.map((count, i) => {
    const left = x(edges[i]);
    const right = edges[n] === lo ? x1 : x(edges[i + 1]);
    const top = count > 0 ? Math.min(y(count), y1 - 1) : y1;
    const outliers = Math.min(count, outlierCounts[i] ?? 0);
    const outlierHeight = outliers > 0 ? Math.min(y1 - top, Math.max(1, y1 - y(outliers))) : 0;
    return {
      index: i, lo: edges[i], hi: edges[i + 1], count, outliers, x: left, width: Math.max(1, right - left - 1),
      y: top, height: y1 - top, outlierHeight,
    };
  });
  return { bars, x, y, maxCount };
}

/** "Nice" tick values for an axis over [lo, hi], about `count` of them. */
export function ticks(lo, hi, count = 5) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  return out;
}
