/**
 * A signal that comes while a registry commit is in flight (writes-in-flight.ts). Before, the exit
 * either never ended (Node's exit joined libuv's pool, where lmdb-js's writer waited for the main
 * thread to run its transaction's callback) or died of SIGSEGV: a Ctrl-C'd ingest hung after
 * releasing its lock. Real child processes over a real LMDB registry (dist/, so build first).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openRepository } from "../../src/store/repository.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-writes-in-flight-")));
afterEach(() => cleanup());

/** Stamps in the commit: large enough that its transaction takes a while on the writer thread. */
const STAMPS = 100_000;

/**
 * A writer that starts a commit of STAMPS stamps and sends itself SIGINT `delayMs` later, with the
 * CLI's signal handlers; resolves to its exit code and stderr, or to "hung" when it has not exited
 * within 20 s (it is then killed).
 */
function commitThenInterrupt(repo: string, delayMs: number): Promise<{ code: number | string; stderr: string }> {
  const script = `
    import { openRepository } from ${JSON.stringify(join(PROJECT_ROOT, "dist/store/repository.js"))};
    import { installInterruptHandlers } from ${JSON.stringify(join(PROJECT_ROOT, "dist/app/interrupts.js"))};
    installInterruptHandlers();
    const [root, stamps, delay] = process.argv.slice(1);
    const repo = await openRepository(root, { write: true });
    const commit = repo.registry.commit(() => {
      for (let i = 0; i < Number(stamps); i++) repo.registry.putStamp("stamp " + i, { i, text: "x".repeat(100) });
    });
    setTimeout(() => process.kill(process.pid, "SIGINT"), Number(delay));
    await commit;
    // Reached only when the signal came after the commit: the process then waits for it.
    setInterval(() => undefined, 1000);
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script, repo, String(STAMPS), String(delayMs)], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === "SIGKILL" ? "hung" : String(signal)), stderr });
    });
  });
}

describe("a signal during a registry commit", () => {
  // Several moments after the commit starts. The short delays fire before the transaction's callback
  // has run (the old code hung at some of them, not all); the longer ones once it has, while the
  // writer thread commits (where the old code could crash).
  it.each([0, 1, 2, 3, 5, 8, 12, 20, 150, 300, 600])("SIGINT %i ms after the commit starts: exit 130, the commit whole, the lock released", async (delayMs) => {
    const repo = join(dir, "repo");
    const { code, stderr } = await commitThenInterrupt(repo, delayMs);
    expect({ code, stderr }).toMatchObject({ code: 130 });
    expect(stderr).toMatch(/quanta: SIGINT: (stopped at once|stopping once the registry's commit in progress ends)/);
    expect(existsSync(join(repo, "lock"))).toBe(false);
    // The commit in flight was let end: all of it is there.
    const reader = await openRepository(repo, { write: false });
    try {
      expect(reader.registry.getStamp("stamp 0")).toMatchObject({ i: 0 });
      expect(reader.registry.getStamp(`stamp ${STAMPS - 1}`)).toMatchObject({ i: STAMPS - 1 });
    } finally {
      await reader.close();
    }
  });
});
