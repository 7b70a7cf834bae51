/**
 * Fault injection: the CLI killed with SIGKILL at 20 random moments of runs on one repository (during
 * start-up, ingest, graph building, running and committing), each kill followed by `quanta verify`;
 * then a full run whose outputs must equal an uninterrupted run's, and a run that does nothing.
 *
 * Between kills some input files are rewritten (to their own or to another content), so that every run
 * has work to be killed in, whatever the previous runs finished; the final run has every input back
 * as the uninterrupted run saw it. The moments come from a seeded generator: the seed is printed, and
 * `QUANTA_FAULT_SEED=<seed>` replays the same kills.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, QUANTA_BIN, runCli } from "../helpers/cli.js";
import { seeded } from "../helpers/seeded-random.js";

const ITEMS = 50; // 2 × 50 + 1 = 101 quanta
const KILLS = 20;
/** Inputs rewritten before each run. */
const EDITS = 20;
const RUN_ARGS = ["run", "cmdchain.yaml", "--repo", "repo", "--json", "-j", "2"];

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const sourceText = (item: number, variant: number) => (variant === 0 ? `line ${item} of the source\n` : `line ${item}, variant ${variant}\n`);

function makeFixture(): string {
  const { dir, cleanup } = makeTempDir("quanta-faults-");
  cleanups.push(cleanup);
  cpSync(join(PROJECT_ROOT, "test", "fixtures", "cmdchain"), dir, { recursive: true });
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= ITEMS; i++) writeSource(dir, i, 0);
  return dir;
}

function writeSource(dir: string, item: number, variant: number): void {
  writeFileSync(join(dir, "data", `src-${item}.txt`), sourceText(item, variant));
}

interface KilledRun {
  killed: boolean;
  code: number | null;
  stderr: string;
  /** How far the run had got, from its events: `start-up or ingest`, `graph`, `run (12 quanta settled)`. */
  phase: string;
}

/** Starts `quanta run` and sends SIGKILL after `delayMs` (unless it ended first). */
function runAndKill(dir: string, delayMs: number): Promise<KilledRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [QUANTA_BIN, ...RUN_ARGS], {
      cwd: dir,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ killed: signal === "SIGKILL", code, stderr, phase: describePhase(stdout) });
    });
  });
}

function describePhase(stdout: string): string {
  const settled = stdout.match(/"event":"quantum-(finished|up-to-date|failed|blocked)"/g)?.length ?? 0;
  if (stdout.includes('"event":"run-finished"')) return "finished";
  if (stdout.includes('"event":"run-started"')) return `run (${settled} quanta reported)`;
  if (stdout.includes('"event":"ingest-finished"')) return "graph";
  return "start-up or ingest";
}

/** Every dataset of the collection as `type dataId digest`, sorted. */
async function listDatasets(dir: string): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", "repo", "--collection", "cmdchain", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; dataId: unknown; digest: string })
    .map((d) => `${d.type} ${JSON.stringify(d.dataId)} ${d.digest}`)
    .sort();
}

async function runToEnd(dir: string): Promise<{ ran: number; upToDate: number; failed: number }> {
  const r = await runCli(RUN_ARGS, { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const last = JSON.parse(r.stdout.trim().split("\n").pop()!) as { event: string; counts: { ran: number; upToDate: number; failed: number } };
  expect(last.event).toBe("run-finished");
  return last.counts;
}

describe("14 fault injection: 20 random kills", () => {
  it("after each kill verify is clean; the resumed run's outputs equal an uninterrupted run's; then nothing runs", async () => {
    const seed = Number(process.env.QUANTA_FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
    console.log(`fault injection seed ${seed} (replay: QUANTA_FAULT_SEED=${seed})`);
    const random = seeded(seed);

    // The uninterrupted run, in a directory of its own.
    const reference = makeFixture();
    expect(await runToEnd(reference)).toMatchObject({ ran: 2 * ITEMS + 1 });
    const expected = await listDatasets(reference);
    // How long a run after a few edits takes there (start-up included) sets the range of the kills'
    // moments, so that they spread over start-up, ingest, graph and run on a fast machine as on a busy
    // one: the runs between kills are such runs, or longer ones (the first, which runs everything; one
    // that redoes what a kill stopped). Three quarters of the first run's time, as this test once took,
    // let half the kills come after the run had ended once a run that decides only what its edits
    // reach took a fraction of it.
    // The shorter of two such runs: one stall of a busy machine in a single one would put half the
    // kills after the end of the runs they were meant for.
    let latestKillMs = Infinity;
    for (let sample = 0; sample < 2; sample++) {
      for (let k = 0; k < EDITS; k++) writeSource(reference, 1 + Math.floor(random() * ITEMS), 1 + Math.floor(random() * 2));
      const started = Date.now();
      await runToEnd(reference);
      latestKillMs = Math.min(latestKillMs, Date.now() - started);
    }

    const dir = makeFixture();
    const log: string[] = [];
    for (let kill = 1; kill <= KILLS; kill++) {
      // Some inputs change (or change back), so that this run has work whatever the last one finished.
      for (let k = 0; k < EDITS; k++) writeSource(dir, 1 + Math.floor(random() * ITEMS), Math.floor(random() * 3));
      const delayMs = Math.floor(random() * latestKillMs);
      const run = await runAndKill(dir, delayMs);
      log.push(`kill ${kill} at ${delayMs} ms: ${run.killed ? "killed" : `ended first (exit ${run.code})`} in ${run.phase}`);
      const context = `seed ${seed}\n${log.join("\n")}\n${run.stderr}`;
      if (!run.killed) expect(run.code, context).toBe(0);
      const verify = await runCli(["verify", "--repo", "repo"], { cwd: dir });
      // Killed before it made the repository: there is nothing to verify, and verify says so.
      const none = verify.code === 3 && verify.stderr.startsWith("error: no repository at repo\n");
      // Inputs are held by reference (the default): one rewritten since the last ingest is reported
      // changed, which is no damage to the repository; every other problem is.
      const problems = verify.stderr.split("\n").filter((l) => /^(missing|corrupt|changed): /.test(l));
      const onlyEdited = problems.length > 0 && problems.every((l) => /^changed: raw file .*\/data\/src-\d+\.txt /.test(l));
      if (!none && !onlyEdited) expect(verify.code, `${context}\nverify: ${verify.stdout}${verify.stderr}`).toBe(0);
    }
    console.log(`kills spread over 0–${latestKillMs} ms\n${log.join("\n")}`);
    expect(log.filter((l) => l.includes(": killed")).length, log.join("\n")).toBeGreaterThanOrEqual(KILLS / 2);

    // Every input back as the uninterrupted run saw it: the resumed run ends with the same outputs.
    for (let i = 1; i <= ITEMS; i++) writeSource(dir, i, 0);
    const resumed = await runToEnd(dir);
    expect(resumed.ran + resumed.upToDate, `seed ${seed}`).toBe(2 * ITEMS + 1);
    const outputs = await listDatasets(dir);
    expect(outputs, `seed ${seed}`).toEqual(expected);
    expect(outputs.filter((l) => l.startsWith("book "))).toHaveLength(1);
    const verify = await runCli(["verify", "--repo", "repo"], { cwd: dir });
    expect(verify.code, `seed ${seed}: ${verify.stdout}${verify.stderr}`).toBe(0);

    // And a following run is a no-op.
    expect(await runToEnd(dir), `seed ${seed}`).toEqual({ ran: 0, upToDate: 2 * ITEMS + 1, failed: 0, blocked: 0, noWork: 0 });
  }, 180_000);
});
