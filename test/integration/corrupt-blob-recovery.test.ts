/**
 * 14.3, continued: what a corrupt blob leaves behind once it is set aside. A relation file's blob is
 * copied in again like any raw file's; a quantum's failure on a corrupt input is printed once; and
 * the cached results dropped for it are every one computed from it, including those recorded in the
 * same run (the same commit batch) as the quantum that found it.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { open } from "lmdb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { repairRepository, verifyRepository } from "../../src/app/verify.js";
import { openRepository } from "../../src/store/repository.js";
import { runCli } from "../helpers/cli.js";
import { itemsOf, makeChainFixture, runChain } from "./chain-fixture.js";

const N = 4;
// Doubled values padded beyond 4 KiB: their blobs are files, which a test can damage.
const PAD = ["--config", "double.pad=5000"];

let fx: ReturnType<typeof makeChainFixture>;
beforeEach(() => {
  fx = makeChainFixture(N);
});
afterEach(() => fx.cleanup());

/** The blob file of one dataset: its digest, its path, and that path as the CLI names it (`--repo repo`). */
async function blobOf(type: string, where: string): Promise<{ digest: string; path: string; shown: string }> {
  const r = await runCli(["datasets", "--repo", "repo", "--json", "--type", type, "--where", where], { cwd: fx.dir });
  expect(r.code, r.stderr).toBe(0);
  return blobNamed(JSON.parse(r.stdout.trim().split("\n")[0]!).digest as string);
}

function blobNamed(digest: string): { digest: string; path: string; shown: string } {
  const rel = join("blobs", digest.slice(0, 2), digest.slice(2));
  return { digest, path: join(fx.repo, rel), shown: join("repo", rel) };
}

/** The blob file holding exactly `bytes` (a relation file's: no command lists relations' digests). */
function blobHolding(bytes: string): { digest: string; path: string; shown: string } {
  const blobs = join(fx.repo, "blobs");
  for (const shard of readdirSync(blobs)) {
    for (const name of readdirSync(join(blobs, shard))) {
      if (name.endsWith(`-${bytes.length}`) && readFileSync(join(blobs, shard, name), "utf8") === bytes) return blobNamed(shard + name);
    }
  }
  throw new Error(`no blob holds the ${bytes.length} bytes given`);
}

/** `task@dataId` of the quanta of `--json` events of one kind, sorted. */
function quantaOf(stdout: string, event: string): string[] {
  return stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { event: string; task: string; dataId: string })
    .filter((e) => e.event === event)
    .map((e) => `${e.task}@${e.dataId}`)
    .sort();
}

/** Changes one character of a blob file: the same size, other bytes. */
function damage(path: string, from: string, to: string): void {
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

/** rel.yaml: raw files and the relation `items` of rel.csv (pipeline `rel`: input collection raw/rel). */
function writeRelationPipeline(): void {
  writeFileSync(
    join(fx.dir, "rel.yaml"),
    [
      "dimensions: { item: int }",
      "inputs:",
      // Copies: this is about blobs of raw files (by reference, the default, a raw file has none).
      '  raw: { path: "data/raw-{item}.txt", storage: text, transfer: copy }',
      '  items: { path: "rel.csv", relation: [item] }',
      "tasks:",
      "  copy:",
      '    command: "cp {inputs.src} {outputs.out}"',
      "    dimensions: [item]",
      "    inputs: { src: { type: raw, dimensions: [item], storage: text } }",
      "    outputs: { out: { type: copied, dimensions: [item], storage: text } }",
    ].join("\n") + "\n",
  );
}

const ingest = () => runCli(["ingest", "rel.yaml", "--repo", "repo", "--json"], { cwd: fx.dir });

describe("14.3a a relation file whose blob was set aside is ingested again", () => {
  it("verify names the relation, --repair sets its blob aside, and the next ingest copies the relation and raw files in again", async () => {
    // Both blobs are files (more than 4 KiB): a relation of 1,200 items, raw files padded to 5,000 bytes.
    const relation = ["item", ...Array.from({ length: 1200 }, (_, i) => String(i + 1))].join("\n") + "\n";
    writeFileSync(join(fx.dir, "rel.csv"), relation);
    for (let i = 1; i <= N; i++) writeFileSync(join(fx.dir, "data", `raw-${i}.txt`), `${i}\n`.padEnd(5000, "."));
    writeRelationPipeline();
    expect((await ingest()).code).toBe(0);
    const rel = blobHolding(relation);
    const raw = await blobOf("raw", "item = 2");
    damage(rel.path, "\n600\n", "\n601\n");
    damage(raw.path, "2\n", "3\n");

    const found = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(found.code).toBe(3);
    const problems = [
      `corrupt: blob ${raw.digest} (${raw.shown}), referenced by raw/rel/raw@item=2`,
      `corrupt: blob ${rel.digest} (${rel.shown}), referenced by relation raw/rel/items`,
    ].sort((a, b) => (a.split(" ")[2]! < b.split(" ")[2]! ? -1 : 1));
    expect(found.stderr.split("\n").slice(0, 2)).toEqual(problems);
    const repair = await runCli(["verify", "--repair", "--repo", "repo"], { cwd: fx.dir });
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain("repaired: 2 corrupt blobs set aside in repo/quarantine/");
    const gone = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain(`missing: blob ${rel.digest} (${rel.shown}), referenced by relation raw/rel/items\n`);

    // The relation file and the raw file are unchanged (same size and mtime), but their blobs are gone: both are read again.
    const again = await ingest();
    expect(again.code, again.stderr).toBe(0);
    const finished = JSON.parse(again.stdout.trim().split("\n").pop()!) as { filesHashed: number; relations: unknown[] };
    expect(finished.filesHashed).toBe(2);
    expect(finished.relations).toEqual([{ name: "items", rows: 1200, status: "unchanged" }]);
    expect(readFileSync(rel.path, "utf8")).toBe(relation);
    const ok = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(ok.code, ok.stderr).toBe(0);
  });

  it("a relation blob kept in the registry (4 KiB or less) is set aside from there and copied in again", async () => {
    const relation = "item\n1\n2\n3\n4\n";
    writeFileSync(join(fx.dir, "rel.csv"), relation);
    writeRelationPipeline();
    expect((await ingest()).code).toBe(0);
    const reader = await openRepository(fx.repo, { write: false });
    const digest = reader.registry.getRelation("raw/rel/items")!.digest;
    await reader.close();
    const env = open({ path: join(fx.repo, "registry"), maxDbs: 16 });
    await env.openDB<Buffer, string>("blobs", { encoding: "binary" }).put(digest, Buffer.from(relation.replace("3", "5")));
    await env.close();

    const found = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(found.stderr.split("\n")[0]).toBe(`corrupt: blob ${digest} (registry), referenced by relation raw/rel/items`);
    const repair = await runCli(["verify", "--repair", "--repo", "repo"], { cwd: fx.dir });
    expect(repair.stdout).toContain("repaired: 1 corrupt blob set aside in repo/quarantine/");
    expect(readFileSync(join(fx.repo, "quarantine", digest), "utf8")).toBe(relation.replace("3", "5"));
    const again = await ingest();
    expect(again.code, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout.trim().split("\n").pop()!) as { filesHashed: number }).filesHashed).toBe(1);
    const ok = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(ok.code, ok.stderr).toBe(0);
  });
});

describe("14.3b a quantum's corrupt input is reported once", () => {
  it("the plain output and the quantum's log say it once", async () => {
    expect((await runChain(fx.dir, [...PAD, "--tasks", "double"])).code).toBe(0);
    const blob = await blobOf("doubled", "item = 3");
    damage(blob.path, '"value":6', '"value":7');
    const run = await runCli(["run", "chain.yaml", "--repo", "repo", ...PAD], { cwd: fx.dir });
    expect(run.code).toBe(1);
    const said = `input doubled (item=3) is corrupt: blob ${blob.digest} holds other bytes of the same size`;
    expect((run.stdout + run.stderr).split(said).length - 1, run.stdout + run.stderr).toBe(1);
    const log = await runCli(["log", "parity@item=3", "--repo", "repo"], { cwd: fx.dir });
    expect(log.stdout.split(said).length - 1, log.stdout).toBe(1);
  });
});

describe("14.3c the results computed from a corrupt blob are dropped before it is set aside", () => {
  it("a command that read the corrupt blob in the same run as the quantum that found it reruns too", async () => {
    // `copy` is a command: it checks only its input's size, so it runs on the same-size bad bytes,
    // while `parity` (a module, which hashes its inputs) finds them corrupt in the same run.
    writeFileSync(
      join(fx.dir, "both.yaml"),
      [
        "dimensions: { item: int }",
        'inputs: { raw: { path: "data/raw-{item}.txt", storage: text } }',
        "tasks:",
        "  double: { task: ./tasks/double.ts }",
        "  parity: { task: ./tasks/parity.ts }",
        "  copy:",
        '    command: "cp {inputs.src} {outputs.out}"',
        "    dimensions: [item]",
        "    inputs: { src: { type: doubled, dimensions: [item], storage: json } }",
        "    outputs: { out: { type: copied, dimensions: [item], storage: json } }",
      ].join("\n") + "\n",
    );
    const run = (extra: string[] = []) => runCli(["run", "both.yaml", "--repo", "repo", "--json", ...PAD, ...extra], { cwd: fx.dir });
    expect((await run(["--tasks", "double"])).code).toBe(0);
    const blob = await blobOf("doubled", "item = 3");
    damage(blob.path, '"value":6', '"value":7');
    const first = await run();
    expect(first.code).toBe(1);
    expect(quantaOf(first.stdout, "quantum-failed")).toEqual(itemsOf("parity", [3]));
    expect(quantaOf(first.stdout, "quantum-finished")).toEqual([...itemsOf("copy", [1, 2, 3, 4]), ...itemsOf("parity", [1, 2, 4])]);
    expect(existsSync(join(fx.repo, "quarantine", blob.digest))).toBe(true);
    // double@item=3 reruns and writes the good bytes under the same digest: copy@item=3's key is
    // the same as in the run that read the bad bytes, and its result must not be taken from that run.
    const second = await run();
    expect(second.code, second.stderr).toBe(0);
    expect(quantaOf(second.stdout, "quantum-finished")).toEqual([...itemsOf("copy", [3]), ...itemsOf("double", [3]), ...itemsOf("parity", [3])]);
    const copied = await runCli(["get", "copied@item=3", "--repo", "repo"], { cwd: fx.dir });
    expect(copied.stdout).toContain('"value":6');
    expect((await runCli(["verify", "--repo", "repo"], { cwd: fx.dir })).code).toBe(0);
  });

  it("verify --repair stopped at its commit sets nothing aside, and one stopped after it is finished by the next", async () => {
    expect((await runChain(fx.dir, PAD)).code).toBe(0);
    const blob = await blobOf("doubled", "item = 3");
    damage(blob.path, '"value":6', '"value":7');
    const repo = await openRepository(fx.repo, { write: true, create: false, command: "test" });
    try {
      const report = await verifyRepository(repo);
      expect(report.problems.map((p) => [p.digest, p.status])).toEqual([[blob.digest, "corrupt"]]);
      // Stopped at the commit that drops the results: the blob must still be in place, so that
      // nothing stays cached on a blob that is gone.
      const commit = repo.registry.commit;
      repo.registry.commit = (fn) =>
        commit.call(repo.registry, () => {
          fn();
          throw new Error("stopped at the commit");
        });
      await expect(repairRepository(repo, report)).rejects.toThrow("stopped at the commit");
      repo.registry.commit = commit;
      expect(existsSync(blob.path)).toBe(true);
      expect((await verifyRepository(repo)).problems.map((p) => [p.digest, p.status])).toEqual([[blob.digest, "corrupt"]]);
      // Stopped after the commit, before the move: the results are dropped, the blob is still there.
      const blobs = repo.blobs as unknown as Record<string, unknown>;
      const move = blobs["quarantineFile"];
      blobs["quarantineFile"] = () => {
        throw new Error("stopped before the move");
      };
      await expect(repairRepository(repo, report)).rejects.toThrow("stopped before the move");
      blobs["quarantineFile"] = move;
      expect(existsSync(blob.path)).toBe(true);
    } finally {
      await repo.close();
    }
    const found = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(found.stderr).toContain(`corrupt: blob ${blob.digest}`);
    const repair = await runCli(["verify", "--repair", "--repo", "repo"], { cwd: fx.dir });
    expect(repair.stdout).toContain("repaired: 1 corrupt blob set aside in repo/quarantine/, 0 cached results computed from them dropped");
    const again = await runChain(fx.dir, PAD);
    expect(again.code, again.stderr).toBe(0);
    expect(again.ran).toEqual([...itemsOf("double", [3]), ...itemsOf("parity", [3])]);
    expect((await runCli(["verify", "--repo", "repo"], { cwd: fx.dir })).code).toBe(0);
  });
});
