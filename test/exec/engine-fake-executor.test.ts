/**
 * 15.4: the engine driven through the executor interface by a fake executor (test/helpers/fake-executor.ts)
 * that starts no process: failures injected on declared data IDs, blocked descendants, retries,
 * shuffled orders, cancellation, and work re-attached from an earlier process. The repository, the
 * pipeline (test/fixtures/chain: double -> parity per item, total over all) and the plan are real.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventBody } from "../../src/core/events.js";
import { runGraph, type RunResult } from "../../src/exec/engine.js";
import type { QuantumExecutor } from "../../src/exec/quantum-job.js";
import { planPipeline } from "../../src/app/plan-pipeline.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { makeChainFixture } from "../integration/chain-fixture.js";
import { FakeCluster, FakeExecutor, seeded, shuffle, type FakeExecutorOptions } from "../helpers/fake-executor.js";

const N = 4;
const ALL = [...range(N).flatMap((i) => [`double@item=${i}`, `parity@item=${i}`]), "total"].sort();

let fx: ReturnType<typeof makeChainFixture>;
let repo: Repository;
beforeEach(async () => {
  fx = makeChainFixture(N);
  repo = await openRepository(fx.repo, { write: true, command: "test" });
});
afterEach(async () => {
  await repo.close();
  fx.cleanup();
});

interface Run {
  result: RunResult;
  events: EventBody[];
  ran: string[];
  failed: string[];
  blocked: string[];
  upToDate: string[];
  noWork: string[];
}

/** Plans chain.yaml over the repository (ingesting its inputs) and runs the graph on `executor`. */
/** The input datasets' ids of the graph last planned by `run`, by `type@key`, and the engine's listener for reported changes. */
const lastRun: { inputs: Map<string, number>; report?: (datasets: readonly number[]) => void } = { inputs: new Map() };

async function run(executor: QuantumExecutor, opts: { config?: string[]; retries?: number; failFast?: boolean; order?: (ready: number[]) => number[]; pass?: { changedBefore: ReadonlySet<string> } } = {}): Promise<Run> {
  const events: EventBody[] = [];
  const emit = (e: EventBody) => events.push(e);
  const request = { repoRoot: fx.repo, pipelineFile: join(fx.dir, "chain.yaml"), targets: [], flags: { bind: [], config: opts.config ?? [] } };
  const plan = await planPipeline(request, repo, emit);
  lastRun.inputs = new Map();
  for (let d = 0; d < plan.graph.datasetCount; d++) {
    const ds = plan.graph.dataset(d);
    if (plan.graph.producerOf(d) < 0) lastRun.inputs.set(`${ds.type}@${ds.key}`, d);
  }
  const listen = (report: (datasets: readonly number[]) => void) => ((lastRun.report = report), () => (lastRun.report = undefined));
  const supersede = opts.pass && { listen, pass: opts.pass };
  const result = await runGraph({ graph: plan.graph, repo, collection: plan.collection, executor, emit, retries: opts.retries ?? 0, failFast: opts.failFast ?? false, order: opts.order, ...(supersede && { supersede }) });
  const names = (kind: string, pick: (e: EventBody) => boolean = () => true) =>
    events
      .filter((e) => e.event === kind && pick(e))
      .map((e) => {
        const q = e as { task: string; dataId: string };
        return q.dataId === "" ? q.task : `${q.task}@${q.dataId}`;
      })
      .sort();
  return {
    result,
    events,
    ran: names("quantum-finished", (e) => !(e as { noWork: boolean }).noWork),
    noWork: names("quantum-finished", (e) => (e as { noWork: boolean }).noWork),
    failed: names("quantum-failed"),
    blocked: names("quantum-blocked"),
    upToDate: names("quantum-up-to-date"),
  };
}

function fake(opts: Partial<FakeExecutorOptions> = {}): FakeExecutor {
  return new FakeExecutor({ blobs: repo.blobs, ...opts });
}

/** The output collection's datasets, as `type@dataId=digest`, sorted. */
function outputs(): string[] {
  const out: string[] = [];
  for (const type of ["doubled", "parity", "report"]) {
    for (const d of repo.registry.listDatasets({ collection: "chain", type })) out.push(`${type}@${d.key}=${d.record.digest}`);
  }
  return out.sort();
}

describe("15.4 the engine on a fake executor", () => {
  it("15.4 a failure injected on one data ID fails that quantum, blocks its descendants, and the rest runs; the next run redoes exactly those", async () => {
    const failing = fake({ failOn: (task, dataId) => (task === "double" && dataId === "item=2" ? "injected failure" : undefined) });
    const first = await run(failing);
    expect(first.failed).toEqual(["double@item=2"]);
    expect(first.blocked).toEqual(["parity@item=2", "total"]);
    expect(first.ran).toEqual(ALL.filter((q) => !["double@item=2", "parity@item=2", "total"].includes(q)));
    expect(first.result.exitCode).toBe(1);
    expect(first.result.counts).toEqual({ ran: 2 * N - 2, upToDate: 0, failed: 1, blocked: 2, noWork: 0 });
    const failure = first.events.find((e) => e.event === "quantum-failed");
    expect(failure).toMatchObject({ error: "injected failure", logTail: ["injected failure"], attempt: 1 });

    const healed = fake();
    const second = await run(healed);
    expect(second.ran).toEqual(["double@item=2", "parity@item=2", "total"]);
    expect(second.upToDate).toEqual(ALL.filter((q) => !second.ran.includes(q)));
    expect(healed.cluster.ran.sort()).toEqual(["double@item=2#1", "parity@item=2#1", "total@#1"]);
    expect(second.result.exitCode).toBe(0);
  });

  it("15.4 --fail-fast blocks everything not started after the first failure", async () => {
    const r = await run(fake({ slots: 1, failOn: (task, dataId) => (task === "double" && dataId === "item=1" ? "boom" : undefined) }), { failFast: true });
    expect(r.failed).toEqual(["double@item=1"]);
    // Nothing starts after the failure: whatever had not run is blocked, and every quantum is settled once.
    expect([...r.ran, ...r.failed, ...r.blocked].sort()).toEqual(ALL);
    expect(r.blocked).toContain("total");
    expect(r.result.exitCode).toBe(1);
  });

  it("15.4 retries: a quantum failing on its first attempt runs again and succeeds; one failing every time fails after its retries", async () => {
    const flaky = fake({
      failOn: (task, dataId, attempt) => (task === "parity" && dataId === "item=3" && attempt === 1) || (task === "double" && dataId === "item=4") ? `failed attempt ${attempt}` : undefined,
    });
    const r = await run(flaky, { retries: 2 });
    expect(flaky.cluster.ran.filter((q) => q.startsWith("parity@item=3"))).toEqual(["parity@item=3#1", "parity@item=3#2"]);
    expect(flaky.cluster.ran.filter((q) => q.startsWith("double@item=4"))).toEqual(["double@item=4#1", "double@item=4#2", "double@item=4#3"]);
    const retrying = r.events.filter((e) => e.event === "quantum-retrying").map((e) => `${(e as { task: string }).task}#${(e as { attempt: number }).attempt}`);
    expect(retrying.sort()).toEqual(["double#2", "double#3", "parity#2"]);
    expect(r.ran).toContain("parity@item=3");
    expect(r.failed).toEqual(["double@item=4"]);
    expect(r.blocked).toEqual(["parity@item=4", "total"]);
    const failure = r.events.find((e) => e.event === "quantum-failed") as { attempt: number };
    expect(failure.attempt).toBe(3);
  });

  it("a raw input changed under a quantum: it fails, unretried, in a run; in a watch's pass it and its descendants are left to the next pass, unless the file changed under a command in the pass before too", async () => {
    const file = join(fx.dir, "data", "raw-2.txt");
    const changing = (attempts: number[]) => fake({ inputChangedOn: (task, dataId, attempt) => (task === "double" && dataId === "item=2" && attempts.includes(attempt) ? [file] : undefined) });
    // A run: failed (not retried: it would read the same file), its descendants blocked.
    const oneShot = changing([1, 2, 3]);
    const failed = await run(oneShot, { retries: 2 });
    expect(oneShot.cluster.ran.filter((q) => q.startsWith("double@item=2"))).toEqual(["double@item=2#1"]);
    expect(failed.failed).toEqual(["double@item=2"]);
    expect(failed.blocked).toEqual(["parity@item=2", "total"]);
    expect(failed.result).toMatchObject({ exitCode: 1, superseded: 0, changedUnder: { superseded: [], failed: [file] } });

    // A watch's pass: superseded with its descendants, nothing failed or blocked, exit 0.
    const pass = await run(changing([1]), { pass: { changedBefore: new Set() } });
    expect([pass.failed, pass.blocked]).toEqual([[], []]);
    expect(pass.result).toMatchObject({ exitCode: 0, superseded: 3, changedUnder: { superseded: [file], failed: [] } });
    expect(pass.result.states).toBeUndefined();
    expect(pass.events.find((e) => e.event === "run-finished")).toMatchObject({ superseded: 3 });

    // The file changed under the command in the pass before too: a command that writes to its input fails.
    const again = await run(changing([1]), { pass: { changedBefore: new Set([file]) } });
    expect(again.failed).toEqual(["double@item=2"]);
    expect(again.events.find((e) => e.event === "quantum-failed")).toMatchObject({ error: `the raw input ${file} changed while the command ran; it changed while the command ran in the pass before too: does the command write to it?` });
    expect(again.result).toMatchObject({ exitCode: 1, superseded: 0, changedUnder: { superseded: [], failed: [file] } });

    // The watcher reported the change before the quantum ended: superseded, whatever the pass before
    // saw (the user saved the file twice), and the file is not listed (nothing to feed the watch).
    const reported = fake({
      inputChangedOn: (task, dataId) => {
        if (task !== "double" || dataId !== "item=2") return undefined;
        lastRun.report!([lastRun.inputs.get("raw@item=2")!]);
        return [file];
      },
    });
    const saved = await run(reported, { pass: { changedBefore: new Set([file]) } });
    expect([saved.failed, saved.blocked]).toEqual([[], []]);
    expect(saved.result).toMatchObject({ exitCode: 0, superseded: 3, changedUnder: { superseded: [], failed: [] } });

    // The next run redoes exactly what was left.
    const next = await run(fake());
    expect(next.ran).toEqual(["double@item=2", "parity@item=2", "total"]);
    expect(next.result.exitCode).toBe(0);
  });

  it("15.4 no work: a quantum that finds nothing to do leaves its consumer nothing to do, and the gather goes on without it", async () => {
    const r = await run(fake({ noWorkOn: (task, dataId) => task === "double" && dataId === "item=1" }));
    expect(r.noWork).toEqual(["double@item=1", "parity@item=1"]);
    expect(r.ran).toContain("total");
    expect(r.result.exitCode).toBe(0);
  });

  it("15.4 shuffled: any order of dispatch and of completion gives the same runs and the same results", async () => {
    const reference = await run(fake());
    const expected = outputs();
    expect(reference.ran).toEqual(ALL);
    for (const seed of [1, 2, 3, 4, 5]) {
      // A fresh output collection each time, in a shuffled walk with outcomes coming back shuffled.
      const random = seeded(seed * 7919);
      const executor = fake({ ends: "shuffled", seed, slots: 3, queued: 2 });
      const r = await run(executor, { config: [`double.factor=${2 + seed}`], order: (ready) => shuffle(ready, random) });
      expect(r.ran, `seed ${seed}`).toEqual(ALL);
      expect(executor.cluster.ran.length).toBe(ALL.length);
      // Back to the first config: every result comes from the action cache, in any order.
      const back = await run(fake({ ends: "shuffled", seed }), { order: (ready) => shuffle(ready, random) });
      expect(back.ran, `seed ${seed}`).toEqual([]);
      expect(back.upToDate.length + back.ran.length).toBe(ALL.length);
      expect(outputs(), `seed ${seed}`).toEqual(expected);
    }
  });

  it("15.4 an input edited: only its chain and the gather run, and early cutoff stops at an unchanged output", async () => {
    await run(fake());
    // parity's output depends on the parity of its input only: 3 -> 5 keeps it.
    const parityOnly = (job: Parameters<NonNullable<FakeExecutorOptions["content"]>>[0], connection: string) =>
      job.task.label === "parity" ? `parity ${job.dataId.item as number % 2}` : `${job.task.label}/${connection} ${JSON.stringify(job.inputs)}`;
    await run(fake({ content: parityOnly }), { config: ["double.factor=3"] });
    writeFileSync(join(fx.dir, "data", "raw-3.txt"), "5\n");
    const executor = fake({ content: parityOnly });
    const r = await run(executor, { config: ["double.factor=3"] });
    expect(r.ran).toEqual(["double@item=3", "parity@item=3"]);
    expect(r.upToDate).toContain("total");
  });

  it("15.4 re-attach: work handed over by a process that died is adopted by the next run, not started again", async () => {
    const cluster = new FakeCluster();
    // The first head hands the doubles over, then dies before any ends.
    const first = fake({ cluster, ends: "held", slots: N });
    void run(first);
    await until(() => cluster.pending.size === N);
    cluster.disconnect();

    // The next head finds them still running, adopts them, and starts only what comes after.
    const second = fake({ cluster, ends: "now", slots: N });
    const next = run(second);
    await until(() => [...cluster.pending.values()].every((w) => w.owner === second));
    cluster.release();
    const r = await next;
    expect(r.ran).toEqual(ALL);
    expect(cluster.ran.sort()).toEqual(ALL.map((q) => `${q.includes("@") ? q : `${q}@`}#1`).sort());
    expect(cluster.abandoned).toEqual([]);
    expect(r.result.exitCode).toBe(0);
  });

  it("15.4 re-attach: earlier work whose inputs changed since is abandoned, and its quantum runs afresh", async () => {
    const cluster = new FakeCluster();
    void run(fake({ cluster, ends: "held", slots: N }));
    await until(() => cluster.pending.size === N);
    cluster.disconnect();
    const stale = [...cluster.pending.values()].find((w) => w.job.dataId.item === 2)!.job.key;
    writeFileSync(join(fx.dir, "data", "raw-2.txt"), "22\n");

    const second = fake({ cluster, ends: "now", slots: N });
    const next = run(second);
    await until(() => [...cluster.pending.values()].filter((w) => w.owner === second).length === N - 1);
    cluster.release();
    const r = await next;
    expect(r.ran).toEqual(ALL);
    expect(cluster.abandoned).toEqual([stale]);
    // double@item=2 ran once, with the new input: the dead head's never ended (abandoned).
    expect(cluster.ran.filter((q) => q.startsWith("double@item=2"))).toEqual(["double@item=2#1"]);
  });

  it("15.4 an interrupt cancels the work in hand: none of it is recorded, and the next run starts it again", async () => {
    const cluster = new FakeCluster();
    const interrupt = new AbortController();
    const events: EventBody[] = [];
    const request = { repoRoot: fx.repo, pipelineFile: join(fx.dir, "chain.yaml"), targets: [], flags: { bind: [], config: [] } };
    const plan = await planPipeline(request, repo, (e) => events.push(e));
    const executor = fake({ cluster, ends: "held", slots: 2 });
    const running = runGraph({ graph: plan.graph, repo, collection: plan.collection, executor, emit: (e) => events.push(e), retries: 0, failFast: false, interrupt: interrupt.signal });
    await until(() => cluster.pending.size === 2);
    interrupt.abort("SIGINT");
    const result = await running;
    expect(result.exitCode).toBe(130);
    expect(cluster.pending.size).toBe(0);
    expect(result.counts).toEqual({ ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0 });
    const after = await run(fake());
    expect(after.ran).toEqual(ALL);
  });
});

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Waits (a turn of the event loop at a time) until `done` holds; planning bundles the task modules first. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("gave up waiting");
    await new Promise((resolve) => setImmediate(resolve));
  }
}
