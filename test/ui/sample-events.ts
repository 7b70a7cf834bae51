/** Event streams for the reporter tests: a small run of two tasks on a pool of four workers. */
import { stampEvent, type EventBody, type QuantaEvent, type TaskCounts } from "../../src/core/events.js";

export const T0 = 1_700_000_000_000;

export function at(ms: number, body: EventBody): QuantaEvent {
  return stampEvent(body, T0 + ms);
}

export const runStarted = at(0, {
  event: "run-started",
  pipeline: "sky",
  collection: "sky",
  executor: "pool",
  workers: 4,
  tasks: [
    { task: "isr", total: 4 },
    { task: "calibrate", total: 4 },
  ],
});

/** Each task's first start and last end: its wall time (isr 3 s, calibrate 2 s), shorter than its quanta's sum. */
const ISR_SPAN = { startedAt: T0 + 20, finishedAt: T0 + 3020 };
const CALIBRATE_SPAN = { startedAt: T0 + 3040, finishedAt: T0 + 5040 };

const ref = (quantum: number, task: string, dataId: string) => ({ quantum, task, dataId });

/** isr: 2 up to date, 2 ran side by side (1 s, 3 s); calibrate: 1 ran (2 s), 1 failed with a log (0.5 s), 2 blocked. */
export function sampleRun(): QuantaEvent[] {
  return [
    runStarted,
    at(10, { event: "quantum-up-to-date", ...ref(0, "isr", "visit=1") }),
    at(10, { event: "quantum-up-to-date", ...ref(1, "isr", "visit=2") }),
    at(20, { event: "quantum-started", attempt: 1, ...ref(2, "isr", "visit=3") }),
    at(20, { event: "quantum-started", attempt: 1, ...ref(3, "isr", "visit=4") }),
    at(1020, { event: "quantum-finished", durationMs: 1000, startedAt: T0 + 20, noWork: false, ...ref(2, "isr", "visit=3") }),
    at(3020, { event: "quantum-finished", durationMs: 3000, startedAt: T0 + 20, noWork: false, ...ref(3, "isr", "visit=4") }),
    at(3030, { event: "task-finished", counts: taskCounts("isr", { total: 4, ran: 2, upToDate: 2, durationMs: 4000, ...ISR_SPAN }) }),
    at(3040, { event: "quantum-started", attempt: 1, ...ref(4, "calibrate", "visit=1") }),
    at(3040, { event: "quantum-started", attempt: 1, ...ref(5, "calibrate", "visit=2") }),
    at(3540, {
      event: "quantum-failed",
      attempt: 1,
      error: "Error: threshold must be positive",
      logTail: ["reading postIsr", "\u001b[31mthreshold=-1\u001b[0m"],
      durationMs: 500,
      startedAt: T0 + 3040,
      ...ref(5, "calibrate", "visit=2"),
    }),
    at(3550, { event: "quantum-blocked", blockedBy: ref(5, "calibrate", "visit=2"), ...ref(6, "calibrate", "visit=3") }),
    at(3550, { event: "quantum-blocked", blockedBy: ref(5, "calibrate", "visit=2"), ...ref(7, "calibrate", "visit=4") }),
    at(5040, { event: "quantum-finished", durationMs: 2000, startedAt: T0 + 3040, noWork: false, ...ref(4, "calibrate", "visit=1") }),
    at(5050, {
      event: "task-finished",
      counts: taskCounts("calibrate", { total: 4, ran: 1, failed: 1, blocked: 2, durationMs: 2500, ...CALIBRATE_SPAN }),
    }),
    runFinished(),
  ];
}

export function runFinished(): QuantaEvent {
  return at(5060, {
    event: "run-finished",
    pipeline: "sky",
    collection: "sky",
    counts: { ran: 3, upToDate: 2, failed: 1, blocked: 2, noWork: 0 },
    durationMs: 5060,
    tasks: [
      taskCounts("isr", { total: 4, ran: 2, upToDate: 2, durationMs: 4000, ...ISR_SPAN }),
      taskCounts("calibrate", { total: 4, ran: 1, failed: 1, blocked: 2, durationMs: 2500, ...CALIBRATE_SPAN }),
    ],
    slowest: [
      { ...ref(3, "isr", "visit=4"), durationMs: 3000 },
      { ...ref(4, "calibrate", "visit=1"), durationMs: 2000 },
      { ...ref(2, "isr", "visit=3"), durationMs: 1000 },
    ],
    exitCode: 1,
  });
}

export function taskCounts(task: string, c: Partial<TaskCounts> & { total: number }): TaskCounts {
  return { task, ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0, durationMs: 0, ...c };
}

/** The events up to (not including) the first one at or after `ms`. */
export function eventsBefore(ms: number): QuantaEvent[] {
  return sampleRun().filter((e) => e.time < T0 + ms);
}
