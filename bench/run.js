#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark script of bench/ that exists, one after the other, with their
 * output passed through. `npm run bench` builds first; run `npm run build` yourself when calling this
 * directly.
 *
 * Usage: node bench/run.js [--only NAME[,NAME]] [--skip NAME[,NAME]] [--quick] [--big] [other flags]
 *   --only   run just these benchmarks (names as listed below, without .js)
 *   --quick  small N everywhere: a smoke run of the harness, not a measurement
 *   --big    opt-in large sizes (peers: N = 100,000; ts-tasks: 100,000 quanta)
 * Every flag other than --only/--skip is passed on to each script. Results files go to bench/results/.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "./lib/measure.js";

/** In running order; the first three are written by other people and may not exist yet. */
const BENCHMARKS = ["ingest", "graph", "scale", "live-view", "live-view-e2e", "ts-tasks", "peers", "watch"];

const argv = process.argv.slice(2);
const args = parseArgs(argv);
const listOf = (v) => (typeof v === "string" ? v.split(",").filter(Boolean) : []);
const only = listOf(args.only);
const skip = listOf(args.skip);
for (const name of [...only, ...skip]) {
  if (!BENCHMARKS.includes(name)) {
    console.error(`error: unknown benchmark "${name}"; expected one of ${BENCHMARKS.join(", ")}`);
    process.exit(2);
  }
}
const passOn = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--only" || a === "--skip") i++;
  else if (!a.startsWith("--only=") && !a.startsWith("--skip=")) passOn.push(a);
}

let current;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    // Stop the running benchmark too, so that it leaves nothing running behind us.
    if (current && current.exitCode === null) current.kill(signal);
    process.exit(130);
  });
}

function runScript(path) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [path, ...passOn], { stdio: "inherit" });
    current = child;
    child.on("close", (code, signal) => resolvePromise(code ?? (signal ? 128 : 1)));
  });
}

const summary = [];
for (const name of BENCHMARKS) {
  if (only.length && !only.includes(name)) continue;
  if (skip.includes(name)) continue;
  const candidates = [`${name}.js`, `${name}.mjs`].map((f) => join(import.meta.dirname, f));
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    console.log(`== ${name}: not written yet (no bench/${name}.js), skipped\n`);
    summary.push([name, "missing"]);
    continue;
  }
  console.log(`== ${name} (${path.slice(import.meta.dirname.length + 1)}${passOn.length ? ` ${passOn.join(" ")}` : ""})`);
  const start = performance.now();
  const code = await runScript(path);
  const secs = ((performance.now() - start) / 1000).toFixed(1);
  console.log(`== ${name}: ${code === 0 ? "done" : `FAILED (exit ${code})`} in ${secs} s\n`);
  summary.push([name, code === 0 ? `ok, ${secs} s` : `failed (exit ${code}), ${secs} s`]);
}
console.log("benchmarks:");
for (const [name, what] of summary) console.log(`  ${name.padEnd(10)} ${what}`);
process.exit(summary.some(([, what]) => what.startsWith("failed")) ? 1 : 0);
