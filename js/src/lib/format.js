// Number formats as the Spark UI prints them, so a value reads the same here and in the History Server.

const KiB = 1024;
const UNITS = [
  ["EiB", KiB ** 6],
  ["PiB", KiB ** 5],
  ["TiB", KiB ** 4],
  ["GiB", KiB ** 3],
  ["MiB", KiB ** 2],
  ["KiB", KiB],
];

/** Bytes as Spark's Utils.bytesToString: a unit is used from twice its size, one decimal ("11.7 KiB"). */
export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined || Number.isNaN(bytes)) return "\u2013";
  const n = Number(bytes);
  for (const [unit, size] of UNITS) {
    if (Math.abs(n) >= 2 * size) return `${(n / size).toFixed(1)} ${unit}`;
  }
  return `${n.toFixed(1)} B`;
}

/** Milliseconds as Spark's Utils.msDurationToString, minutes written out: "127 ms", "1.2 s", "2.5 min", "1.25 h". */
export function formatMs(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "\u2013";
  const n = Number(ms);
  if (Math.abs(n) < 1000) return `${Math.round(n)} ms`;
  if (Math.abs(n) < 60_000) return `${(n / 1000).toFixed(1)} s`;
  // "min", not Spark's "m": next to sizes, "1.1 m" reads as metres
  if (Math.abs(n) < 3_600_000) return `${(n / 60_000).toFixed(1)} min`;
  return `${(n / 3_600_000).toFixed(2)} h`;
}

/** A count with thousands separators, as the UI prints row counts ("3,000,000"). */
export function formatCount(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "\u2013";
  const n = Number(value);
  if (!Number.isInteger(n)) return n.toFixed(2);
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** A ratio such as a skew ratio ("4.5x"). */
export function formatRatio(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "\u2013";
  return `${Number(value).toFixed(1)}x`;
}

/** A count with its noun, singular for one: plural(1, "stage") is "1 stage", plural(3, "stage") "3 stages". */
export function plural(n, word, many = `${word}s`) {
  return `${formatCount(n)} ${n === 1 ? word : many}`;
}

/** A share of a whole (0.125) as a whole percent ("13%"). */
export function formatShare(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "\u2013";
  return `${Math.round(value * 100)}%`;
}

/** Format a value by its unit: "ms", "bytes", "count", "ratio". */
export function formatValue(value, unit) {
  switch (unit) {
    case "ms":
      return formatMs(value);
    case "bytes":
      return formatBytes(value);
    case "ratio":
      return formatRatio(value);
    default:
      return formatCount(value);
  }
}

// Evidence keys carry their unit as a word of the key: read_bytes_max, duration_ms_median, executor_cpu_ns.
const UNIT_WORDS = { ms: "ms", bytes: "bytes", ns: "ns" };

/**
 * One evidence entry for people: [label, formatted value, raw value]. The unit comes from the key
 * (`_ms`, `_bytes`, `_ns`, `ratio`, `share`); the label drops the unit word and reads as words.
 */
export function evidenceEntry(key, value) {
  const words = String(key).split(/[_.]/).filter(Boolean);
  const unitWord = words.find((w) => w in UNIT_WORDS);
  // a ratio or a share of bytes is no number of bytes
  const unit = words.includes("ratio") ? "ratio" : words.includes("share") ? "share" : unitWord ? UNIT_WORDS[unitWord] : null;
  const labelWords = words.filter((w) => w !== unitWord);
  const label = key.startsWith("spark.") ? key : (labelWords.join(" ") || key).replace(/^./, (c) => c.toUpperCase());
  const raw = Array.isArray(value) ? value.join(", ") : String(value);
  const one = (v) => {
    if (typeof v !== "number") return v === null || v === undefined ? "\u2013" : String(v);
    if (unit === "ms") return formatMs(v);
    if (unit === "ns") return formatMs(v / 1e6);
    if (unit === "bytes") return formatBytes(v);
    if (unit === "ratio") return formatRatio(v);
    if (unit === "share") return formatShare(v);
    return formatCount(v);
  };
  const text = Array.isArray(value) ? value.map(one).join(", ") : one(value);
  return [label, text, raw];
}
