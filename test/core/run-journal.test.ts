import { describe, expect, it } from "vitest";
import { makeRunId, RunJournal } from "../../src/core/run-journal.js";

const ref = (quantum: number, task: string, dataId: string) => ({ quantum, task, dataId });

describe("17.11 RunJournal: what a run's report is made of, folded from its events", () => {
  it("17.11 keeps the quanta that ran or failed, the counts, and the plan of the tasks in the run", () => {
    const journal = new RunJournal("20261206-021550-123");
    journal.notePlan([
      { task: "a", inputs: ["raw"], outputs: ["mid"] },
      { task: "b", inputs: ["mid"], outputs: ["out"] },
      { task: "c", inputs: ["out"], outputs: ["end"] },
    ]);
    journal.add({ event: "graph-built", pipeline: "p", quanta: 4, datasets: 9, durationMs: 3, tasks: [] }, 1000);
    expect(journal.toRecord()).toBeUndefined();
    journal.add({ event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 2, tasks: [{ task: "a", total: 2 }, { task: "b", total: 2 }] }, 1010);
    journal.add({ event: "quantum-started", attempt: 1, ...ref(0, "a", "x=1") }, 1020);
    journal.add({ event: "quantum-finished", durationMs: 50, noWork: false, startedAt: 1020, ...ref(0, "a", "x=1") }, 1070);
    journal.add({ event: "quantum-up-to-date", ...ref(1, "a", "x=2") }, 1071);
    journal.add({ event: "quantum-failed", attempt: 2, error: "boom", logTail: ["line"], durationMs: 5, startedAt: 1080, ...ref(2, "b", "x=1") }, 1085);
    journal.add({ event: "quantum-blocked", blockedBy: ref(2, "b", "x=1"), ...ref(3, "b", "x=2") }, 1086);
    const tasks = [
      { task: "a", total: 2, ran: 1, upToDate: 1, failed: 0, blocked: 0, noWork: 0, durationMs: 50, startedAt: 1020, finishedAt: 1070 },
      { task: "b", total: 2, ran: 0, upToDate: 0, failed: 1, blocked: 1, noWork: 0, durationMs: 5, startedAt: 1080, finishedAt: 1085 },
    ];
    const counts = { ran: 1, upToDate: 1, failed: 1, blocked: 1, noWork: 0 };
    journal.add({ event: "run-finished", pipeline: "p", collection: "c", counts, durationMs: 80, tasks, slowest: [], exitCode: 1 }, 1090);
    expect(journal.toRecord()).toEqual({
      format: 1,
      id: "20261206-021550-123",
      pipeline: "p",
      collection: "c",
      executor: "pool",
      workers: 2,
      startedAt: 1010,
      finishedAt: 1090,
      durationMs: 80,
      exitCode: 1,
      counts,
      tasks,
      graph: { quanta: 4, datasets: 9 },
      plan: [
        { task: "a", inputs: ["raw"], outputs: ["mid"] },
        { task: "b", inputs: ["mid"], outputs: ["out"] },
      ],
      quanta: [
        { task: "a", dataId: "x=1", status: "succeeded", startedAt: 1020, durationMs: 50, attempt: 1 },
        { task: "b", dataId: "x=1", status: "failed", startedAt: 1080, durationMs: 5, attempt: 2, error: "boom", logTail: ["line"] },
      ],
      warnings: [],
    });
  });

  it("17.11 names a run by its start time in UTC", () => {
    expect(makeRunId(Date.UTC(2026, 11, 6, 2, 15, 50, 123))).toBe("20261206-021550-123");
  });
});
