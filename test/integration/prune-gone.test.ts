/**
 * 16 (and 17.4): a run of the whole pipeline removes from its collection the quanta whose inputs are
 * gone, with their outputs, and says how many; another pipeline's quanta in the same collection stay.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const pipeline = (dir: string) => `dimensions: { item: int }
inputs:
  raw: { path: "${dir}/{item}.txt", storage: text }
tasks:
  copy:
    command: "cp {inputs.raw} {outputs.out}"
    dimensions: [item]
    inputs: { raw: { type: raw, dimensions: [item], storage: text } }
    outputs: { out: { type: copied, dimensions: [item], storage: text } }
`;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-prune-"));
  for (const [sub, items] of [["a", [1, 2, 3]], ["b", [4, 5]]] as const) {
    mkdirSync(join(dir, sub));
    for (const i of items) writeFileSync(join(dir, sub, `${i}.txt`), `${sub}${i}\n`);
    writeFileSync(join(dir, `${sub}.yaml`), pipeline(sub));
  }
});
afterEach(() => cleanup());

async function listed(): Promise<number[]> {
  const r = await runCli(["datasets", "--repo", "repo", "--collection", "shared", "--type", "copied", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l).dataId.item as number)
    .sort();
}

describe("16 quanta whose inputs are gone", () => {
  it("16 leave the collection with their outputs when the whole pipeline runs; another pipeline's stay", async () => {
    for (const p of ["a.yaml", "b.yaml"]) {
      const r = await runCli(["run", p, "--repo", "repo", "--output", "shared", "--plain"], { cwd: dir });
      expect(r.code, r.stderr).toBe(0);
    }
    expect(await listed()).toEqual([1, 2, 3, 4, 5]);

    rmSync(join(dir, "a", "2.txt"));
    // A narrowed run does not know what is gone for good: nothing is removed.
    const narrowed = await runCli(["run", "a.yaml", "--repo", "repo", "--output", "shared", "--where", "item = 1", "--plain"], { cwd: dir });
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(await listed()).toEqual([1, 2, 3, 4, 5]);

    const whole = await runCli(["run", "a.yaml", "--repo", "repo", "--output", "shared", "--plain"], { cwd: dir });
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toContain("1 removed (their inputs are gone)");
    expect(await listed()).toEqual([1, 3, 4, 5]);

    // Deleted, and the deletion ingested by `quanta ingest`: the next whole run still finds the quanta
    // gone (the ingest left a note in its commit), though its own ingest sees nothing new.
    rmSync(join(dir, "a", "3.txt"));
    const ingest = await runCli(["ingest", "a.yaml", "--repo", "repo"], { cwd: dir });
    expect(ingest.code, ingest.stderr).toBe(0);
    const after = await runCli(["run", "a.yaml", "--repo", "repo", "--output", "shared", "--plain"], { cwd: dir });
    expect(after.stdout).toContain("1 removed (their inputs are gone)");
    expect(await listed()).toEqual([1, 4, 5]);
    // Once removed, the note is cleared: the next run is answered by its stamp.
    const again = await runCli(["run", "a.yaml", "--repo", "repo", "--output", "shared", "--plain"], { cwd: dir });
    expect(again.stdout).not.toContain("removed (their inputs are gone)");
  });
});
