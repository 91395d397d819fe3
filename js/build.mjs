// Bundle one self-contained ES module (+ its CSS) per widget into ../sparksword_nb/static/.
// No code splitting: anywidget imports each bundle from a blob: URL, where relative chunks cannot load.
import * as esbuild from "esbuild";
import { fileURLToPath } from "node:url";
import { writeFileSync } from "node:fs";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
export const ENTRIES = ["dag", "skew", "insights", "sqlplan", "report", "playground", "offline"];

const options = {
  entryPoints: ENTRIES.map((name) => path.join(here, "src", `${name}.js`)),
  outdir: path.join(here, "..", "sparksword_nb", "static"),
  bundle: true,
  format: "esm",
  target: "es2020",
  minify: !process.argv.includes("--watch"),
  sourcemap: process.argv.includes("--watch") ? "inline" : false,
  legalComments: "eof",
  logLevel: "info",
};

if (process.argv.includes("--watch")) {
  const ctx = await esbuild.context(options);
  await ctx.watch();
} else {
  await esbuild.build(options);
  // The one list of bundles: the package build checks this manifest (pyproject's ensured-targets)
  writeFileSync(path.join(options.outdir, "manifest.json"), JSON.stringify({ bundles: ENTRIES }, null, 1) + "\n");
}
