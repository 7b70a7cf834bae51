#!/usr/bin/env node
/**
 * The chain workload against peer tools (issues 5 and 7).
 *
 * N independent chains of three trivial shell steps, plus one gather over every chain's end:
 *
 *     in/<i>.txt  --step1: tr a-z A-Z < in > out-->  s1/<i>.txt
 *                 --step2: rev < in > out       -->  s2/<i>.txt
 *                 --step3: wc -c < in > out     -->  s3/<i>.txt
 *     s3/*.txt    --gather: xargs cat < LIST > out -->  all.txt
 *
 * The same commands run under quanta (command tasks; LIST is `{inputs.ends.paths}`), GNU make
 * (pattern rules; LIST is a file written next to the Makefile), ninja (LIST is its response file)
 * and Snakemake (LIST as for make), each in its own copy of the inputs, with `-j <cores>`.
 *
 * Scenarios, in this order on the same workspace:
 *   cold     first build from nothing (quanta: empty repository)
 *   no-op    nothing changed (median of --reps runs)
 *   change   one input's content changed: exactly one chain and the gather must rerun (4 steps)
 *   touch    one input's mtime changed, content not: make and ninja rerun its chain and the gather;
 *            a content-hashing tool reruns nothing
 * Each step count is read from the tool's own output and checked against what is expected.
 *
 * Usage: node bench/peers.js [--quick] [--big] [--n 1000,10000] [--tools quanta,make,ninja,snakemake]
 *                            [--jobs J] [--reps R] [--timeout SECONDS] [--keep]
 *   default N = 1,000 and 10,000; --big adds 100,000; --quick runs N = 200 only, 1 rep.
 * Installs nothing: peers that are not on PATH are reported and skipped.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, appendFileSync } from "node:fs";
import { availableParallelism, tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import {
  QUANTA_BIN,
  HAS_GNU_TIME,
  findTool,
  toolVersion,
  timeProcess,
  median,
  formatMs,
  formatRss,
  parseArgs,
  writeResults,
} from "./lib/measure.js";
import { SCENARIOS, peersTable as tableFor } from "./lib/peers-table.js";
import { STEP_COMMANDS, gatherCommand, writeInputs, endsOf, writeQuantaPipeline, writeNinjaFile } from "./lib/chain-workload.js";

const args = parseArgs(process.argv.slice(2));
const quick = Boolean(args.quick);
const jobs = Number(args.jobs ?? availableParallelism());
const reps = Number(args.reps ?? (quick ? 1 : 3));
const timeoutMs = Number(args.timeout ?? 1800) * 1000;
const sizes = args.n
  ? String(args.n).split(",").map((s) => Number(s.replace(/_/g, "")))
  : quick
    ? [200]
    : args.big
      ? [1_000, 10_000, 100_000]
      : [1_000, 10_000];
const wantedTools = args.tools ? String(args.tools).split(",") : ["quanta", "make", "ninja", "snakemake"];


// ---------------------------------------------------------------------------------------------
// The workload, written for each tool

const TOOLS = {
  quanta: {
    available: () => true,
    version: () => `quanta ${JSON.parse(readFileSync(join(QUANTA_BIN, "..", "..", "package.json"), "utf8")).version} (node ${process.version}, ${QUANTA_BIN})`,
    write: (dir) => writeQuantaPipeline(dir),
    command: () => [process.execPath, [QUANTA_BIN, "run", "chains.yaml", "--repo", "repo", "-j", String(jobs), "--json"]],
    /** Keeps the last `run-finished` event; `ran` comes from its counts. */
    counter() {
      let finished;
      const tail = [];
      return {
        tail,
        onLine(line) {
          if (!line.startsWith("{")) {
            tail.push(line);
            if (tail.length > 20) tail.shift();
          }
          if (line.startsWith("{") && line.includes('"run-finished"')) {
            try {
              finished = JSON.parse(line);
            } catch {
              /* not an event line */
            }
          }
        },
        ran: () => finished?.counts?.ran,
        detail: () => (finished ? { counts: finished.counts, durationMs: finished.durationMs } : undefined),
      };
    },
  },

  make: {
    available: () => findTool("make"),
    version: () => toolVersion("make"),
    write(dir, n) {
      writeFileSync(join(dir, "ends.list"), `${endsOf(n).join("\n")}\n`);
      const mk = [
        "# N chains of three trivial shell steps plus one gather (bench/peers.js).",
        ".SUFFIXES:",
        "ENDS := $(shell cat ends.list)",
        "all: out/all.txt",
        "out/all.txt: $(ENDS)",
        `\t${gatherCommand("ends.list", "$@")}`,
        "out/s1/%.txt: in/%.txt",
        `\t${STEP_COMMANDS.step1("$<", "$@")}`,
        "out/s2/%.txt: out/s1/%.txt",
        `\t${STEP_COMMANDS.step2("$<", "$@")}`,
        "out/s3/%.txt: out/s2/%.txt",
        `\t${STEP_COMMANDS.step3("$<", "$@")}`,
        // Keep the intermediate files: make would otherwise delete s1 and s2 and rebuild them.
        ".SECONDARY:",
      ];
      writeFileSync(join(dir, "Makefile"), `${mk.join("\n")}\n`);
    },
    command: () => ["make", [`-j${jobs}`, "-r"]],
    counter: () => lineCounter(/^(tr a-z A-Z|rev <|wc -c|xargs cat) /),
  },

  ninja: {
    available: () => findTool("ninja"),
    version: () => `ninja ${toolVersion("ninja")}`,
    write: (dir, n) => writeNinjaFile(dir, n),
    command: () => ["ninja", [`-j${jobs}`]],
    counter: () => lineCounter(/^\[\d+\/\d+\] /),
  },

  snakemake: {
    available: () => findTool("snakemake"),
    version: () => `snakemake ${toolVersion("snakemake")}`,
    write(dir, n) {
      writeFileSync(join(dir, "ends.list"), `${endsOf(n).join("\n")}\n`);
      const rule = (name, from, to, cmd) => [
        `rule ${name}:`,
        `    input: "${from}"`,
        `    output: "${to}"`,
        `    shell: "${cmd}"`,
      ];
      const sf = [
        "# N chains of three trivial shell steps plus one gather (bench/peers.js).",
        `N = ${n}`,
        "rule all:",
        '    input: "out/all.txt"',
        "rule gather:",
        '    input: expand("out/s3/{i}.txt", i=range(N))',
        '    output: "out/all.txt"',
        `    shell: "${gatherCommand("ends.list", "{output}")}"`,
        ...rule("step1", "in/{i}.txt", "out/s1/{i}.txt", STEP_COMMANDS.step1("{input}", "{output}")),
        ...rule("step2", "out/s1/{i}.txt", "out/s2/{i}.txt", STEP_COMMANDS.step2("{input}", "{output}")),
        ...rule("step3", "out/s2/{i}.txt", "out/s3/{i}.txt", STEP_COMMANDS.step3("{input}", "{output}")),
      ];
      writeFileSync(join(dir, "Snakefile"), `${sf.join("\n")}\n`);
    },
    command: () => ["snakemake", [`-c${jobs}`]],
    counter: () => lineCounter(/^\s*(local)?rule (step1|step2|step3|gather):/),
  },
};

/** Counts the output lines that announce one executed step. */
function lineCounter(pattern) {
  let count = 0;
  const tail = [];
  return {
    onLine(line) {
      if (pattern.test(line)) count++;
      tail.push(line);
      if (tail.length > 20) tail.shift();
    },
    ran: () => count,
    detail: () => undefined,
    tail,
  };
}

function expectedRan(tool, scenario, n) {
  switch (scenario) {
    case "cold":
      return 3 * n + 1;
    case "no-op":
      return 0;
    case "change":
      return 4;
    case "touch":
      // make, ninja: mtime-based, they rerun the chain and the gather; quanta: content hashes.
      return tool === "quanta" ? 0 : tool === "snakemake" ? undefined : 4;
    default:
      throw new Error(`internal error: unknown scenario ${scenario}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Running

async function runOnce(toolName, dir) {
  const tool = TOOLS[toolName];
  const counter = tool.counter();
  const [cmd, argv] = tool.command();
  const r = await timeProcess(cmd, argv, { cwd: dir, onLine: (l) => counter.onLine(l), timeoutMs });
  return { ...r, ran: counter.ran(), detail: counter.detail(), tail: counter.tail ?? [] };
}

async function measureTool(toolName, n, root) {
  const dir = join(root, toolName);
  mkdirSync(dir, { recursive: true });
  writeInputs(dir, n);
  TOOLS[toolName].write(dir, n);
  const results = {};
  let item = 0;
  const pick = () => (item = (item * 7919 + 17) % n);
  for (const scenario of SCENARIOS) {
    const runs = [];
    const count = scenario === "cold" ? 1 : reps;
    for (let r = 0; r < count; r++) {
      if (scenario === "change") {
        appendFileSync(join(dir, "in", `${pick()}.txt`), "one more line\n");
      } else if (scenario === "touch") {
        const now = new Date();
        utimesSync(join(dir, "in", `${pick()}.txt`), now, now);
      }
      const run = await runOnce(toolName, dir);
      runs.push(run);
      if (run.code !== 0 || run.timedOut) break;
    }
    const ok = runs.every((r) => r.code === 0 && !r.timedOut);
    const wallMs = median(runs.map((r) => r.wallMs));
    const rss = runs.map((r) => r.peakRssKb).filter((x) => x !== undefined);
    const ranValues = [...new Set(runs.map((r) => r.ran))];
    const expected = expectedRan(toolName, scenario, n);
    const ran = ranValues.length === 1 ? ranValues[0] : ranValues.join("/");
    const unexpected = expected !== undefined && !(ranValues.length === 1 && ranValues[0] === expected);
    results[scenario] = {
      ok,
      timedOut: runs.some((r) => r.timedOut),
      wallMs,
      wallMsAll: runs.map((r) => r.wallMs),
      peakRssKb: rss.length ? Math.max(...rss) : undefined,
      ran,
      expected,
      unexpected,
      detail: runs[runs.length - 1].detail,
    };
    const flag = !ok ? (results[scenario].timedOut ? "  TIMED OUT" : `  FAILED (exit ${runs[runs.length - 1].code})`) : unexpected ? `  UNEXPECTED: expected ${expected} steps` : "";
    console.log(`  ${toolName.padEnd(9)} N=${String(n).padEnd(6)} ${scenario.padEnd(6)} ${formatMs(wallMs).padStart(9)}  ran ${String(ran).padStart(6)}  rss ${formatRss(results[scenario].peakRssKb).padStart(6)}${flag}`);
    if (!ok) {
      const tail = runs[runs.length - 1].tail;
      if (tail.length) console.log(`    last output:\n      ${tail.slice(-8).join("\n      ")}`);
      break;
    }
  }
  results.output = gatheredOutputDigest(toolName, dir);
  return results;
}

/** sha256 of the gather's output after the last scenario (the same edits were made in every workspace). */
function gatheredOutputDigest(toolName, dir) {
  const bytes =
    toolName === "quanta"
      ? spawnSync(process.execPath, [QUANTA_BIN, "get", "all", "--repo", "repo"], { cwd: dir, maxBuffer: 1 << 30 }).stdout
      : existsSync(join(dir, "out", "all.txt"))
        ? readFileSync(join(dir, "out", "all.txt"))
        : undefined;
  return bytes && bytes.length ? createHash("sha256").update(bytes).digest("hex").slice(0, 16) : undefined;
}

async function main() {
  const found = [];
  const missing = [];
  for (const t of wantedTools) {
    if (!TOOLS[t]) throw new Error(`unknown tool ${t}; expected one of ${Object.keys(TOOLS).join(", ")}`);
    (TOOLS[t].available() ? found : missing).push(t);
  }
  const versions = Object.fromEntries(found.map((t) => [t, TOOLS[t].version()]));
  console.log(`peers: chains of 3 shell steps + 1 gather, -j ${jobs}, N = ${sizes.join(", ")}, ${reps} rep(s) for warm scenarios`);
  console.log(`found: ${found.map((t) => `${t} (${versions[t]})`).join(", ")}`);
  if (missing.length) console.log(`not installed, skipped: ${missing.join(", ")}`);
  if (!HAS_GNU_TIME) console.log("GNU time not found at /usr/bin/time: peak RSS is not measured");
  if (!args.big && !args.n && !quick) console.log("N = 100,000 is opt-in (--big): expect several minutes per tool for the cold build, much more for snakemake");

  const loadBefore = loadavg()[0].toFixed(1);
  console.log(`load average before: ${loadBefore} (on ${availableParallelism()} cores; anything else running skews the cold builds)`);
  const root = mkdtempSync(join(tmpdir(), "quanta-bench-peers-"));
  const all = {};
  const tables = [];
  try {
    for (const n of sizes) {
      const byTool = {};
      for (const t of found) {
        const nRoot = join(root, `n${n}`);
        // Workspaces are removed at the end, not between tools: deleting tens of thousands of files
        // slows the file creations that follow (ext4 then skips recently freed inodes one by one),
        // which would weigh on the next tool's cold build only.
        byTool[t] = await measureTool(t, n, nRoot);
      }
      all[n] = byTool;
      const table = tableFor(n, byTool, found);
      tables.push(table);
      console.log(`\n${table}`);
    }
  } finally {
    if (args.keep) console.log(`workspaces kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }

  const unexpected = [];
  for (const [n, byTool] of Object.entries(all)) {
    for (const [t, res] of Object.entries(byTool)) {
      for (const [s, r] of Object.entries(res)) if (r.unexpected) unexpected.push(`${t} N=${n} ${s}: ran ${r.ran}, expected ${r.expected}`);
    }
  }
  if (unexpected.length) console.log(`unexpected step counts:\n  ${unexpected.join("\n  ")}`);
  const outputChecks = Object.entries(all).map(([n, byTool]) => {
    const digests = Object.entries(byTool).map(([t, res]) => `${t} ${res.output ?? "none"}`);
    const same = new Set(Object.values(byTool).map((res) => res.output)).size === 1;
    return `N=${n}: gather outputs ${same ? "identical" : "DIFFER"} (${digests.join(", ")})`;
  });
  for (const line of outputChecks) console.log(line);

  const cpu = cpus()[0]?.model ?? "unknown CPU";
  const md = [
    `# Chain workload: quanta vs peers (${new Date().toISOString()})`,
    "",
    `Machine: ${cpu}, ${availableParallelism()} cores, load average ${loadBefore} before and ${loadavg()[0].toFixed(1)} after; all tools with -j ${jobs}. Tools: ${found.map((t) => versions[t]).join("; ")}.${missing.length ? ` Not installed: ${missing.join(", ")}.` : ""}`,
    "",
    "Each cell: wall time (steps the tool ran, peak RSS of the largest process). Warm scenarios are the median of",
    `${reps} run(s). ⚠ marks a step count other than expected (cold 3N+1, no-op 0, change 4, touch: 0 for quanta, 4 for make/ninja).`,
    "",
    ...tables,
    ...outputChecks.map((l) => `${l}  `),
    "",
    ...(unexpected.length ? ["Unexpected step counts:", "", ...unexpected.map((u) => `- ${u}`), ""] : []),
  ].join("\n");
  const files = writeResults("peers", md, { date: new Date().toISOString(), load: { before: loadBefore, after: loadavg()[0].toFixed(1) }, cpu, cores: availableParallelism(), jobs, reps, versions, missing, results: all });
  console.log(`results: ${files.md}`);
}

await main();
