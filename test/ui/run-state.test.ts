import { describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import {
  createRunState,
  foldRunState,
  estimateRemainingMs,
  listRunning,
  reduceRunState,
  sumTasks,
  type RunState,
} from "../../src/ui/run-state.js";
import { FAILURES_SHOWN } from "../../src/ui/failure-limit.js";
import { manyFailures } from "./many-failures.js";
import { at, eventsBefore, sampleRun, T0 } from "./sample-events.js";

const fold = (events: QuantaEvent[], from: RunState = createRunState()) => events.reduce(reduceRunState, from);

describe("reduceRunState", () => {
  it("counts a whole run per task, in pipeline order", () => {
    const state = fold(sampleRun());
    expect(state.phase).toBe("finished");
    expect(state.finishedAt).toBe(T0 + 5060);
    expect(state.tasks.map((t) => [t.task, t.total, t.done, t.upToDate, t.ran, t.failed, t.blocked, t.finished])).toEqual([
      ["isr", 4, 4, 2, 2, 0, 0, true],
      ["calibrate", 4, 4, 0, 1, 1, 2, true],
    ]);
    expect(sumTasks(state)).toEqual({ total: 8, done: 8, ran: 3, upToDate: 2, failed: 1, blocked: 2, noWork: 0 });
    expect(state.running.size).toBe(0);
    expect(state.failures).toHaveLength(1);
    expect(state.failures[0]).toMatchObject({ task: "calibrate", dataId: "visit=2", error: "Error: threshold must be positive" });
    expect(state.failures[0].logTail).toEqual(["reading postIsr", "\u001b[31mthreshold=-1\u001b[0m"]);
    expect(state.slowest.map((q) => [q.task, q.dataId, q.durationMs])).toEqual([
      ["isr", "visit=4", 3000],
      ["calibrate", "visit=1", 2000],
      ["isr", "visit=3", 1000],
    ]);
    expect(state.summary?.counts.failed).toBe(1);
  });

  it("tracks the running quanta with their start times, longest first", () => {
    const state = fold(eventsBefore(1020));
    expect(state.phase).toBe("running");
    expect(listRunning(state).map((r) => [r.quantum, r.startedAt, r.attempt])).toEqual([
      [2, T0 + 20, 1],
      [3, T0 + 20, 1],
    ]);
    const later = fold([at(40, { event: "quantum-started", attempt: 1, quantum: 9, task: "isr", dataId: "visit=9" })], state);
    expect(listRunning(later).map((r) => r.quantum)).toEqual([2, 3, 9]);
    expect(state.running.size).toBe(2);
  });

  it("never mutates the state it is given", () => {
    const events = sampleRun();
    let state = createRunState();
    for (const event of events) {
      const before = JSON.stringify({ ...state, running: [...state.running] });
      const next = reduceRunState(state, event);
      expect(JSON.stringify({ ...state, running: [...state.running] })).toBe(before);
      state = next;
    }
  });

  it("folds a batch exactly as one event at a time, without touching the state it starts from", () => {
    const events = sampleRun();
    const snapshot = (s: RunState) => JSON.stringify({ ...s, running: [...s.running] });
    const oneByOne = events.map((_, i) => fold(events.slice(0, i + 1)));
    const start = fold(events.slice(0, 4));
    const before = snapshot(start);
    const middle = foldRunState(start, events.slice(4, 11));
    const end = foldRunState(middle, events.slice(11));
    expect(snapshot(start)).toBe(before);
    expect(snapshot(middle)).toBe(snapshot(oneByOne[10]));
    expect(snapshot(end)).toBe(snapshot(oneByOne.at(-1)!));
  });

  it("15.5 counts a task the run stamp answers at once (task-up-to-date), as the engine does", () => {
    const state = fold([
      at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "in-process", workers: 1, tasks: [{ task: "a", total: 5 }] }),
      at(1, { event: "task-up-to-date", task: "a", quanta: 5 }),
      at(1, { event: "task-finished", counts: { task: "a", total: 5, ran: 0, upToDate: 5, failed: 0, blocked: 0, noWork: 0, durationMs: 0 } }),
    ]);
    expect(state.tasks[0]).toMatchObject({ done: 5, ran: 0, upToDate: 5, finished: true });
  });

  it("counts a retry without settling the quantum", () => {
    const state = fold([
      at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 2, tasks: [{ task: "a", total: 1 }] }),
      at(1, { event: "quantum-started", attempt: 1, quantum: 0, task: "a", dataId: "x=1" }),
      at(5, { event: "quantum-retrying", attempt: 2, error: "flaky", quantum: 0, task: "a", dataId: "x=1" }),
    ]);
    expect(state.tasks[0]).toMatchObject({ done: 0, retries: 1, finished: false });
    expect(state.running.size).toBe(0);
  });

  it("adds a task the run did not announce, and notes noWork among ran", () => {
    const state = fold([
      at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 2, tasks: [] }),
      at(1, { event: "quantum-finished", durationMs: 2, noWork: true, quantum: 0, task: "extra", dataId: "x=1" }),
    ]);
    expect(state.tasks).toHaveLength(1);
    expect(state.tasks[0]).toMatchObject({ task: "extra", total: 1, done: 1, ran: 1, noWork: 1 });
  });

  it("starts afresh on the next run of a watch session, keeping the watch state", () => {
    const first = fold([...sampleRun(), at(6000, { event: "watch-waiting", paths: 12 })]);
    expect(first.watch).toEqual({ state: "waiting", paths: 12, time: T0 + 6000 });
    const second = fold(
      [
        at(7000, { event: "watch-changed", paths: ["data/raw/a.npy"], changes: [{ path: "data/raw/a.npy", kind: "added" }] }),
        at(7100, { event: "run-started", pipeline: "sky", collection: "sky", executor: "pool", workers: 4, tasks: [{ task: "isr", total: 1 }] }),
      ],
      first,
    );
    expect(second.phase).toBe("running");
    expect(second.failures).toEqual([]);
    expect(second.tasks.map((t) => [t.task, t.done])).toEqual([["isr", 0]]);
    expect(second.watch).toMatchObject({ state: "changed", paths: ["data/raw/a.npy"] });
  });

  it("takes task totals from graph-built until the run starts", () => {
    const state = fold([
      at(0, { event: "graph-built", pipeline: "p", quanta: 7, datasets: 9, durationMs: 3, tasks: [{ task: "a", quanta: 3 }, { task: "b", quanta: 4 }] }),
    ]);
    expect(state.tasks.map((t) => [t.task, t.total])).toEqual([["a", 3], ["b", 4]]);
    expect(state.pipeline).toBe("p");
  });
});

describe("estimateRemainingMs", () => {
  const start = at(0, {
    event: "run-started",
    pipeline: "p",
    collection: "c",
    executor: "pool",
    workers: 2,
    tasks: [
      { task: "a", total: 10 },
      { task: "b", total: 4 },
    ],
  });
  const finished = (quantum: number, ms: number, durationMs: number) =>
    at(ms, { event: "quantum-finished", durationMs, noWork: false, quantum, task: "a", dataId: `x=${quantum}` });

  it("is unknown before any quantum was timed, and 0 when nothing is left", () => {
    expect(estimateRemainingMs(fold([start]), T0)).toBeUndefined();
    const done = fold([
      at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 2, tasks: [{ task: "a", total: 1 }] }),
      at(1, { event: "quantum-up-to-date", quantum: 0, task: "a", dataId: "x=0" }),
    ]);
    expect(estimateRemainingMs(done, T0 + 1)).toBe(0);
  });

  it("shares the quanta left times the mean duration among the workers", () => {
    const state = fold([start, finished(0, 100, 100), finished(1, 300, 300)]);
    // a: 8 left × 200 ms / 2 workers; b: 4 left × 200 ms (the mean over all tasks) / 2 workers.
    expect(estimateRemainingMs(state, T0 + 300, "a")).toBe(800);
    expect(estimateRemainingMs(state, T0 + 300, "b")).toBe(400);
    expect(estimateRemainingMs(state, T0 + 300)).toBe(1200);
  });

  it("counts a running quantum only for its expected time left", () => {
    const state = fold([
      start,
      finished(0, 100, 100),
      finished(1, 300, 300),
      at(300, { event: "quantum-started", attempt: 1, quantum: 2, task: "a", dataId: "x=2" }),
    ]);
    // 150 ms left for the running one, 7 × 200 ms for the rest, over 2 workers.
    expect(estimateRemainingMs(state, T0 + 350, "a")).toBe(775);
    // Past its expected time, a running quantum counts as about to finish.
    expect(estimateRemainingMs(state, T0 + 10_000, "a")).toBe(700);
  });

  it("does not spread a few quanta over more workers than there are quanta", () => {
    const state = fold([
      at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 8, tasks: [{ task: "a", total: 3 }] }),
      finished(0, 100, 100),
    ]);
    expect(estimateRemainingMs(state, T0 + 100, "a")).toBe(100);
  });
});

describe("14.17 ten thousand failures stay readable: run state", () => {
  for (const order of ["engine", "engine-before-fix"] as const) {
    it(`never counts a quantum twice, so progress never exceeds the graph (${order} order)`, () => {
      const events = manyFailures(10_000, order);
      let state = createRunState();
      let batch: QuantaEvent[] = [];
      for (const event of events) {
        state = reduceRunState(state, event);
        batch.push(event);
        const t = sumTasks(state);
        const over = state.tasks.find((task) => task.done > task.total);
        if (t.total !== 10_001 || over) throw new Error(`${t.done}/${t.total} (${over?.task} over) after ${JSON.stringify(event)}`);
      }
      expect(state.tasks.map((t) => [t.task, t.total, t.done, t.failed, t.blocked])).toEqual([
        ["broken", 10_000, 10_000, 10_000, 0],
        ["gather", 1, 1, 0, 1],
      ]);
      // Folded in batches (as the live view does), the same.
      batch = [];
      let batched = createRunState();
      for (const event of events) {
        batch.push(event);
        if (batch.length === 777) (batched = foldRunState(batched, batch)), (batch = []);
      }
      batched = foldRunState(batched, batch);
      expect(sumTasks(batched)).toEqual(sumTasks(state));
    });
  }

  it("keeps the first FAILURES_SHOWN failures for display and counts them all", () => {
    const state = fold(manyFailures(500));
    expect(state.failures).toHaveLength(FAILURES_SHOWN);
    expect(state.failures.map((f) => f.dataId)).toEqual(Array.from({ length: FAILURES_SHOWN }, (_, i) => `item=${i + 1}`));
    expect(sumTasks(state).failed).toBe(500);
  });
});
