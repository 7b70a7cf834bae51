/**
 * The view model of a run, folded from the event stream by a pure reducer. The live view and the plain
 * reporter both read it; neither keeps its own counts. Time comes only from the events' `time` field
 * (and, for ETAs and elapsed times, from a `now` the caller passes in), so a test replays a run exactly.
 *
 * Counts come from `countQuantumEvent` (core/run-tally.ts), the function the engine's counts come from,
 * fed the same events: so they are the ones `task-finished` and `run-finished` carry. Invariants, per
 * task: `done = upToDate + ran + failed + blocked`; `noWork` is counted among `ran`; `timedCount` is how
 * many durations were seen (finished or failed quanta), `durationMs` their sum.
 *
 * With `--executor slurm`, a quantum is queued from the `slurm-submitted` of an array job that holds it
 * (`quantumIds`: those its elements start with and those that follow them) until its first event after
 * that: started (running), or settled without starting (a quantum that follows others is settled by the
 * head when it is up to date or blocked); submitted again (a retry, or one that follows others run on
 * its own), it is queued in the new array job.
 */
import type { QuantaEvent, QuantumRef, RunCounts } from "../core/events.js";
import { countQuantumEvent, countSettled, sumRunCounts } from "../core/run-tally.js";
import { FAILURES_SHOWN } from "./failure-limit.js";

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
  /**
   * The total came from `run-started` or `graph-built`. A task never announced (events replayed
   * without their start) has the total of the quanta seen so far.
   */
  readonly announced: boolean;
  /** With `--executor slurm`: the ids of the array jobs that held quanta of the task, in submission order. */
  readonly jobs: readonly string[];
}

export interface RunningQuantum extends QuantumRef {
  readonly startedAt: number;
  readonly attempt: number;
  /** The Slurm job it runs in (`JOB_ELEMENT`), with `--executor slurm`. */
  readonly jobId?: string;
}

/** A quantum handed to Slurm that has not started: its task and the array job that holds it. */
export interface QueuedQuantum {
  readonly task: string;
  readonly jobId: string;
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
  | {
      readonly state: "waiting";
      readonly paths: number;
      readonly time: number;
      readonly lastChange?: { readonly paths: readonly string[]; readonly more: number; readonly time: number };
      readonly why?: readonly string[];
    }
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
  /** With `--executor slurm`: the quanta queued in Slurm (see the module comment), by quantum id. */
  readonly queued: ReadonlyMap<number, QueuedQuantum>;
  /**
   * The run's first `FAILURES_SHOWN` failures (a view keeps only what it can show: a run can fail
   * 10,000 times); `sumTasks(state).failed` counts them all.
   */
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
  return { phase: "idle", workers: 1, tasks: [], running: new Map(), queued: new Map(), failures: [], slowest: [] };
}

/** Folds one event into the state. Never mutates `state`; events of an unknown kind change nothing. */
export function reduceRunState(state: RunState, event: QuantaEvent): RunState {
  return foldRunState(state, [event]);
}

/**
 * Folds many events at once, as `events.reduce(reduceRunState, state)` would, but copying each part of
 * the state at most once per call (the live view folds what arrived between two redraws in one go).
 * Never mutates `state`.
 */
export function foldRunState(state: RunState, events: Iterable<QuantaEvent>): RunState {
  const draft = new RunStateDraft(state);
  for (const event of events) applyEvent(draft, event);
  return draft.finish();
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * A working copy of a state that copies a part (the task list and each task, the running map, the
 * failure and slowest lists) only when it is first changed, so the caller's state stays untouched and a
 * batch of events costs one copy of what it touches.
 */
class RunStateDraft {
  readonly s: Mutable<RunState>;
  private ownTasks = new Set<number>();
  private ownList = false;
  private ownRunning = false;
  private ownQueued = false;
  private ownFailures = false;
  private ownSlowest = false;

  constructor(state: RunState) {
    this.s = { ...state };
  }

  /** Replaces the whole state with a fresh one (owned: nothing in it is shared). */
  reset(fresh: RunState): void {
    Object.assign(this.s, fresh);
    this.ownTasks = new Set(fresh.tasks.map((_, i) => i));
    this.ownList = this.ownRunning = this.ownQueued = this.ownFailures = this.ownSlowest = true;
  }

  /** The named task, writable; appended (with no total) if the run never announced it. */
  task(name: string): Mutable<TaskProgress> {
    if (!this.ownList) {
      this.s.tasks = this.s.tasks.slice();
      this.ownList = true;
    }
    const tasks = this.s.tasks as TaskProgress[];
    let index = tasks.findIndex((t) => t.task === name);
    if (index < 0) {
      index = tasks.push({ ...createTaskProgress(name, 0), finished: false, announced: false }) - 1;
      this.ownTasks.add(index);
    } else if (!this.ownTasks.has(index)) {
      tasks[index] = { ...tasks[index] };
      this.ownTasks.add(index);
    }
    return tasks[index];
  }

  running(): Map<number, RunningQuantum> {
    if (!this.ownRunning) {
      this.s.running = new Map(this.s.running);
      this.ownRunning = true;
    }
    return this.s.running as Map<number, RunningQuantum>;
  }

  queued(): Map<number, QueuedQuantum> {
    if (!this.ownQueued) {
      this.s.queued = new Map(this.s.queued);
      this.ownQueued = true;
    }
    return this.s.queued as Map<number, QueuedQuantum>;
  }

  failures(): FailureView[] {
    if (!this.ownFailures) {
      this.s.failures = this.s.failures.slice();
      this.ownFailures = true;
    }
    return this.s.failures as FailureView[];
  }

  slowest(): SlowQuantum[] {
    if (!this.ownSlowest) {
      this.s.slowest = this.s.slowest.slice();
      this.ownSlowest = true;
    }
    return this.s.slowest as SlowQuantum[];
  }

  finish(): RunState {
    return this.s;
  }
}

function applyEvent(d: RunStateDraft, event: QuantaEvent): void {
  const s = d.s;
  switch (event.event) {
    case "ingest-finished":
      s.ingest = event;
      return;
    case "graph-built":
      s.graph = event;
      s.pipeline ??= event.pipeline;
      if (s.phase !== "running") {
        d.reset({ ...s, tasks: event.tasks.map((t) => createTaskProgress(t.task, t.quanta)) } as RunState);
      }
      return;
    case "run-started":
      // A new run (watch mode starts one per change) resets everything but the graph and watch state.
      d.reset({
        ...createRunState(),
        graph: s.graph,
        ingest: s.ingest,
        watch: s.watch,
        phase: "running",
        pipeline: event.pipeline,
        collection: event.collection,
        executor: event.executor,
        workers: Math.max(1, event.workers),
        startedAt: event.time,
        tasks: event.tasks.map((t) => createTaskProgress(t.task, t.total)),
      });
      return;
    case "quantum-started":
      leaveQueue(d, event.quantum);
      d.running().set(event.quantum, { ...pickRef(event), startedAt: event.time, attempt: event.attempt, ...(event.jobId !== undefined && { jobId: event.jobId }) });
      return;
    case "quantum-finished":
      leaveQueue(d, event.quantum);
      stopRunning(d, event.quantum);
      settle(d, event);
      d.task(event.task).timedCount += 1;
      insertSlowest(d, { ...pickRef(event), durationMs: event.durationMs });
      return;
    case "quantum-up-to-date":
    case "quantum-blocked":
      leaveQueue(d, event.quantum);
      settle(d, event);
      return;
    case "task-up-to-date":
      settle(d, event);
      return;
    case "quantum-failed": {
      leaveQueue(d, event.quantum);
      stopRunning(d, event.quantum);
      settle(d, event);
      d.task(event.task).timedCount += 1;
      if (d.s.failures.length >= FAILURES_SHOWN) return;
      d.failures().push({
        ...pickRef(event),
        error: event.error,
        logTail: event.logTail,
        attempt: event.attempt,
        durationMs: event.durationMs,
        time: event.time,
      });
      return;
    }
    case "quantum-retrying":
      stopRunning(d, event.quantum);
      d.task(event.task).retries += 1;
      return;
    case "task-finished":
      // Its counts are the ones folded from the task's quantum events, which all came before it.
      d.task(event.counts.task).finished = true;
      return;
    case "run-finished":
      s.phase = "finished";
      s.finishedAt = event.time;
      s.summary = event;
      d.running().clear();
      if (s.queued.size > 0) d.queued().clear();
      return;
    case "status":
      s.status = event;
      s.pipeline ??= event.pipeline;
      return;
    case "watch-waiting":
      s.watch = { state: "waiting", paths: event.paths, time: event.time, lastChange: event.lastChange, why: event.why };
      return;
    case "watch-changed":
      s.watch = { state: "changed", paths: event.paths, time: event.time };
      return;
    case "watch-error":
      s.watch = { state: "error", message: event.message, time: event.time };
      return;
    case "slurm-submitted": {
      const queued = d.queued();
      for (const task in event.quantumIds) {
        for (const quantum of event.quantumIds[task]!) queued.set(quantum, { task, jobId: event.jobId });
        const t = d.task(task);
        t.jobs = [...t.jobs, event.jobId];
      }
      return;
    }
    case "plan-warning":
    case "ingest-problem":
    case "why":
    case "gc-finished":
    case "blob-problem":
    case "verify-finished":
    case "verify-repaired":
    case "dataset":
    case "execution":
    case "provenance":
    case "show":
      return;
    default: {
      const unknown: never = event;
      void unknown;
    }
  }
}

/** Counts a settling event into its task; the task is finished when all its announced quanta are. */
function settle(d: RunStateDraft, event: Extract<QuantaEvent, { task: string }>): void {
  const t = d.task(event.task);
  t.done += countQuantumEvent(t, event);
  if (t.total < t.done) t.total = t.done;
  if (t.announced && t.done >= t.total) t.finished = true;
}

function leaveQueue(d: RunStateDraft, quantum: number): void {
  if (d.s.queued.has(quantum)) d.queued().delete(quantum);
}

function stopRunning(d: RunStateDraft, quantum: number): void {
  if (d.s.running.has(quantum)) d.running().delete(quantum);
}

/** Keeps the SLOWEST_KEPT slowest, slowest first (ties: lower quantum id first). */
function insertSlowest(d: RunStateDraft, q: SlowQuantum): void {
  const current = d.s.slowest;
  if (current.length >= SLOWEST_KEPT && q.durationMs <= current[current.length - 1].durationMs) return;
  const list = d.slowest();
  let i = list.findIndex((x) => q.durationMs > x.durationMs || (q.durationMs === x.durationMs && q.quantum < x.quantum));
  if (i < 0) i = list.length;
  list.splice(i, 0, q);
  if (list.length > SLOWEST_KEPT) list.length = SLOWEST_KEPT;
}

export interface RunTotals extends RunCounts {
  total: number;
  done: number;
}

/** The counts summed over every task. */
export function sumTasks(state: RunState): RunTotals {
  let total = 0;
  for (const t of state.tasks) total += t.total;
  const counts = sumRunCounts(state.tasks);
  return { total, done: countSettled(counts), ...counts };
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
    announced: true,
    jobs: [],
  };
}

function pickRef(e: QuantumRef): QuantumRef {
  return { quantum: e.quantum, task: e.task, dataId: e.dataId };
}
