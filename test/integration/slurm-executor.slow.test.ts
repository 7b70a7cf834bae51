/**
 * The Slurm executor on a real one-host Slurm (scripts/slurm-one-host.sh): the chain fixture run with
 * `--executor slurm` gives the datasets a local `-j 2` run gives, a second run submits nothing, and an
 * edited input reruns only its chain.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { itemsOf, makeChainFixture, runChain } from "./chain-fixture.js";
import { PROJECT_ROOT, runCli } from "../helpers/cli.js";
import { SLURM_SCRATCH, useSlurm } from "../helpers/slurm.js";

useSlurm();

const ITEMS = 6;

async function datasetSet(dir: string): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", "repo", "--collection", "chain", "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { type: string; dataId: unknown; digest: string })
    .map((d) => `${d.type} ${JSON.stringify(d.dataId)} ${d.digest}`)
    .sort();
}

/** The batch directories (one per sbatch) the Slurm executor made in the repository. */
function batches(repo: string): string[] {
  const root = join(repo, "slurm");
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((run) => readdirSync(join(root, run.name)).map((b) => `${run.name}/${b}`));
}

describe("18.1 a one-host Slurm for the tests", () => {
  it("starts (or is reused) and runs a batch job", () => {
    const script = join(PROJECT_ROOT, "scripts", "slurm-one-host.sh");
    expect(execFileSync(script, ["status", SLURM_SCRATCH], { encoding: "utf8" })).toContain("running");
    const dir = join(SLURM_SCRATCH, "smoke");
    execFileSync("mkdir", ["-p", dir]);
    writeFileSync(join(dir, "job.sh"), "#!/bin/sh\necho ran on $(hostname -s)\n");
    const id = execFileSync("sbatch", ["--parsable", "--wait", `--output=${join(dir, "out.txt")}`, join(dir, "job.sh")], { encoding: "utf8" }).trim();
    expect(id).toMatch(/^\d+$/);
    expect(readFileSync(join(dir, "out.txt"), "utf8")).toMatch(/^ran on /);
  });
});

describe("18.2 the chain fixture on Slurm", () => {
  const slurm = makeChainFixture(ITEMS);
  const local = makeChainFixture(ITEMS);
  afterAll(() => {
    slurm.cleanup();
    local.cleanup();
  });

  it("gives the datasets of a local run; a second run submits nothing; an edit reruns its chain only", async () => {
    const [s, l] = await Promise.all([runChain(slurm.dir, ["--executor", "slurm"]), runChain(local.dir, ["-j", "2"])]);
    expect(s.code, s.stderr).toBe(0);
    expect(l.code, l.stderr).toBe(0);
    expect(s.events.find((e) => e.event === "run-started")).toMatchObject({ executor: "slurm" });
    expect(s.ran).toEqual(l.ran);
    expect(s.ran).toHaveLength(2 * ITEMS + 1);
    expect(await datasetSet(slurm.dir)).toEqual(await datasetSet(local.dir));
    const submitted = batches(slurm.repo);
    // One sbatch per task and wave of ready quanta (quanta become ready as their inputs' jobs end).
    expect(submitted.length).toBeGreaterThanOrEqual(3);
    expect(submitted.length).toBeLessThan(2 * ITEMS + 1);

    const again = await runChain(slurm.dir, ["--executor", "slurm"]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.ran).toEqual([]);
    expect(batches(slurm.repo).filter((b) => !submitted.includes(b))).toEqual([]);

    writeFileSync(join(slurm.dir, "data", "raw-3.txt"), "30\n");
    writeFileSync(join(local.dir, "data", "raw-3.txt"), "30\n");
    const [edited, editedLocal] = await Promise.all([runChain(slurm.dir, ["--executor", "slurm"]), runChain(local.dir, ["-j", "2"])]);
    expect(edited.code, edited.stderr).toBe(0);
    // 30 doubles to 60, even as 6 was: parity's output is the same, so total stays up to date (early cutoff).
    expect(edited.ran).toEqual([...itemsOf("double", [3]), ...itemsOf("parity", [3])]);
    expect(editedLocal.ran).toEqual(edited.ran);
    expect(await datasetSet(slurm.dir)).toEqual(await datasetSet(local.dir));
  });
});
