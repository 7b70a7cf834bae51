/**
 * Items 15 and 5 (second half) of issue 14: a saved plan runs after its project moved, and `exec`
 * refuses a plan whose inputs changed since it was made.
 */
import { cpSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-saved-plan-");
afterAll(() => temp.cleanup());
let counter = 0;

/** The chain fixture (module tasks: double -> parity -> total) with items 1 and 2. */
function makeProject(): string {
  const dir = join(temp.dir, `p-${counter++}`, "project");
  mkdirSync(join(dir, "data"), { recursive: true });
  cpSync(join(PROJECT_ROOT, "test", "fixtures", "chain", "tasks"), join(dir, "tasks"), { recursive: true });
  cpSync(join(PROJECT_ROOT, "test", "fixtures", "chain", "chain.yaml"), join(dir, "chain.yaml"));
  writeFileSync(join(dir, "data", "raw-1.txt"), "3\n");
  writeFileSync(join(dir, "data", "raw-2.txt"), "4\n");
  return dir;
}

describe("14.15 plans that move", () => {
  it("14.15 a plan saved in a project runs after the project folder moved", async () => {
    const dir = makeProject();
    const graph = await runCli(["graph", "chain.yaml", "-o", "plan.qg"], { cwd: dir });
    expect(graph.code, graph.stderr).toBe(0);
    const moved = join(dir, "..", "moved");
    renameSync(dir, moved);
    const exec = await runCli(["exec", "plan.qg", "--json"], { cwd: moved });
    expect(exec.code, exec.stderr).toBe(0);
    const finished = exec.stdout.trim().split("\n").map((l) => JSON.parse(l) as { event: string; counts?: unknown }).at(-1);
    expect(finished).toMatchObject({ event: "run-finished", counts: { ran: 5, failed: 0, blocked: 0 } });
    const report = await runCli(["get", "report@", "--collection", "chain"], { cwd: moved });
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toBe("2 even of 2\n");
  });
});

describe("14.5 exec and the inputs a plan was made with", () => {
  it("14.5 exec refuses a plan whose input changed and was re-ingested since, with a hint to plan again", async () => {
    const dir = makeProject();
    expect((await runCli(["graph", "chain.yaml", "-o", "plan.qg"], { cwd: dir })).code).toBe(0);
    writeFileSync(join(dir, "data", "raw-1.txt"), "30\n");
    expect((await runCli(["ingest", "chain.yaml"], { cwd: dir })).code).toBe(0);
    const exec = await runCli(["exec", "plan.qg"], { cwd: dir });
    expect(exec.code).toBe(2);
    expect(exec.stderr).toMatch(/^error: the plan's inputs changed since it was made: raw@item=1 \(planned [0-9a-f]+-\d+, now [0-9a-f]+-\d+\)\n/);
    expect(exec.stderr).toMatch(/\nhint: make the plan again \(quanta graph .*chain\.yaml -o PLAN\), or run the pipeline with quanta run\n$/);
    // Nothing ran: the output collection is empty.
    const listed = await runCli(["datasets", "--collection", "chain"], { cwd: dir });
    expect(listed.stdout).not.toContain("doubled@");

    // Planned again, it runs over the new input.
    expect((await runCli(["graph", "chain.yaml", "-o", "plan.qg"], { cwd: dir })).code).toBe(0);
    expect((await runCli(["exec", "plan.qg"], { cwd: dir })).code).toBe(0);
    expect(JSON.parse((await runCli(["get", "doubled@item=1", "--collection", "chain"], { cwd: dir })).stdout)).toEqual({ value: 60 });
  });
});

describe("19.2 the input digests a saved plan keeps", () => {
  it("19.2 are those the registry holds for its inputs, read from the graph builder's listing", async () => {
    const { loadSavedPlan } = await import("../../src/store/plan-file.js");
    const { openRepository } = await import("../../src/store/repository.js");
    const { readInputDigests } = await import("../../src/app/planned-inputs.js");
    const dir = makeProject();
    const graph = await runCli(["graph", "chain.yaml", "-o", "plan.qg"], { cwd: dir });
    expect(graph.code, graph.stderr).toBe(0);
    const saved = await loadSavedPlan(join(dir, "plan.qg"));
    const repo = await openRepository(join(dir, "cache"), { write: false });
    try {
      // Read again dataset by dataset from the registry (no listing given): the same digests.
      const direct = readInputDigests(saved.graph, repo.registry, saved.graph.pipeline.name);
      expect(saved.inputDigests.size).toBe(2);
      expect([...saved.inputDigests.values()].every((d) => /^[0-9a-f]+-\d+$/.test(d))).toBe(true);
      expect(new Map(saved.inputDigests)).toEqual(direct);
    } finally {
      await repo.close();
    }
  });
});
