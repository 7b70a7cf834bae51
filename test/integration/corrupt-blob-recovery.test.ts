/**
 * 14.3, continued: what a corrupt blob leaves behind once it is set aside. A relation file's blob is
 * copied in again like any raw file's; a quantum's failure on a corrupt input is printed once; and
 * the cached results dropped for it are every one computed from it, including those recorded in the
 * same run (the same commit batch) as the quantum that found it.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { makeChainFixture, runChain } from "./chain-fixture.js";

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

/** Changes one character of a blob file: the same size, other bytes. */
function damage(path: string, from: string, to: string): void {
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
}

describe("14.3a a relation file whose blob was set aside is ingested again", () => {
  it("verify names the relation, --repair sets its blob aside, and the next ingest copies the relation and raw files in again", async () => {
    // Both blobs are files (more than 4 KiB): a relation of 1,200 items, raw files padded to 5,000 bytes.
    const relation = ["item", ...Array.from({ length: 1200 }, (_, i) => String(i + 1))].join("\n") + "\n";
    writeFileSync(join(fx.dir, "rel.csv"), relation);
    for (let i = 1; i <= N; i++) writeFileSync(join(fx.dir, "data", `raw-${i}.txt`), `${i}\n`.padEnd(5000, "."));
    writeFileSync(
      join(fx.dir, "rel.yaml"),
      [
        "dimensions: { item: int }",
        "inputs:",
        '  raw: { path: "data/raw-{item}.txt", storage: text }',
        '  items: { path: "rel.csv", relation: [item] }',
        "tasks:",
        "  copy:",
        '    command: "cp {inputs.src} {outputs.out}"',
        "    dimensions: [item]",
        "    inputs: { src: { type: raw, dimensions: [item], storage: text } }",
        "    outputs: { out: { type: copied, dimensions: [item], storage: text } }",
      ].join("\n") + "\n",
    );
    const ingest = () => runCli(["ingest", "rel.yaml", "--repo", "repo", "--json"], { cwd: fx.dir });
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
