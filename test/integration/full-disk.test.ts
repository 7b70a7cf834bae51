/**
 * 14.2: a full disk stops a run. Reading a source file is one input's problem (a warning); writing the
 * repository (a blob file, a registry commit) is everyone's: exit 3 with a clear message, nothing
 * downstream runs on a partial set of inputs, and once space is freed the same command resumes.
 *
 * The repository lives on a real, small tmpfs (the tests run as root, here and in CI); a machine where
 * it cannot be mounted fails the test with a message saying so.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const ITEMS = 60;

let dir: string;
let cleanup: () => void;
let mountPoint: string;

function mountTmpfs(sizeKiB: number): void {
  mkdirSync(mountPoint, { recursive: true });
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKiB}k`, "tmpfs", mountPoint], { stdio: "pipe" });
  } catch (err) {
    throw new Error(`14.2's test needs a small tmpfs for a real full disk (run as root): mount failed: ${(err as Error).message}`);
  }
}

function resizeTmpfs(sizeKiB: number): void {
  execFileSync("mount", ["-o", `remount,size=${sizeKiB}k`, mountPoint], { stdio: "pipe" });
}

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-full-disk-"));
  mountPoint = join(dir, "disk");
  mkdirSync(join(dir, "data"));
  writeFileSync(
    join(dir, "gather.yaml"),
    [
      "dimensions: { item: int }",
      'inputs: { raw: { path: "data/raw-{item}.txt", storage: text } }',
      "tasks:",
      "  count:",
      '    command: "cat {inputs.all} | wc -c > {outputs.out}"',
      "    dimensions: []",
      "    inputs: { all: { type: raw, dimensions: [item], storage: text, multiple: true } }",
      "    outputs: { out: { type: total, dimensions: [], storage: text } }",
    ].join("\n") + "\n",
  );
});

afterEach(() => {
  try {
    execFileSync("umount", [mountPoint], { stdio: "pipe" });
  } catch {
    // not mounted
  }
  cleanup();
});

function writeInputs(bytesEach: number): void {
  for (let i = 1; i <= ITEMS; i++) writeFileSync(join(dir, "data", `raw-${i}.txt`), `${i}\n`.padEnd(bytesEach, "."));
}

async function run() {
  return runCli(["run", "gather.yaml", "--repo", join(mountPoint, "repo"), "--json"], { cwd: dir });
}

function quantumEvents(stdout: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => (JSON.parse(l) as { event: string }).event)
    .filter((e) => e.startsWith("quantum-"));
}

describe("14.2 a full disk during ingest", () => {
  it("a blob file that cannot be written stops the run with exit 3; after freeing space it resumes", async () => {
    // 60 inputs of 20 KB each (blob files) on a 600 KiB disk: ingest runs out of space part way.
    writeInputs(20_000);
    mountTmpfs(600);
    const full = await run();
    expect(full.code, full.stderr).toBe(3);
    expect(full.stderr).toMatch(/^error: cannot write to the repository: \S+\/disk\/repo\/blobs\/\S+: no space left on device\nhint: free space on the repository's disk/);
    expect(full.stderr).not.toContain("cannot read");
    expect(quantumEvents(full.stdout)).toEqual([]);
    resizeTmpfs(8192);
    const resumed = await run();
    expect(resumed.code, resumed.stderr).toBe(0);
    const total = await runCli(["get", "total@", "--repo", join(mountPoint, "repo")], { cwd: dir });
    expect(total.stdout.trim()).toBe(String(ITEMS * 20_000));
  });

  it("a registry commit that cannot be written stops the run with exit 3, not an lmdb stack trace", async () => {
    // Small inputs live in the registry: the disk fills at its commit.
    writeInputs(3000);
    mountTmpfs(600);
    const filler = join(mountPoint, "filler");
    writeFileSync(filler, Buffer.alloc(420 * 1024));
    const full = await run();
    expect(full.code, full.stderr).toBe(3);
    expect(full.stderr).toMatch(/^error: cannot write to the repository: \S+\/disk\/repo\/registry: no space left on device\nhint: free space on the repository's disk[^\n]*\n$/);
    expect(quantumEvents(full.stdout)).toEqual([]);
    rmSync(filler);
    resizeTmpfs(8192);
    const resumed = await run();
    expect(resumed.code, resumed.stderr).toBe(0);
    const total = await runCli(["get", "total@", "--repo", join(mountPoint, "repo")], { cwd: dir });
    expect(total.stdout.trim()).toBe(String(ITEMS * 3000));
  });
});
