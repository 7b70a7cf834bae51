/**
 * Two pipelines in one repository that both declare an input type `raw`, at different paths and with
 * different storage classes, through the real CLI: each ingests into its own input collection, so
 * neither replaces or removes the other's inputs, and a saved plan of one still computes on its files
 * after the other ran.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-input-collections-");
afterAll(() => temp.cleanup());

interface DatasetLine {
  type: string;
  dataId: Record<string, unknown>;
  digest: string;
  collection: string;
}

function makeProject(): string {
  const dir = temp.dir;
  mkdirSync(join(dir, "a"), { recursive: true });
  mkdirSync(join(dir, "b"), { recursive: true });
  for (const item of [1, 2]) {
    writeFileSync(join(dir, "a", `${item}.txt`), `alpha ${item}\n`);
    writeFileSync(join(dir, "b", `${item}.bin`), `bravo ${item}\n`);
  }
  writeFileSync(join(dir, "b", "3.bin"), "bravo 3\n");
  const pipeline = (inputs: string, command: string, storage: string) =>
    [
      "dimensions: { item: int }",
      `inputs: { raw: ${inputs} }`,
      "tasks:",
      "  shout:",
      `    command: "${command}"`,
      "    dimensions: [item]",
      `    inputs: { src: { type: raw, dimensions: [item], storage: ${storage} } }`,
      `    outputs: { out: { type: shouted, dimensions: [item], storage: ${storage} } }`,
    ].join("\n") + "\n";
  writeFileSync(join(dir, "A.yaml"), pipeline('{ path: "a/{item}.txt", storage: text }', "tr a-z A-Z < {inputs.src} > {outputs.out}", "text"));
  writeFileSync(join(dir, "B.yaml"), pipeline('{ path: "b/{item}.bin", storage: file }', "cp {inputs.src} {outputs.out}", "file"));
  return dir;
}

async function listRaw(dir: string): Promise<DatasetLine[]> {
  const r = await runCli(["datasets", "--repo", "repo", "--type", "raw", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => {
      // The dataset without the event's stamp (`v`, `time`), which differs from one listing to the next.
      const { v: _v, time: _time, ...dataset } = JSON.parse(l) as DatasetLine & { v: number; time: number };
      return dataset;
    });
}

describe("14.5 each pipeline's ingested inputs are its own", () => {
  it("ingest and run of one pipeline leave the other's inputs alone, and exec of a saved plan computes on its own files", async () => {
    const dir = makeProject();
    const ingestA = await runCli(["ingest", "A.yaml", "--repo", "repo"], { cwd: dir });
    expect(ingestA.code, ingestA.stderr).toBe(0);
    expect(ingestA.stdout).toContain("into raw/A:");
    const before = (await listRaw(dir)).filter((d) => d.collection === "raw/A");
    expect(before.map((d) => d.dataId)).toEqual([{ item: 1 }, { item: 2 }]);

    const plan = await runCli(["graph", "A.yaml", "--repo", "repo", "-o", "a.qg"], { cwd: dir });
    expect(plan.code, plan.stderr).toBe(0);
    const runB = await runCli(["run", "B.yaml", "--repo", "repo", "-j", "1"], { cwd: dir });
    expect(runB.code, runB.stderr).toBe(0);

    const after = await listRaw(dir);
    expect(after.filter((d) => d.collection === "raw/A")).toEqual(before);
    expect(after.filter((d) => d.collection === "raw/B").map((d) => d.dataId)).toEqual([{ item: 1 }, { item: 2 }, { item: 3 }]);

    const exec = await runCli(["exec", "a.qg", "--repo", "repo", "-j", "1"], { cwd: dir });
    expect(exec.code, exec.stderr).toBe(0);
    const got = await runCli(["get", "shouted@item=2", "--repo", "repo", "--collection", "A"], { cwd: dir });
    expect(got.code, got.stderr).toBe(0);
    expect(got.stdout).toBe("ALPHA 2\n");
    const gotB = await runCli(["get", "shouted@item=2", "--repo", "repo", "--collection", "B"], { cwd: dir });
    expect(gotB.stdout).toBe("bravo 2\n");
  });
});
