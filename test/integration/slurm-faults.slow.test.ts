/**
 * The Slurm executor's faults, on a real one-host Slurm: a failing quantum, an interrupted head
 * (its jobs cancelled), `sbatch` failing for a while or for good, a head killed with SIGKILL and the
 * same command run again (it re-attaches: nothing runs twice).
 */
import { execFileSync, spawn } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { itemsOf, makeChainFixture, runChain } from "./chain-fixture.js";
import { makeTempDir, QUANTA_BIN, runCli } from "../helpers/cli.js";
import { listQueuedJobs, useSlurm } from "../helpers/slurm.js";

useSlurm();

const ITEMS = 4;

/** A pipeline of two command tasks whose first one sleeps and notes each run of it in `runs.txt`. */
function makeSlowFixture(items: number, sleep: number): { dir: string; cleanup: () => void } {
  const { dir, cleanup } = makeTempDir("quanta-slurm-slow-");
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= items; i++) writeFileSync(join(dir, "data", `src-${i}.txt`), `line ${i}\n`);
  const runs = join(dir, "runs.txt");
  writeFileSync(
    join(dir, "slow.yaml"),
    [
      "dimensions: { item: int }",
      'inputs: { src: { path: "data/src-{item}.txt", storage: file } }',
      "tasks:",
      "  slow:",
      `    command: "echo {dataId.item} >> ${runs}; sleep ${sleep}; tr a-z A-Z < {inputs.src} > {outputs.out}"`,
      "    dimensions: [item]",
      "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
      "    outputs: { out: { type: upper, dimensions: [item], storage: file } }",
      "  rev:",
      '    command: "rev < {inputs.text} > {outputs.out}"',
      "    dimensions: [item]",
      "    inputs: { text: { type: upper, dimensions: [item], storage: file } }",
      "    outputs: { out: { type: reversed, dimensions: [item], storage: file } }",
      "",
    ].join("\n"),
  );
  return { dir, cleanup };
}

/** Starts `quanta run slow.yaml --executor slurm --json`; `onLine` sees each event line and may kill it. */
function startRun(dir: string, onLine: (line: string, child: ReturnType<typeof spawn>) => void): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [QUANTA_BIN, "run", "slow.yaml", "--repo", "repo", "--json", "--executor", "slurm"], { cwd: dir, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let buffer = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
      buffer += chunk;
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        onLine(buffer.slice(0, nl), child);
        buffer = buffer.slice(nl + 1);
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout }));
  });
}

function eventsOf(stdout: string): { event: string; [k: string]: unknown }[] {
  return stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));
}

describe("18.4 faults on Slurm", () => {
  const cleanups: (() => void)[] = [];
  afterAll(() => cleanups.forEach((c) => c()));

  it("a failing quantum: its log in quanta log, its descendants blocked, the rest finished", async () => {
    const fx = makeChainFixture(ITEMS);
    cleanups.push(fx.cleanup);
    const r = await runChain(fx.dir, ["--executor", "slurm", "--config", "double.failOn=[3]"]);
    expect(r.code).toBe(1);
    expect(r.failed).toEqual(["double@item=3"]);
    expect(r.blocked).toEqual(["parity@item=3", "total"]);
    expect(r.ran).toEqual([...itemsOf("double", [1, 2, 4]), ...itemsOf("parity", [1, 2, 4])].sort());
    const log = await runCli(["log", "double@item=3", "--repo", "repo"], { cwd: fx.dir });
    expect(log.stdout).toContain("refusing to double 3");
    // The summary says what Slurm was asked.
    const submitted = r.events.filter((e) => e.event === "slurm-submitted");
    expect(r.finished.slurm).toEqual({ sbatchCalls: submitted.length, jobs: 2 * ITEMS - 1 });
  });

  it("a job Slurm ends (here: cancelled from outside) fails its quanta with Slurm's state; --retries resubmits", async () => {
    const fx = makeSlowFixture(2, 30);
    cleanups.push(fx.cleanup);
    let cancelled = false;
    const r = await startRun(fx.dir, (line) => {
      if (cancelled || !line.includes('"quantum-started"')) return;
      cancelled = true;
      execFileSync("scancel", ["--name=quanta-slow"]);
    });
    expect(r.code).toBe(1);
    const failed = eventsOf(r.stdout).filter((e) => e.event === "quantum-failed");
    expect(failed.map((e) => e.task)).toEqual(["slow", "slow"]);
    for (const f of failed) expect(f.error).toMatch(/^Slurm job \d+_\d+ ended CANCELLED/);

    const flaky = makeChainFixture(2);
    cleanups.push(flaky.cleanup);
    const retried = await runChain(flaky.dir, ["--executor", "slurm", "--retries", "1", "--config", `double.flakyMarker=${join(flaky.dir, "marker")}`]);
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.events.filter((e) => e.event === "quantum-retrying")).toHaveLength(1);
    expect(retried.ran).toHaveLength(5);
  });

  it("Ctrl-C of the head cancels its jobs: none left in squeue", async () => {
    const fx = makeSlowFixture(3, 30);
    cleanups.push(fx.cleanup);
    let sent = false;
    const r = await startRun(fx.dir, (line, child) => {
      if (!sent && line.includes('"quantum-started"')) {
        sent = true;
        child.kill("SIGINT");
      }
    });
    expect(r.code).toBe(130);
    expect(listQueuedJobs().filter((j) => /\|(PENDING|RUNNING)$/.test(j))).toEqual([]);
  });

  it("sbatch failing a few times: retried with backoff, the run finishes", async () => {
    const fx = makeChainFixture(2);
    cleanups.push(fx.cleanup);
    const bin = join(fx.dir, "bin");
    mkdirSync(bin);
    const count = join(fx.dir, "sbatch-calls");
    writeFileSync(count, "");
    writeFileSync(join(bin, "sbatch"), `#!/bin/sh\necho x >> ${count}\nif [ $(wc -l < ${count}) -le 2 ]; then echo "sbatch: error: Batch job submission failed: Socket timed out" >&2; exit 1; fi\nexec /usr/bin/sbatch "$@"\n`);
    chmodSync(join(bin, "sbatch"), 0o755);
    const retried = await runCli(["run", "chain.yaml", "--repo", "repo2", "--json", "--executor", "slurm"], { cwd: fx.dir, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(retried.code, retried.stderr).toBe(0);
    const events = eventsOf(retried.stdout);
    const finished = events.find((e) => e.event === "run-finished") as { slurm: { sbatchCalls: number } };
    const submitted = events.filter((e) => e.event === "slurm-submitted");
    expect(finished.slurm.sbatchCalls).toBe(submitted.length + 2);
    expect(submitted[0]).toMatchObject({ sbatchCalls: 3 });
  });

  it("sbatch failing for good: a clear error, exit code 3, the repository intact", async () => {
    const fx = makeChainFixture(2);
    cleanups.push(fx.cleanup);
    const bin = join(fx.dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "sbatch"), `#!/bin/sh\necho "sbatch: error: Slurm controller not responding" >&2\nexit 1\n`);
    chmodSync(join(bin, "sbatch"), 0o755);
    const r = await runCli(["run", "chain.yaml", "--repo", "repo", "--executor", "slurm"], { cwd: fx.dir, env: { PATH: `${bin}:${process.env.PATH}` } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("could not submit 2 quanta of task double to Slurm: sbatch failed 5 times; the last error: sbatch: error: Slurm controller not responding");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const verify = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    // Once Slurm answers, the same command runs everything.
    const again = await runChain(fx.dir, ["--executor", "slurm"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.ran).toHaveLength(5);
  });
});

describe("18.5 re-attaching after kill -9 of the head", () => {
  it("the same command ingests what finished, waits for what runs, submits nothing twice", async () => {
    const fx = makeSlowFixture(3, 3);
    try {
      const killed = await startRun(fx.dir, (line, child) => {
        if (line.includes('"slurm-submitted"')) child.kill("SIGKILL");
      });
      expect(killed.signal).toBe("SIGKILL");
      // Its jobs may still write to the repository: gc keeps off until they are ingested.
      const gc = await runCli(["gc", "--repo", "repo"], { cwd: fx.dir });
      expect(gc.code).toBe(3);
      expect(gc.stderr).toContain("Slurm submission of an earlier run is not ingested yet");
      const again = await startRun(fx.dir, () => undefined);
      expect(again.code).toBe(0);
      const events = eventsOf(again.stdout);
      // The first wave (slow) was the killed head's: adopted, not submitted again.
      expect(events.filter((e) => e.event === "slurm-submitted").map((e) => e.task)).not.toContain("slow");
      expect(events.filter((e) => e.event === "quantum-finished")).toHaveLength(6);
      const runs = readFileSync(join(fx.dir, "runs.txt"), "utf8").trim().split("\n").sort();
      expect(runs).toEqual(["1", "2", "3"]);
      const verify = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect((await runCli(["gc", "--repo", "repo"], { cwd: fx.dir })).code).toBe(0);
    } finally {
      fx.cleanup();
    }
  });
});
