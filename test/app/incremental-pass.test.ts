/**
 * 16.2: a run session that is told what changed (a watch's passes) keeps its plan in memory: the
 * pipeline while none of its files changed, the graph while no input came or went, and what the
 * previous pass left of every dataset. A pass then decides only the quanta the change can reach; the
 * others are reported per task (`task-up-to-date`). Checked against the real thing: after a random
 * sequence of edits, touches, reverts, new and deleted inputs, every pass leaves the collection as a
 * one-shot run over the same files does.
 *
 * The session is imported from dist/ (build first): its worker threads start dist/exec/pool-worker.js.
 */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { openRepository } from "../../src/store/repository.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";
import { seeded } from "../helpers/seeded-random.js";

type SessionModule = typeof import("../../src/app/run-session.js");
const { RunSession } = (await import(pathToFileURL(join(PROJECT_ROOT, "dist", "app", "run-session.js")).href)) as SessionModule;

const temp = makeTempDir("quanta-incremental-");
afterAll(() => temp.cleanup());

const ITEMS = 40;
const TASK = (name: string, input: string, output: string, body: string) => `import { defineTask } from "quanta";
export default defineTask({
  name: "${name}",
  dimensions: ["item"],
  inputs: { x: { type: "${input}", dimensions: ["item"], storage: "text" } },
  outputs: { y: { type: "${output}", dimensions: ["item"], storage: "text" } },
  run({ x }) { return { y: ${body} }; },
});
`;
const GATHER = `import { defineTask } from "quanta";
export default defineTask({
  name: "total",
  dimensions: [],
  inputs: { all: { type: "parity", dimensions: ["item"], storage: "text", multiple: true } },
  outputs: { sum: { type: "total", dimensions: [], storage: "text" } },
  run({ all }) { return { sum: String(all.filter((p) => p === "odd").length) }; },
});
`;

function makeProject(): string {
  const dir = join(temp.dir, "p");
  mkdirSync(join(dir, "tasks"), { recursive: true });
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= ITEMS; i++) writeFileSync(join(dir, "data", `${i}.txt`), `${i}\n`);
  writeFileSync(join(dir, "tasks", "double.ts"), TASK("double", "raw", "doubled", "String(2 * Number(x.trim()))"));
  writeFileSync(join(dir, "tasks", "parity.ts"), TASK("parity", "doubled", "parity", 'Number(x) % 4 === 0 ? "even" : "odd"'));
  writeFileSync(join(dir, "tasks", "total.ts"), GATHER);
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { item: int }",
      'inputs: { raw: { path: "data/{item}.txt", storage: text } }',
      "tasks:",
      "  double: { task: ./tasks/double.ts }",
      "  parity: { task: ./tasks/parity.ts }",
      "  total: { task: ./tasks/total.ts }",
    ].join("\n") + "\n",
  );
  return dir;
}

/** `type@dataId digest` of every dataset in the collection `p`. */
async function contents(repoRoot: string): Promise<string[]> {
  const repo = await openRepository(repoRoot, { write: false });
  try {
    return [...repo.registry.listDatasets({ collection: "p" })].map((e) => `${e.type}@${e.key} ${e.record.digest}`).sort();
  } finally {
    await repo.close();
  }
}

describe("16.2 passes that keep their plan in memory", () => {
  it("16.2 decide only what a change reaches, and leave every pass's collection as a one-shot run would", async () => {
    const dir = makeProject();
    const exec = { jobs: 1, retries: 0, failFast: false, executor: "local" as const, fsync: false };
    const request = { pipelineFile: join(dir, "p.yaml"), targets: [], flags: { bind: [], config: [] } };
    let events: QuantaEvent[] = [];
    const watchLike = await RunSession.open({ repoRoot: join(dir, "repo"), exec, emit: (e) => events.push(e) });
    const oneShot = async (): Promise<string[]> => {
      const repoRoot = join(dir, `clean-${Math.random().toString(36).slice(2)}`);
      const session = await RunSession.open({ repoRoot, exec, emit: () => undefined });
      try {
        expect((await session.run(request)).exitCode).toBe(0);
      } finally {
        await session.close();
      }
      const listed = await contents(repoRoot);
      rmSync(repoRoot, { recursive: true });
      return listed;
    };
    const pass = async (changed: string[]) => {
      events = [];
      const result = await watchLike.run(request, { changedPaths: changed.map((p) => join(dir, p)) });
      expect(result.exitCode).toBe(0);
      const decided = events.filter((e) => e.event === "quantum-finished" || e.event === "quantum-up-to-date").map((e) => `${(e as { task: string }).task}@${(e as { dataId: string }).dataId}`);
      const perTask = events.filter((e) => e.event === "task-up-to-date").reduce((n, e) => n + (e as { quanta: number }).quanta, 0);
      return { decided: decided.sort(), perTask, counts: result.counts! };
    };
    try {
      await pass([]);
      // Warm: one edit, so the plan and the states of a complete pass are in memory.
      writeFileSync(join(dir, "data", "1.txt"), "101\n");
      await pass(["data/1.txt"]);

      // One input edited: only its chain and the gather are decided; the rest per task, at once.
      writeFileSync(join(dir, "data", "7.txt"), "8\n");
      let p = await pass(["data/7.txt"]);
      expect(p.decided).toEqual(["double@item=7", "parity@item=7", "total@"]);
      expect(p.perTask).toBe(2 * ITEMS + 1 - 3);
      expect(p.counts.ran + p.counts.upToDate).toBe(2 * ITEMS + 1);
      // Touched, same content: nothing is decided.
      const later = new Date(Date.now() + 5_000);
      utimesSync(join(dir, "data", "7.txt"), later, later);
      p = await pass(["data/7.txt"]);
      expect(p.decided).toEqual([]);
      expect(p.counts).toMatchObject({ ran: 0, upToDate: 2 * ITEMS + 1 });

      // A new input: its quanta and the gather are decided, nothing else, though the graph is built again.
      writeFileSync(join(dir, "data", `${ITEMS + 1}.txt`), "3\n");
      p = await pass([`data/${ITEMS + 1}.txt`]);
      expect(p.decided).toEqual([`double@item=${ITEMS + 1}`, `parity@item=${ITEMS + 1}`, "total@"]);
      expect(p.perTask).toBe(2 * ITEMS + 1 - 1);
      // Deleted again: only the gather, which reads one input less, is decided (its result is cached).
      rmSync(join(dir, "data", `${ITEMS + 1}.txt`));
      p = await pass([`data/${ITEMS + 1}.txt`]);
      expect(p.decided).toEqual(["total@"]);
      expect(p.counts.ran + p.counts.upToDate).toBe(2 * ITEMS + 1);

      // A random walk of edits, reverts, touches, new and deleted inputs; each pass against a one-shot run.
      const random = seeded(16_2);
      const present = new Set(Array.from({ length: ITEMS }, (_, i) => i + 1));
      for (let step = 0; step < 24; step++) {
        const changed: string[] = [];
        for (let k = 1 + Math.floor(random() * 3); k > 0; k--) {
          const item = 1 + Math.floor(random() * (ITEMS + 4));
          const file = `data/${item}.txt`;
          const r = random();
          if (r < 0.15 && present.has(item) && present.size > 2) {
            rmSync(join(dir, file));
            present.delete(item);
          } else if (r < 0.3 && present.has(item)) {
            const t = new Date(Date.now() + 1000 * (step + 10));
            utimesSync(join(dir, file), t, t);
          } else {
            writeFileSync(join(dir, file), `${Math.floor(random() * 6)}\n`);
            present.add(item);
          }
          changed.push(file);
        }
        p = await pass(changed);
        if (step % 6 === 5 || step === 23) expect(await contents(join(dir, "repo")), `after step ${step}`).toEqual(await oneShot());
      }
    } finally {
      await watchLike.close();
    }
  }, 120_000);
});

/**
 * A pass whose ingest added inputs and whose build then failed has no graph to hand to the next pass
 * (found by review: the next pass replayed the old graph, ran "successfully", and its stamp kept that
 * graph for every later one-shot run, which then skipped the new inputs' quanta).
 */
describe("16.2 a pass whose build failed", () => {
  it("leaves no graph for the next pass, which builds it again and says what is wrong", async () => {
    const dir = join(temp.dir, "pre");
    mkdirSync(join(dir, "data"), { recursive: true });
    mkdirSync(join(dir, "calib"));
    for (const i of [1, 2, 3]) {
      writeFileSync(join(dir, "data", `raw-${i}.txt`), `raw ${i}\n`);
      writeFileSync(join(dir, "calib", `calib-${i}.txt`), `calib ${i}\n`);
    }
    writeFileSync(
      join(dir, "pre.yaml"),
      [
        "dimensions: { item: int }",
        "inputs:",
        '  raw: { path: "data/raw-{item}.txt", storage: file }',
        '  calib: { path: "calib/calib-{item}.txt", storage: file, prerequisite: true }',
        "tasks:",
        "  proc:",
        '    command: "cat {inputs.r} {inputs.c} > {outputs.out}"',
        "    dimensions: [item]",
        "    inputs:",
        "      r: { type: raw, dimensions: [item], storage: file }",
        "      c: { type: calib, dimensions: [item], storage: file, prerequisite: true }",
        "    outputs: { out: { type: out, dimensions: [item], storage: file } }",
      ].join("\n") + "\n",
    );
    const exec = { jobs: 1, retries: 0, failFast: false, executor: "local" as const, fsync: false };
    const request = { pipelineFile: join(dir, "pre.yaml"), targets: [], flags: { bind: [], config: [] } };
    const session = await RunSession.open({ repoRoot: join(dir, "repo"), exec, emit: () => undefined });
    const pass = (changed: string[]) => session.run(request, { changedPaths: changed.map((p) => join(dir, p)) });
    try {
      expect((await pass([])).exitCode).toBe(0);
      // An input whose prerequisite is missing: the graph cannot be built.
      writeFileSync(join(dir, "data", "raw-9.txt"), "raw 9\n");
      await expect(pass(["data/raw-9.txt"])).rejects.toThrow(/calib/);
      // A content edit alone: the graph is built again, and fails again; it is not the old one replayed.
      writeFileSync(join(dir, "data", "raw-1.txt"), "raw 1 edited\n");
      await expect(pass(["data/raw-1.txt"])).rejects.toThrow(/calib/);
    } finally {
      await session.close();
    }
  }, 60_000);
});

