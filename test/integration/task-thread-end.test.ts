/**
 * A TypeScript task that ends the thread it runs in, through the real CLI: `process.exit()` and running
 * out of memory fail that quantum with a clear reason (its worker thread is replaced), the other quanta
 * run, the summary is printed, and the CLI exits with 1, in the pool (-j 2) and in process (-j 1).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { makeTempDir, runCli } from "../helpers/cli.js";

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const PIPELINE = `description: a task that may end its thread
dimensions:
  item: int
inputs:
  raw: { path: "data/raw-{item}.txt", storage: text }
tasks:
  step: { task: ./step.ts }
`;

/**
 * Copies its input; item \`exitOn\` calls process.exit(3), item \`oomOn\` allocates until it dies, item
 * \`hangOn\` never returns.
 */
const TASK = `import { defineTask, z } from "quanta";

export default defineTask({
  name: "step",
  dimensions: ["item"],
  config: z.object({ exitOn: z.number().default(0), oomOn: z.number().default(0), hangOn: z.number().default(0) }),
  inputs: { raw: { type: "raw", dimensions: ["item"], storage: "text" } },
  outputs: { copy: { type: "copy", dimensions: ["item"], storage: "text" } },
  run({ raw }, config) {
    const item = Number(raw);
    if (item === config.exitOn) process.exit(3);
    if (item === config.hangOn) for (;;);
    if (item === config.oomOn) {
      const kept: number[][] = [];
      for (;;) kept.push(new Array(1 << 20).fill(item + 0.5));
    }
    return { copy: raw };
  },
});
`;

function makeFixture(items: number): string {
  const { dir, cleanup } = makeTempDir("quanta-thread-end-");
  cleanups.push(cleanup);
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "p.yaml"), PIPELINE);
  writeFileSync(join(dir, "step.ts"), TASK);
  for (let i = 1; i <= items; i++) writeFileSync(join(dir, "data", `raw-${i}.txt`), `${i}\n`);
  return dir;
}

async function run(dir: string, args: string[], env: Record<string, string> = {}) {
  const r = await runCli(["run", "p.yaml", "--repo", "repo", "--json", ...args], { cwd: dir, env });
  const events = r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as QuantaEvent);
  const failed = events.filter((e) => e.event === "quantum-failed") as Extract<QuantaEvent, { event: "quantum-failed" }>[];
  const finished = events.at(-1) as Extract<QuantaEvent, { event: "run-finished" }>;
  return { ...r, failed, finished };
}

describe.each([["-j 2", "2"], ["-j 1", "1"]])("14.4 a task that ends its thread, %s", (_name, jobs) => {
  // 40 quanta: the worker is handed many jobs at once and sends their outcomes back in batches; the
  // quantum that ended the thread is the one that fails, not one whose outcome was still unsent.
  it("process.exit(3) fails its quantum with the reason; the others run; exit 1", async () => {
    const dir = makeFixture(40);
    const r = await run(dir, ["-j", jobs, "--config", "step.exitOn=25"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.finished.event).toBe("run-finished");
    expect(r.finished.counts).toMatchObject({ ran: 39, failed: 1, blocked: 0 });
    expect(r.failed.map((f) => f.dataId)).toEqual(["item=25"]);
    expect(r.failed[0]!.error).toMatch(/^worker thread exited with code 3 during the quantum/);
  });

  it("a quantum that never returns times out alone; the others run", async () => {
    const dir = makeFixture(40);
    writeFileSync(join(dir, "p.yaml"), PIPELINE.replace("step: { task: ./step.ts }", "step: { task: ./step.ts, timeout: 1s }"));
    const r = await run(dir, ["-j", jobs, "--config", "step.hangOn=7"]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.finished.counts).toMatchObject({ ran: 39, failed: 1, blocked: 0 });
    expect(r.failed.map((f) => [f.dataId, f.error])).toEqual([["item=7", "timed out after 1s"]]);
  });

  it("running out of memory fails its quantum, not the CLI; exit 1", async () => {
    const dir = makeFixture(3);
    const r = await run(dir, ["-j", jobs, "--config", "step.oomOn=3"], { NODE_OPTIONS: "--max-old-space-size=96" });
    expect(r.code, r.stderr).toBe(1);
    expect(r.finished.counts).toMatchObject({ ran: 2, failed: 1 });
    expect(r.failed.map((f) => f.dataId)).toEqual(["item=3"]);
    expect(r.failed[0]!.error).toMatch(/^ran out of memory/);
  });
});

describe.each([["-j 2", "2"], ["-j 1", "1"]])("15.4 a timeout counts the quantum's own time, %s", (_name, jobs) => {
  it("15.4 a task module that takes 1.5 s to load does not time out at 1 s: a fresh worker thread loads it before the clock starts", async () => {
    const dir = makeFixture(3);
    writeFileSync(join(dir, "p.yaml"), PIPELINE.replace("step: { task: ./step.ts }", "step: { task: ./step.ts, timeout: 1s }"));
    writeFileSync(join(dir, "step.ts"), `const loadedBy = Date.now() + 1500;\nwhile (Date.now() < loadedBy);\n${TASK}`);
    const r = await run(dir, ["-j", jobs]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.finished.counts).toMatchObject({ ran: 3, failed: 0 });
  });
});
