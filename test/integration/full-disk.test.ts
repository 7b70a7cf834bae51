/**
 * 14.2: a full disk stops a run. Reading a source file is one input's problem (a warning); writing the
 * repository (a blob file, a registry commit) is everyone's: exit 3 with a clear message, nothing
 * downstream runs on a partial set of inputs, and once space is freed the same command resumes.
 *
 * The same for every other write into the repository: the writer lock, a TypeScript task's bundle in
 * `modules/`, and a quantum's output blob (the run stops; that quantum is not recorded as failed).
 *
 * The repository lives on a real, small tmpfs (the tests run as root, here and in CI); a machine where
 * it cannot be mounted fails the test with a message saying so.
 */
import { execFileSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
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
      // Copies: ingest writes blobs (by reference, the default, it would write none to fill the disk with).
      'inputs: { raw: { path: "data/raw-{item}.txt", storage: text, transfer: copy } }',
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

/**
 * Fills the disk, leaving exactly `leaveBytes` free (whole pages): a reserve of that size is written
 * first, a filler then takes every block left, and the reserve is removed.
 */
function fillDisk(leaveBytes: number): void {
  const reserve = join(mountPoint, "reserve");
  if (leaveBytes > 0) writeFileSync(reserve, Buffer.alloc(leaveBytes));
  const fd = openSync(join(mountPoint, "filler"), "a");
  const chunk = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
  rmSync(reserve, { force: true });
}

function freeDisk(): void {
  rmSync(join(mountPoint, "filler"));
  resizeTmpfs(16384);
}

/** What a failed write prints: the message and the hint, and nothing else (no stack trace). */
function expectWriteFailure(stderr: string, path: RegExp): void {
  const lines = stderr.split("\n");
  expect(lines[0]).toMatch(new RegExp(`^error: cannot write to the repository: \\S+/disk/repo/${path.source}: no space left on device$`));
  expect(lines[1]).toMatch(/^hint: free space on the repository's disk/);
  expect(lines.slice(2).join("\n").trim()).toBe("");
}

/** Leftovers in the repository: the lock, its temporary files, other temporary files. */
function leftovers(): string[] {
  const repo = join(mountPoint, "repo");
  const top = readdirSync(repo).filter((n) => n.startsWith("lock") || n.endsWith(".tmp"));
  const modules = readdirSync(join(repo, "modules", "quanta-modules")).filter((n) => n.endsWith(".tmp"));
  const tmp = readdirSync(join(repo, "tmp")).filter((n) => n.endsWith(".tmp"));
  return [...top, ...modules, ...tmp];
}

/** A TypeScript task whose bundle holds `padBytes` of a string literal, writing an output of `outputBytes`. */
function writeTask(options: { pad: string; padBytes: number; outputBytes: number }): void {
  writeFileSync(
    join(dir, "pad.ts"),
    [
      'import { defineTask } from "quanta";',
      `const PAD = ${JSON.stringify(options.pad.repeat(Math.ceil(options.padBytes / options.pad.length)))};`,
      "export default defineTask({",
      '  name: "pad",',
      "  dimensions: [],",
      '  inputs: { all: { type: "raw", dimensions: ["item"], storage: "text", multiple: true } },',
      '  outputs: { out: { type: "padded", dimensions: [], storage: "text" } },',
      "  run({ all }) {",
      `    return { out: String(all.length) + PAD.slice(0, 1).repeat(${options.outputBytes}) };`,
      "  },",
      "});",
    ].join("\n") + "\n",
  );
  writeFileSync(
    join(dir, "pad.yaml"),
    ["dimensions: { item: int }", 'inputs: { raw: { path: "data/raw-{item}.txt", storage: text } }', "tasks:", "  pad: { task: ./pad.ts }"].join("\n") + "\n",
  );
}

async function runPad() {
  return runCli(["run", "pad.yaml", "--repo", join(mountPoint, "repo"), "--json"], { cwd: dir });
}

describe("14.2 a full disk at the lock, the task bundle and a quantum's output", () => {
  it("14.2 a lock that cannot be written is exit 3 naming the lock, and leaves no lock.*.tmp; freed, the run resumes", async () => {
    writeInputs(100);
    writeTask({ pad: "a", padBytes: 10, outputBytes: 10 });
    mountTmpfs(4096);
    expect((await runPad()).code).toBe(0);
    fillDisk(0);
    const full = await runPad();
    expect(full.code, full.stderr).toBe(3);
    expectWriteFailure(full.stderr, /lock/);
    expect(quantumEvents(full.stdout)).toEqual([]);
    expect(leftovers()).toEqual([]);
    freeDisk();
    const resumed = await runPad();
    expect(resumed.code, resumed.stderr).toBe(0);
  });

  it("14.2 a TypeScript task's bundle that cannot be written is exit 3 naming it, no stack trace, no temporary file", async () => {
    writeInputs(100);
    writeTask({ pad: "a", padBytes: 64 * 1024, outputBytes: 10 });
    mountTmpfs(4096);
    expect((await runPad()).code).toBe(0);
    // Edited: a new bundle to write. Four pages are left: the lock takes one, the bundle needs sixteen.
    writeTask({ pad: "b", padBytes: 64 * 1024, outputBytes: 10 });
    fillDisk(16 * 1024);
    const full = await runPad();
    expect(full.code, full.stderr).toBe(3);
    expectWriteFailure(full.stderr, /modules\/quanta-modules\/[0-9a-f]+-[0-9a-f]+\.mjs/);
    expect(quantumEvents(full.stdout)).toEqual([]);
    expect(leftovers()).toEqual([]);
    freeDisk();
    const resumed = await runPad();
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(quantumEvents(resumed.stdout)).toEqual(["quantum-started", "quantum-finished"]);
  });

  it("14.2 a quantum's output blob that cannot be written stops the run with exit 3, the quantum not recorded as failed", async () => {
    writeInputs(100);
    // 3 MB of output on a 2 MiB disk: everything else fits, the output blob does not.
    writeTask({ pad: "c", padBytes: 10, outputBytes: 3_000_000 });
    mountTmpfs(2048);
    const full = await runPad();
    expect(full.code, full.stderr).toBe(3);
    expectWriteFailure(full.stderr, /blobs\/[0-9a-f]{2}\/\S+/);
    expect(quantumEvents(full.stdout)).toEqual(["quantum-started"]);
    expect(leftovers()).toEqual([]);
    resizeTmpfs(16384);
    const resumed = await runPad();
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(quantumEvents(resumed.stdout)).toEqual(["quantum-started", "quantum-finished"]);
  });
});
