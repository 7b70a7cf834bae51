import { describe, expect, it } from "vitest";
import type { EventBody } from "../../src/core/events.js";
import { RunTally } from "../../src/core/run-tally.js";

const ref = (quantum: number, task: string) => ({ quantum, task, dataId: `n=${quantum}` });

describe("15.5 RunTally: the counts of a run, computed once", () => {
  it("15.5 emits task-finished right after its task's last settling event, with the counts of its events", () => {
    const emitted: EventBody[] = [];
    const tally = new RunTally(
      [
        { task: "a", total: 3 },
        { task: "b", total: 2 },
        { task: "c", total: 0 },
        { task: "d", total: 4 },
      ],
      (e) => emitted.push(e),
    );
    tally.finishEmptyTasks();
    tally.settle({ event: "quantum-finished", ...ref(0, "a"), durationMs: 5, noWork: false });
    tally.settle({ event: "quantum-up-to-date", ...ref(1, "a") });
    tally.settle({ event: "quantum-failed", ...ref(2, "a"), attempt: 2, error: "boom", logTail: [], durationMs: 7 });
    tally.settle({ event: "quantum-blocked", ...ref(3, "b"), blockedBy: ref(2, "a") });
    tally.settle({ event: "quantum-finished", ...ref(4, "b"), durationMs: 0, noWork: true });
    tally.settle({ event: "task-up-to-date", task: "d", quanta: 4 });
    expect(emitted.map((e) => (e.event === "task-finished" ? `finished ${e.counts.task}` : e.event))).toEqual([
      "finished c",
      "quantum-finished",
      "quantum-up-to-date",
      "quantum-failed",
      "finished a",
      "quantum-blocked",
      "quantum-finished",
      "finished b",
      "task-up-to-date",
      "finished d",
    ]);
    expect(emitted[4]).toEqual({ event: "task-finished", counts: { task: "a", total: 3, ran: 1, upToDate: 1, failed: 1, blocked: 0, noWork: 0, durationMs: 12 } });
    const finished = new Map(emitted.flatMap((e) => (e.event === "task-finished" ? [[e.counts.task, e.counts] as const] : [])));
    expect(tally.tasks()).toEqual(["a", "b", "c", "d"].map((t) => finished.get(t)));
    expect(tally.counts()).toEqual({ ran: 2, upToDate: 5, failed: 1, blocked: 1, noWork: 1 });
    expect(tally.settled).toBe(9);
  });

  it("15.5 refuses an event of a task the run did not announce", () => {
    const tally = new RunTally([{ task: "a", total: 1 }], () => undefined);
    expect(() => tally.settle({ event: "quantum-up-to-date", ...ref(0, "x") })).toThrow(/internal error: .*"x"/);
  });
});
