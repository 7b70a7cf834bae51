#!/usr/bin/env node
/**
 * The Slurm executor on a one-host Slurm (scripts/slurm-one-host.sh, started here when it is not
 * running; needs root and `apt-get install slurm-wlm munge`), side by side with the local pool: the
 * chain workload of bench/peers.js (N chains of three trivial shell steps plus one gather) run
 *   - with the local pool (`-j` cores),
 *   - on Slurm, one job per quantum (`--executor slurm`),
 *   - on Slurm, clustered (`--executor slurm --cluster-size C`: jobs of C quanta, each chain depth first
 *     in one job; C = 3 * ceil(N / (4 * cores)) by default, about four jobs per core),
 * each in a fresh repository. Prints wall time, sbatch calls, jobs, quanta's overhead per quantum
 * (wall time / quanta) and the ratio to the local pool. Not in `npm run bench`'s default list (it
 * needs root and Slurm): run `node bench/slurm.js [--n 1000] [--cluster-size C] [--skip per-quantum]`.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { writeInputs, writeQuantaPipeline } from "./lib/chain-workload.js";
import { formatMs, formatRatio, markdownTable, parseArgs, PROJECT_ROOT, QUANTA_BIN, timeProcess, writeResults } from "./lib/measure.js";

const args = parseArgs(process.argv.slice(2));
const n = Number(args.n ?? (args.quick ? 100 : 1000));
const cores = availableParallelism();
// Clustered: chains depth first, about four jobs per core.
const clusterSize = Number(args["cluster-size"] ?? 3 * Math.ceil(n / (4 * cores)));
const skip = new Set(typeof args.skip === "string" ? args.skip.split(",") : []);
const scratch = process.env.QUANTA_BENCH_SLURM_DIR ?? "/tmp/quanta-bench-slurm";

function ensureSlurm() {
  const script = join(PROJECT_ROOT, "scripts", "slurm-one-host.sh");
  const running = (() => {
    try {
      execFileSync(script, ["status", process.env.QUANTA_TEST_SLURM_DIR ?? "/tmp/quanta-test-slurm"], { stdio: "ignore" });
      return process.env.QUANTA_TEST_SLURM_DIR ?? "/tmp/quanta-test-slurm";
    } catch {
      return undefined;
    }
  })();
  const dir = running ?? scratch;
  if (!running) execFileSync(script, ["start", dir], { stdio: "inherit" });
  process.env.SLURM_CONF = join(dir, "slurm.conf");
}

async function runScenario(name, flags) {
  const dir = mkdtempSync(join(tmpdir(), `quanta-bench-slurm-${name.replace(/\W+/g, "-")}-`));
  try {
    writeInputs(dir, n);
    writeQuantaPipeline(dir);
    let finished;
    const r = await timeProcess(process.execPath, [QUANTA_BIN, "run", "chains.yaml", "--repo", "repo", "--json", ...flags], {
      cwd: dir,
      onLine: (line) => {
        if (line.includes('"run-finished"')) finished = JSON.parse(line);
      },
    });
    const quanta = 3 * n + 1;
    const result = { name, flags: flags.join(" "), code: r.code, wallMs: r.wallMs, quanta, sbatchCalls: finished?.slurm?.sbatchCalls ?? 0, jobs: finished?.slurm?.jobs ?? 0, ran: finished?.counts?.ran ?? 0 };
    console.log(`  ${name.padEnd(20)} ${formatMs(r.wallMs).padStart(9)}  ran ${String(result.ran).padStart(5)}  sbatch ${String(result.sbatchCalls).padStart(4)}  jobs ${String(result.jobs).padStart(5)}  ${(r.wallMs / quanta).toFixed(1)} ms/quantum${r.code === 0 ? "" : `  FAILED (exit ${r.code})`}`);
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

ensureSlurm();
console.log(`slurm: the chain workload at N=${n} (${3 * n + 1} quanta), ${cores} cores, clusters of ${clusterSize}`);
const results = [];
results.push(await runScenario("local pool", ["-j", String(cores)]));
if (!skip.has("per-quantum")) results.push(await runScenario("slurm per quantum", ["--executor", "slurm"]));
results.push(await runScenario("slurm clustered", ["--executor", "slurm", "--cluster-size", String(clusterSize)]));
const local = results[0].wallMs;
const md = markdownTable(
  ["scenario", "wall", "vs local pool", "sbatch calls", "jobs", "ms per quantum"],
  results.map((r) => [r.name, formatMs(r.wallMs), formatRatio(r.wallMs, local), String(r.sbatchCalls), String(r.jobs), (r.wallMs / r.quanta).toFixed(1)]),
);
console.log(md);
const files = writeResults("slurm", md, { date: new Date().toISOString(), n, cores, clusterSize, results });
console.log(`results: ${files.md}`);
