/**
 * 15.2: `status`, `why` and `graph` are readers. They take no writer lock, so they answer while a run
 * holds the repository, and they write nothing: changed inputs are hashed in memory (an ingest
 * preview), never committed.
 *
 * The slow quantum blocks on a FIFO: it writes a marker when it starts, then reads the FIFO, which
 * returns only once the test writes to it. No sleeps: the test waits for the marker, runs the readers,
 * then releases the quantum.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { BlobDigest } from "../../src/core/digest.js";
import { loadHasher } from "../../src/store/hasher.js";
import { openRepository } from "../../src/store/repository.js";
import { makeTempDir, QUANTA_BIN, runCli, type CliResult } from "../helpers/cli.js";

let cleanup: () => void = () => undefined;
/** Stops the background run if a failed expectation left it blocked (SIGTERM: it stops its commands). */
let stopRun: () => Promise<unknown> = async () => undefined;
afterEach(async () => {
  await stopRun();
  stopRun = async () => undefined;
  cleanup();
});

/** `copy` blocks at a data ID whose input says `slow`, until the gate FIFO is written. */
function makeProject(): string {
  const made = makeTempDir("quanta-readers-");
  cleanup = made.cleanup;
  const dir = made.dir;
  const gate = join(dir, "gate");
  mkdirSync(gate);
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { item: int }",
      'inputs: { src: { path: "data/src-{item}.txt", storage: file } }',
      "tasks:",
      "  copy:",
      "    command: >-",
      "      if grep -q slow {inputs.src}; then touch {config.gate}/started; read line < {config.gate}/release; fi;",
      "      cp {inputs.src} {outputs.out}",
      "    dimensions: [item]",
      `    config: { gate: ${JSON.stringify(gate)} }`,
      "    inputs: { src: { type: src, dimensions: [item], storage: file } }",
      "    outputs: { out: { type: copied, dimensions: [item], storage: file } }",
      "  total:",
      '    command: "cat {inputs.parts} > {outputs.out}"',
      "    dimensions: []",
      "    inputs: { parts: { type: copied, dimensions: [item], storage: file, multiple: true } }",
      "    outputs: { out: { type: total, dimensions: [], storage: file } }",
    ].join("\n") + "\n",
  );
  mkdirSync(join(dir, "data"));
  for (const [i, text] of ["one", "two", "three"].entries()) writeFileSync(join(dir, "data", `src-${i + 1}.txt`), `${text}\n`);
  return dir;
}

function lastEvent(r: CliResult): Record<string, unknown> {
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

async function inputDigests(dir: string): Promise<Record<string, string>> {
  const r = await runCli(["datasets", "--repo", "repo", "--collection", "raw/p", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { type: string; dataId: { item: number }; digest: string });
  return Object.fromEntries(rows.map((row) => [`${row.type}@item=${row.dataId.item}`, row.digest]));
}

/** Everything a reader could leave behind: the registry's LMDB file, the blob files, temporary files. */
function repositoryTrace(dir: string): { registry: Buffer; blobs: string[]; tmp: string[] } {
  const repo = join(dir, "repo");
  const blobs = readdirSync(join(repo, "blobs"), { recursive: true }).map(String).sort();
  return { registry: readFileSync(join(repo, "registry", "data.mdb")), blobs, tmp: readdirSync(join(repo, "tmp")) };
}

describe("15.2 readers while a run holds the repository", () => {
  it("15.2 status, why and graph succeed during a run, see edited inputs, and write nothing", async () => {
    const dir = makeProject();
    const first = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "1"], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const before = await inputDigests(dir);

    // The run ingests the edited src@item=2, then blocks in copy@item=2 (with the lock held).
    writeFileSync(join(dir, "data", "src-2.txt"), "two, slow\n");
    expect(spawnSync("mkfifo", [join(dir, "gate", "release")]).status).toBe(0);
    const run = spawn(process.execPath, [QUANTA_BIN, "run", "p.yaml", "--repo", "repo", "--json", "-j", "1"], {
      cwd: dir,
      env: { ...process.env, CI: "true" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let runOut = "";
    let runErr = "";
    run.stdout.setEncoding("utf8").on("data", (d: string) => (runOut += d));
    run.stderr.setEncoding("utf8").on("data", (d: string) => (runErr += d));
    let exited = false;
    const ended = new Promise<number>((resolve) => run.on("close", (code) => ((exited = true), resolve(code ?? -1))));
    stopRun = () => (exited ? Promise.resolve() : (run.kill("SIGTERM"), ended));
    while (!existsSync(join(dir, "gate", "started"))) {
      expect(exited, `the run ended before its slow quantum started: ${runErr}`).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Proof that the lock is held: a writer is refused.
    const ingest = await runCli(["ingest", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(ingest.code).toBe(3);
    expect(ingest.stderr).toMatch(/locked/);

    // copy@item=2 is running: its outputs are not recorded, so it still "will run"; total waits on it.
    const during = await runCli(["status", "p.yaml", "--repo", "repo", "--json"], { cwd: dir });
    expect(during.code, during.stderr).toBe(0);
    expect(lastEvent(during)).toMatchObject({ event: "status", counts: { willRun: 1, mayRun: 1, upToDate: 2 } });

    // An input edited now (after the run's ingest) is seen by the readers, hashed in memory.
    writeFileSync(join(dir, "data", "src-3.txt"), "three, edited\n");
    const edited = (await loadHasher()).hashBytes(Buffer.from("three, edited\n")) as BlobDigest;
    const status = await runCli(["status", "p.yaml", "--repo", "repo", "--list"], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`will run  copy@item=3: input src (src@item=3) changed: ${before["src@item=3"]} -> ${edited}\n`);
    expect(status.stdout).toContain("will run  copy@item=2: input src (src@item=2) changed");
    expect(status.stdout).toMatch(/^may run  total: /m);
    expect(status.stdout).toMatch(/: 2 will run, 1 may run, 1 up to date\n$/);

    const why = await runCli(["why", "copy@item=3", "--pipeline", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(why.code, why.stderr).toBe(0);
    expect(why.stdout).toBe(`copy@item=3 will run:\n  - input src (src@item=3) changed: ${before["src@item=3"]} -> ${edited}\n`);
    const whyTotal = await runCli(["why", "total", "--pipeline", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(whyTotal.code, whyTotal.stderr).toBe(0);
    expect(whyTotal.stdout).toMatch(/^total may run:\n/);
    expect(whyTotal.stdout).toContain("copy@item=2 will run:");
    expect(whyTotal.stdout).toContain("copy@item=3 will run:");

    const graph = await runCli(["graph", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stdout).toMatch(/^pipeline p: 2 tasks, 4 quanta, /);

    // Release the quantum; the run finishes what it planned (before src@item=3 was edited).
    writeFileSync(join(dir, "gate", "release"), "go\n");
    expect(await ended, runErr).toBe(0);
    expect(JSON.parse(runOut.trim().split("\n").at(-1)!)).toMatchObject({ event: "run-finished", counts: { ran: 2, upToDate: 2, failed: 0, blocked: 0 } });

    // The readers' preview of src@item=3 reached neither the registry nor the blob store.
    const after = await inputDigests(dir);
    expect(after["src@item=3"]).toBe(before["src@item=3"]);
    expect(after["src@item=2"]).not.toBe(before["src@item=2"]);
    const repo = await openRepository(join(dir, "repo"), { write: false });
    try {
      expect(repo.blobs.has(edited)).toBe(false);
      expect(repo.registry.getFileState(join(dir, "data", "src-3.txt"))?.digest).toBe(before["src@item=3"]);
    } finally {
      await repo.close();
    }

    // With no run going, the readers leave no trace at all: not a byte of the registry changes.
    const trace = repositoryTrace(dir);
    for (const args of [["status", "p.yaml", "--list"], ["why", "copy@item=3", "--pipeline", "p.yaml"], ["graph", "p.yaml"]]) {
      const r = await runCli([...args, "--repo", "repo"], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(repositoryTrace(dir)).toEqual(trace);
  });
});

describe("15.2 readers on a repository they never ingested into", () => {
  it("15.2 status, why and graph on a repository that does not exist yet plan as over an empty one and create nothing", async () => {
    const dir = makeProject();
    const status = await runCli(["status", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/: 3 will run, 1 may run, 0 up to date\n$/);
    const why = await runCli(["why", "copy@item=2", "--pipeline", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(why).toMatchObject({ code: 0, stdout: "copy@item=2 will run:\n  - never run with these inputs, config and code\n" });
    const graph = await runCli(["graph", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(graph.code, graph.stderr).toBe(0);
    expect(graph.stdout).toMatch(/^pipeline p: 2 tasks, 4 quanta, /);
    expect(existsSync(join(dir, "repo"))).toBe(false);
  });

  it("15.2 status on a repository that holds another pipeline's inputs counts every quantum as will run, and ingests nothing", async () => {
    const dir = makeProject();
    writeFileSync(join(dir, "other.yaml"), 'dimensions: { item: int }\ninputs: { src: { path: "data/src-{item}.txt", storage: file } }\ntasks: {}\n');
    const other = await runCli(["ingest", "other.yaml", "--repo", "repo"], { cwd: dir });
    expect(other.code, other.stderr).toBe(0);
    const status = await runCli(["status", "p.yaml", "--repo", "repo", "--json"], { cwd: dir });
    expect(status.code, status.stderr).toBe(0);
    expect(lastEvent(status)).toMatchObject({ event: "status", counts: { willRun: 3, mayRun: 1, upToDate: 0 } });
    const listed = await runCli(["datasets", "--repo", "repo", "--json"], { cwd: dir });
    const collections = new Set(listed.stdout.trim().split("\n").map((l) => (JSON.parse(l) as { collection: string }).collection));
    expect([...collections]).toEqual(["raw/other"]);
  });
});
