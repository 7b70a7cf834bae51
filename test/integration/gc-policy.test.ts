/**
 * 19.6: `quanta gc` by policy, against the real CLI and LMDB. Several edits and reruns leave old
 * versions behind; `--keep-age 0s` shrinks the store to what the collections reference, and
 * `--max-size` keeps the most recently used cached results.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const PIPELINE = `dimensions: { item: int }
inputs:
  raw: { path: "raw-{item}.txt", storage: text }
tasks:
  swap:
    command: "sed 's/a/{config.letter}/g' {inputs.raw} > {outputs.out}"
    config: { letter: b }
    dimensions: [item]
    inputs: { raw: { type: raw, dimensions: [item], storage: text } }
    outputs: { out: { type: swapped, dimensions: [item], storage: text } }
  total:
    command: "cat {inputs.parts} > {outputs.out}"
    dimensions: []
    inputs: { parts: { type: swapped, dimensions: [item], storage: text, multiple: true } }
    outputs: { out: { type: total, dimensions: [], storage: text } }
`;

const ITEMS = [1, 2, 3];
/** 6,000 bytes each: kept as blob files (over 4 KiB), every letter swap changes them. */
const content = (item: number, version: number) => `${"abc".repeat(1000)}-${item}-${version}\n`.padEnd(6000, "a");

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-gc-policy-"));
  writeFileSync(join(dir, "p.yaml"), PIPELINE);
  for (const i of ITEMS) writeFileSync(join(dir, `raw-${i}.txt`), content(i, 0));
});
afterEach(() => cleanup());

async function quanta(args: string[]) {
  const r = await runCli([...args, "--repo", "repo"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r;
}

async function run(letter: string): Promise<string> {
  return (await quanta(["run", "p.yaml", "--plain", "--config", `swap.letter=${letter}`])).stdout;
}

async function gc(...flags: string[]) {
  return JSON.parse((await quanta(["gc", "--json", ...flags])).stdout);
}

/** Every dataset the collections bind: digest → size. */
async function referenced(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const r = await quanta(["datasets", "--json"]);
  const collections = new Set<string>();
  for (const line of r.stdout.trim().split("\n")) {
    const e = JSON.parse(line);
    out.set(e.digest, e.size);
    collections.add(e.collection);
  }
  // The raw files' input collection and the output collection.
  expect(collections.size).toBe(2);
  return out;
}

const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);

describe("19.6 gc by policy", () => {
  it("19.6 after several edits and reruns, gc --keep-age 0s shrinks the store to what the collections reference", async () => {
    expect(await run("b")).toContain("4 ran");
    expect(await run("c")).toContain("4 ran");
    writeFileSync(join(dir, "raw-2.txt"), content(2, 1));
    expect(await run("c")).toContain("2 ran");
    expect(await run("d")).toContain("4 ran");
    writeFileSync(join(dir, "raw-3.txt"), content(3, 1));
    expect(await run("d")).toContain("2 ran");

    const bound = await referenced();
    const before = await gc("--dry-run");
    expect(before.dryRun).toBe(true);
    // Nothing was deleted by the dry run; a bare gc keeps every cached result and old version.
    expect(await gc()).toMatchObject({ blobsDeleted: 0, cacheEntriesDeleted: 0 });
    const storeBefore = before.bytesKept + before.bytesFreed;
    expect(storeBefore).toBeGreaterThan(2 * sum(bound));

    // A recent age keeps every cached result: each was current less than an hour ago.
    expect(await gc("--keep-age", "1h")).toMatchObject({ cacheEntriesDeleted: 0, blobsDeleted: 0 });

    const preview = await gc("--keep-age", "0s", "--dry-run");
    const after = await gc("--keep-age", "0s");
    expect(after).toMatchObject({ dryRun: false, blobsDeleted: preview.blobsDeleted, bytesFreed: preview.bytesFreed, cacheEntriesDeleted: preview.cacheEntriesDeleted });
    expect(after.bytesKept + after.bytesFreed).toBe(storeBefore);
    expect(after.cacheEntriesDeleted).toBeGreaterThan(0);
    expect(after.cacheEntriesKept).toBe(ITEMS.length + 1);
    // What is left is exactly what the collections bind.
    expect(after.bytesKept).toBe(sum(bound));
    expect(after.blobsKept).toBe(bound.size);
    console.log(`19.6 store: ${storeBefore} bytes of blobs before gc, ${after.bytesKept} after gc --keep-age 0s (${bound.size} blobs bound)`);

    for (const i of ITEMS) {
      const got = await quanta(["get", `swapped@item=${i}`]);
      const raw = readFileSync(join(dir, `raw-${i}.txt`), "utf8");
      expect(got.stdout).toBe(raw.replaceAll("a", "d"));
    }
    const total = await quanta(["get", "total"]);
    expect(total.stdout).toBe(ITEMS.map((i) => readFileSync(join(dir, `raw-${i}.txt`), "utf8").replaceAll("a", "d")).join(""));
    expect((await quanta(["verify"])).stdout).toContain("0 missing, 0 corrupt");
    expect(await run("d")).toContain("0 ran, 4 up to date");
    // A second gc finds nothing more.
    expect(await gc("--keep-age", "0s")).toMatchObject({ blobsDeleted: 0, cacheEntriesDeleted: 0, executionsDeleted: 0 });
    // The dropped results are recomputed when asked for again.
    expect(await run("b")).toContain("4 ran");
  });

  it("19.6 gc --max-size keeps the most recently used cached results: a revert is a cache hit only if its entry was kept", async () => {
    await run("b");
    await run("c");
    await run("d");
    const bound = await referenced();
    const all = await gc("--dry-run");
    const store = all.bytesKept;
    const perVersion = (store - sum(bound)) / 2;
    // Room for what the collections bind and one older version: the newer one, "c", stays.
    const kept = await gc("--max-size", String(sum(bound) + perVersion));
    expect(kept).toMatchObject({ cacheEntriesDeleted: 4, cacheEntriesKept: 8, bytesKept: sum(bound) + perVersion });
    expect(await run("c")).toContain("0 ran, 4 up to date");
    expect(await run("b")).toContain("4 ran");
    // Below what the collections bind: they are kept all the same, every other result goes.
    const tight = await gc("--max-size", "1K");
    expect(tight.bytesKept).toBe(sum(await referenced()));
    expect(tight.cacheEntriesKept).toBe(ITEMS.length + 1);
  });

  it("19.6 gc refuses a bad age or size with exit 2, the value and a hint", async () => {
    await run("b");
    const age = await runCli(["gc", "--repo", "repo", "--keep-age", "7x"], { cwd: dir });
    expect(age.code).toBe(2);
    expect(age.stderr).toContain('--keep-age "7x" is not an age');
    expect(age.stderr).toContain("hint: give a number and a unit: s, m, h or d");
    const size = await runCli(["gc", "--repo", "repo", "--max-size", "lots"], { cwd: dir });
    expect(size.code).toBe(2);
    expect(size.stderr).toContain('--max-size "lots" is not a size');
    expect(size.stderr).toContain("hint:");
    expect(size.stderr).not.toContain("    at ");
  });
});
