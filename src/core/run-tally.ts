/**
 * The counts of a run, computed in one place from its quantum events: the engine and the stamped
 * no-op run emit through a `RunTally`, which counts each settling event and emits `task-finished`
 * right after the last one of a task; the reporters fold the same events with `countQuantumEvent`.
 * So the counts a reporter shows are, by construction, the ones `task-finished` and `run-finished`
 * carry.
 *
 * Per task: `ran` counts `quantum-finished` (and `noWork` those with `noWork`), `upToDate` counts
 * `quantum-up-to-date` plus the `quanta` of `task-up-to-date`, `failed` counts `quantum-failed`,
 * `blocked` counts `quantum-blocked`; `durationMs` sums the durations of `quantum-finished` and
 * `quantum-failed`, and `startedAt`/`finishedAt` span them (the first start, the last end: the task's
 * wall time, which is shorter than the sum when quanta run side by side). Run totals are the sums over
 * the tasks (`sumRunCounts`).
 */
import type { EventBody, RunCounts, TaskCounts } from "./events.js";
import type { QuantumGraph } from "./quantum-graph.js";

/** The events that settle quanta (see the module comment); every other event settles none. */
type SettlingEvent = Extract<EventBody, { event: "quantum-finished" | "quantum-up-to-date" | "task-up-to-date" | "quantum-failed" | "quantum-blocked" }>;

/** Each task's number of quanta, in pipeline order (for `graph-built` and `run-started`). */
export function countTaskQuanta(graph: Pick<QuantumGraph, "taskQuanta">): { task: string; quanta: number }[] {
  return graph.taskQuanta.map((t) => ({ task: t.task.label, quanta: t.count }));
}

/** A task's counts before any of its quanta settled. */
export function emptyTaskCounts(task: string, total: number): TaskCounts {
  return { task, total, ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0, durationMs: 0 };
}

/**
 * Adds one event to its task's counts (the caller picks the task: `event.task`); returns how many of
 * the task's quanta it settled (0 for an event that settles none).
 */
export function countQuantumEvent(counts: TaskCounts, event: EventBody): number {
  switch (event.event) {
    case "quantum-finished":
      counts.ran++;
      if (event.noWork) counts.noWork++;
      counts.durationMs += event.durationMs;
      widenSpan(counts, event);
      return 1;
    case "quantum-up-to-date":
      counts.upToDate++;
      return 1;
    case "task-up-to-date":
      counts.upToDate += event.quanta;
      return event.quanta;
    case "quantum-failed":
      counts.failed++;
      counts.durationMs += event.durationMs;
      widenSpan(counts, event);
      return 1;
    case "quantum-blocked":
      counts.blocked++;
      return 1;
    default:
      return 0;
  }
}

/** Stretches a task's span to cover a quantum that started at `startedAt` and ran `durationMs`. */
function widenSpan(counts: TaskCounts, quantum: { startedAt?: number; durationMs: number }): void {
  if (quantum.startedAt === undefined) return;
  const end = quantum.startedAt + quantum.durationMs;
  counts.startedAt = Math.min(counts.startedAt ?? quantum.startedAt, quantum.startedAt);
  counts.finishedAt = Math.max(counts.finishedAt ?? end, end);
}

/** The wall time of a task (or of several: the span from the first start to the last end), in ms. */
export function measureWallTime(tasks: readonly Pick<TaskCounts, "startedAt" | "finishedAt">[]): number {
  const starts = tasks.flatMap((t) => (t.startedAt === undefined ? [] : [t.startedAt]));
  const ends = tasks.flatMap((t) => (t.finishedAt === undefined ? [] : [t.finishedAt]));
  return starts.length === 0 ? 0 : Math.max(...ends) - Math.min(...starts);
}

/** How many of a task's quanta are settled (`noWork` is among `ran`). */
export function countSettled(c: RunCounts): number {
  return c.ran + c.upToDate + c.failed + c.blocked;
}

/** The run's totals: the sums of its tasks' counts. */
export function sumRunCounts(tasks: readonly RunCounts[]): RunCounts {
  const sum: RunCounts = { ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0 };
  for (const t of tasks) {
    sum.ran += t.ran;
    sum.upToDate += t.upToDate;
    sum.failed += t.failed;
    sum.blocked += t.blocked;
    sum.noWork += t.noWork;
  }
  return sum;
}

/**
 * The counts of one run, per task in pipeline order, kept while its events are emitted: `settle`
 * emits a quantum event, counts it, and emits its task's `task-finished` when it settled the task's
 * last quantum, so `task-finished` always follows the task's last quantum event.
 */
export class RunTally {
  private readonly byTask = new Map<string, TaskCounts>();
  private settledCount = 0;

  constructor(
    tasks: readonly { task: string; total: number }[],
    private readonly emit: (event: EventBody) => void,
  ) {
    for (const t of tasks) this.byTask.set(t.task, emptyTaskCounts(t.task, t.total));
  }

  /** The tasks and their numbers of quanta, for `run-started`. */
  get totals(): { task: string; total: number }[] {
    return [...this.byTask.values()].map((c) => ({ task: c.task, total: c.total }));
  }

  /** Quanta settled so far. */
  get settled(): number {
    return this.settledCount;
  }

  /** Emits `task-finished` for the tasks without quanta (nothing else would settle them). */
  finishEmptyTasks(): void {
    for (const c of this.byTask.values()) if (c.total === 0) this.emit({ event: "task-finished", counts: { ...c } });
  }

  /** Emits a settling event and counts it; then, if it was the task's last quantum, `task-finished`. */
  settle(event: SettlingEvent): void {
    this.emit(event);
    const c = this.byTask.get(event.task);
    if (c === undefined) throw new Error(`internal error: a quantum event of task "${event.task}", which the run did not announce`);
    const before = countSettled(c);
    const n = countQuantumEvent(c, event);
    this.settledCount += n;
    if (before < c.total && before + n >= c.total) this.emit({ event: "task-finished", counts: { ...c } });
  }

  /** Every task's counts, in pipeline order. */
  tasks(): TaskCounts[] {
    return [...this.byTask.values()].map((c) => ({ ...c }));
  }

  /** The run's totals. */
  counts(): RunCounts {
    return sumRunCounts([...this.byTask.values()]);
  }
}
