/**
 * Plain lines, for logs, pipes and CI: no escape codes, nothing redrawn, every line complete. One line
 * per failure (its error, then the log tail indented by four spaces) for the first `FAILURES_SHOWN` of
 * a run, and one line at its end counting the rest; one per finished task, a progress line every
 * `progressEveryMs` while a run is going (with `--executor slurm`, followed by one line per task with
 * quanta in Slurm: queued, running, done, and the array jobs), and the summary table at the end. `quiet` keeps only
 * failures, watch errors, the summary and `status` output.
 */
import type { Writable } from "node:stream";
import type { QuantaEvent, Reporter, TaskCounts } from "../core/events.js";
import { measureWallTime } from "../core/run-tally.js";
import { FailureLimit } from "./failure-limit.js";
import { countSlurmWork } from "./count-slurm-work.js";
import { formatDuration } from "./format-duration.js";
import { formatJobIds } from "./format-job-ids.js";
import { formatQuantumName } from "./format-quantum-name.js";
import { formatStatus } from "./format-status.js";
import { formatRepository } from "./format-repository.js";
import { formatSummary } from "./format-summary.js";
import { createRunState, estimateRemainingMs, reduceRunState, sumTasks, type RunState } from "./run-state.js";
import { stripEscapes } from "./strip-escapes.js";
import { systemClock, type UiClock } from "./ui-clock.js";
import { waitForDrain } from "./wait-for-drain.js";

export interface PlainReporterOptions {
  out: Writable | NodeJS.WriteStream;
  quiet?: boolean;
  clock?: UiClock;
  /** How often a progress line is printed while a run is going (default 5 s). */
  progressEveryMs?: number;
  /** Failures printed in full per run (default FAILURES_SHOWN); the rest are counted at the end. */
  failuresShown?: number;
}

export const DEFAULT_PROGRESS_EVERY_MS = 5000;

export function createPlainReporter(options: PlainReporterOptions): Reporter {
  const { out, quiet = false, clock = systemClock } = options;
  const every = options.progressEveryMs ?? DEFAULT_PROGRESS_EVERY_MS;
  let state = createRunState();
  const failures = new FailureLimit(options.failuresShown);
  let stopTimer: (() => void) | undefined;

  const print = (lines: string[]) => {
    if (lines.length > 0) out.write(lines.map((l) => l + "\n").join(""));
  };
  const stopProgress = () => {
    stopTimer?.();
    stopTimer = undefined;
  };

  return {
    onEvent(event: QuantaEvent) {
      state = reduceRunState(state, event);
      if (event.event === "run-started" && !quiet) {
        stopProgress();
        stopTimer = clock.every(every, () => {
          if (state.phase === "running") print([formatProgressLine(state, clock.now()), ...formatSlurmLines(state)]);
        });
      }
      const shown = failures.admit(event);
      if (event.event === "quantum-failed" && !shown) return;
      if (event.event === "run-finished") {
        stopProgress();
        const hidden = failures.formatHidden(event);
        if (hidden !== undefined) print([hidden]);
      }
      print(formatEventLines(event, quiet));
    },
    async close() {
      stopProgress();
      await waitForDrain(out);
    },
  };
}

/** The lines one event prints, if any. */
export function formatEventLines(event: QuantaEvent, quiet: boolean): string[] {
  switch (event.event) {
    case "quantum-failed":
      return formatFailure(event);
    case "run-finished":
      return formatSummary(event);
    case "status":
      return formatStatus(event);
    case "watch-error":
      return [`watch: error: ${stripEscapes(event.message)}`];
    case "plan-warning":
      return [`warning: ${stripEscapes(event.message)}`];
    default:
      return quiet ? [] : formatInfoLines(event);
  }
}

function formatInfoLines(event: QuantaEvent): string[] {
  switch (event.event) {
    case "ingest-finished": {
      const errors = event.errors > 0 ? `, ${event.errors} errors` : "";
      return [
        `ingest: ${event.added} added, ${event.changed} changed, ${event.unchanged} unchanged, ` +
          `${event.removed} removed${errors}`,
      ];
    }
    case "graph-built":
      return [
        `graph of ${event.pipeline}: ${event.quanta} quanta in ${event.tasks.length} tasks, ` +
          `${event.datasets} datasets (built in ${formatDuration(event.durationMs)})`,
      ];
    case "run-started": {
      const total = event.tasks.reduce((sum, t) => sum + t.total, 0);
      const workers = event.workers === 1 ? "1 worker" : `${event.workers} workers`;
      return [
        `run ${event.pipeline}: ${total} quanta in ${event.tasks.length} tasks, ` +
          `output collection ${event.collection}${event.repository === undefined ? "" : ` in repository ${formatRepository(event.repository)}`}, ` +
          `${event.executor} executor with ${workers}`,
      ];
    }
    case "quantum-retrying":
      return [`retrying ${formatQuantumName(event)} (attempt ${event.attempt}): ${firstLine(event.error)}`];
    case "task-finished":
      return [formatTaskLine(event.counts)];
    case "slurm-submitted":
      return [`slurm: job ${event.jobId} (${event.task}): ${event.jobs} job${event.jobs === 1 ? "" : "s"} for ${event.quanta} quanta`];
    case "watch-waiting":
      return [...(event.why ?? []).map((line) => `watch: why ${line}`), `watch: waiting for changes to ${event.paths} paths`];
    case "watch-changed": {
      const shown = event.paths.slice(0, 3).join(", ");
      const more = event.paths.length > 3 ? ` and ${event.paths.length - 3} more` : "";
      return [`watch: changed: ${shown}${more}`];
    }
    default:
      return [];
  }
}

/** `task calibrate: 24 ran, 0 up to date, 0 failed, 0 blocked in 3.2s` (time: the task's wall time). */
export function formatTaskLine(c: TaskCounts): string {
  const noWork = c.noWork > 0 ? ` (${c.noWork} no work)` : "";
  return (
    `task ${c.task}: ${c.ran} ran${noWork}, ${c.upToDate} up to date, ${c.failed} failed, ` +
    `${c.blocked} blocked in ${formatDuration(measureWallTime([c]))}`
  );
}

function formatFailure(event: Extract<QuantaEvent, { event: "quantum-failed" }>): string[] {
  const [head, ...rest] = stripEscapes(event.error).split("\n");
  const retried = event.attempt > 1 ? `, attempt ${event.attempt}` : "";
  return [
    `FAILED ${formatQuantumName(event)} (after ${formatDuration(event.durationMs)}${retried}): ${head}`,
    ...[...rest, ...event.logTail.map(stripEscapes)].map((l) => `    ${l}`.trimEnd()),
  ];
}

/** `progress: 120/480 quanta done (…), 8 running, 1m02s elapsed, about 2m10s left`. */
export function formatProgressLine(state: RunState, now: number): string {
  const t = sumTasks(state);
  const elapsed = formatDuration(now - (state.startedAt ?? now));
  const eta = estimateRemainingMs(state, now);
  const left = eta === undefined ? "" : `, about ${formatDuration(eta)} left`;
  return (
    `progress: ${t.done}/${t.total} quanta done (${t.ran} ran, ${t.upToDate} up to date, ${t.failed} failed, ` +
    `${t.blocked} blocked), ${state.running.size} running, ${elapsed} elapsed${left}`
  );
}

/** With `--executor slurm`: `slurm: step2: 12 queued, 8 running, 20/40 done, jobs 12,13` per task with quanta in Slurm. */
export function formatSlurmLines(state: RunState): string[] {
  if (state.executor !== "slurm") return [];
  const work = countSlurmWork(state);
  const lines: string[] = [];
  for (const t of state.tasks) {
    const w = work.get(t.task);
    if (w === undefined || w.queued + w.running === 0) continue;
    lines.push(`slurm: ${t.task}: ${w.queued} queued, ${w.running} running, ${t.done}/${t.total} done, jobs ${formatJobIds(w.jobs)}`);
  }
  return lines;
}

function firstLine(text: string): string {
  return stripEscapes(text).split("\n")[0];
}
