/**
 * `quanta status --executor slurm` says what a Slurm run would submit (core/slurm-estimate.ts): the
 * jobs and array jobs for the quanta that will or may run, under `--cluster-by`, `--cluster-size` or
 * the pipeline's `clusters:`. It needs no Slurm: nothing is submitted.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";
// @ts-expect-error: a JavaScript module of the benchmarks, without types
import { writeInputs, writeQuantaPipeline } from "../../bench/lib/chain-workload.js";

type Estimate = { quanta: number; jobs: number; sbatchCalls: number; tasks: { task: string; sbatchCalls: number; jobs: number }[] };

async function estimate(dir: string, flags: string[]): Promise<Estimate> {
  const r = await runCli(["status", "chains.yaml", "--repo", "repo", "--json", "--executor", "slurm", ...flags], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  const status = r.stdout.split("\n").filter((l) => l.includes('"event":"status"')).map((l) => JSON.parse(l) as { slurm: Estimate })[0]!;
  return status.slurm;
}

describe("18.7 quanta status --executor slurm", () => {
  const fx = makeTempDir("quanta-slurm-status-");
  afterAll(() => fx.cleanup());

  it("18.7 counts jobs and array jobs: one per quantum, packed chains, clustered by item, or by a clusters: section", async () => {
    writeInputs(fx.dir, 10);
    writeQuantaPipeline(fx.dir);
    expect(await estimate(fx.dir, [])).toEqual({
      quanta: 31,
      jobs: 31,
      sbatchCalls: 4,
      tasks: [
        { task: "step1", sbatchCalls: 1, jobs: 10 },
        { task: "step2", sbatchCalls: 1, jobs: 10 },
        { task: "step3", sbatchCalls: 1, jobs: 10 },
        { task: "gather", sbatchCalls: 1, jobs: 1 },
      ],
    });
    expect(await estimate(fx.dir, ["--cluster-by", "item"])).toEqual({
      quanta: 31,
      jobs: 11,
      sbatchCalls: 2,
      tasks: [
        { task: "step1", sbatchCalls: 1, jobs: 10 },
        { task: "gather", sbatchCalls: 1, jobs: 1 },
      ],
    });
    // Alone, --cluster-size packs chains depth first, three chains (nine quanta) to a job.
    expect((await estimate(fx.dir, ["--cluster-size", "9"])).tasks).toEqual([
      { task: "step1", sbatchCalls: 1, jobs: 4 },
      { task: "gather", sbatchCalls: 1, jobs: 1 },
    ]);
    const yaml = join(fx.dir, "chains.yaml");
    writeFileSync(yaml, readFileSync(yaml, "utf8") + "clusters:\n  front: { tasks: [step1, step2], by: [item] }\n");
    expect((await estimate(fx.dir, [])).tasks).toEqual([
      { task: "step1", sbatchCalls: 1, jobs: 10 },
      { task: "step3", sbatchCalls: 1, jobs: 10 },
      { task: "gather", sbatchCalls: 1, jobs: 1 },
    ]);
  });

  it("18.7 after a run, only what changed: plain output says so in a sentence", async () => {
    const r = await runCli(["run", "chains.yaml", "--repo", "repo", "-j", "2"], { cwd: fx.dir });
    expect(r.code, r.stderr).toBe(0);
    const none = await runCli(["status", "chains.yaml", "--repo", "repo", "--executor", "slurm"], { cwd: fx.dir });
    expect(none.stdout).toContain("with --executor slurm: nothing would be submitted");
    writeFileSync(join(fx.dir, "in", "3.txt"), "edited\n");
    const one = await runCli(["status", "chains.yaml", "--repo", "repo", "--executor", "slurm", "--cluster-by", "item"], { cwd: fx.dir });
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout).toContain("with --executor slurm: 4 quanta would be submitted in 2 jobs, by at least 2 sbatch calls (step1: 1 job in 1 array job; gather: 1 job in 1 array job)");
  });

  it("18.7 a --cluster-by dimension the pipeline does not declare is a usage error with a hint", async () => {
    const r = await runCli(["status", "chains.yaml", "--repo", "repo", "--executor", "slurm", "--cluster-by", "itme"], { cwd: fx.dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--cluster-by names dimension "itme", which the pipeline does not declare');
    expect(r.stderr).toContain('hint: did you mean "item"?');
    // A run refuses it too when nothing is stale (the run stamp answers before anything is planned).
    expect((await runCli(["run", "chains.yaml", "--repo", "repo", "--plain"], { cwd: fx.dir })).code).toBe(0);
    const run = await runCli(["run", "chains.yaml", "--repo", "repo", "--plain", "--executor", "slurm", "--cluster-by", "itme"], { cwd: fx.dir });
    expect(run.code, run.stdout).toBe(2);
    expect(run.stderr).toContain('--cluster-by names dimension "itme", which the pipeline does not declare');
  });
});
