#!/usr/bin/env node
/**
 * Merges peers-*.json results (e.g. one run per tool, taken separately because the slow peers take
 * long) into one comparison table per N: for each (N, tool), the newest file that has it wins.
 * Not a benchmark itself: run.js does not run it.
 *
 * Usage: node bench/peers-merge.js [FILE.json…]   (default: every bench/results/peers-*.json)
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { RESULTS_DIR, writeResults } from "./lib/measure.js";
import { peersTable } from "./lib/peers-table.js";

const ORDER = ["quanta", "make", "ninja", "snakemake"];
const files = process.argv.slice(2).length
  ? process.argv.slice(2)
  : readdirSync(RESULTS_DIR)
      .filter((f) => /^peers-\d.*\.json$/.test(f))
      .sort()
      .map((f) => join(RESULTS_DIR, f));

const merged = {};
const sources = {};
const versions = {};
for (const file of files) {
  const data = JSON.parse(readFileSync(file, "utf8"));
  Object.assign(versions, data.versions);
  for (const [n, byTool] of Object.entries(data.results)) {
    for (const [tool, result] of Object.entries(byTool)) {
      (merged[n] ??= {})[tool] = result;
      (sources[n] ??= {})[tool] = `${file.split("/").pop()} (load ${data.load?.before ?? "?"})`;
    }
  }
}
const tables = Object.keys(merged)
  .map(Number)
  .sort((a, b) => a - b)
  .map((n) => peersTable(n, merged[n], ORDER.filter((t) => merged[n][t])));
const md = [
  "# Chain workload: quanta vs peers (merged)",
  "",
  `Tools: ${Object.values(versions).join("; ")}.`,
  "Each cell: wall time (steps the tool ran, peak RSS of the largest process); ⚠ = unexpected step count.",
  "",
  ...tables,
  "Sources:",
  "",
  ...Object.entries(sources).flatMap(([n, byTool]) => Object.entries(byTool).map(([t, f]) => `- N=${n} ${t}: ${f}`)),
  "",
].join("\n");
console.log(md);
const out = writeResults("peers-merged", md, { files, versions, results: merged });
console.log(`results: ${out.md}`);
