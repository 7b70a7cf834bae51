import type { QuantaEvent, StatusCounts } from "../core/events.js";
import { formatTable } from "./format-table.js";
import { formatRepository } from "./format-repository.js";
import { TOTAL_LABEL } from "./total-label.js";
import { wrapText } from "./wrap-text.js";

export type StatusEvent = Extract<QuantaEvent, { event: "status" }>;

/**
 * What `quanta status` prints without `--json`: per task in pipeline order, how many quanta will run
 * (stale now), may run (an upstream input is about to change), are up to date, and (when any is) are
 * blocked (a required input is missing), then the totals.
 */
export function formatStatus(status: StatusEvent, maxWidth?: number): string[] {
  const blocked = status.counts.blocked > 0;
  const row = (name: string, c: StatusCounts, total: number) => [
    name,
    String(c.willRun),
    String(c.mayRun),
    String(c.upToDate),
    ...(blocked ? [String(c.blocked)] : []),
    String(total),
  ];
  const total = status.tasks.reduce((sum, t) => sum + t.total, 0);
  const lines = formatTable({
    header: ["task", "will run", "may run", "up to date", ...(blocked ? ["blocked"] : []), "total"],
    rows: [...status.tasks.map((t) => row(t.task, t, t.total)), row(TOTAL_LABEL, status.counts, total)],
    maxWidth,
  });
  const c = status.counts;
  const closing =
    `status of ${status.pipeline} (collection ${status.collection}${status.repository === undefined ? "" : `, repository ${formatRepository(status.repository)}`}): ` +
    `${c.willRun} will run, ${c.mayRun} may run, ${c.upToDate} up to date` +
    (blocked ? `, ${c.blocked} blocked (a required input is missing)` : "");
  // The closing sentence wraps rather than losing its end.
  lines.push(...(maxWidth === undefined ? [closing] : wrapText(closing, maxWidth)));
  const slurm = status.slurm;
  if (slurm !== undefined) {
    const perTask = slurm.tasks.map((t) => `${t.task}: ${plural(t.jobs, "job")} in ${plural(t.sbatchCalls, "array job")}`).join("; ");
    const sentence = slurm.quanta === 0 ? "with --executor slurm: nothing would be submitted" : `with --executor slurm: ${plural(slurm.quanta, "quantum", "quanta")} would be submitted in ${plural(slurm.jobs, "job")}, by at least ${plural(slurm.sbatchCalls, "sbatch call")}` + (perTask === "" ? "" : ` (${perTask})`);
    lines.push(...(maxWidth === undefined ? [sentence] : wrapText(sentence, maxWidth)));
  }
  return lines;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
