// Slider positions <-> values for the playground's controls. Sizes and counts span orders of magnitude,
// so most sliders move on a log scale; powers of two land exactly on positions (512 KiB is reachable).

export const STEPS = 1000;

function bounds(spec) {
  const min = Math.max(Number(spec.min ?? 1), spec.scale === "log" ? 1 : -Infinity);
  const max = Math.max(Number(spec.max ?? min), min);
  return [min, max];
}

/** The slider position (0..STEPS) showing `value` for a control {min, max, scale: "log" | "linear"}. */
export function toPosition(value, spec) {
  const [min, max] = bounds(spec);
  const v = Math.min(max, Math.max(min, Number(value)));
  if (!Number.isFinite(v) || max === min) return 0;
  const t = spec.scale === "log" ? Math.log2(v / min) / Math.log2(max / min) : (v - min) / (max - min);
  return Math.round(t * STEPS);
}

/** The value at slider position `pos` (an integer for int and bytes controls; `step` for floats). */
export function fromPosition(pos, spec) {
  const [min, max] = bounds(spec);
  const t = Math.min(1, Math.max(0, Number(pos) / STEPS));
  let v = spec.scale === "log" ? min * 2 ** (t * Math.log2(max / min)) : min + t * (max - min);
  if (spec.kind === "float") {
    const step = spec.step ?? 0.01;
    v = Math.round(v / step) * step;
    return Number(v.toFixed(6));
  }
  return Math.min(max, Math.max(min, Math.round(v)));
}
