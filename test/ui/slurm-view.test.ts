/**
 * 18.7, the view of a Slurm run from its events alone: per task, the quanta queued in Slurm (submitted,
 * not started), running and done, and the array jobs that hold them; the rows still fit the terminal.
 * The stream is a clustered chain of two tasks: array job 12 holds step1 of items 1 and 2 with step2 of
 * each following in its element, array job 13 the retry of step1@item=2 with its step2.
 */
import { describe, expect, it } from "vitest";
import type { EventBody, QuantaEvent } from "../../src/core/events.js";
import { countSlurmWork } from "../../src/ui/count-slurm-work.js";
import { formatJobIds } from "../../src/ui/format-job-ids.js";
import { joinTaskRow, layoutTaskRows } from "../../src/ui/layout-task-rows.js";
import { createPlainReporter, formatSlurmLines } from "../../src/ui/plain-reporter.js";
import { createRunState, reduceRunState, type RunState } from "../../src/ui/run-state.js";
import { collectOutput } from "./collect-output.js";
import { FakeClock } from "./fake-clock.js";
import { at, T0 } from "./sample-events.js";

const ref = (quantum: number) => ({ quantum, task: quantum < 2 ? "step1" : "step2", dataId: `item=${(quantum % 2) + 1}` });
const finished = (quantum: number, jobId?: string): EventBody => ({ event: "quantum-finished", ...ref(quantum), durationMs: 100, noWork: false, startedAt: T0, ...(jobId && { jobId }) });

/** The stream, step by step: each step's events, then what the view should count after them. */
const STEPS: { events: EventBody[]; step1: [number, number, number]; step2: [number, number, number]; jobs: [string[], string[]] }[] = [
  {
    events: [{ event: "run-started", pipeline: "chains", collection: "chains", executor: "slurm", workers: 10000, tasks: [{ task: "step1", total: 2 }, { task: "step2", total: 2 }] }],
    step1: [0, 0, 0],
    step2: [0, 0, 0],
    jobs: [[], []],
  },
  {
    events: [{ event: "slurm-submitted", jobId: "12", task: "step1", jobs: 2, quanta: 4, sbatchCalls: 1, tasks: { step1: 2, step2: 2 }, quantumIds: { step1: [0, 1], step2: [2, 3] } }],
    // [queued, running, done]
    step1: [2, 0, 0],
    step2: [2, 0, 0],
    jobs: [["12"], ["12"]],
  },
  {
    events: [
      { event: "quantum-started", ...ref(0), attempt: 1, jobId: "12_0" },
      { event: "quantum-started", ...ref(1), attempt: 1, jobId: "12_1" },
    ],
    step1: [0, 2, 0],
    step2: [2, 0, 0],
    jobs: [["12"], ["12"]],
  },
  {
    // step1@item=1 done; step2@item=1 follows it in element 12_0: its record comes, started and finished at once.
    events: [finished(0, "12_0"), { event: "quantum-started", ...ref(2), attempt: 1, jobId: "12_0" }, finished(2, "12_0")],
    step1: [0, 1, 1],
    step2: [1, 0, 1],
    jobs: [["12"], ["12"]],
  },
  {
    // step1@item=2 fails and is retried in a new array job, with its step2 following it there.
    events: [
      { event: "quantum-retrying", ...ref(1), attempt: 2, error: "exit 1" },
      { event: "slurm-submitted", jobId: "13", task: "step1", jobs: 1, quanta: 2, sbatchCalls: 1, tasks: { step1: 1, step2: 1 }, quantumIds: { step1: [1], step2: [3] } },
    ],
    step1: [1, 0, 1],
    step2: [1, 0, 1],
    jobs: [["13"], ["13"]],
  },
  {
    events: [{ event: "quantum-started", ...ref(1), attempt: 2, jobId: "13_0" }],
    step1: [0, 1, 1],
    step2: [1, 0, 1],
    jobs: [["13"], ["13"]],
  },
  {
    // It fails for good: the step2 that was to follow it is blocked, and leaves the queue without a job id.
    events: [
      { event: "quantum-failed", ...ref(1), attempt: 2, error: "exit 1", logTail: [], durationMs: 50, startedAt: T0, jobId: "13_0" },
      { event: "quantum-blocked", ...ref(3), blockedBy: ref(1) },
    ],
    step1: [0, 0, 2],
    step2: [0, 0, 2],
    // None active: all the task's array jobs.
    jobs: [["12", "13"], ["12", "13"]],
  },
];

function counts(state: RunState, task: string): [number, number, number] {
  const w = countSlurmWork(state).get(task)!;
  return [w.queued, w.running, state.tasks.find((t) => t.task === task)!.done];
}

describe("18.7 the view of a Slurm run", () => {
  it("18.7 counts queued, running and done per task, with the array jobs that hold them, from a sequence of events", () => {
    let state = createRunState();
    let ms = 0;
    for (const [i, step] of STEPS.entries()) {
      for (const body of step.events) state = reduceRunState(state, at((ms += 10), body));
      expect([counts(state, "step1"), counts(state, "step2")], `after step ${i}`).toEqual([step.step1, step.step2]);
      const work = countSlurmWork(state);
      expect([work.get("step1")!.jobs, work.get("step2")!.jobs], `after step ${i}`).toEqual(step.jobs);
    }
    // The totals: nothing queued or running at the end of the stream.
    expect(countSlurmWork(state).get(undefined)).toEqual({ queued: 0, running: 0, jobs: ["12", "13"] });
  });

  it("18.7 a run that ends (or is interrupted) leaves nothing queued; a new run starts with no job", () => {
    let state = createRunState();
    const first = STEPS.slice(0, 3).flatMap((s) => s.events);
    for (const body of first) state = reduceRunState(state, at(10, body));
    expect(state.queued.size).toBe(2);
    state = reduceRunState(state, at(20, { event: "run-finished", pipeline: "chains", collection: "chains", counts: { ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0 }, durationMs: 20, tasks: [], slowest: [], exitCode: 130 }));
    expect(state.queued.size).toBe(0);
    state = reduceRunState(state, at(30, STEPS[0]!.events[0]!));
    expect(state.tasks.map((t) => t.jobs)).toEqual([[], []]);
  });

  it("18.7 task rows show queue, run and the job ids, within the terminal's width", () => {
    let state = createRunState();
    for (const body of STEPS.slice(0, 4).flatMap((s) => s.events)) state = reduceRunState(state, at(10, body));
    for (const columns of [80, 100, 160]) {
      const table = layoutTaskRows(state, T0 + 1000, columns);
      expect(table.header).toMatch(/ done queue  run +up +ran +fail +blk +eta jobs *$/);
      expect(table.header.length, `${columns} columns`).toBe(columns);
      for (const row of [...table.rows, table.total]) expect(joinTaskRow(row), `${columns} columns`).toHaveLength(columns);
      const [step1, step2] = table.rows.map(joinTaskRow);
      expect(step1).toMatch(/ 1\/2 +0 +1 +0 +1 +0 +0 +\S+ 12 *$/);
      expect(step2).toMatch(/ 1\/2 +1 +0 +0 +1 +0 +0 +\S+ 12 *$/);
      expect(joinTaskRow(table.total)).toMatch(/ 2\/4 +1 +1 +0 +2 +0 +0 +\S+ 12 *$/);
    }
    // Without Slurm, the rows are as they were.
    const pool = reduceRunState(createRunState(), at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 2, tasks: [{ task: "step1", total: 2 }] }));
    expect(layoutTaskRows(pool, T0, 80).header).not.toContain("queue");
  });

  it("18.7 job ids: a few listed, many as first…last, cut to the cell", () => {
    expect(formatJobIds([])).toBe("");
    expect(formatJobIds(["12", "13"])).toBe("12,13");
    expect(formatJobIds(["12", "13", "14"])).toBe("12,13,14");
    expect(formatJobIds(["12", "13", "14", "19"])).toBe("12…19");
    expect(formatJobIds(["1234567", "1234568"], 9)).toBe("1234568");
    expect(formatJobIds(["1234567", "1234568"], 5)).toBe("1234…");
    expect(formatJobIds(["1234", "1299"], 9)).toBe("1234,1299");
    expect(formatJobIds(["1234", "1250", "1299"], 9)).toBe("1234…1299");
  });

  it("18.7 the plain reporter's progress says the same per task with quanta in Slurm", () => {
    let state = createRunState();
    for (const body of STEPS.slice(0, 4).flatMap((s) => s.events)) state = reduceRunState(state, at(10, body));
    expect(formatSlurmLines(state)).toEqual(["slurm: step1: 0 queued, 1 running, 1/2 done, jobs 12", "slurm: step2: 1 queued, 0 running, 1/2 done, jobs 12"]);
    const events: QuantaEvent[] = [at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 2, tasks: [{ task: "a", total: 1 }] })];
    expect(formatSlurmLines(events.reduce(reduceRunState, createRunState()))).toEqual([]);

    // The reporter prints them under each progress line.
    const clock = new FakeClock(T0);
    const output = collectOutput();
    const reporter = createPlainReporter({ out: output.out, clock, progressEveryMs: 1000 });
    for (const body of STEPS.slice(0, 4).flatMap((s) => s.events)) reporter.onEvent(at(0, body));
    clock.advance(1000);
    const lines = output.text().split("\n");
    const progress = lines.findIndex((l) => l.startsWith("progress: "));
    expect(lines.slice(progress + 1, progress + 3)).toEqual(formatSlurmLines(state));
    expect(lines).toContain("slurm: job 12 (step1): 2 jobs for 4 quanta");
  });
});
