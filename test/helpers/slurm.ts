/**
 * A real one-host Slurm for the Slurm executor's tests (scripts/slurm-one-host.sh): `useSlurm()` in a
 * test file's top level starts it before the file's tests (or reuses the one running on the same
 * scratch directory) and points SLURM_CONF at it, for the tests and the CLI they run. When it cannot
 * start, the tests fail with the script's message: they are never skipped. test/slurm-global-setup.ts
 * stops it after the test run if a test started it.
 */
import { execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll } from "vitest";
import { PROJECT_ROOT } from "./cli.js";

export const SLURM_SCRATCH = process.env.QUANTA_TEST_SLURM_DIR ?? "/tmp/quanta-test-slurm";
const SCRIPT = join(PROJECT_ROOT, "scripts", "slurm-one-host.sh");
/** Written when a test started the daemons, with the test run's process: its global teardown stops them then. */
export const STARTED_MARKER = join(SLURM_SCRATCH, "started-by-tests");

export function startSlurm(): void {
  const wasRunning = isSlurmRunning();
  try {
    execFileSync(SCRIPT, ["start", SLURM_SCRATCH], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 60_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`the one-host Slurm did not start (${SCRIPT} start ${SLURM_SCRATCH}): ${e.stderr || e.stdout || e.message}`);
  }
  // The vitest process that runs this file (a fork of it): its global teardown, and no other run's, stops them.
  if (!wasRunning && !existsSync(STARTED_MARKER)) writeFileSync(STARTED_MARKER, `${process.ppid}\n`);
  process.env.SLURM_CONF = join(SLURM_SCRATCH, "slurm.conf");
}

export function isSlurmRunning(): boolean {
  try {
    execFileSync(SCRIPT, ["status", SLURM_SCRATCH], { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

export function stopSlurm(): void {
  execFileSync(SCRIPT, ["stop", SLURM_SCRATCH], { stdio: "ignore", timeout: 30_000 });
}

/** Starts Slurm before this file's tests. */
export function useSlurm(): void {
  beforeAll(() => startSlurm(), 90_000);
}

/** The run's jobs Slurm still lists as pending or running (`squeue`), by name prefix `quanta-`. */
export function listQueuedJobs(): string[] {
  const out = execFileSync("squeue", ["--noheader", "--format=%i|%j|%T"], { encoding: "utf8", env: { ...process.env, SLURM_CONF: join(SLURM_SCRATCH, "slurm.conf") } });
  return out.split("\n").filter((l) => l.includes("|quanta-"));
}
