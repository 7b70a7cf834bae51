/**
 * The sky demo end to end, through the real CLI, in a temporary copy of pipelines/sky: `demo.js`
 * generates the data, runs the pipeline and fetches the summary; then config changes rerun exactly the
 * quanta they affect, and a repeated run runs nothing.
 */
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, QUANTA_BIN, makeTempDir, runCli } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
const skyDir = () => join(dir, "sky");
const repoDir = () => join(dir, "repo");

beforeAll(() => {
  ({ dir, cleanup } = makeTempDir("quanta-sky-demo-"));
  const source = join(PROJECT_ROOT, "pipelines", "sky");
  cpSync(source, skyDir(), {
    recursive: true,
    filter: (path) => path !== join(source, "data") && path !== join(source, "out"),
  });
});

afterAll(() => cleanup());

interface RunFinished {
  event: "run-finished";
  counts: { ran: number; upToDate: number; failed: number; blocked: number };
  tasks: { task: string; ran: number; upToDate: number }[];
}

async function runSky(extra: string[] = []): Promise<RunFinished> {
  const result = await runCli(["run", "sky.yaml", "--repo", repoDir(), "--json", ...extra], { cwd: skyDir() });
  const lines = result.stdout.trim().split("\n").filter((l) => l.startsWith("{"));
  const last = JSON.parse(lines[lines.length - 1] ?? "{}") as RunFinished;
  expect(last.event, result.stderr + result.stdout).toBe("run-finished");
  expect(result.code, result.stderr).toBe(0);
  return last;
}

function summariseRan(finished: RunFinished): Record<string, number> {
  return Object.fromEntries(finished.tasks.filter((t) => t.ran > 0).map((t) => [t.task, t.ran]));
}

describe("the sky demo", () => {
  // The cases build on each other, in order, in one repository.
  it("generates the data, runs the pipeline and reports a high completeness", () => {
    const demo = spawnSync(process.execPath, [join(skyDir(), "demo.js"), "--repo", repoDir()], {
      cwd: dir,
      env: { ...process.env, QUANTA_BIN, CI: "true", NO_COLOR: "1" },
      encoding: "utf8",
    });
    expect(demo.status, demo.stderr + demo.stdout).toBe(0);
    expect(demo.stdout).toMatch(/completeness: \d+ of \d+ true stars brighter than magnitude 20\.5 recovered/);
    const catalog = JSON.parse(readFileSync(join(skyDir(), "out", "summary.json"), "utf8"));
    expect(catalog.expected).toBeGreaterThanOrEqual(40);
    expect(catalog.completeness).toBeGreaterThanOrEqual(0.8);
    const picture = readFileSync(join(skyDir(), "out", "sky.png"));
    expect(picture.subarray(1, 4).toString("latin1")).toBe("PNG");
  });

  it("runs nothing the second time", async () => {
    const finished = await runSky();
    expect(finished.counts).toMatchObject({ ran: 0, upToDate: 89, failed: 0 });
  });

  it("reruns only calibrate for a new detection threshold: the calexps come out identical", async () => {
    const finished = await runSky(["--config", "calibrate.detection.threshold=4"]);
    expect(finished.counts).toMatchObject({ ran: 24, upToDate: 65, failed: 0 });
    expect(summariseRan(finished)).toEqual({ calibrate: 24 });
  });

  it("reruns the coadds and everything downstream of them for a new clip", async () => {
    const finished = await runSky(["--config", "coadd.clip=2.5"]);
    // calibrate is back at its file value, threshold 5: those results are in the cache.
    expect(summariseRan(finished)).toEqual({ coadd: 8, detect: 8, summary: 1 });
    expect(finished.counts).toMatchObject({ ran: 17, upToDate: 72, failed: 0 });
  });

  it("runs nothing when run again with the same config, and the results are still right", async () => {
    const finished = await runSky(["--config", "coadd.clip=2.5"]);
    expect(finished.counts).toMatchObject({ ran: 0, upToDate: 89, failed: 0 });
    // Every patch's warp must be its own: quanta that read the same inputs at different data IDs
    // (all patches of a visit gather the same calexps) must not share cached outputs.
    const summary = await runCli(["get", "summary@", "--repo", repoDir()], { cwd: skyDir() });
    expect(summary.code, summary.stderr).toBe(0);
    expect(JSON.parse(summary.stdout).completeness).toBeGreaterThanOrEqual(0.8);
  });
});
