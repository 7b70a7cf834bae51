/**
 * The view model of a run, folded from the event stream by a pure reducer. The live view and the plain
 * reporter both read it; neither keeps its own counts. Time comes only from the events' `time` field
 * (and, for ETAs and elapsed times, from a `now` the caller passes in), so a test replays a run exactly.
 *
 * Invariants, per task: `done = upToDate + ran + failed + blocked`; `noWork` is counted among `ran`;
 * `timedCount` is how many durations were seen (finished or failed quanta), `durationMs` their sum.
 */
import type { QuantaEvent, QuantumRef, RunCounts } from "../core/events.js";

type EventOf<N extends QuantaEvent["event"]> = Extract<QuantaEvent, { event: N }>;

export interface TaskProgress extends RunCounts {
  readonly task: string;
  readonly total: number;
  readonly done: number;
  /** Attempts that failed and were retried. */
  readonly retries: number;
  /** Sum of the durations seen (quanta that finished or failed), in ms. */
  readonly durationMs: number;
  readonly timedCount: number;
  /** The engine said `task-finished`, or every quantum of the task is done. */
  readonly finished: boolean;
}

export interface RunningQuantum extends QuantumRef {
  readonly startedAt: number;
  readonly attempt: number;
}

export interface FailureView extends QuantumRef {
  readonly error: string;
  readonly logTail: readonly string[];
  readonly attempt: number;
  readonly durationMs: number;
  readonly time: number;
}

export interface SlowQuantum extends QuantumRef {
  readonly durationMs: number;
}

export type WatchView =
  | { readonly state: "waiting"; readonly paths: number; readonly time: number }
  | { readonly state: "changed"; readonly paths: readonly string[]; readonly time: number }
  | { readonly state: "error"; readonly message: string; readonly time: number };

export type RunPhase = "idle" | "running" | "finished";

export interface RunState {
  readonly phase: RunPhase;
  readonly pipeline?: string;
  readonly collection?: string;
  readonly executor?: EventOf<"run-started">["executor"];
  readonly workers: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** In pipeline order (the order of `run-started`'s, or else `graph-built`'s, task list). */
  readonly tasks: readonly TaskProgress[];
  /** Keyed by quantum id. */
  readonly running: ReadonlyMap<number, RunningQuantum>;
  readonly failures: readonly FailureView[];
  /** The slowest quanta seen so far, slowest first, at most `SLOWEST_KEPT`. */
  readonly slowest: readonly SlowQuantum[];
  readonly graph?: EventOf<"graph-built">;
  readonly ingest?: EventOf<"ingest-finished">;
  readonly summary?: EventOf<"run-finished">;
  readonly status?: EventOf<"status">;
  readonly watch?: WatchView;
}

export const SLOWEST_KEPT = 5;

export function createRunState(): RunState {
  return { phase: "idle", workers: 1, tasks: [], running: new Map(), failures: [], slowest: [] };
}

/** Folds one event into the state. Never mutates `state`; events of an unknown kind change nothing. */
export function reduceRunState(state: RunState, event: QuantaEvent): RunState {
  switch (event.event) {
    case "ingest-finished":
      return { ...state, ingest: event };
    case "graph-built":
      return {
        ...state,
        graph: event,
        pipeline: state.pipeline ?? event.pipeline,
        tasks: state.phase === "running" ? state.tasks : event.tasks.map((t) => createTaskProgress(t.task, t.quanta)),
      };
    case "run-started":
      // A new run (watch mode starts one per change) resets everything but the graph and watch state.
      return {
        ...createRunState(),
        graph: state.graph,
        ingest: state.ingest,
        watch: state.watch,
        phase: "running",
        pipeline: event.pipeline,
        collection: event.collection,
        executor: event.executor,
        workers: Math.max(1, event.workers),
        startedAt: event.time,
        tasks: event.tasks.map((t) => createTaskProgress(t.task, t.total)),
      };
    case "quantum-started": {
      const running = new Map(state.running);
      running.set(event.quantum, { ...pickRef(event), startedAt: event.time, attempt: event.attempt });
      return { ...state, running };
    }
    case "quantum-finished":
      return {
        ...withoutRunning(state, event.quantum),
        tasks: updateTask(state.tasks, event.task, (t) => ({
          ...t,
          ran: t.ran + 1,
          noWork: t.noWork + (event.noWork ? 1 : 0),
          durationMs: t.durationMs + event.durationMs,
          timedCount: t.timedCount + 1,
        })),
        slowest: insertSlowest(state.slowest, { ...pickRef(event), durationMs: event.durationMs }),
      };
    case "quantum-up-to-date":
      return { ...state, tasks: updateTask(state.tasks, event.task, (t) => ({ ...t, upToDate: t.upToDate + 1 })) };
    case "quantum-failed": {
      const failure: FailureView = {
        ...pickRef(event),
        error: event.error,
        logTail: event.logTail,
        attempt: event.attempt,
        durationMs: event.durationMs,
        time: event.time,
      };
      return {
        ...withoutRunning(state, event.quantum),
        tasks: updateTask(state.tasks, event.task, (t) => ({
          ...t,
          failed: t.failed + 1,
          durationMs: t.durationMs + event.durationMs,
          timedCount: t.timedCount + 1,
        })),
        failures: [...state.failures, failure],
      };
    }
    case "quantum-retrying":
      return {
        ...withoutRunning(state, event.quantum),
        tasks: updateTask(state.tasks, event.task, (t) => ({ ...t, retries: t.retries + 1 }), false),
      };
    case "quantum-blocked":
      return { ...state, tasks: updateTask(state.tasks, event.task, (t) => ({ ...t, blocked: t.blocked + 1 })) };
    case "task-finished": {
      // The engine's counts are authoritative; keep the durations we saw for the ETA of other tasks.
      const c = event.counts;
      return {
        ...state,
        tasks: updateTask(
          state.tasks,
          c.task,
          (t) => ({
            ...t,
            total: c.total,
            ran: c.ran,
            upToDate: c.upToDate,
            failed: c.failed,
            blocked: c.blocked,
            noWork: c.noWork,
            done: c.ran + c.upToDate + c.failed + c.blocked,
            finished: true,
          }),
          false,
        ),
      };
    }
    case "run-finished":
      return { ...state, phase: "finished", finishedAt: event.time, summary: event, running: new Map() };
    case "status":
      return { ...state, status: event, pipeline: state.pipeline ?? event.pipeline };
    case "watch-waiting":
      return { ...state, watch: { state: "waiting", paths: event.paths, time: event.time } };
    case "watch-changed":
      return { ...state, watch: { state: "changed", paths: event.paths, time: event.time } };
    case "watch-error":
      return { ...state, watch: { state: "error", message: event.message, time: event.time } };
    default: {
      const unknown: never = event;
      void unknown;
      return state;
    }
  }
}

export interface RunTotals extends RunCounts {
  total: number;
  done: number;
}

/** The counts summed over every task. */
export function sumTasks(state: RunState): RunTotals {
  const totals: RunTotals = { total: 0, done: 0, ran: 0, upToDate: 0, failed: 0, blocked: 0, noWork: 0 };
  for (const t of state.tasks) {
    totals.total += t.total;
    totals.done += t.done;
    totals.ran += t.ran;
    totals.upToDate += t.upToDate;
    totals.failed += t.failed;
    totals.blocked += t.blocked;
    totals.noWork += t.noWork;
  }
  return totals;
}

/**
 * Estimated ms until the task (or, without `task`, the whole run) is done: the quanta left, times the
 * mean duration seen for that task (or, before any, over all tasks), shared among the workers; quanta
 * already running count only for their expected time left. `undefined` when nothing has been timed yet
 * and work remains; 0 when nothing remains.
 */
export function estimateRemainingMs(state: RunState, now: number, task?: string): number | undefined {
  const overall = meanDuration(state.tasks);
  const selected = task === undefined ? state.tasks : state.tasks.filter((t) => t.task === task);
  let work = 0;
  let left = 0;
  for (const t of selected) {
    const remaining = Math.max(0, t.total - t.done);
    if (remaining === 0) continue;
    const mean = t.timedCount > 0 ? t.durationMs / t.timedCount : overall;
    if (mean === undefined) return undefined;
    let runningHere = 0;
    for (const r of state.running.values()) {
      if (r.task !== t.task) continue;
      runningHere += 1;
      work += Math.max(0, mean - (now - r.startedAt));
    }
    work += Math.max(0, remaining - runningHere) * mean;
    left += remaining;
  }
  if (left === 0) return 0;
  return work / Math.min(state.workers, left);
}

/** The running quanta, longest-running first (ties by quantum id). */
export function listRunning(state: RunState): RunningQuantum[] {
  return [...state.running.values()].sort((a, b) => a.startedAt - b.startedAt || a.quantum - b.quantum);
}

function meanDuration(tasks: readonly TaskProgress[]): number | undefined {
  let sum = 0;
  let count = 0;
  for (const t of tasks) {
    sum += t.durationMs;
    count += t.timedCount;
  }
  return count > 0 ? sum / count : undefined;
}

function createTaskProgress(task: string, total: number): TaskProgress {
  return {
    task,
    total,
    done: 0,
    ran: 0,
    upToDate: 0,
    failed: 0,
    blocked: 0,
    noWork: 0,
    retries: 0,
    durationMs: 0,
    timedCount: 0,
    finished: total === 0,
  };
}

/**
 * Applies `change` to the named task (appending it if the run never announced it). With `countsDone`,
 * the change settles one quantum: `done` goes up by one, and the task is finished when all are done.
 */
function updateTask(
  tasks: readonly TaskProgress[],
  name: string,
  change: (t: TaskProgress) => TaskProgress,
  countsDone = true,
): TaskProgress[] {
  const index = tasks.findIndex((t) => t.task === name);
  const before = index >= 0 ? tasks[index] : createTaskProgress(name, 0);
  let after = change(before);
  if (countsDone) {
    const done = after.done + 1;
    after = { ...after, done, total: Math.max(after.total, done), finished: after.finished || done >= after.total };
  }
  const next = tasks.slice();
  if (index >= 0) next[index] = after;
  else next.push(after);
  return next;
}

function withoutRunning(state: RunState, quantum: number): RunState {
  if (!state.running.has(quantum)) return state;
  const running = new Map(state.running);
  running.delete(quantum);
  return { ...state, running };
}

function insertSlowest(slowest: readonly SlowQuantum[], q: SlowQuantum): readonly SlowQuantum[] {
  if (slowest.length >= SLOWEST_KEPT && q.durationMs <= slowest[slowest.length - 1].durationMs) return slowest;
  const next = [...slowest, q].sort((a, b) => b.durationMs - a.durationMs || a.quantum - b.quantum);
  return next.slice(0, SLOWEST_KEPT);
}

function pickRef(e: QuantumRef): QuantumRef {
  return { quantum: e.quantum, task: e.task, dataId: e.dataId };
}
