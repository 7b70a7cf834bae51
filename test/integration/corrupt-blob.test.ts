/**
 * 14.3: a corrupt blob never spreads. Readers check what they read (get: size and digest; a quantum's
 * inputs: the digest of what a module reads whole, the size of a command's linked file); a blob found
 * corrupt is set aside in quarantine/, the results computed from it are dropped, and the next run
 * recomputes it (its producer reruns, or ingest copies its raw file in again).
 */
import { existsSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
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

/** The blob of one dataset: its digest, its file, and that file as the CLI names it (`--repo repo`). */
async function blobOf(type: string, where: string): Promise<{ digest: string; path: string; shown: string }> {
  const r = await runCli(["datasets", "--repo", "repo", "--json", "--type", type, "--where", where], { cwd: fx.dir });
  expect(r.code, r.stderr).toBe(0);
  const digest = JSON.parse(r.stdout.trim().split("\n")[0]!).digest as string;
  const rel = join("blobs", digest.slice(0, 2), digest.slice(2));
  return { digest, path: join(fx.repo, rel), shown: join("repo", rel) };
}

/** Rewrites doubled@item=3's value 6 as 7: the same size, other bytes (an odd parity if trusted). */
function flipValue(path: string): void {
  const text = readFileSync(path, "utf8");
  expect(text).toContain('"value":6');
  writeFileSync(path, text.replace('"value":6', '"value":7'));
}

async function report(): Promise<string> {
  const r = await runCli(["get", "report@", "--repo", "repo"], { cwd: fx.dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe("14.3 a corrupt blob never spreads", () => {
  it("get refuses a corrupt blob (same size or truncated) with exit 3, naming the dataset, with a hint", async () => {
    expect((await runChain(fx.dir, PAD)).code).toBe(0);
    const blob = await blobOf("doubled", "item = 3");
    flipValue(blob.path);
    const same = await runCli(["get", "doubled@item=3", "--repo", "repo"], { cwd: fx.dir });
    expect(same.code).toBe(3);
    expect(same.stdout).toBe("");
    expect(same.stderr).toBe(
      `error: the bytes of chain/doubled@item=3 are corrupt: blob ${blob.digest} (${blob.shown}) holds other bytes of the same size\n` +
        "hint: run 'quanta verify --repair' to set it aside and drop the results computed from it, then run the pipeline again: its producer reruns, or ingest copies its raw file in again\n",
    );
    truncateSync(blob.path, 100);
    const short = await runCli(["get", "doubled@item=3", "--repo", "repo"], { cwd: fx.dir });
    expect(short.code).toBe(3);
    expect(short.stderr.split("\n")[0]).toBe(`error: the bytes of chain/doubled@item=3 are corrupt: blob ${blob.digest} (${blob.shown}) holds 100 bytes, not ${blob.digest.split("-")[1]}`);
  });

  it("a module quantum never runs on a corrupt input: it is set aside, and the next run reruns its producer", async () => {
    expect((await runChain(fx.dir, [...PAD, "--tasks", "double"])).code).toBe(0);
    const blob = await blobOf("doubled", "item = 3");
    flipValue(blob.path);
    const first = await runChain(fx.dir, PAD);
    expect(first.code).toBe(1);
    expect(first.failed).toEqual(["parity@item=3"]);
    const failure = first.events.find((e) => e.event === "quantum-failed") as { error: string };
    expect(failure.error).toContain(`input doubled (item=3) is corrupt: blob ${blob.digest} holds other bytes of the same size`);
    expect(existsSync(blob.path)).toBe(false);
    expect(readFileSync(join(fx.repo, "quarantine", blob.digest), "utf8")).toContain('"value":7');
    // Its producer reruns (its output is missing); what read it runs on the good bytes.
    const second = await runChain(fx.dir, PAD);
    expect(second.code, second.stderr).toBe(0);
    expect(second.ran).toEqual(["double@item=3", "parity@item=3", "total"]);
    expect(await report()).toBe(`${N} even of ${N}\n`);
    expect((await runCli(["verify", "--repo", "repo"], { cwd: fx.dir })).code).toBe(0);
  });

  it("a command quantum never runs on a truncated input: the raw file is ingested again", async () => {
    writeFileSync(
      join(fx.dir, "copy.yaml"),
      [
        "dimensions: { item: int }",
        // Copies: this is about a raw file's blob (by reference, the default, it has none).
        'inputs: { raw: { path: "data/raw-{item}.txt", storage: text, transfer: copy } }',
        "tasks:",
        "  copy:",
        '    command: "cp {inputs.src} {outputs.out}"',
        "    dimensions: [item]",
        "    inputs: { src: { type: raw, dimensions: [item], storage: text } }",
        "    outputs: { out: { type: copied, dimensions: [item], storage: text } }",
      ].join("\n") + "\n",
    );
    const source = (i: number) => `${i}\n`.padEnd(5000, ".");
    for (let i = 1; i <= N; i++) writeFileSync(join(fx.dir, "data", `raw-${i}.txt`), source(i));
    expect((await runCli(["ingest", "copy.yaml", "--repo", "repo"], { cwd: fx.dir })).code).toBe(0);
    const blob = await blobOf("raw", "item = 2");
    truncateSync(blob.path, 10);
    const first = await runCli(["run", "copy.yaml", "--repo", "repo", "--json"], { cwd: fx.dir });
    expect(first.code).toBe(1);
    expect(first.stdout).toContain(`input src (item=2) is corrupt: blob ${blob.digest} holds 10 bytes, not 5000`);
    const second = await runCli(["run", "copy.yaml", "--repo", "repo", "--json"], { cwd: fx.dir });
    expect(second.code, second.stderr).toBe(0);
    const copied = await runCli(["get", "copied@item=2", "--repo", "repo"], { cwd: fx.dir });
    expect(copied.stdout).toBe(source(2));
    expect((await runCli(["verify", "--repo", "repo"], { cwd: fx.dir })).code).toBe(0);
  });

  it("verify --repair sets the blob aside and drops what was computed from it; the next run recomputes exactly that", async () => {
    expect((await runChain(fx.dir, PAD)).code).toBe(0);
    const blob = await blobOf("doubled", "item = 3");
    flipValue(blob.path);
    const found = await runCli(["verify", "--repo", "repo"], { cwd: fx.dir });
    expect(found.code).toBe(3);
    expect(found.stderr).toContain("hint: run 'quanta verify --repair'");
    const repair = await runCli(["verify", "--repair", "--repo", "repo"], { cwd: fx.dir });
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toContain(`repaired: 1 corrupt blob set aside in repo/quarantine/, 1 cached result computed from them dropped`);
    expect(existsSync(join(fx.repo, "quarantine", blob.digest))).toBe(true);
    // parity@item=3 had read the blob: it reruns too, though its own inputs' digests did not change.
    const again = await runChain(fx.dir, PAD);
    expect(again.code, again.stderr).toBe(0);
    expect(again.ran).toEqual([...itemsOf("double", [3]), ...itemsOf("parity", [3])]);
    expect(await report()).toBe(`${N} even of ${N}\n`);
    expect((await runCli(["verify", "--repo", "repo"], { cwd: fx.dir })).code).toBe(0);
  });
});
