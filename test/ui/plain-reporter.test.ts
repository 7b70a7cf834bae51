import { describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { createPlainReporter } from "../../src/ui/plain-reporter.js";
import { collectOutput } from "./collect-output.js";
import { FakeClock } from "./fake-clock.js";
import { FAILURES_SHOWN } from "../../src/ui/failure-limit.js";
import { LOG_TAIL, manyFailures } from "./many-failures.js";
import { at, runStarted, sampleRun, T0 } from "./sample-events.js";

/** Feeds the events, moving the clock to each event's time first, as a real run would. */
async function replay(events: QuantaEvent[], options: { quiet?: boolean; progressEveryMs?: number } = {}) {
  const clock = new FakeClock(T0);
  const output = collectOutput();
  const reporter = createPlainReporter({ out: output.out, clock, ...options });
  for (const event of events) {
    clock.advance(event.time - clock.now());
    reporter.onEvent(event);
  }
  return { clock, output, reporter };
}

const SUMMARY = [
  "task       ran  up to date  failed  blocked  time",
  "isr          2           2       0        0  3.0s",
  "calibrate    1           0       1        2  2.0s",
  "all tasks    3           2       1        2  5.0s",
  "slowest quanta:",
  "  isr@visit=4        3.0s",
  "  calibrate@visit=1  2.0s",
  "  isr@visit=3        1.0s",
  "run failed in 5.1s: 3 ran, 2 up to date, 1 failed, 2 blocked (collection sky)",
];

const FAILURE = [
  "FAILED calibrate@visit=2 (after 0.5s): Error: threshold must be positive",
  "    reading postIsr",
  "    threshold=-1",
];

describe("createPlainReporter", () => {
  it("prints the run, each finished task, each failure with its log tail, progress and the summary", async () => {
    const { output, reporter } = await replay(sampleRun());
    await reporter.close();
    expect(output.lines()).toEqual([
      "run sky: 8 quanta in 2 tasks, output collection sky, pool executor with 4 workers",
      "task isr: 2 ran, 2 up to date, 0 failed, 0 blocked in 3.0s",
      ...FAILURE,
      "progress: 7/8 quanta done (2 ran, 2 up to date, 1 failed, 2 blocked), 1 running, 5.0s elapsed, about 0.0s left",
      "task calibrate: 1 ran, 0 up to date, 1 failed, 2 blocked in 2.0s",
      ...SUMMARY,
    ]);
  });

  it("writes no escape codes, even when a task's log has some", async () => {
    const { output } = await replay(sampleRun());
    expect(output.text()).not.toMatch(/\u001b/);
    expect(output.text()).toContain("threshold=-1");
  });

  it("with quiet, prints only failures and the summary", async () => {
    const { output, clock } = await replay(sampleRun(), { quiet: true });
    expect(output.lines()).toEqual([...FAILURE, ...SUMMARY]);
    expect(clock.activeTimers).toBe(0);
  });

  it("prints a progress line every few seconds on a long run, and stops at the end", async () => {
    const { output, clock, reporter } = await replay(
      [runStarted, at(100, { event: "quantum-started", attempt: 1, quantum: 0, task: "isr", dataId: "visit=1" })],
      { progressEveryMs: 2000 },
    );
    clock.advance(7000);
    const progress = output.lines().filter((l) => l.startsWith("progress:"));
    expect(progress).toEqual([
      "progress: 0/8 quanta done (0 ran, 0 up to date, 0 failed, 0 blocked), 1 running, 2.0s elapsed",
      "progress: 0/8 quanta done (0 ran, 0 up to date, 0 failed, 0 blocked), 1 running, 4.0s elapsed",
      "progress: 0/8 quanta done (0 ran, 0 up to date, 0 failed, 0 blocked), 1 running, 6.0s elapsed",
    ]);
    await reporter.close();
    expect(clock.activeTimers).toBe(0);
    clock.advance(10_000);
    expect(output.lines().filter((l) => l.startsWith("progress:"))).toHaveLength(3);
  });

  it("names the no-work quanta and the attempt of a retried failure", async () => {
    const { output } = await replay([
      at(0, {
        event: "task-finished",
        counts: { task: "detect", total: 3, ran: 3, upToDate: 0, failed: 0, blocked: 0, noWork: 1, durationMs: 61_000, startedAt: T0 - 61_000, finishedAt: T0 },
      }),
      at(1, { event: "quantum-retrying", attempt: 2, error: "timeout\nafter 10s", quantum: 1, task: "coadd", dataId: "tract=0,patch=1" }),
      at(2, {
        event: "quantum-failed",
        attempt: 2,
        error: "timeout\nafter 10s",
        logTail: [],
        durationMs: 10_000,
        quantum: 1,
        task: "coadd",
        dataId: "tract=0,patch=1",
      }),
    ]);
    expect(output.lines()).toEqual([
      "task detect: 3 ran (1 no work), 0 up to date, 0 failed, 0 blocked in 1m01s",
      "retrying coadd@tract=0,patch=1 (attempt 2): timeout",
      "FAILED coadd@tract=0,patch=1 (after 10.0s, attempt 2): timeout",
      "    after 10s",
    ]);
  });

  it("prints ingest, graph and watch lines", async () => {
    const { output } = await replay([
      at(0, { event: "ingest-finished", added: 3, changed: 1, unchanged: 20, removed: 0, errors: 0 }),
      at(1, { event: "graph-built", pipeline: "sky", quanta: 8, datasets: 16, durationMs: 42, tasks: [] }),
      at(2, { event: "watch-waiting", paths: 12 }),
      at(3, { event: "watch-changed", paths: ["a.npy", "b.npy", "c.npy", "d.npy"], changes: ["a.npy", "b.npy", "c.npy", "d.npy"].map((path) => ({ path, kind: "changed" as const })) }),
      at(4, { event: "watch-error", message: "pipelines/sky.yaml:3:4: bad" }),
    ]);
    expect(output.lines()).toEqual([
      "ingest: 3 added, 1 changed, 20 unchanged, 0 removed",
      "graph of sky: 8 quanta in 0 tasks, 16 datasets (built in 0.0s)",
      "watch: waiting for changes to 12 paths",
      "watch: changed: a.npy, b.npy, c.npy and 1 more",
      "watch: error: pipelines/sky.yaml:3:4: bad",
    ]);
  });

  it("renders a status event as a table of will run / may run / up to date", async () => {
    const status = at(0, {
      event: "status",
      pipeline: "sky",
      collection: "sky",
      counts: { willRun: 5, mayRun: 4, upToDate: 3 },
      tasks: [
        { task: "isr", total: 6, willRun: 3, mayRun: 0, upToDate: 3 },
        { task: "calibrate", total: 6, willRun: 2, mayRun: 4, upToDate: 0 },
      ],
    });
    for (const quiet of [false, true]) {
      const { output } = await replay([status], { quiet });
      expect(output.lines()).toEqual([
        "task       will run  may run  up to date  total",
        "isr               3        0           3      6",
        "calibrate         2        4           0      6",
        "all tasks         5        4           3     12",
        "status of sky (collection sky): 5 will run, 4 may run, 3 up to date",
      ]);
    }
  });
});

describe("14.17 ten thousand failures stay readable: plain lines", () => {
  it("prints the first 20 failures with their log tail once each, then one line counting the rest", async () => {
    const { output, reporter } = await replay(manyFailures(10_000), { progressEveryMs: 5000 });
    await reporter.close();
    const lines = output.lines();
    const failed = lines.filter((l) => l.startsWith("FAILED "));
    expect(failed).toEqual(Array.from({ length: FAILURES_SHOWN }, (_, i) => `FAILED broken@item=${i + 1} (after 0.0s): command exited with code 1`));
    for (const tailLine of LOG_TAIL) expect(lines.filter((l) => l === `    ${tailLine}`)).toHaveLength(FAILURES_SHOWN);
    const more = lines.indexOf("… and 9980 more failures, not shown (`quanta log broken@item=21` prints one; --json lists all)");
    expect(more).toBeGreaterThan(lines.indexOf("task broken: 0 ran, 0 up to date, 10000 failed, 0 blocked in 1m40s"));
    expect(lines[more + 1]).toMatch(/^task +ran +up to date/);
    expect(lines.at(-1)).toBe("run failed in 1m40s: 0 ran, 0 up to date, 10000 failed, 1 blocked (collection fail)");
  });

  for (const order of ["engine", "engine-before-fix"] as const) {
    it(`never prints progress above the graph's size (${order} order)`, async () => {
      const { output } = await replay(manyFailures(1000, order), { progressEveryMs: 500 });
      const progress = output.lines().filter((l) => l.startsWith("progress: "));
      expect(progress.length).toBeGreaterThan(10);
      for (const line of progress) {
        const [, done, total] = /^progress: (\d+)\/(\d+) /.exec(line)!;
        expect(Number(total), line).toBe(1001);
        expect(Number(done), line).toBeLessThanOrEqual(1001);
      }
      expect(progress.at(-1)).toMatch(/^progress: 1000\/1001 quanta done \(0 ran, 0 up to date, 999 failed, 1 blocked\)/);
    });
  }

  it("counts failures per run, so each run of watch mode shows its own first failures", async () => {
    const { output } = await replay([...manyFailures(30), ...manyFailures(30).map((e) => ({ ...e, time: e.time + 1000 }))], { quiet: true });
    const lines = output.lines();
    expect(lines.filter((l) => l.startsWith("FAILED "))).toHaveLength(2 * FAILURES_SHOWN);
    expect(lines.filter((l) => l.startsWith("… and 10 more failures"))).toHaveLength(2);
  });
});
