/**
 * `quanta graph` through the real CLI, on a copy of the sky demo (DESIGN.md §2) with freshly generated
 * data: summary, saved plan, pictures, --explain, an empty graph, --tasks, targets and bad flags.
 */
import { cpSync, existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { verifyGraph } from "../../src/core/verify-graph.js";
import { loadPlan } from "../../src/store/plan-file.js";
import { makeTempDir, PROJECT_ROOT, runCli, type CliResult } from "../helpers/cli.js";
import { expectGolden } from "./golden.js";

let temp: { dir: string; cleanup: () => void };
let repo: string;

beforeAll(async () => {
  temp = makeTempDir("quanta-graph-cli-");
  const sky = join(PROJECT_ROOT, "pipelines", "sky");
  cpSync(sky, temp.dir, { recursive: true, filter: (src) => !/[/\\](data|out)$/.test(src) });
  const { generateSkyData } = await import(join(sky, "generate.mjs"));
  generateSkyData(join(temp.dir, "data"));
  repo = join(temp.dir, "cache");
});
afterAll(() => temp.cleanup());

function graph(...args: string[]): Promise<CliResult> {
  return runCli(["graph", "sky.yaml", "--repo", repo, ...args], { cwd: temp.dir });
}

/** stderr without ingest's warnings about the input files (another part's business). */
function errorsOf(r: CliResult): string {
  return r.stderr
    .split("\n")
    .filter((l) => !/^warning: .*(does not fit|data\/)/.test(l))
    .join("\n");
}

describe("quanta graph", () => {
  test("prints a summary of the demo's 89 quanta", async () => {
    const r = await graph();
    expect(errorsOf(r)).toBe("");
    expect(r.code).toBe(0);
    expectGolden("cli-sky-summary.txt", r.stdout);
  });

  test("-o saves a plan that loads back whole", async () => {
    const plan = join(temp.dir, "plan.qg");
    const r = await graph("-o", plan, "--quiet");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`wrote ${plan}: 89 quanta, 147 datasets`);
    const loaded = await loadPlan(plan);
    expect(verifyGraph(loaded)).toEqual([]);
    expect(loaded.quantumCount).toBe(89);
    expect(loaded.pipeline.tasks.map((t) => t.label)).toEqual(["isr", "calibrate", "makeWarp", "coadd", "detect", "summary"]);
    expect(existsSync(loaded.tasks[0]!.modulePath!)).toBe(true);
  });

  test("--mermaid and --dot --quanta", async () => {
    const mermaid = await graph("--mermaid");
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout.split("\n")[0]).toBe("flowchart LR");
    expect(mermaid.stdout).toContain('task2["makeWarp<br/>24 quanta"]');
    const dot = await graph("--dot", "--quanta", "detections@band=r,tract=0,patch=1");
    expect(dot.code).toBe(0);
    expect(dot.stdout).toContain('[label="detect@band=r,patch=1,tract=0", shape=box');
    expect(dot.stdout).not.toContain("band=g");
  });

  test("a --where that leaves no quanta is an error that says why", async () => {
    const r = await graph("--where", "visit > 100");
    expect(r.code).toBe(2);
    expectGolden("cli-empty.txt", errorsOf(r));
  });

  test("--explain prints the join steps, even of an empty graph", async () => {
    const r = await graph("--where", "tract = 99", "--explain");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("relation overlaps (visit, detector, tract, patch): 0 of ");
    expect(r.stdout).toContain("task isr: 0 quanta: relation overlaps has 0 rows under --where 'tract = 99'");
  });

  test("--tasks: without the producer of an input, and with it (+)", async () => {
    const alone = await graph("--tasks", "coadd");
    expect(alone.code).toBe(2);
    expect(errorsOf(alone)).toContain('error: task "coadd" reads "warp", produced by task "makeWarp", which is not selected, and no "warp" datasets exist yet');
    const withAncestors = await graph("--tasks", "+coadd", "--json");
    expect(withAncestors.code).toBe(0);
    const event = JSON.parse(withAncestors.stdout);
    expect(event.event).toBe("graph-built");
    expect(event.tasks).toEqual([
      { task: "isr", quanta: 24 },
      { task: "calibrate", quanta: 24 },
      { task: "makeWarp", quanta: 24 },
      { task: "coadd", quanta: 8 },
    ]);
  });

  test("bad targets and bad flags are usage errors", async () => {
    const badValue = await graph("calexp@visit=x");
    expect(badValue.code).toBe(2);
    expect(errorsOf(badValue)).toContain("error: target 'calexp@visit=x': dimension 'visit' is an int, got 'x'");
    const unknown = await graph("calexps@visit=1");
    expect(unknown.code).toBe(2);
    expect(errorsOf(unknown)).toContain('error: target calexps@visit=1: no task of the pipeline reads or writes dataset type "calexps"\nhint: did you mean "calexp"?');
    const both = await graph("--dot", "--mermaid");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("error: choose one of --dot, --mermaid");
    const where = await graph("--where", "visit = ");
    expect(where.code).toBe(2);
  });
});
