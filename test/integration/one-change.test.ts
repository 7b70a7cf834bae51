/**
 * 19.4: after one input changed, a one-shot `quanta run` decides only the quanta the change reaches
 * (app/since-stamped-run.ts): the others are counted per task (`task-up-to-date`), not resolved one
 * by one (`quantum-up-to-date`). Checked against the real thing: after every edit the collection
 * holds what a run in a fresh repository over the same files leaves. And the shortcut is not taken
 * when the run stamp cannot tell what changed (an input added, a write to the registry since).
 *
 * The chain fixture with `double.factor=1`: double -> parity (odd or even: early cutoff when a value
 * keeps its parity) -> total (gathers every parity).
 */
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, runCli } from "../helpers/cli.js";
import { keptRunStates } from "../../src/app/stamps.js";
import { openRepository } from "../../src/store/repository.js";
import { blobsInShard, type ShardedBlobs } from "../../src/store/sharded-blobs.js";
import { itemsOf, makeChainFixture, runChain, type RunOutcome } from "./chain-fixture.js";

const FACTOR = ["--config", "double.factor=1"];
let fx: ReturnType<typeof makeChainFixture>;
beforeEach(() => {
  fx = makeChainFixture(6);
});
afterEach(() => fx.cleanup());

const setRaw = (item: number, value: number) => writeFileSync(join(fx.dir, "data", `raw-${item}.txt`), `${value}\n`);

/** Quanta counted per task without being resolved. */
function untouched(r: RunOutcome): number {
  let n = 0;
  for (const e of r.events) if (e.event === "task-up-to-date") n += e.quanta;
  return n;
}

/** Every dataset of the collection, `type@dataId digest`, sorted. */
async function collection(repo: string, cwd: string): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", repo, "--collection", "chain", "--json"], { cwd });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as { type: string; dataId: Record<string, number>; digest: string })
    .map((d) => `${d.type}@${JSON.stringify(d.dataId)} ${d.digest}`)
    .sort();
}

/** What a run in a fresh repository over the same files leaves. */
async function fresh(): Promise<string[]> {
  const copy = join(fx.dir, "fresh");
  rmSync(copy, { recursive: true, force: true });
  const r = await runCli(["run", "chain.yaml", "--repo", copy, "--plain", ...FACTOR], { cwd: fx.dir });
  expect(r.code, r.stderr).toBe(0);
  return collection(copy, fx.dir);
}

describe("19.4 one input changed", () => {
  it("runs only the quanta the change reaches, and leaves what a fresh run leaves", async () => {
    expect((await runChain(fx.dir, FACTOR)).finished.counts.ran).toBe(13);

    // 3 -> 4: its parity changes, so the gather runs again.
    setRaw(3, 4);
    let r = await runChain(fx.dir, FACTOR);
    expect(r.code, r.stderr).toBe(0);
    expect(r.ran).toEqual(["double@item=3", "parity@item=3", "total"]);
    expect(r.upToDate).toEqual([]);
    expect(untouched(r)).toBe(10);
    expect(await collection("repo", fx.dir)).toEqual(await fresh());

    // 4 -> 6: the same parity, so the gather is up to date (early cutoff): its inputs hold the
    // digests they held, so it is not even resolved.
    setRaw(3, 6);
    r = await runChain(fx.dir, FACTOR);
    expect(r.ran).toEqual(["double@item=3", "parity@item=3"]);
    expect(r.upToDate).toEqual([]);
    expect(untouched(r)).toBe(11);
    expect(await collection("repo", fx.dir)).toEqual(await fresh());

    // Two files at once, one of them back to a content the cache holds.
    setRaw(3, 3);
    setRaw(5, 8);
    r = await runChain(fx.dir, FACTOR);
    expect(r.code, r.stderr).toBe(0);
    expect(untouched(r)).toBe(8);
    expect(r.finished.counts.ran + r.finished.counts.upToDate).toBe(13);
    expect(await collection("repo", fx.dir)).toEqual(await fresh());
  });

  it("is not taken when the registry changed otherwise since the last run: every quantum is resolved", async () => {
    expect((await runChain(fx.dir, FACTOR)).code).toBe(0);
    // A new input: the graph is another one.
    cpSync(join(fx.dir, "data", "raw-1.txt"), join(fx.dir, "data", "raw-7.txt"));
    setRaw(2, 5);
    let r = await runChain(fx.dir, FACTOR);
    expect(r.ran).toEqual([...itemsOf("double", [2, 7]), ...itemsOf("parity", [2, 7]), "total"].sort());
    expect(untouched(r)).toBe(0);
    expect(r.upToDate.length).toBe(15 - 5);

    // A run of another configuration in between: its stamp is another one, and its commits move the
    // registry on, so going back to the first configuration after an edit resolves every quantum.
    expect((await runChain(fx.dir, ["--config", "double.factor=3"])).code).toBe(0);
    setRaw(2, 9);
    r = await runChain(fx.dir, FACTOR);
    expect(untouched(r)).toBe(0);
    expect(r.ran).toEqual(["double@item=2", "parity@item=2"].sort());
    expect(await collection("repo", fx.dir)).toEqual(await fresh());
  });

  it("takes the states the last run kept beside its stamp, and only when they hash to the stamp's digest", async () => {
    expect((await runChain(fx.dir, FACTOR)).code).toBe(0);
    const repo = await openRepository(fx.repo, { write: true, command: "test" });
    const kept = keptRunStates(repo, "chain");
    await repo.close();
    // The shape of the graph's produced datasets, then a line per produced dataset (6 doubles, 6
    // parities, the total): the digests the collection holds.
    const [shape, ...lines] = kept!.trimEnd().split("\n");
    expect(shape).toMatch(/^produced "doubled" \d+ 6, "parity" \d+ 6, "\w+" \d+ 1$/);
    expect(lines.every((l) => /^[0-9a-f]{32}-\d+$/.test(l))).toBe(true);
    expect(lines.sort()).toEqual((await collection("repo", fx.dir)).map((d) => d.split(" ")[1]).sort());

    // Damaged (one digest swapped for another): not taken, every quantum is resolved, and the run
    // keeps the states it ended with.
    await setStates(fx.repo, (text) => {
      const lines = text.split("\n");
      [lines[1], lines[2]] = [lines[2]!, lines[1]!];
      return lines.join("\n");
    });
    setRaw(3, 4);
    let r = await runChain(fx.dir, FACTOR);
    expect(r.code, r.stderr).toBe(0);
    expect(untouched(r)).toBe(0);
    expect(r.ran).toEqual(["double@item=3", "parity@item=3", "total"]);
    expect(await collection("repo", fx.dir)).toEqual(await fresh());

    // Gone (a repository written before states were kept): the same.
    await setStates(fx.repo, () => undefined);
    setRaw(3, 6);
    r = await runChain(fx.dir, FACTOR);
    expect(untouched(r)).toBe(0);
    expect(r.ran).toEqual(["double@item=3", "parity@item=3"]);

    // Kept again by that run: the next edit takes them.
    setRaw(3, 3);
    r = await runChain(fx.dir, FACTOR);
    expect(untouched(r)).toBe(10);
    expect([...r.ran, ...r.upToDate].sort()).toEqual(["double@item=3", "parity@item=3", "total"]); // the cache answers each
    expect(await collection("repo", fx.dir)).toEqual(await fresh());
  });
});

/** Rewrites the run states kept beside the stamp of collection "chain" (undefined: removes them). */
async function setStates(repoDir: string, change: (text: string) => string | undefined): Promise<void> {
  const repo = await openRepository(repoDir, { write: true, command: "test" });
  try {
    const text = keptRunStates(repo, "chain")!;
    await repo.registry.commit(() => repo.registry.putStamp("rs\0chain", change(text)));
  } finally {
    await repo.close();
  }
}

/**
 * The output collection's records are not always what the last run left: the shortcut checks them
 * against the digest of the states that run ended with (found by review; both gave a wrong sum).
 */
describe("19.4 records that are not the last run's states", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir("quanta-stale-"));
    cpSync(join(PROJECT_ROOT, "test", "fixtures", "stale-outputs"), dir, { recursive: true });
    mkdirSync(join(dir, "data"));
    raw(1, 1);
    raw(2, 2);
  });
  afterEach(() => cleanup());
  const raw = (item: number, value: number) => writeFileSync(join(dir, "data", `raw-${item}.txt`), `${value}\n`);
  const run = async (pipeline: string, repo = "repo", extra: string[] = []) => {
    const r = await runCli(["run", pipeline, "--repo", repo, "--plain", ...extra], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
  };
  const report = async (repo = "repo") => {
    const r = await runCli(["get", "report@", "--repo", repo, "--collection", "p"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  };

  /** `type@dataId` of every dataset of collection p. */
  const listed = async (repo: string) => {
    const r = await runCli(["datasets", "--repo", repo, "--collection", "p", "--json"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim().split("\n").map((l) => { const d = JSON.parse(l); return `${d.type}@${JSON.stringify(d.dataId)} ${d.digest}`; }).sort();
  };

  it("an output left from before its quantum found no work is not taken as current, nor kept", async () => {
    await run("p.yaml");
    raw(1, -1); // a@1 finds no work, so b@1 has none: what an earlier run bound of b@1 goes
    await run("p.yaml");
    expect(await report()).toBe("sum 20 of 1");
    await run("p.yaml", "fresh");
    expect(await listed("repo")).toEqual(await listed("fresh"));
    // Nothing more to forget: the next run changes nothing and is answered by the run stamp.
    const again = await runCli(["run", "p.yaml", "--repo", "repo", "--json"], { cwd: dir });
    expect(again.stdout).not.toContain('"quantum-finished"');
    raw(2, 5);
    await run("p.yaml");
    rmSync(join(dir, "fresh"), { recursive: true });
    await run("p.yaml", "fresh");
    expect(await report("fresh")).toBe("sum 50 of 1");
    expect(await report()).toBe("sum 50 of 1");
    // Its input back: b@1 is answered by the action cache and bound again.
    raw(1, 1);
    await run("p.yaml");
    rmSync(join(dir, "fresh"), { recursive: true });
    await run("p.yaml", "fresh");
    expect(await report()).toBe("sum 60 of 2");
    expect(await listed("repo")).toEqual(await listed("fresh"));
  });

  it("a dataset another pipeline wrote into the same collection is not taken as this one's", async () => {
    // Beside it, the same sequence in a repository where the last run resolves every quantum (--force
    // of the gather): what the answer must be.
    for (const repo of ["repo", "control"]) {
      await run("p.yaml", repo);
      await run("q.yaml", repo, ["--output", "p"]); // overwrites bv@item=1 and bv@item=2 in p
      await run("p.yaml", repo);
    }
    raw(2, 5);
    await run("p.yaml");
    await run("p.yaml", "control", ["--force", "total"]);
    expect(await report()).toBe(await report("control"));
  });
});

/**
 * A run after one change lists in its stamp the blob files of the last stamp and the new ones
 * (RunOptions.since `fileBlobs`), not a list made again from every output; the stamp vouches that
 * every output exists, so each one's file must be in it. Shell commands, whose outputs are blob files.
 */
describe("19.4 the run stamp's blob files after one change", () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = makeTempDir("quanta-one-change-files-"));
    mkdirSync(join(dir, "in"));
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, "in", `${i}.txt`), `line ${i}\n`);
    writeFileSync(
      join(dir, "chain.yaml"),
      [
        "dimensions: { item: int }",
        'inputs: { raw: { path: "in/{item}.txt", storage: file } }',
        "tasks:",
        "  upper:",
        '    command: "tr a-z A-Z < {inputs.src} > {outputs.dst}"',
        "    dimensions: [item]",
        "    inputs: { src: { type: raw, dimensions: [item], storage: file } }",
        "    outputs: { dst: { type: upper, dimensions: [item], storage: file } }",
        "  gather:",
        '    command: "xargs cat < {inputs.all.paths} > {outputs.out}"',
        "    dimensions: []",
        "    inputs: { all: { type: upper, dimensions: [item], storage: file, multiple: true } }",
        "    outputs: { out: { type: gathered, dimensions: [], storage: file } }",
        "",
      ].join("\n"),
    );
  });
  afterEach(() => cleanup());

  /** The stamp's blob files, and the blob files of the collection's datasets. */
  const blobFiles = async () => {
    const repo = await openRepository(join(dir, "repo"), { write: true, command: "test" });
    try {
      const stamp = repo.registry.getStamp("run\0chain") as { fileBlobs: ShardedBlobs };
      const listed = new Set(Object.keys(stamp.fileBlobs).flatMap((shard) => blobsInShard(stamp.fileBlobs, shard)));
      const byName = new Map([...repo.registry.listDatasets({ collection: "chain" })].map((e) => [`${e.type}@${e.key}`, e.record.digest]));
      const outputs = [...byName.values()];
      expect(outputs.every((d) => !repo.blobs.inRegistry(d))).toBe(true);
      return { listed, outputs, byName, path: (d: string) => join(dir, "repo", "blobs", d.slice(0, 2), d.slice(2)) };
    } finally {
      await repo.close();
    }
  };

  it("lists every output's blob file, so that a missing one still voids it", async () => {
    expect((await runChain(dir)).finished.counts.ran).toBe(5);
    writeFileSync(join(dir, "in", "2.txt"), "edited\n");
    let r = await runChain(dir);
    expect(r.ran).toEqual(["gather", "upper@item=2"]);
    expect(untouched(r)).toBe(3);
    const { listed, outputs, byName, path } = await blobFiles();
    expect(outputs.filter((d) => !listed.has(d))).toEqual([]);
    // The stamp answers a run with nothing changed...
    r = await runChain(dir);
    expect(untouched(r)).toBe(5);
    // ...until an output's file goes, one made before the change or by it: then its quantum runs again.
    rmSync(path(byName.get("upper@item=0")!));
    rmSync(path(byName.get("upper@item=2")!));
    r = await runChain(dir);
    expect(r.code, r.stderr).toBe(0);
    expect([...r.ran, ...r.upToDate].sort()).toEqual(["gather", ...itemsOf("upper", [0, 1, 2, 3])]);
    expect(r.ran).toEqual(itemsOf("upper", [0, 2]));
  });
});
