#!/usr/bin/env node
/**
 * The development loop (issue 16): how long `quanta watch` takes from writing a changed input to the
 * end of the pass it causes, beside ninja's rebuild of the same change on the same workload (what a
 * ninja user with a file watcher gets), on the chain workload of bench/peers.js.
 *
 * Scenarios, each repeated --reps times, quanta and ninja in turn:
 *   change  one input's content changed: its chain (3 steps) and the gather run
 *   new     one new input file: its chain and the gather run
 * For quanta, "latency" is from just before the write to the `run-finished` of the pass (its `time`,
 * the same clock), with --debounce 10; "own" is that latency minus the durations of the quanta that
 * ran (the commands' own time, as quanta measured them). Also printed: the watch process's peak memory.
 *
 * Then `quanta status` of the watch's plan, answered by the watch from memory: the answer over its
 * socket ("own" in the table), and the whole command with Node's start.
 *
 * Usage: node bench/watch.js [--quick] [--big] [--n 10000] [--jobs J] [--reps R]
 *   default N = 10,000; --big adds 100,000; --quick runs N = 500, 1 rep.
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { QUANTA_BIN, findTool, formatMs, median, parseArgs, writeResults } from "./lib/measure.js";
import { inputText, writeInputs, writeNinjaFile, writeQuantaPipeline } from "./lib/chain-workload.js";

const args = parseArgs(process.argv.slice(2));
const quick = Boolean(args.quick);
const jobs = Number(args.jobs ?? availableParallelism());
const reps = Number(args.reps ?? (quick ? 1 : 5));
const sizes = args.n ? String(args.n).split(",").map(Number) : quick ? [500] : args.big ? [10_000, 100_000] : [10_000];
const DEBOUNCE_MS = 10;

/** A running `quanta watch`: its events as they come, and a way to wait for one. */
class Watch {
  constructor(dir) {
    this.events = [];
    this.child = spawn(process.execPath, [QUANTA_BIN, "watch", "chains.yaml", "--repo", "repo", "--json", "-j", String(jobs), "--debounce", String(DEBOUNCE_MS)], {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
    });
    let rest = "";
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk) => {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop();
      for (const line of lines) if (line.startsWith("{")) this.events.push(JSON.parse(line));
    });
  }

  /** Waits for the next `watch-waiting` after event index `from`; the events of that pass. */
  async passAfter(from) {
    for (;;) {
      const end = this.events.findIndex((e, i) => i >= from && e.event === "watch-waiting");
      if (end >= 0) return this.events.slice(from, end + 1);
      if (this.child.exitCode !== null) throw new Error(`quanta watch exited with ${this.child.exitCode}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Peak resident memory of the watch process so far (VmHWM), in kB. */
  peakRssKb() {
    const status = readFileSync(`/proc/${this.child.pid}/status`, "utf8");
    return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
  }

  async stop() {
    this.child.kill("SIGINT");
    if (this.child.exitCode === null) await new Promise((r) => this.child.once("exit", r));
  }
}

/** One scenario under watch: the edit, then the pass's latency, its quanta's own time, and what ran. */
async function measureQuanta(watch, edit) {
  const from = watch.events.length;
  const started = Date.now();
  edit();
  const pass = await watch.passAfter(from);
  const finished = pass.findLast((e) => e.event === "run-finished");
  const commandsMs = pass.filter((e) => e.event === "quantum-finished").reduce((sum, e) => sum + e.durationMs, 0);
  return { latencyMs: finished.time - started, ownMs: finished.time - started - commandsMs, ran: finished.counts.ran };
}

function measureNinja(dir, edit) {
  edit();
  const started = process.hrtime.bigint();
  const r = spawnSync("ninja", [`-j${jobs}`], { cwd: dir, encoding: "utf8", maxBuffer: 1 << 28 });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`ninja failed: ${r.stderr}`);
  const ran = r.stdout.split("\n").filter((l) => /^\[\d+\/\d+\] /.test(l)).length;
  return { latencyMs: wallMs, ran };
}

/**
 * `quanta status` of the watch's own plan while it is idle: the answer from the watch's memory, timed
 * over its socket (through the checkout's own client module), and the whole command as a user runs it.
 */
async function measureStatus(dir) {
  const client = join(dirname(QUANTA_BIN), "..", "dist", "app", "connect-server.js");
  if (!existsSync(client)) return undefined;
  const { connectServer } = await import(pathToFileURL(client).href);
  // The plan as the CLI names it (readPlanFlags), so that the watch knows it as its own.
  const request = { pipelineFile: join(dir, "chains.yaml"), targets: [], flags: { where: undefined, bind: [], tasks: undefined, config: [], output: undefined, params: [], force: [] } };
  const server = [];
  const command = [];
  for (let r = 0; r < reps; r++) {
    const started = process.hrtime.bigint();
    const conn = await connectServer(join(dir, "repo"));
    const events = await conn?.status(request);
    if (events !== undefined) server.push(Number(process.hrtime.bigint() - started) / 1e6);
    const cmdStarted = process.hrtime.bigint();
    const r2 = spawnSync(process.execPath, [QUANTA_BIN, "status", "chains.yaml", "--repo", "repo"], { cwd: dir, encoding: "utf8" });
    if (r2.status !== 0) throw new Error(`quanta status failed: ${r2.stderr}`);
    command.push(Number(process.hrtime.bigint() - cmdStarted) / 1e6);
  }
  return { serverMs: server.length > 0 ? median(server) : NaN, commandMs: median(command) };
}

async function measureSize(n, root) {
  const qdir = join(root, `quanta-${n}`);
  const ndir = join(root, `ninja-${n}`);
  for (const dir of [qdir, ndir]) {
    mkdirSync(dir, { recursive: true });
    writeInputs(dir, n);
  }
  writeQuantaPipeline(qdir);
  writeNinjaFile(ndir, n);
  const ninja = findTool("ninja");
  if (ninja) spawnSync("ninja", [`-j${jobs}`], { cwd: ndir, stdio: "ignore" });

  const watch = new Watch(qdir);
  const coldStarted = Date.now();
  await watch.passAfter(0);
  console.log(`  N=${n}: cold pass under watch ${formatMs(Date.now() - coldStarted)}`);
  const rows = [];
  let next = n;
  for (const scenario of ["change", "new"]) {
    const q = [];
    const k = [];
    for (let r = 0; r < reps; r++) {
      const item = (r * 7919 + 17) % n;
      const editIn = (dir) => () =>
        scenario === "change" ? appendFileSync(join(dir, "in", `${item}.txt`), "one more line\n") : writeFileSync(join(dir, "in", `${next}.txt`), inputText(next));
      q.push(await measureQuanta(watch, editIn(qdir)));
      if (ninja) {
        if (scenario === "new") writeNinjaFile(ndir, next + 1);
        k.push(measureNinja(ndir, editIn(ndir)));
      }
      if (scenario === "new") next++;
    }
    const row = {
      n,
      scenario,
      quantaMs: median(q.map((x) => x.latencyMs)),
      quantaOwnMs: median(q.map((x) => x.ownMs)),
      quantaRan: [...new Set(q.map((x) => x.ran))].join("/"),
      ninjaMs: ninja ? median(k.map((x) => x.latencyMs)) : undefined,
      ninjaRan: ninja ? [...new Set(k.map((x) => x.ran))].join("/") : undefined,
      all: { quanta: q.map((x) => Math.round(x.latencyMs)), ninja: k.map((x) => Math.round(x.latencyMs)) },
    };
    rows.push(row);
    const ratio = row.ninjaMs ? (row.quantaMs / row.ninjaMs).toFixed(2) : "-";
    console.log(
      `  N=${n} ${scenario.padEnd(6)} quanta ${formatMs(row.quantaMs).padStart(8)} (own ${formatMs(row.quantaOwnMs)}, ran ${row.quantaRan})` +
        `   ninja ${row.ninjaMs === undefined ? "-" : formatMs(row.ninjaMs)} (ran ${row.ninjaRan ?? "-"})   quanta/ninja ${ratio}`,
    );
  }
  const status = await measureStatus(qdir);
  if (status) {
    console.log(`  N=${n}: quanta status answered by the watch: ${formatMs(status.serverMs)} for the answer (connect, ask, read), ${formatMs(status.commandMs)} for the whole command`);
    rows.push({ n, scenario: "status", quantaMs: status.commandMs, quantaOwnMs: status.serverMs });
  }
  const peakRssKb = watch.peakRssKb();
  console.log(`  N=${n}: watch process peak memory ${Math.round(peakRssKb / 1024)} MB`);
  await watch.stop();
  return { rows, peakRssKb };
}

async function main() {
  console.log(`watch: latency from an edit to the end of its pass, -j ${jobs}, ${reps} reps, debounce ${DEBOUNCE_MS} ms, load average ${loadavg()[0].toFixed(1)}`);
  const root = mkdtempSync(join(tmpdir(), "quanta-bench-watch-"));
  const results = [];
  try {
    for (const n of sizes) results.push(await measureSize(n, root));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const table = [
    "| N | scenario | quanta watch | its own part | ninja | quanta/ninja |",
    "|---|---|---|---|---|---|",
    ...results.flatMap((r) =>
      r.rows.map((x) => `| ${x.n} | ${x.scenario} | ${formatMs(x.quantaMs)} | ${formatMs(x.quantaOwnMs)} | ${x.ninjaMs === undefined ? "-" : formatMs(x.ninjaMs)} | ${x.ninjaMs ? (x.quantaMs / x.ninjaMs).toFixed(2) : "-"} |`),
    ),
  ];
  console.log(`\n${table.join("\n")}`);
  writeResults("watch", `${table.join("\n")}\n`, { jobs, reps, debounceMs: DEBOUNCE_MS, results });
}

await main();
