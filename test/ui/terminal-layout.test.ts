/**
 * 17.7, the pure layouts behind the live view and the summary: widths follow the terminal, the totals
 * row cannot be taken for a task, times are wall times, and closing sentences wrap instead of being cut.
 */
import { describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { RunTally } from "../../src/core/run-tally.js";
import { formatStatus } from "../../src/ui/format-status.js";
import { formatSummary } from "../../src/ui/format-summary.js";
import { joinTaskRow, layoutTaskRows } from "../../src/ui/layout-task-rows.js";
import { createRunState, reduceRunState } from "../../src/ui/run-state.js";
import { wrapText } from "../../src/ui/wrap-text.js";
import { at, T0 } from "./sample-events.js";

const LONG = "characterizeImageWithPsfModel";

function stateOf(tasks: string[]) {
  const started = at(0, { event: "run-started", pipeline: "p", collection: "c", executor: "pool", workers: 4, tasks: tasks.map((task) => ({ task, total: 10 })) });
  return [started].reduce(reduceRunState, createRunState());
}

/** A run of `total` (4 quanta of 1 s side by side, then 1 of 2 s) and `isr`: the run-finished event. */
function finishedRun(collection: string): Extract<QuantaEvent, { event: "run-finished" }> {
  const tally = new RunTally([{ task: "total", total: 5 }, { task: "isr", total: 1 }], () => undefined);
  for (let q = 0; q < 4; q++) tally.settle({ event: "quantum-finished", quantum: q, task: "total", dataId: `n=${q}`, durationMs: 1000, noWork: false, startedAt: T0 });
  tally.settle({ event: "quantum-finished", quantum: 4, task: "total", dataId: "n=4", durationMs: 2000, noWork: false, startedAt: T0 + 1000 });
  tally.settle({ event: "quantum-up-to-date", quantum: 5, task: "isr", dataId: "n=5" });
  return { v: 1, time: T0 + 3100, event: "run-finished", pipeline: "p", collection, counts: tally.counts(), durationMs: 3100, tasks: tally.tasks(), slowest: [], exitCode: 0 };
}

describe("17.7 the layouts follow the terminal's width", () => {
  it("17.7 rows take the whole width: the label column widens to the longest label, then the bar", () => {
    for (const columns of [80, 120, 160, 240]) {
      const table = layoutTaskRows(stateOf([LONG, "isr"]), T0, columns);
      for (const row of [...table.rows, table.total]) expect(joinTaskRow(row), `${columns} columns`).toHaveLength(columns);
      if (columns >= 120) expect(table.rows[0]!.name.trim()).toBe(LONG);
      else expect(table.rows[0]!.name).toMatch(/^characterizeIma\w*…$/);
    }
    const wide = layoutTaskRows(stateOf([LONG]), T0, 240);
    expect((wide.rows[0]!.barDone + wide.rows[0]!.barTodo).length).toBeGreaterThan(150);
  });

  it("17.7 the totals row is labelled so that no task label can read the same", () => {
    const table = layoutTaskRows(stateOf(["total", "isr"]), T0, 100);
    expect(table.rows[0]!.name.trim()).toBe("total");
    expect(table.total.name.trim()).toBe("all tasks");
    const summary = formatSummary(finishedRun("c"));
    expect(summary.filter((l) => l.startsWith("total "))).toHaveLength(1);
    expect(summary.filter((l) => l.startsWith("all tasks "))).toHaveLength(1);
    const status = formatStatus({ v: 1, time: T0, event: "status", pipeline: "p", collection: "c", counts: { willRun: 1, mayRun: 0, upToDate: 0, blocked: 0 }, tasks: [{ task: "total", total: 1, willRun: 1, mayRun: 0, upToDate: 0, blocked: 0 }] });
    expect(status.filter((l) => /^(total|all tasks) /.test(l))).toEqual([expect.stringMatching(/^total +1 /), expect.stringMatching(/^all tasks +1 /)]);
  });

  it("17.7 the summary's time is each task's wall time, first start to last end", () => {
    const summary = formatSummary(finishedRun("c"));
    // total: four 1 s quanta side by side, then one of 2 s: 3 s of wall time (6 s of quantum time).
    expect(summary).toContainEqual(expect.stringMatching(/^total +5 +0 +0 +0 +3\.0s$/));
    expect(summary).toContainEqual(expect.stringMatching(/^isr +0 +1 +0 +0 +0\.0s$/));
    expect(summary).toContainEqual(expect.stringMatching(/^all tasks +5 +1 +0 +0 +3\.0s$/));
  });

  it("17.7 a closing sentence wider than the terminal wraps, whole", () => {
    const collection = "reprocessing-2026-12-06-with-the-new-flats-and-biases";
    const lines = formatSummary(finishedRun(collection), 80);
    const closing = lines.slice(lines.findIndex((l) => l.startsWith("run finished")));
    expect(closing.length).toBeGreaterThan(1);
    expect(closing.join(" ")).toBe(`run finished in 3.1s: 5 ran, 1 up to date, 0 failed, 0 blocked (collection ${collection})`);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    expect(wrapText("a bb ccc", 4)).toEqual(["a bb", "ccc"]);
    expect(wrapText("abcdefghij k", 4)).toEqual(["abcd", "efgh", "ij k"]);
  });
});
