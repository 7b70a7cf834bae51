/**
 * The live view's task table as pure text: column widths chosen for the terminal's width, one row per
 * task plus a totals row. Each row is split into the parts the view colours separately; joined, a row
 * is as wide as the `columns` given, never wider (down to about 60 columns; below that, the bar shrinks
 * to 5 cells and the label to 4 characters, and the view truncates). A wider terminal widens the label
 * column first (up to the longest label, keeping at least `MIN_WIDE_BAR` cells of bar), then the bar.
 *
 * With `--executor slurm`, each row also has the quanta queued in Slurm and running (after `done`), and
 * the ids of the array jobs that hold them (last, `JOBS_MIN` to `JOBS_MAX` wide, taken from the bar):
 * there, rows fit down to about 80 columns.
 */
import { countSlurmWork } from "./count-slurm-work.js";
import { formatDuration } from "./format-duration.js";
import { formatJobIds } from "./format-job-ids.js";
import { estimateRemainingMs, sumTasks, type RunState } from "./run-state.js";
import { TOTAL_LABEL } from "./total-label.js";
import { truncateText } from "./truncate-text.js";

export interface TaskRow {
  /** The label, padded to its column. */
  name: string;
  /** The bar's filled and empty cells; `barDone + barTodo` has the bar's width. */
  barDone: string;
  barTodo: string;
  /** `done/total`, padded. */
  progress: string;
  upToDate: string;
  ran: string;
  failed: string;
  blocked: string;
  eta: string;
  /** With `--executor slurm`: queued and running quanta, padded, and the array jobs holding them. */
  slurm?: { queued: string; running: string; jobs: string };
  /** Whether each count is non-zero (the view colours those). */
  hasFailed: boolean;
  hasBlocked: boolean;
  finished: boolean;
}

export interface TaskTable {
  /** The column titles, already aligned. */
  header: string;
  rows: TaskRow[];
  total: TaskRow;
}

export const BAR_DONE = "█";
export const BAR_TODO = "░";
const ETA_WIDTH = 6;
/** The label column is at least this wide when labels are longer (it is narrower only on narrow terminals). */
const MIN_NAME_CAP = 16;
/** The bar keeps this many cells before the label column takes more than `MIN_NAME_CAP`. */
const MIN_WIDE_BAR = 20;
/** The width of the column of Slurm job ids. */
const JOBS_MIN = 9;
const JOBS_MAX = 24;
const QUEUED_TITLE = "queue";

/** Joins a row's parts with the separators the view uses, for measuring and for plain tests. */
export function joinTaskRow(row: TaskRow): string {
  const queue = row.slurm === undefined ? "" : ` ${row.slurm.queued} ${row.slurm.running}`;
  const jobs = row.slurm === undefined ? "" : ` ${row.slurm.jobs}`;
  return `${row.name} ${row.barDone}${row.barTodo} ${row.progress}${queue} ${row.upToDate} ${row.ran} ${row.failed} ${row.blocked} ${row.eta}${jobs}`;
}

export function layoutTaskRows(state: RunState, now: number, columns: number): TaskTable {
  const totals = sumTasks(state);
  const numWidth = Math.max(4, String(totals.total).length);
  const longest = Math.max(TOTAL_LABEL.length, ...state.tasks.map((t) => t.task.length));
  const slurm = state.executor === "slurm" ? countSlurmWork(state) : undefined;
  const queuedWidth = Math.max(QUEUED_TITLE.length, numWidth);
  const slurmFixed = slurm === undefined ? 0 : 1 + queuedWidth + 1 + numWidth + 1;
  const counts = 1 + 1 + (2 * numWidth + 1) + 4 * (1 + numWidth) + 1 + ETA_WIDTH + slurmFixed;
  const jobsWidth = slurm === undefined ? 0 : Math.min(JOBS_MAX, Math.max(JOBS_MIN, columns - counts - MIN_NAME_CAP - MIN_WIDE_BAR));
  const nameWidth = Math.min(longest, Math.max(MIN_NAME_CAP, columns - counts - jobsWidth - MIN_WIDE_BAR));
  const barWidth = Math.max(5, columns - counts - jobsWidth - nameWidth);
  const num = (n: number) => String(n).padStart(numWidth);
  const slurmCells = (task: string | undefined): TaskRow["slurm"] => {
    if (slurm === undefined) return undefined;
    const w = slurm.get(task);
    return {
      queued: String(w?.queued ?? 0).padStart(queuedWidth),
      running: num(w?.running ?? 0),
      jobs: formatJobIds(w?.jobs ?? [], jobsWidth).padEnd(jobsWidth),
    };
  };

  const makeRow = (
    name: string,
    c: { total: number; done: number; upToDate: number; ran: number; failed: number; blocked: number },
    eta: number | undefined,
    finished: boolean,
    task: string | undefined,
  ): TaskRow => {
    const filled = c.total === 0 ? barWidth : Math.min(barWidth, Math.floor((c.done / c.total) * barWidth));
    return {
      name: truncateText(name, nameWidth).padEnd(nameWidth),
      barDone: BAR_DONE.repeat(filled),
      barTodo: BAR_TODO.repeat(barWidth - filled),
      progress: `${c.done}/${c.total}`.padStart(2 * numWidth + 1),
      upToDate: num(c.upToDate),
      ran: num(c.ran),
      failed: num(c.failed),
      blocked: num(c.blocked),
      eta: (finished ? "done" : eta === undefined ? "?" : formatDuration(eta)).padStart(ETA_WIDTH),
      hasFailed: c.failed > 0,
      hasBlocked: c.blocked > 0,
      finished,
      ...(slurm !== undefined && { slurm: slurmCells(task) }),
    };
  };

  const rows = state.tasks.map((t) => makeRow(t.task, t, estimateRemainingMs(state, now, t.task), t.finished, t.task));
  const allDone = state.tasks.every((t) => t.finished);
  const total = makeRow(TOTAL_LABEL, totals, estimateRemainingMs(state, now), allDone, undefined);
  const header = [
    "task".padEnd(nameWidth),
    "".padEnd(barWidth),
    "done".padStart(2 * numWidth + 1),
    ...(slurm === undefined ? [] : [QUEUED_TITLE.padStart(queuedWidth), "run".padStart(numWidth)]),
    "up".padStart(numWidth),
    "ran".padStart(numWidth),
    "fail".padStart(numWidth),
    "blk".padStart(numWidth),
    "eta".padStart(ETA_WIDTH),
    ...(slurm === undefined ? [] : ["jobs".padEnd(jobsWidth)]),
  ].join(" ");
  return { header, rows, total };
}
