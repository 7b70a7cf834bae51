/**
 * Crash safety: `kill -9` of the CLI in the middle of a run of a few hundred quanta, then a rerun.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, QUANTA_BIN, runCli } from "../helpers/cli.js";

const N = 150; // 2N + 1 = 301 quanta

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function makeFixture(): string {
  const { dir, cleanup } = makeTempDir("quanta-crash-");
  cleanups.push(cleanup);
  cpSync(join(PROJECT_ROOT, "test", "fixtures", "cmdchain"), dir, { recursive: true });
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= N; i++) writeFileSync(join(dir, "data", `src-${i}.txt`), `line ${i} of the source\n`);
  return dir;
}

/** Starts a run and kills it with SIGKILL once `after` quanta have finished. Returns how many had. */
function runAndKill(dir: string, after: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [QUANTA_BIN, "run", "cmdchain.yaml", "--repo", "repo", "--json", "-j", "2"], {
      cwd: dir,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let finished = 0;
    let buffer = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.includes('"quantum-finished"')) finished++;
        if (finished === after) child.kill("SIGKILL");
      }
    });
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`the run ended before it was killed (${finished} finished)`));
      else resolve(finished);
    });
  });
}

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

describe("kill -9 in the middle of a run", () => {
  it("resumes, recomputing only what was not committed, with outputs equal to an uninterrupted run", async () => {
    const reference = makeFixture();
    const clean = await runCli(["run", "cmdchain.yaml", "--repo", "repo", "--json", "-j", "2"], { cwd: reference });
    expect(clean.code, clean.stderr).toBe(0);
    const expected = await listDatasets(reference);
    expect(expected).toHaveLength(2 * N + 1);

    const dir = makeFixture();
    // Half the quanta: well past the first commit (results are committed in batches every 500 ms).
    const before = await runAndKill(dir, 150);
    expect(before).toBeGreaterThanOrEqual(150);

    const verifyAfterCrash = await runCli(["verify", "--repo", "repo"], { cwd: dir });
    expect(verifyAfterCrash.code, verifyAfterCrash.stdout + verifyAfterCrash.stderr).toBe(0);

    // What the registry holds now is what was committed before the kill (each quantum has one output).
    const committed = (await listDatasets(dir)).length;
    expect(committed).toBeGreaterThan(0);
    expect(committed).toBeLessThan(2 * N + 1);

    const resumed = await runCli(["run", "cmdchain.yaml", "--repo", "repo", "--json", "-j", "2"], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    const last = JSON.parse(resumed.stdout.trim().split("\n").pop()!) as { counts: { ran: number; upToDate: number } };
    // Exactly what was not committed reruns; everything committed is kept.
    expect(last.counts.upToDate).toBe(committed);
    expect(last.counts.ran).toBe(2 * N + 1 - committed);

    // Every output recorded exactly once, equal to the uninterrupted run's.
    expect(await listDatasets(dir)).toEqual(expected);
    const verify = await runCli(["verify", "--repo", "repo"], { cwd: dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
