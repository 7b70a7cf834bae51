#!/usr/bin/env node
/**
 * Trivial TypeScript tasks, in process (issue 5): the chain workload of bench/peers.js written as
 * `defineTask` modules (upper -> reverse -> count per item, then one sum over all items), run by
 * `quanta run -j 1` (the in-process executor).
 *
 * Prints, for each N: the cold run's wall time and quanta per second (over the whole command, and
 * over the run phase alone, from the `run-finished` event's duration), and the no-op rerun's wall
 * time, next to the targets (>= 20,000 quanta/s in process; no-op of 100,000 quanta under 1 s).
 *
 * Usage: node bench/ts-tasks.js [--quick] [--big] [--n 10000] [--reps R] [--keep]
 *   default N = 10,000 chains (30,001 quanta); --big adds N = 33,333 (100,000 quanta) for the no-op
 *   target; --quick runs N = 500.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { QUANTA_BIN, timeProcess, median, formatMs, formatRss, markdownTable, parseArgs, writeResults } from "./lib/measure.js";

const args = parseArgs(process.argv.slice(2));
const quick = Boolean(args.quick);
const reps = Number(args.reps ?? (quick ? 1 : 3));
const sizes = args.n
  ? String(args.n).split(",").map((s) => Number(s.replace(/_/g, "")))
  : quick
    ? [500]
    : args.big
      ? [10_000, 33_333]
      : [10_000];
const TARGET_QPS = 20_000;
const TARGET_NOOP_MS_PER_100K = 1000;

const TASKS = {
  "upper.ts": `import { defineTask } from "quanta";

export default defineTask({
  name: "upper",
  dimensions: ["item"],
  inputs: { raw: { type: "raw", dimensions: ["item"], storage: "text" } },
  outputs: { upper: { type: "upper", dimensions: ["item"], storage: "text" } },
  run({ raw }) {
    return { upper: raw.toUpperCase() };
  },
});
`,
  "reverse.ts": `import { defineTask } from "quanta";

export default defineTask({
  name: "reverse",
  dimensions: ["item"],
  inputs: { upper: { type: "upper", dimensions: ["item"], storage: "text" } },
  outputs: { reversed: { type: "reversed", dimensions: ["item"], storage: "text" } },
  run({ upper }) {
    return { reversed: [...upper].reverse().join("") };
  },
});
`,
  "count.ts": `import { defineTask } from "quanta";

export default defineTask({
  name: "count",
  dimensions: ["item"],
  inputs: { reversed: { type: "reversed", dimensions: ["item"], storage: "text" } },
  outputs: { length: { type: "length", dimensions: ["item"], storage: "json" } },
  run({ reversed }) {
    return { length: reversed.length };
  },
});
`,
  "sum.ts": `import { defineTask, z } from "quanta";

export default defineTask({
  name: "sum",
  dimensions: [],
  config: z.object({ label: z.string().default("total") }),
  inputs: { lengths: { type: "length", dimensions: ["item"], storage: "json", multiple: true } },
  outputs: { total: { type: "total", dimensions: [], storage: "json" } },
  run({ lengths }, config) {
    let sum = 0;
    for (const l of lengths) sum += l.value;
    return { total: { [config.label]: sum, items: lengths.length } };
  },
});
`,
};

const PIPELINE = `description: N chains of three trivial TypeScript tasks plus one gather (bench/ts-tasks.js).
dimensions:
  item: int
inputs:
  raw: { path: "in/{item}.txt", storage: text }
tasks:
  upper: { task: ./tasks/upper.ts }
  reverse: { task: ./tasks/reverse.ts }
  count: { task: ./tasks/count.ts }
  sum: { task: ./tasks/sum.ts }
`;

function writeWorkspace(dir, n) {
  mkdirSync(join(dir, "tasks"), { recursive: true });
  mkdirSync(join(dir, "in"), { recursive: true });
  for (const [name, text] of Object.entries(TASKS)) writeFileSync(join(dir, "tasks", name), text);
  writeFileSync(join(dir, "chains.yaml"), PIPELINE);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, "in", `${i}.txt`), `chain ${i}: the quick brown fox\n`);
}

async function runQuanta(dir) {
  const events = {};
  const tail = [];
  const r = await timeProcess(process.execPath, [QUANTA_BIN, "run", "chains.yaml", "--repo", "repo", "-j", "1", "--json"], {
    cwd: dir,
    onLine(line) {
      if (line.startsWith("{")) {
        for (const name of ["ingest-finished", "graph-built", "run-finished"]) {
          if (line.includes(`"${name}"`)) events[name] = JSON.parse(line);
        }
      } else {
        tail.push(line);
        if (tail.length > 10) tail.shift();
      }
    },
  });
  return { ...r, events, tail };
}

async function measure(n, root) {
  const dir = join(root, `n${n}`);
  writeWorkspace(dir, n);
  const quanta = 3 * n + 1;
  const cold = await runQuanta(dir);
  const fin = cold.events["run-finished"];
  if (cold.code !== 0 || !fin) {
    console.log(`  N=${n}: cold run failed (exit ${cold.code})\n    ${cold.tail.join("\n    ")}`);
    return { n, quanta, ok: false };
  }
  const noops = [];
  for (let r = 0; r < reps; r++) noops.push(await runQuanta(dir));
  const noopFin = noops[noops.length - 1].events["run-finished"];
  const result = {
    n,
    quanta,
    ok: true,
    cold: {
      wallMs: cold.wallMs,
      peakRssKb: cold.peakRssKb,
      ran: fin.counts.ran,
      runPhaseMs: fin.durationMs,
      graphMs: cold.events["graph-built"]?.durationMs,
      qpsWall: quanta / (cold.wallMs / 1000),
      qpsRunPhase: fin.durationMs ? fin.counts.ran / (fin.durationMs / 1000) : undefined,
    },
    noop: {
      wallMs: median(noops.map((x) => x.wallMs)),
      wallMsAll: noops.map((x) => x.wallMs),
      peakRssKb: Math.max(...noops.map((x) => x.peakRssKb ?? 0)) || undefined,
      ran: noopFin?.counts.ran,
      upToDate: noopFin?.counts.upToDate,
      runPhaseMs: noopFin?.durationMs,
      graphMs: noops[noops.length - 1].events["graph-built"]?.durationMs,
    },
  };
  result.noop.msPer100k = (result.noop.wallMs / quanta) * 100_000;
  const c = result.cold;
  console.log(
    `  N=${n} (${quanta} quanta) cold ${formatMs(c.wallMs)}: ${Math.round(c.qpsWall)} quanta/s overall, ` +
      `${c.qpsRunPhase ? Math.round(c.qpsRunPhase) : "–"} quanta/s in the run phase (${formatMs(c.runPhaseMs)}); ` +
      `target >= ${TARGET_QPS}; ran ${c.ran}, rss ${formatRss(c.peakRssKb)}`,
  );
  console.log(
    `  N=${n} no-op ${formatMs(result.noop.wallMs)} (ran ${result.noop.ran}, up to date ${result.noop.upToDate}, run phase ${formatMs(result.noop.runPhaseMs)}) ` +
      `= ${formatMs(result.noop.msPer100k)} per 100,000 quanta; target < 1 s per 100,000`,
  );
  if (c.ran !== quanta) console.log(`  UNEXPECTED: the cold run ran ${c.ran} quanta, expected ${quanta}`);
  if (result.noop.ran !== 0) console.log(`  UNEXPECTED: the no-op run ran ${result.noop.ran} quanta, expected 0`);
  return result;
}

async function main() {
  console.log(`ts-tasks: chains of 3 trivial TypeScript tasks + 1 gather, in process (-j 1), N = ${sizes.join(", ")}, load average ${loadavg()[0].toFixed(1)}`);
  const root = mkdtempSync(join(tmpdir(), "quanta-bench-ts-"));
  const results = [];
  try {
    for (const n of sizes) results.push(await measure(n, root));
  } finally {
    if (args.keep) console.log(`workspaces kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
  const rows = results.map((r) =>
    r.ok
      ? [
          r.n.toLocaleString("en-US"),
          r.quanta.toLocaleString("en-US"),
          formatMs(r.cold.wallMs),
          `${Math.round(r.cold.qpsWall).toLocaleString("en-US")}`,
          r.cold.qpsRunPhase ? Math.round(r.cold.qpsRunPhase).toLocaleString("en-US") : "–",
          `≥ ${TARGET_QPS.toLocaleString("en-US")}`,
          formatMs(r.noop.wallMs),
          formatMs(r.noop.msPer100k),
          `< ${formatMs(TARGET_NOOP_MS_PER_100K)}`,
          `${formatRss(r.cold.peakRssKb)} / ${formatRss(r.noop.peakRssKb)}`,
        ]
      : [r.n.toLocaleString("en-US"), r.quanta.toLocaleString("en-US"), "failed", "", "", "", "", "", "", ""],
  );
  const table = markdownTable(
    ["chains", "quanta", "cold", "quanta/s (whole run)", "quanta/s (run phase)", "target", "no-op", "no-op per 100k quanta", "target", "peak RSS cold / no-op"],
    rows,
  );
  console.log(`\n${table}\n`);
  const md = `# Trivial TypeScript tasks in process (${new Date().toISOString()})\n\n${table}\n`;
  const files = writeResults("ts-tasks", md, { date: new Date().toISOString(), reps, results });
  console.log(`results: ${files.md}`);
}

await main();
