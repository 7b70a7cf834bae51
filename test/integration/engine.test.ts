/**
 * The incremental engine through the real CLI: real LMDB, real files, real worker threads. Each test
 * asserts the exact set of quanta that ran.
 */
import { mkdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openRepository } from "../../src/store/repository.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { itemsOf, makeChainFixture, runChain } from "./chain-fixture.js";

const N = 6;
const ALL = [...Array(N).keys()].map((i) => i + 1);

let fx: ReturnType<typeof makeChainFixture>;
beforeEach(() => {
  fx = makeChainFixture(N);
});
afterEach(() => fx.cleanup());

async function coldRun(extra: string[] = []) {
  const r = await runChain(fx.dir, extra);
  expect(r.code, r.stderr).toBe(0);
  expect(r.ran).toEqual([...itemsOf("double", ALL), ...itemsOf("parity", ALL), "total"].sort());
  return r;
}

describe("incremental runs", () => {
  it("runs everything once, then nothing", async () => {
    await coldRun(["-j", "1"]);
    const again = await runChain(fx.dir, ["-j", "1"]);
    expect(again.code).toBe(0);
    expect(again.ran).toEqual([]);
    expect(again.finished.counts).toMatchObject({ ran: 0, upToDate: 2 * N + 1, failed: 0, blocked: 0 });
  });

  it("a run that changes nothing is answered by the run stamp; anything that could change a key is not", async () => {
    await coldRun();
    const quantumEvents = (r: Awaited<ReturnType<typeof runChain>>) => r.events.filter((e) => e.event.startsWith("quantum-")).length;
    // The cold run left a stamp: the rerun is answered by it, without a single quantum event.
    const again = await runChain(fx.dir);
    expect(again.finished.counts).toMatchObject({ ran: 0, upToDate: 2 * N + 1 });
    expect(quantumEvents(again)).toBe(0);
    expect(again.finished.tasks.map((t) => [t.task, t.upToDate])).toEqual([["double", N], ["parity", N], ["total", 1]]);
    // Another query, and an edited input: each walks the graph, with exact results. (The subset run
    // leaves its own stamp, so the full run after it walks too.)
    const subset = await runChain(fx.dir, ["--where", "item <= 2"]);
    expect(subset.upToDate.sort()).toEqual([...itemsOf("double", [1, 2]), ...itemsOf("parity", [1, 2])].sort());
    const full = await runChain(fx.dir);
    expect(full.ran).toEqual([]);
    expect(full.upToDate).toHaveLength(2 * N + 1);
    // A touched input is hashed again, its file state rewritten, and nothing else: still the stamp.
    const later = new Date(Date.now() + 5000);
    utimesSync(join(fx.dir, "data", "raw-4.txt"), later, later);
    const touched = await runChain(fx.dir);
    expect(touched.finished.counts).toMatchObject({ ran: 0, upToDate: 2 * N + 1 });
    expect(quantumEvents(touched)).toBe(0);
    writeFileSync(join(fx.dir, "data", "raw-4.txt"), "40\n");
    const edited = await runChain(fx.dir);
    expect(edited.ran).toEqual(expect.arrayContaining(["double@item=4", "parity@item=4"]));
    expect(edited.ran.filter((q) => !q.endsWith("@item=4") && q !== "total")).toEqual([]);
    // And then nothing again, from the stamp.
    const quiet = await runChain(fx.dir);
    expect(quiet.finished.counts).toMatchObject({ ran: 0, upToDate: 2 * N + 1 });
    expect(quantumEvents(quiet)).toBe(0);
  });

  it("a config change reruns that task and what its outputs changed; setting it back reruns nothing", async () => {
    await coldRun();
    const changed = await runChain(fx.dir, ["--config", "double.factor=4"]);
    expect(changed.code).toBe(0);
    // doubled values all change, parities do not: total is cut off.
    expect(changed.ran).toEqual([...itemsOf("double", ALL), ...itemsOf("parity", ALL)].sort());
    const back = await runChain(fx.dir);
    expect(back.ran).toEqual([]);
    expect(back.finished.counts.upToDate).toBe(2 * N + 1);
    // Asked before running: the changed key, old and new, and the downstream quantum that waits on it.
    const why = await runCli(["why", "parity@item=2", "--repo", "repo", "--config", "double.factor=3", "--json"], { cwd: fx.dir });
    expect(why.code, why.stderr).toBe(0);
    expect(JSON.parse(why.stdout)).toMatchObject({
      event: "why",
      quantum: "parity@item=2",
      status: "may-run",
      upstream: [{ quantum: "double@item=2", status: "will-run", reasons: [{ kind: "config-changed", key: "factor", before: 2, after: 3 }] }],
    });
  });

  it("editing a task's module or its local import reruns that task only where outputs are unchanged", async () => {
    await coldRun();
    const module = join(fx.dir, "tasks", "double.ts");
    writeFileSync(module, readFileSync(module, "utf8") + "\n// an edit that changes nothing\n");
    const edited = await runChain(fx.dir);
    expect(edited.ran).toEqual(itemsOf("double", ALL));
    const helper = join(fx.dir, "tasks", "parse-number.ts");
    writeFileSync(helper, readFileSync(helper, "utf8") + "\n// another\n");
    expect((await runChain(fx.dir)).ran).toEqual(itemsOf("double", ALL));
    writeFileSync(join(fx.dir, "tasks", "unrelated.ts"), "export const x = 1;\n");
    expect((await runChain(fx.dir)).ran).toEqual([]);
  });

  it("editing one raw file reruns its chain; touching one reruns nothing", async () => {
    await coldRun();
    writeFileSync(join(fx.dir, "data", "raw-3.txt"), "7\n");
    const edited = await runChain(fx.dir);
    expect(edited.ran).toEqual(["double@item=3", "parity@item=3"]);
    const later = new Date(Date.now() + 5000);
    utimesSync(join(fx.dir, "data", "raw-4.txt"), later, later);
    const touched = await runChain(fx.dir);
    expect(touched.ran).toEqual([]);
  });

  it("deleting an output blob reruns the quantum that made it", async () => {
    // A large output is a blob file: delete it the way a user or a disk would.
    const padded = ["--config", "double.pad=5000"];
    await coldRun(padded);
    const digest = await digestOf("doubled", 2);
    expect(Number(digest.split("-")[1])).toBeGreaterThan(4096);
    rmSync(join(fx.repo, "blobs", digest.slice(0, 2), digest.slice(2)));
    const r = await runChain(fx.dir, padded);
    // It reproduces the same bytes, so nothing downstream reruns.
    expect(r.ran).toEqual(["double@item=2"]);

    // Once the run stamp trusts the blob's shard directory (unchanged for a second), a deletion still
    // shows: it changes the directory.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await runChain(fx.dir, padded)).ran).toEqual([]);
    const shardDir = join(fx.repo, "blobs", digest.slice(0, 2));
    const trusted = await runStampShards(fx.repo);
    expect(trusted[digest.slice(0, 2)]).toBe(statSync(shardDir).ctimeMs);
    rmSync(join(shardDir, digest.slice(2)));
    expect((await runChain(fx.dir, padded)).ran).toEqual(["double@item=2"]);
    const verify = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("a small output blob (kept in the registry) that goes missing reruns the quantum that made it", async () => {
    await coldRun();
    const digest = await digestOf("doubled", 2);
    // Removed through a registry commit, as gc would (a commit also retires the run stamp, which
    // trusts the registry for the blobs kept in it).
    const repo = await openRepository(fx.repo, { write: true });
    try {
      expect(repo.registry.hasBlob(digest as never)).toBe(true);
      await repo.registry.commit(() => repo.blobs.delete(digest as never));
    } finally {
      await repo.close();
    }
    const r = await runChain(fx.dir);
    expect(r.ran).toEqual(["double@item=2"]);
    const verify = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

/** The shard directories the run stamp of the `chain` collection trusts, with their ctimes. */
async function runStampShards(repoRoot: string): Promise<Record<string, number>> {
  const repo = await openRepository(repoRoot, { write: false });
  try {
    return (repo.registry.getStamp("run\0chain") as { shards?: Record<string, number> } | undefined)?.shards ?? {};
  } finally {
    await repo.close();
  }
}

async function digestOf(type: string, item: number): Promise<string> {
  const ls = await runCli(["datasets", "--repo", "repo", "--collection", "chain", "--type", type, "--where", `item = ${item}`, "--json"], { cwd: fx.dir });
  expect(ls.code, ls.stderr).toBe(0);
  const lines = ls.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  return (JSON.parse(lines[0]!) as { digest: string }).digest;
}

describe("failures", () => {
  it("a failing quantum blocks only its descendants; the rest finishes; exit code 1", async () => {
    const r = await runChain(fx.dir, ["--config", "double.failOn=[3]"]);
    expect(r.code).toBe(1);
    expect(r.failed).toEqual(["double@item=3"]);
    expect(r.blocked).toEqual(["parity@item=3", "total"]);
    expect(r.ran).toEqual([...itemsOf("double", [1, 2, 4, 5, 6]), ...itemsOf("parity", [1, 2, 4, 5, 6])].sort());
    expect(r.finished.counts).toMatchObject({ failed: 1, blocked: 2 });
    const log = await runCli(["log", "double@item=3", "--repo", "repo"], { cwd: fx.dir });
    expect(log.stdout).toContain("refusing to double 3");
    // Mended (its input no longer trips the failure): only the failed quantum and what it blocked run.
    writeFileSync(join(fx.dir, "data", "raw-3.txt"), "7\n");
    const fixed = await runChain(fx.dir, ["--config", "double.failOn=[3]"]);
    expect(fixed.code).toBe(0);
    expect(fixed.ran).toEqual(["double@item=3", "parity@item=3", "total"]);
  });

  it("--retries recovers a task that fails once", async () => {
    const marker = join(fx.dir, "flaky-marker");
    const r = await runChain(fx.dir, ["-j", "1", "--retries", "1", "--config", `double.flakyMarker=${marker}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.events.filter((e) => e.event === "quantum-retrying")).toHaveLength(1);
    expect(r.failed).toEqual([]);
    expect(r.finished.counts.ran).toBe(2 * N + 1);
  });

  it("--retries gives up after N more attempts", async () => {
    const r = await runChain(fx.dir, ["-j", "1", "--retries", "2", "--config", "double.failOn=[3]"]);
    expect(r.code).toBe(1);
    const retries = r.events.filter((e) => e.event === "quantum-retrying");
    expect(retries.map((e) => (e as { attempt: number }).attempt)).toEqual([2, 3]);
    expect(r.failed).toEqual(["double@item=3"]);
  });

  it("a command that writes to its input fails, and the damaged blob is removed and restored by ingest", async () => {
    writeFileSync(
      join(fx.dir, "scribble.yaml"),
      [
        "dimensions: { item: int }",
        'inputs: { raw: { path: "data/raw-{item}.txt", storage: text, transfer: copy } }',
        "tasks:",
        "  scribble:",
        '    command: "echo extra >> {inputs.src} && cp {inputs.src} {outputs.out}"',
        "    dimensions: [item]",
        "    inputs: { src: { type: raw, dimensions: [item], storage: text } }",
        "    outputs: { out: { type: scribbled, dimensions: [item], storage: text } }",
      ].join("\n") + "\n",
    );
    // Copied inputs larger than 4 KiB are blob files, linked into the sandbox. The command writes through
    // its link to the blob: the quantum fails, saying so, and the damaged blob is removed rather than trusted.
    for (let i = 1; i <= N; i++) writeFileSync(join(fx.dir, "data", `raw-${i}.txt`), `${i}\n`.padEnd(5000, " "));
    const run = await runCli(["run", "scribble.yaml", "--repo", "repo", "--json", "-j", "1"], { cwd: fx.dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("modified its input");
    const damaged = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(damaged.code).toBe(3);
    // The source file is intact: the next ingest copies it in again, and the store is whole.
    const ingest = await runCli(["ingest", "scribble.yaml", "--repo", "repo"], { cwd: fx.dir });
    expect(ingest.code, ingest.stderr).toBe(0);
    const verify = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });

  it("--fail-fast starts nothing after the first failure", async () => {
    const r = await runChain(fx.dir, ["-j", "1", "--fail-fast", "--config", "double.failOn=[1]"]);
    expect(r.code).toBe(1);
    expect(r.failed).toEqual(["double@item=1"]);
    expect(r.ran).toEqual([]);
    expect(r.finished.counts.blocked).toBe(2 * N);
  });
});

describe("executors", () => {
  /** A pipeline of one command task over items 1..6 whose command is `command`. */
  function probePipeline(command: string): string {
    writeFileSync(
      join(fx.dir, "probe.yaml"),
      [
        "dimensions: { item: int }",
        'inputs: { raw: { path: "data/raw-{item}.txt", storage: text } }',
        "tasks:",
        "  probe:",
        `    command: ${JSON.stringify(command)}`,
        "    dimensions: [item]",
        "    inputs: { src: { type: raw, dimensions: [item], storage: text } }",
        "    outputs: { out: { type: probed, dimensions: [item], storage: text } }",
      ].join("\n") + "\n",
    );
    return "probe.yaml";
  }

  it("-j 2 runs at most two commands at once, though it prepares two more in advance", async () => {
    const locks = join(fx.dir, "running");
    const seen = join(fx.dir, "seen.txt");
    mkdirSync(locks);
    // Each command counts the commands running with it (itself included), then stays a while.
    const file = probePipeline(`mkdir ${locks}/$$ && ls ${locks} | wc -l >> ${seen} && sleep 0.2; rmdir ${locks}/$$; cp {inputs.src} {outputs.out}`);
    const r = await runCli(["run", file, "--repo", "repo", "--json", "-j", "2"], { cwd: fx.dir });
    expect(r.code, r.stderr).toBe(0);
    const counts = readFileSync(seen, "utf8").trim().split("\n").map(Number);
    expect(counts).toHaveLength(N);
    expect(Math.max(...counts)).toBe(2);
    const started = r.stdout.split("\n").filter((l) => l.includes('"quantum-started"'));
    expect(started).toHaveLength(N);
  });

  it("-j 2 --fail-fast starts nothing after the first failure, not even what it could have prepared", async () => {
    // Item 1 fails at once; item 2, started with it, runs on; nothing else may start.
    const file = probePipeline("if [ {dataId.item} = 1 ]; then exit 1; fi; sleep 0.3; cp {inputs.src} {outputs.out}");
    const r = await runCli(["run", file, "--repo", "repo", "--json", "-j", "2", "--fail-fast"], { cwd: fx.dir });
    expect(r.code).toBe(1);
    const events = r.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as { event: string; dataId?: string });
    // Started in either order: each starts when its sandbox is ready.
    expect(events.filter((e) => e.event === "quantum-started").map((e) => e.dataId).sort()).toEqual(["item=1", "item=2"]);
    expect(events.filter((e) => e.event === "quantum-failed").map((e) => e.dataId)).toEqual(["item=1"]);
    expect(events.filter((e) => e.event === "quantum-blocked")).toHaveLength(N - 2);
  });

  it("-j 1 and -j 4 produce identical output digests", async () => {
    const digests = async (jobs: string) => {
      const local = makeChainFixture(N);
      try {
        const r = await runChain(local.dir, ["-j", jobs]);
        expect(r.code).toBe(0);
        const ls = await runCli(["datasets", "--repo", "repo", "--collection", "chain", "--json"], { cwd: local.dir });
        return ls.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { type: string; dataId: unknown; digest: string })
          .map((d) => `${d.type} ${JSON.stringify(d.dataId)} ${d.digest}`)
          .sort();
      } finally {
        local.cleanup();
      }
    };
    const one = await digests("1");
    expect(one).toHaveLength(2 * N + 1);
    expect(await digests("4")).toEqual(one);
  });
});
