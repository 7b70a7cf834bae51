/**
 * Ctrl-C and SIGTERM through the real CLI, with the quanta-spawn helper and with Node's spawn: the run
 * stops starting quanta, kills the running commands' process groups, commits what finished, releases
 * the lock, says what was stopped and exits with 130; the next run does not redo what finished.
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, QUANTA_BIN, runCli } from "../helpers/cli.js";
import { isDead } from "../exec/process-state.js";
import { checkRunStream } from "../helpers/check-event-stream.js";
import { parseEventLines } from "../helpers/event-schema.js";
import { hasCompiler } from "../exec/spawners.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/**
 * Four items; `first` of items 3 and 4 sleeps for 30 s (with QUANTA_TEST_SLOW=1) in a background
 * process whose pid it writes to $QUANTA_TEST_PIDS/<item>: only the kill of its process group ends it.
 * `second` copies `first`'s output, so items 1 and 2 finish both tasks and items 3 and 4 start neither.
 */
const PIPELINE = `description: slow commands to interrupt
dimensions:
  n: int
inputs:
  src: { path: "data/src-{n}.txt", storage: file }
tasks:
  first:
    command: 'if [ "$QUANTA_TEST_SLOW" = 1 ] && grep -q slow {inputs.src}; then sleep 30 & echo $! > "$QUANTA_TEST_PIDS/{dataId.n}"; wait; fi; cp {inputs.src} {outputs.out}'
    dimensions: [n]
    inputs: { src: { type: src, dimensions: [n], storage: file } }
    outputs: { out: { type: first, dimensions: [n], storage: file } }
  second:
    command: "cp {inputs.in} {outputs.out}"
    dimensions: [n]
    inputs: { in: { type: first, dimensions: [n], storage: file } }
    outputs: { out: { type: second, dimensions: [n], storage: file } }
`;

function makeFixture(): string {
  const { dir, cleanup } = makeTempDir("quanta-interrupt-");
  cleanups.push(cleanup);
  mkdirSync(join(dir, "data"));
  mkdirSync(join(dir, "pids"));
  writeFileSync(join(dir, "p.yaml"), PIPELINE);
  for (const n of [1, 2, 3, 4]) writeFileSync(join(dir, "data", `src-${n}.txt`), n <= 2 ? "fast\n" : "slow\n");
  return dir;
}

interface Interrupted {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** From the signal to the CLI's exit. */
  exitMs: number;
}

/**
 * Runs the pipeline and sends `signal` once `finished` quanta have finished (`--json` events) and both
 * slow commands have written their pids; waits for the CLI to exit.
 */
function runAndInterrupt(dir: string, opts: { signal: NodeJS.Signals; spawner: string; json: boolean; finished: number }): Promise<Interrupted> {
  return new Promise((resolve, reject) => {
    const args = ["run", "p.yaml", "--repo", "repo", "-j", "4", ...(opts.json ? ["--json"] : ["--plain"])];
    const env = { ...process.env, CI: "true", QUANTA_TEST_SLOW: "1", QUANTA_TEST_PIDS: join(dir, "pids"), QUANTA_SPAWNER: opts.spawner };
    const child = spawn(process.execPath, [QUANTA_BIN, ...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let signalledAt = 0;
    const ready = () => stdout.split('"event":"quantum-finished"').length - 1 >= opts.finished && readdirSync(join(dir, "pids")).length === 2;
    // Polls for the pid files (written by the commands, not announced on stdout).
    const poll = setInterval(() => {
      if (signalledAt !== 0 || !ready()) return;
      signalledAt = Date.now();
      child.kill(opts.signal);
    }, 20);
    const deadline = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.resume();
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearInterval(poll);
      clearTimeout(deadline);
      if (signalledAt === 0) reject(new Error(`the run ended before it was interrupted (code ${code}): ${stdout}`));
      else resolve({ code, signal, stdout, exitMs: Date.now() - signalledAt });
    });
  });
}

function slowPids(dir: string): number[] {
  return ["3", "4"].map((n) => Number(readFileSync(join(dir, "pids", n), "utf8")));
}

const spawners: [string, string][] = [
  ...(hasCompiler ? ([["the quanta-spawn helper", "helper"]] as [string, string][]) : []),
  ["Node's spawn", "node"],
];

describe.each(spawners)("14.12 an interrupted run, with %s", (_name, spawner) => {
  it.each(["SIGINT", "SIGTERM"] as const)("%s: stops the commands, commits what finished, releases the lock, exits 130", async (signal) => {
    const dir = makeFixture();
    const run = await runAndInterrupt(dir, { signal, spawner, json: true, finished: 4 });
    expect(run.signal).toBeNull();
    expect(run.code).toBe(130);
    expect(run.exitMs).toBeLessThan(5000);
    const last = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
      event: string;
      exitCode: number;
      counts: { ran: number; failed: number };
      interrupted: { signal: string; stopped: { task: string; dataId: string }[]; notStarted: number };
    };
    expect(last.event).toBe("run-finished");
    expect(last.exitCode).toBe(130);
    expect(last.counts).toMatchObject({ ran: 4, failed: 0 });
    expect(last.interrupted.signal).toBe(signal);
    expect(last.interrupted.stopped.map((q) => `${q.task}@${q.dataId}`).sort()).toEqual(["first@n=3", "first@n=4"]);
    expect(last.interrupted.notStarted).toBe(2);
    // 15.5: every line is an event of the union; the stopped quanta started and never settled, and the
    // tasks left unsettled have no task-finished.
    expect(checkRunStream(parseEventLines(run.stdout))).toEqual(last);
    // The background sleeps of the stopped commands went with their process groups.
    for (const pid of slowPids(dir)) expect(isDead(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(join(dir, "repo", "lock"))).toBe(false);

    // What finished was committed: the next run (not slow) runs only the rest.
    const again = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "4", "--json"], { cwd: dir, env: { QUANTA_SPAWNER: spawner } });
    expect(again.code, again.stderr).toBe(0);
    const counts = checkRunStream(parseEventLines(again.stdout)).counts;
    expect(counts).toMatchObject({ ran: 4, upToDate: 4, failed: 0 });
  });

  it("prints what finished and what was stopped", async () => {
    const dir = makeFixture();
    const run = await runAndInterrupt(dir, { signal: "SIGINT", spawner, json: false, finished: 0 });
    expect(run.code).toBe(130);
    expect(run.stdout).toMatch(/^run interrupted by SIGINT in \S+: \d+ ran, 0 up to date, 0 failed, 0 blocked, \d+ stopped while running, \d+ not started \(collection p\)$/m);
    for (const pid of slowPids(dir)) expect(isDead(pid), `pid ${pid}`).toBe(true);
    expect(existsSync(join(dir, "repo", "lock"))).toBe(false);
  });
});

/** Each thread of process `pid`: its name, the kernel function it sleeps in and its system call number. */
function threadStates(pid: number): string {
  try {
    return readdirSync(`/proc/${pid}/task`)
      .map((tid) => {
        const read = (what: string) => readFileSync(`/proc/${pid}/task/${tid}/${what}`, "utf8").trim();
        return `${tid} ${read("comm")}: ${read("wchan")} (syscall ${read("syscall").split(" ")[0]})`;
      })
      .join("\n");
  } catch (err) {
    return `(unknown: ${(err as Error).message})`;
  }
}

/** Resolves once `condition` holds (checked every 20 ms), or rejects after `ms`. */
function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else return;
      clearInterval(timer);
    }, 20);
  });
}

describe("14.12 other writers on a signal", () => {
  it("ingest, interrupted while it holds the lock, releases it and exits 130", async () => {
    const { dir, cleanup } = makeTempDir("quanta-interrupt-ingest-");
    cleanups.push(cleanup);
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "src-1.txt"), "one\n");
    // A relation file that is a FIFO: ingest blocks reading it, with the writer lock held.
    expect(spawnSync("mkfifo", [join(dir, "data", "rel.csv")]).status).toBe(0);
    const pipeline = PIPELINE.replace("  src: {", '  rel: { path: "data/rel.csv", relation: [n] }\n  src: {');
    writeFileSync(join(dir, "p.yaml"), pipeline);
    const child = spawn(process.execPath, [QUANTA_BIN, "ingest", "p.yaml", "--repo", "repo"], { cwd: dir, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const lock = join(dir, "repo", "lock");
    await waitUntil(() => existsSync(lock), 20_000, "the lock");
    child.kill("SIGINT");
    await waitUntil(() => !existsSync(lock), 5000, "the lock's release");
    // Lets the blocked read of the FIFO end (a thread blocked in it holds the process up), if it waits
    // or comes to wait later (under load, the read may start only after the interrupt): tried until
    // the process has exited.
    let done = false;
    void exited.then(() => (done = true));
    const deadline = Date.now() + 30_000;
    while (!done) {
      // Still there after 30 s: what each of its threads waits in says why (and it is killed).
      if (Date.now() > deadline) {
        const threads = threadStates(child.pid!);
        child.kill("SIGKILL");
        expect.fail(`the interrupted ingest did not exit within 30 s of releasing its lock; its threads:\n${threads}`);
      }
      try {
        const fd = openSync(join(dir, "data", "rel.csv"), constants.O_WRONLY | constants.O_NONBLOCK);
        writeSync(fd, "n\n1\n");
        closeSync(fd);
      } catch {
        // No reader yet, or any more.
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(await exited).toBe(130);
  });
});
