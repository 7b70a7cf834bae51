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
import { makeTempDir, PROJECT_ROOT, runCli } from "../helpers/cli.js";
// @ts-expect-error: a JavaScript module of the benchmarks, without types
import { writeInputs, writeQuantaPipeline } from "../../bench/lib/chain-workload.js";
import { SLURM_SCRATCH, useSlurm } from "../helpers/slurm.js";

useSlurm();

const ITEMS = 6;

async function datasetSet(dir: string, collection = "chain"): Promise<string[]> {
  const r = await runCli(["datasets", "--repo", "repo", "--collection", collection, "--json"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as { type: string; dataId: unknown; digest: string })
    .map((d) => `${d.type} ${JSON.stringify(d.dataId)} ${d.digest}`)
    .sort();
}

/** What failed in a run, for an assertion's message. */
function failures(r: { stderr: string; events: { event: string }[] }): string {
  return r.stderr + JSON.stringify(r.events.filter((e) => e.event === "quantum-failed"));
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
    const id = execFileSync("sbatch", ["--parsable", `--output=${join(dir, "out.txt")}`, join(dir, "job.sh")], { encoding: "utf8" }).trim();
    expect(id).toMatch(/^\d+$/);
    // srun waits for its own job, which starts after the batch job on this one node's queue.
    expect(execFileSync("srun", ["--quiet", "sh", "-c", "echo ok"], { encoding: "utf8" })).toBe("ok\n");
    expect(execFileSync("squeue", ["--noheader", "--states=all", `--jobs=${id}`, "--format=%T"], { encoding: "utf8" }).trim()).toMatch(/^(COMPLETED|COMPLETING|RUNNING)$/);
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
    expect(s.code, failures(s)).toBe(0);
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
    expect(again.code, failures(again)).toBe(0);
    expect(again.ran).toEqual([]);
    expect(batches(slurm.repo).filter((b) => !submitted.includes(b))).toEqual([]);

    writeFileSync(join(slurm.dir, "data", "raw-3.txt"), "30\n");
    writeFileSync(join(local.dir, "data", "raw-3.txt"), "30\n");
    const [edited, editedLocal] = await Promise.all([runChain(slurm.dir, ["--executor", "slurm"]), runChain(local.dir, ["-j", "2"])]);
    expect(edited.code, failures(edited)).toBe(0);
    // 30 doubles to 60, even as 6 was: parity's output is the same, so total stays up to date (early cutoff).
    expect(edited.ran).toEqual([...itemsOf("double", [3]), ...itemsOf("parity", [3])]);
    expect(editedLocal.ran).toEqual(edited.ran);
    expect(await datasetSet(slurm.dir)).toEqual(await datasetSet(local.dir));
  }, 180_000);
});

describe("18.3 packing quanta into jobs; resources as sbatch options", () => {
  const fx = makeChainFixture(ITEMS);
  afterAll(() => fx.cleanup());

  it("--cluster-size 3 runs a task's ready quanta three to a job, with the task's resources", async () => {
    const yaml = join(fx.dir, "chain.yaml");
    writeFileSync(yaml, readFileSync(yaml, "utf8").replace("config: { factor: 2 } }", "config: { factor: 2 }, resources: { time: 7, cpus: 1, memory: 100M } }"));
    const r = await runChain(fx.dir, ["--executor", "slurm", "--cluster-size", "3"]);
    expect(r.code, failures(r)).toBe(0);
    expect(r.ran).toHaveLength(2 * ITEMS + 1);
    const submitted = r.events.filter((e) => e.event === "slurm-submitted");
    for (const s of submitted) expect(s.jobs).toBe(Math.ceil(s.quanta / 3));
    expect(r.finished.slurm).toEqual({ sbatchCalls: submitted.length, jobs: submitted.reduce((n, s) => n + s.jobs, 0) });
    expect(r.finished.slurm!.jobs).toBeLessThan(2 * ITEMS + 1);
    const double = submitted.find((s) => s.task === "double")!;
    const shown = execFileSync("scontrol", ["show", "job", `${double.jobId}_0`], { encoding: "utf8" });
    // Its elements hold two quanta of "double" (7 minutes each) one after the other.
    expect(shown).toContain("TimeLimit=00:14:00");
    expect(shown).toMatch(/MinMemoryNode=100M/);
  });

  it("--cluster-by without --executor slurm is a usage error", async () => {
    const r = await runCli(["run", "chain.yaml", "--repo", "repo", "--cluster-by", "item"], { cwd: fx.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--cluster-by groups quanta into Slurm jobs: it needs --executor slurm");
  });
});

describe("18.3 300 chains of command tasks, clustered", () => {
  const slurm = makeTempDir("quanta-slurm-chains-");
  const local = makeTempDir("quanta-local-chains-");
  afterAll(() => {
    slurm.cleanup();
    local.cleanup();
  });

  it("--cluster-size 100 gives the datasets of a local -j 2 run, in far fewer jobs than quanta", async () => {
    for (const dir of [slurm.dir, local.dir]) {
      writeInputs(dir, 300);
      writeQuantaPipeline(dir);
    }
    const run = (dir: string, flags: string[]) => runCli(["run", "chains.yaml", "--repo", "repo", "--json", ...flags], { cwd: dir });
    const l = await run(local.dir, ["-j", "2"]);
    const s = await run(slurm.dir, ["--executor", "slurm", "--cluster-size", "100"]);
    expect(l.code, l.stderr).toBe(0);
    const events = s.stdout.split("\n").filter((x) => x.trim() !== "").map((x) => JSON.parse(x) as { event: string; [k: string]: unknown });
    expect(s.code, JSON.stringify(events.filter((e) => e.event === "quantum-failed").slice(0, 3))).toBe(0);
    const finished = events.find((e) => e.event === "run-finished") as { counts: { ran: number }; slurm: { sbatchCalls: number; jobs: number } };
    expect(finished.counts.ran).toBe(901);
    expect(finished.slurm.jobs).toBeLessThan(300);
    const sets = await Promise.all([slurm.dir, local.dir].map((dir) => datasetSet(dir, "chains")));
    expect(sets[0]).toHaveLength(1 + 300 * 3);
    expect(sets[0]).toEqual(sets[1]);
  }, 180_000);
});
