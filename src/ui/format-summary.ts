import type { QuantaEvent } from "../core/events.js";
import { formatDuration } from "./format-duration.js";
import { formatQuantumName } from "./format-quantum-name.js";
import { measureWallTime } from "../core/run-tally.js";
import { formatTable } from "./format-table.js";
import { TOTAL_LABEL } from "./total-label.js";
import { wrapText } from "./wrap-text.js";

export type RunFinishedEvent = Extract<QuantaEvent, { event: "run-finished" }>;

/**
 * The end-of-run summary as text lines, shared by the plain reporter and the live view: a table of the
 * tasks in pipeline order (ran / up to date / failed / blocked / time), a totals row, the slowest
 * quanta, and one closing sentence. A task's time is its wall time, from the first start of its quanta
 * to the last end (not the sum of their durations, which counts parallel quanta several times); the
 * totals row's spans all tasks. No line is wider than `maxWidth` (default: unlimited): the closing
 * sentence wraps rather than losing its end.
 */
export function formatSummary(summary: RunFinishedEvent, maxWidth?: number): string[] {
  const row = (name: string, c: { ran: number; upToDate: number; failed: number; blocked: number }, ms: number) => [
    name,
    String(c.ran),
    String(c.upToDate),
    String(c.failed),
    String(c.blocked),
    formatDuration(ms),
  ];
  const lines = formatTable({
    header: ["task", "ran", "up to date", "failed", "blocked", "time"],
    rows: [...summary.tasks.map((t) => row(t.task, t, measureWallTime([t]))), row(TOTAL_LABEL, summary.counts, measureWallTime(summary.tasks))],
    maxWidth,
  });
  if (summary.slowest.length > 0) {
    lines.push("slowest quanta:");
    const table = formatTable({
      header: ["", ""],
      rows: summary.slowest.map((q) => [formatQuantumName(q), formatDuration(q.durationMs)]),
      maxWidth: maxWidth === undefined ? undefined : maxWidth - 2,
    }).slice(1);
    lines.push(...table.map((l) => `  ${l}`));
  }
  const c = summary.counts;
  const stop = summary.interrupted;
  const verdict = stop ? `run interrupted by ${stop.signal}` : c.failed > 0 ? "run failed" : "run finished";
  const stopped = stop ? `, ${stop.stopped.length} stopped while running, ${stop.notStarted} not started` : "";
  const closing =
    `${verdict} in ${formatDuration(summary.durationMs)}: ${c.ran} ran, ${c.upToDate} up to date, ` +
    `${c.failed} failed, ${c.blocked} blocked${summary.dropped ? `, ${summary.dropped} dropped in planning` : ""}${summary.removed ? `, ${summary.removed} removed (their inputs are gone)` : ""}${summary.superseded ? `, ${summary.superseded} left to the next pass (an input changed again)` : ""}${stopped} (collection ${summary.collection})` +
    (summary.slurm ? `; Slurm: ${summary.slurm.sbatchCalls} sbatch calls, ${summary.slurm.jobs} jobs` : "");
  lines.push(...(maxWidth === undefined ? [closing] : wrapText(closing, maxWidth)));
  return lines;
}
