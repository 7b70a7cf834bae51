/**
 * 19.6: temp outputs (as Snakemake's temp()), against the real CLI and LMDB. A temp output's blob is
 * dropped once its readers have run; a reader that must run again has its producer recompute it first,
 * and the digests are those of a clean run.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const pipeline = (temp: string) => `dimensions: { item: int }
inputs:
  raw: { path: "raw-{item}.txt", storage: text }
tasks:
  swap:
    command: "sed 's/a/b/g' {inputs.raw} > {outputs.out}"
    dimensions: [item]
    inputs: { raw: { type: raw, dimensions: [item], storage: text } }
    outputs: { out: { type: swapped, dimensions: [item], storage: text${temp} } }
  shout:
    command: "tr b {config.letter} < {inputs.part} > {outputs.out}"
    config: { letter: B }
    dimensions: [item]
    inputs: { part: { type: swapped, dimensions: [item], storage: text } }
    outputs: { out: { type: shouted, dimensions: [item], storage: text } }
`;

const ITEMS = [1, 2, 3];
const content = (item: number) => `${"abc".repeat(2000)}-${item}\n`;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-temp-"));
  writeFileSync(join(dir, "p.yaml"), pipeline(", temp: true"));
  for (const i of ITEMS) writeFileSync(join(dir, `raw-${i}.txt`), content(i));
});
afterEach(() => cleanup());

async function quanta(args: string[], repo = "repo", code = 0) {
  const r = await runCli([...args, "--repo", repo], { cwd: dir });
  expect(r.code, r.stderr).toBe(code);
  return r;
}

/** Digest of every dataset of the output collection, by `type@dataId`. */
async function digests(repo = "repo"): Promise<Record<string, string>> {
  const r = await quanta(["datasets", "--json", "--collection", "p"], repo);
  const out: Record<string, string> = {};
  for (const line of r.stdout.trim().split("\n")) {
    const e = JSON.parse(line);
    out[`${e.type}@item=${e.dataId.item}`] = e.digest;
  }
  return out;
}

describe("19.6 temp outputs", () => {
  it("19.6 a temp output is dropped after its readers ran; results are right, get says how to have it back, verify is clean", async () => {
    expect((await quanta(["run", "p.yaml", "--plain"])).stdout).toContain("6 ran");
    for (const i of ITEMS) {
      expect((await quanta(["get", `shouted@item=${i}`])).stdout).toBe(content(i).replaceAll("a", "b").replaceAll("b", "B"));
      const got = await quanta(["get", `swapped@item=${i}`], "repo", 3);
      expect(got.stderr).toContain(`p/swapped@item=${i} is a temp output: its bytes`);
      expect(got.stderr).toContain(`hint: ask for it, and its producer runs again: quanta run PIPELINE swapped@item=${i}`);
    }
    // Only the raw files and the readers' outputs stay in the store.
    const gc = JSON.parse((await quanta(["gc", "--json", "--dry-run"])).stdout);
    expect(gc.blobsKept).toBe(2 * ITEMS.length);
    expect((await quanta(["verify"])).stdout).toContain("0 missing, 0 corrupt");
    // Up to date without the dropped blobs: the run (its stamp answers) and status (it resolves each quantum).
    expect((await quanta(["run", "p.yaml", "--plain"])).stdout).toContain("0 ran, 6 up to date");
    expect((await quanta(["status", "p.yaml"])).stdout).toContain("0 will run, 0 may run, 6 up to date");
    // Asked for, it is computed again (and kept: nothing in that run reads it).
    expect((await quanta(["run", "p.yaml", "swapped@item=2", "--plain"])).stdout).toContain("1 ran");
    expect((await quanta(["get", "swapped@item=2"])).stdout).toBe(content(2).replaceAll("a", "b"));
  });

  it("19.6 a reader that must run again has the temp producer recompute first, with the digests of a clean run", async () => {
    await quanta(["run", "p.yaml", "--plain"]);
    const status = await quanta(["status", "p.yaml", "--config", "shout.letter=C", "--list"]);
    expect(status.stdout).toContain("3 will run, 3 may run");
    const why = await quanta(["why", "swap@item=1", "--pipeline", "p.yaml", "--config", "shout.letter=C"]);
    expect(why.stdout).toContain("swap@item=1 will run:\n  - its temp output swapped@item=1 was dropped and shout@item=1 must run");
    const rerun = await quanta(["run", "p.yaml", "--plain", "--config", "shout.letter=C"]);
    expect(rerun.stdout).toContain("6 ran");
    for (const i of ITEMS) expect((await quanta(["get", `shouted@item=${i}`])).stdout).toBe(content(i).replaceAll("a", "b").replaceAll("b", "C"));
    // The same digests as a run from scratch without temp outputs, in another repository.
    writeFileSync(join(dir, "plain.yaml"), pipeline(""));
    await quanta(["run", "plain.yaml", "--plain", "--config", "shout.letter=C", "--output", "p"], "clean");
    expect(await digests()).toEqual(await digests("clean"));
    // Dropped again once the readers ran; an edited raw file reruns its chain alone.
    expect(JSON.parse((await quanta(["gc", "--json", "--dry-run"])).stdout).blobsKept).toBe(2 * ITEMS.length + ITEMS.length);
    writeFileSync(join(dir, "raw-1.txt"), content(7));
    expect((await quanta(["run", "p.yaml", "--plain", "--config", "shout.letter=C"])).stdout).toContain("2 ran, 4 up to date");
    expect((await quanta(["get", "shouted@item=1"])).stdout).toBe(content(7).replaceAll("a", "b").replaceAll("b", "C"));
    expect((await quanta(["verify"])).stdout).toContain("0 missing, 0 corrupt");
  });

  it("19.6 temp on an input connection is refused where it is written, exit 2", async () => {
    const yaml = readFileSync(join(dir, "p.yaml"), "utf8").replace("part: { type: swapped, dimensions: [item], storage: text }", "part: { type: swapped, dimensions: [item], storage: text, temp: true }");
    writeFileSync(join(dir, "p.yaml"), yaml);
    const r = await quanta(["run", "p.yaml", "--plain"], "repo", 2);
    expect(r.stderr).toContain('input "part" of task "shout" is marked temp, which only outputs can be');
    expect(r.stderr).toMatch(/p\.yaml:\d+:\d+/);
    expect(r.stderr).toContain("hint: mark the output that writes swapped temp: true");
  });
});
