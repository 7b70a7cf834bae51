#!/usr/bin/env node
/**
 * Graph builder benchmark: a synthetic 5-task pipeline over (visit, detector), every task with N/5
 * quanta, built by `buildQuantumGraph` and saved with `savePlan` (then loaded back). Each size runs in
 * its own child process so that its peak RSS (process.resourceUsage().maxRSS) is its own.
 * Targets (issue 4): 1,000,000 quanta built and saved in < 10 s and < 2 GiB; 100,000 in < 1 s.
 *
 * Usage: npx tsc -p . && node bench/graph.js [--quick]      (plain JS over dist/)
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";

const DIST = new URL("../dist/", import.meta.url);

function connection(name, type, dimensions, extra = {}) {
  return { name, type, dimensions, storage: "json", multiple: false, minimum: 1, prerequisite: false, ...extra };
}

function task(label, inputs, output) {
  const dims = ["visit", "detector"];
  return {
    label,
    kind: "module",
    modulePath: `/bench/${label}.js`,
    dimensions: dims,
    inputs: Object.fromEntries(inputs.map((c) => [c.name, c])),
    outputs: { [output]: connection(output, output, dims) },
    config: { label },
    codeDigest: "0000000000000000",
  };
}

/** raw (band, visit, detector) → a → b → c (reads a and b) → d (plus a calib per detector) → e. */
function syntheticPipeline() {
  const vd = ["visit", "detector"];
  return {
    name: "bench",
    file: "/bench/bench.yaml",
    parameters: {},
    dimensions: { visit: "int", detector: "int", band: "string" },
    inputs: [
      { kind: "files", type: "raw", path: "/raw/{band}/{visit}/{detector}", dimensions: ["band", "visit", "detector"], storage: "bytes", prerequisite: false },
      { kind: "files", type: "calib", path: "/calib/{detector}", dimensions: ["detector"], storage: "bytes", prerequisite: true },
    ],
    tasks: [
      task("t1", [connection("raw", "raw", ["band", "visit", "detector"])], "a"),
      task("t2", [connection("a", "a", vd)], "b"),
      task("t3", [connection("a", "a", vd), connection("b", "b", vd)], "c"),
      task("t4", [connection("c", "c", vd), connection("calib", "calib", ["detector"], { prerequisite: true })], "d"),
      task("t5", [connection("d", "d", vd)], "e"),
    ],
    subsets: {},
  };
}

function syntheticData(perTask) {
  const detectors = 200;
  const visits = Math.ceil(perTask / detectors);
  const bands = ["g", "r", "i", "z", "y"];
  const raw = [];
  for (let v = 0; v < visits; v++) for (let d = 0; d < detectors && raw.length < perTask; d++) raw.push({ band: bands[v % 5], visit: v, detector: d });
  const calib = Array.from({ length: detectors }, (_, d) => ({ detector: d }));
  return new Map([["raw", raw], ["calib", calib]]);
}

async function runChild(totalQuanta) {
  const { buildQuantumGraph } = await import(new URL("core/graph-builder.js", DIST));
  const { savePlan, loadPlan } = await import(new URL("store/plan-file.js", DIST));
  const data = syntheticData(totalQuanta / 5);
  const available = { datasetIds: (t) => data.get(t), relationRows: () => undefined };
  const dir = mkdtempSync(join(tmpdir(), "quanta-bench-graph-"));
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const result = buildQuantumGraph({ pipeline: syntheticPipeline(), available });
    if (!result.ok) throw new Error(result.error.message);
    const t1 = performance.now();
    const cpu1 = process.cpuUsage(cpu0);
    const path = join(dir, "plan.qg");
    await savePlan(result.graph, path);
    const t2 = performance.now();
    const cpu2 = process.cpuUsage(cpu0);
    const rssAfterSave = process.resourceUsage().maxRSS;
    const loaded = await loadPlan(path);
    const t3 = performance.now();
    const cpu3 = process.cpuUsage(cpu0);
    const cpuMs = (c) => (c.user + c.system) / 1000;
    const out = {
      quanta: result.graph.quantumCount,
      datasets: result.graph.datasetCount,
      loadedQuanta: loaded.quantumCount,
      buildMs: t1 - t0,
      buildCpuMs: cpuMs(cpu1),
      saveCpuMs: cpuMs(cpu2) - cpuMs(cpu1),
      loadCpuMs: cpuMs(cpu3) - cpuMs(cpu2),
      saveMs: t2 - t1,
      loadMs: t3 - t2,
      fileBytes: statSync(path).size,
      peakRssKbBuildSave: rssAfterSave,
      peakRssKb: process.resourceUsage().maxRSS,
    };
    process.stdout.write(JSON.stringify(out) + "\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function fmt(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

function runParent(quick) {
  const sizes = quick ? [10_000, 50_000] : [100_000, 1_000_000];
  const limits = { 100_000: 1000, 1_000_000: 10_000 };
  console.log("graph: synthetic 5-task pipeline (raw -> a -> b -> c -> d -> e over visit, detector), build + save plan, then load");
  console.log(`load average before: ${loadavg().map((l) => l.toFixed(1)).join(" ")} (on ${availableParallelism()} cores; wall times stretch when it exceeds them, CPU times less so)`);
  console.log(`${"quanta".padStart(10)} ${"datasets".padStart(10)} ${"build".padStart(9)} ${"save".padStart(9)} ${"build+save".padStart(11)} ${"(CPU)".padStart(9)} ${"load".padStart(9)} ${"plan file".padStart(10)} ${"peak RSS".padStart(9)}  target (wall)`);
  let failed = false;
  for (const n of sizes) {
    const r = spawnSync(process.execPath, ["--max-old-space-size=4096", new URL(import.meta.url).pathname, "--child", String(n)], { encoding: "utf8" });
    if (r.status !== 0) {
      console.log(`${n}: failed\n${r.stderr}`);
      failed = true;
      continue;
    }
    const m = JSON.parse(r.stdout.trim().split("\n").pop());
    const total = m.buildMs + m.saveMs;
    const limit = limits[n];
    const rssMiB = m.peakRssKbBuildSave / 1024;
    const verdict = limit === undefined ? "" : total < limit && rssMiB < 2048 ? `ok (< ${fmt(limit)}, < 2 GiB)` : `MISSED (< ${fmt(limit)}, < 2 GiB)`;
    console.log(
      `${String(m.quanta).padStart(10)} ${String(m.datasets).padStart(10)} ${fmt(m.buildMs).padStart(9)} ${fmt(m.saveMs).padStart(9)} ${fmt(total).padStart(11)} ${fmt(m.buildCpuMs + m.saveCpuMs).padStart(9)} ${fmt(m.loadMs).padStart(9)} ${`${(m.fileBytes / 1048576).toFixed(1)} MiB`.padStart(10)} ${`${rssMiB.toFixed(0)} MiB`.padStart(9)}  ${verdict}`,
    );
  }
  console.log("(CPU: user + system time of build and save, GC threads included; peak RSS: maxRSS after build and save)");
  process.exitCode = failed ? 1 : 0; // a missed target is printed, not failed: timings depend on the machine's load
}

const argv = process.argv.slice(2);
if (argv[0] === "--child") await runChild(Number(argv[1]));
else runParent(argv.includes("--quick"));
