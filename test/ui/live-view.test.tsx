import "./without-ci-env.js";
import { render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { cleanup } from "ink-testing-library";
import type { QuantaEvent } from "../../src/core/events.js";
import { createLiveReporter, LiveView, toStaticEntry, type StaticEntry } from "../../src/ui/live-view.js";
import { createRunState, reduceRunState } from "../../src/ui/run-state.js";
import { stripEscapes } from "../../src/ui/strip-escapes.js";
import { FakeClock } from "./fake-clock.js";
import { FakeTerminal } from "./fake-terminal.js";
import { renderScreen } from "./render-screen.js";
import { at, eventsBefore, sampleRun, T0 } from "./sample-events.js";

afterEach(() => cleanup());

function drawAt(events: QuantaEvent[], nowMs: number, columns = 100) {
  const state = events.reduce(reduceRunState, createRunState());
  const entries = events.map(toStaticEntry).filter((e): e is StaticEntry => e !== undefined);
  const { lastFrame } = render(<LiveView state={state} entries={entries} now={T0 + nowMs} columns={columns} />);
  const lines = stripEscapes(lastFrame() ?? "").split("\n");
  while (lines.at(-1) === "") lines.pop();
  return lines;
}

describe("LiveView", () => {
  it("draws a run in progress: header, a bar and counts per task, the running quanta", () => {
    const lines = drawAt(eventsBefore(1020), 520);
    expect(lines[0]).toBe("sky → collection sky · pool, 4 workers · 0.5s");
    expect(lines[1]).toMatch(/^task\s+done\s+up\s+ran\s+fail\s+blk\s+eta$/);
    // isr: 2 of 4 done (both up to date); nothing timed yet, so no ETA.
    // The bar takes what the labels and counts leave of the 100 columns: 53 cells.
    expect(lines[2]).toBe(`isr       ${"█".repeat(26)}${"░".repeat(27)}       2/4    2    0    0    0      ?`);
    expect(lines[3]).toBe(`calibrate ${"░".repeat(53)}       0/4    0    0    0    0      ?`);
    expect(lines[4]).toBe(`all tasks ${"█".repeat(13)}${"░".repeat(40)}       2/8    2    0    0    0      ?`);
    for (const line of lines.slice(2, 5)) expect(line).toHaveLength(100);
    expect(lines[5]).toBe("running (2):");
    expect(lines[6]).toMatch(/^  isr@visit=3\s+0\.5s$/);
    expect(lines[7]).toMatch(/^  isr@visit=4\s+0\.5s$/);
    expect(lines).toHaveLength(8);
  });

  it("shows ETAs from the durations seen and marks finished tasks done", () => {
    const lines = drawAt(eventsBefore(3540), 3100);
    expect(lines.find((l) => l.startsWith("isr"))).toMatch(/4\/4    2    2    0    0   done$/);
    // calibrate: 4 left, 2 running for 60 ms of a 2 s mean: (2×1940 + 2×2000) / 4 workers.
    expect(lines.find((l) => l.startsWith("calibrate"))).toMatch(/0\/4    0    0    0    0   2\.0s$/);
  });

  it("prints a failure with its quantum, error and log tail above the live rows", () => {
    const lines = drawAt(eventsBefore(3600), 3560);
    expect(lines.slice(0, 3)).toEqual([
      "✗ calibrate@visit=2 failed after 0.5s: Error: threshold must be positive",
      "    reading postIsr",
      "    threshold=-1",
    ]);
    expect(lines[3]).toMatch(/^sky → collection sky/);
    expect(lines.find((l) => l.startsWith("calibrate"))).toMatch(/3\/4    0    0    1    2 /);
    expect(lines.at(-1)).toBe("1 failed (logs above)");
  });

  it("shows the last lines of a long log only", () => {
    const logTail = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const failed = at(100, { event: "quantum-failed", attempt: 1, error: "boom", logTail, durationMs: 5, quantum: 0, task: "a", dataId: "x=1" });
    const lines = drawAt([failed], 100);
    expect(lines[0]).toBe("✗ a@x=1 failed after 0.0s: boom");
    expect(lines.slice(1, 9)).toEqual(logTail.slice(-8).map((l) => `    ${l}`));
  });

  it("leaves the summary table, and no live rows, when the run ends", () => {
    const lines = drawAt(sampleRun(), 5060);
    expect(lines).toEqual([
      "✗ calibrate@visit=2 failed after 0.5s: Error: threshold must be positive",
      "    reading postIsr",
      "    threshold=-1",
      "task       ran  up to date  failed  blocked  time",
      "isr          2           2       0        0  3.0s",
      "calibrate    1           0       1        2  2.0s",
      "all tasks    3           2       1        2  5.0s",
      "slowest quanta:",
      "  isr@visit=4        3.0s",
      "  calibrate@visit=1  2.0s",
      "  isr@visit=3        1.0s",
      "run failed in 5.1s: 3 ran, 2 up to date, 1 failed, 2 blocked (collection sky)",
    ]);
  });

  it("fits an 80-column terminal: long labels, long data IDs, 10,000 quanta, many running", () => {
    const longId = "visit=1234567,detector=103,band=i,instrument=HyperSuprimeCam,physical_filter=HSC-I";
    const events: QuantaEvent[] = [
      at(0, {
        event: "run-started",
        pipeline: "a-survey-pipeline-with-a-long-name",
        collection: "u/someone/reprocessing/2024-06-01/with-new-calibrations",
        executor: "pool",
        workers: 64,
        tasks: [
          { task: "characterizeImageWithPsfModel", total: 10_000 },
          { task: "isr", total: 10_000 },
        ],
      }),
    ];
    for (let q = 0; q < 20; q++) events.push(at(q, { event: "quantum-started", attempt: 1, quantum: q, task: "characterizeImageWithPsfModel", dataId: `${longId},q=${q}` }));
    for (let q = 0; q < 7; q++) events.push(at(100 + q, { event: "quantum-finished", durationMs: 12_345, noWork: false, quantum: q, task: "characterizeImageWithPsfModel", dataId: `${longId},q=${q}` }));
    events.push(
      at(200, { event: "quantum-failed", attempt: 1, error: `Error: ${"x".repeat(200)}`, logTail: ["y".repeat(300)], durationMs: 1, quantum: 7, task: "characterizeImageWithPsfModel", dataId: longId }),
    );
    for (const lines of [drawAt(events, 3_725_000, 80), drawAt([...events, ...sampleRun().slice(-1)], 3_725_000, 80)]) {
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    }
    const lines = drawAt(events, 3_725_000, 80);
    expect(lines.filter((l) => l.startsWith("  characterize"))).toHaveLength(5);
    expect(lines).toContain("  … and 7 more");
    // The failure's error wraps below its quantum rather than being cut.
    expect(lines[0]).toBe("✗ characterizeImageWithPsfModel@visit=1234567,detector=103,band=i,instrument=Hy…");
    expect(lines[1]).toBe(`  Error: ${"x".repeat(71)}`);
    expect(lines[2]).toBe(`  ${"x".repeat(78)}`);
    expect(lines.some((l) => /^characterizeIma… █*░+ +8\/10000 +0 +7 +1 +0 +\S+$/.test(l))).toBe(true);
  });
});

describe("createLiveReporter", () => {
  function start() {
    const terminal = new FakeTerminal(80, 40);
    const clock = new FakeClock(T0);
    const reporter = createLiveReporter({ stdout: terminal.asStream(), clock, fps: 10 });
    return { terminal, clock, reporter };
  }

  it("redraws on its timer, not once per event", async () => {
    const { terminal, clock, reporter } = start();
    reporter.onEvent(at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 8, tasks: [{ task: "a", total: 1000 }] }));
    // The first draw comes with run-started; after that, only the timer draws.
    expect(renderScreen(terminal.text).some((l) => /^a +░{33} +0\/1000 +0 +0 +0 +0 +\?$/.test(l))).toBe(true);
    const before = terminal.chunks.length;
    for (let q = 0; q < 1000; q++) {
      reporter.onEvent(at(1, { event: "quantum-started", attempt: 1, quantum: q, task: "a", dataId: `x=${q}` }));
      reporter.onEvent(at(2, { event: "quantum-finished", durationMs: 1, noWork: false, quantum: q, task: "a", dataId: `x=${q}` }));
    }
    expect(terminal.chunks.length).toBe(before);
    clock.advance(100);
    expect(renderScreen(terminal.text).some((l) => /^a +█+ +1000\/1000 /.test(l))).toBe(true);
    const afterOneTick = terminal.chunks.length;
    expect(afterOneTick).toBeGreaterThan(before);
    await reporter.close();
    expect(clock.activeTimers).toBe(0);
  });

  it("draws less often when drawing is slow, to stay within its share of the run", async () => {
    // Every reading of this clock costs 10 ms, as if drawing were slow: a draw reads it three times
    // (start, elapsed time, end), so it "takes" 20 ms and the next may only come 20 / 0.02 = 1 s later.
    class SlowClock extends FakeClock {
      override now(): number {
        this.advance(10);
        return super.now();
      }
    }
    const terminal = new FakeTerminal(80, 40);
    const clock = new SlowClock(T0);
    const reporter = createLiveReporter({ stdout: terminal.asStream(), clock, fps: 10 });
    reporter.onEvent(at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 1, tasks: [{ task: "a", total: 2 }] }));
    const afterFirstDraw = terminal.chunks.length;
    reporter.onEvent(at(1, { event: "quantum-up-to-date", quantum: 0, task: "a", dataId: "x=0" }));
    clock.advance(700);
    expect(terminal.chunks.length).toBe(afterFirstDraw);
    clock.advance(600);
    expect(terminal.chunks.length).toBeGreaterThan(afterFirstDraw);
    expect(renderScreen(terminal.text).some((l) => /^a +█+░+ +1\/2 /.test(l))).toBe(true);
    await reporter.close();
  });

  it("leaves the failures and the summary on screen, and erases the live rows", async () => {
    const { terminal, clock, reporter } = start();
    for (const event of sampleRun()) {
      clock.advance(event.time - clock.now());
      reporter.onEvent(event);
    }
    await reporter.close();
    const screen = renderScreen(terminal.text);
    expect(screen).toEqual([
      "✗ calibrate@visit=2 failed after 0.5s: Error: threshold must be positive",
      "    reading postIsr",
      "    threshold=-1",
      "task       ran  up to date  failed  blocked  time",
      "isr          2           2       0        0  3.0s",
      "calibrate    1           0       1        2  2.0s",
      "all tasks    3           2       1        2  5.0s",
      "slowest quanta:",
      "  isr@visit=4        3.0s",
      "  calibrate@visit=1  2.0s",
      "  isr@visit=3        1.0s",
      "run failed in 5.1s: 3 ran, 2 up to date, 1 failed, 2 blocked (collection sky)",
    ]);
    // The live rows were drawn during the run.
    expect(terminal.text).toContain("running (2):");
  });
});
