/**
 * The event stream: the engine and the graph builder emit these; reporters (live view, plain lines,
 * JSON lines) only listen. `--json` prints each event as one line, so this union is a public,
 * versioned interface: add fields and events freely, never rename or remove them without bumping
 * `EVENTS_VERSION`. Every event carries `v` (the version) and `time` (ms since the epoch).
 */
import type { PlanWarning } from "./plan-warning.js";

export const EVENTS_VERSION = 1;

export interface RunCounts {
  ran: number;
  upToDate: number;
  failed: number;
  blocked: number;
  /** Quanta whose task returned `noWork()`. Counted among `ran` too. */
  noWork: number;
}

export interface StatusCounts {
  willRun: number;
  mayRun: number;
  upToDate: number;
  /** Quanta that would fail (a required input is missing) and those downstream of them. */
  blocked: number;
}

export interface TaskCounts extends RunCounts {
  task: string;
  total: number;
  /** Sum of the durations of the quanta that ran, in ms. */
  durationMs: number;
}

export interface QuantumRef {
  /** Quantum id in the graph. */
  quantum: number;
  task: string;
  /** Canonical data ID. */
  dataId: string;
}

interface Stamp {
  v: typeof EVENTS_VERSION;
  time: number;
}

/**
 * Every event, by its `event` field. In a run, the order is: `ingest-finished` (`run` only),
 * `graph-built`, `run-started`, then per quantum either `quantum-up-to-date`, or `quantum-started`
 * followed by `quantum-finished` / `quantum-retrying` (then `quantum-started` again) / `quantum-failed`,
 * or `quantum-blocked`; `task-finished` once all of a task's quanta are settled (after the last one's
 * event, so its counts include every quantum reported before it); `run-finished` last.
 * `quanta status` ends with `status`; watch mode adds `watch-*` events between runs.
 */
export type QuantaEvent =
  /** The inputs were (re)registered: how many files were new, changed, unchanged, gone, unreadable. */
  | (Stamp & { event: "ingest-finished"; added: number; changed: number; unchanged: number; removed: number; errors: number })
  /** The quantum graph was built: its size, the time it took, and the quanta per task in pipeline order. */
  | (Stamp & { event: "graph-built"; pipeline: string; quanta: number; datasets: number; durationMs: number; tasks: { task: string; quanta: number }[] })
  /** Planning dropped something without failing (plan-warning.ts): `message` is the warning as text. */
  | (Stamp & { event: "plan-warning"; warning: PlanWarning; message: string })
  /** Execution begins: where outputs go, how, on how many workers, and every task's quanta in pipeline order. */
  | (Stamp & {
      event: "run-started";
      pipeline: string;
      collection: string;
      executor: "in-process" | "pool" | "slurm";
      workers: number;
      tasks: { task: string; total: number }[];
    })
  /** A quantum began running; `attempt` counts from 1 (retries start it again with the next number). */
  | (Stamp & QuantumRef & { event: "quantum-started"; attempt: number })
  /** A quantum ran and its outputs are committed; `noWork` when its task returned `noWork()`. */
  | (Stamp & QuantumRef & { event: "quantum-finished"; durationMs: number; noWork: boolean; peakRssBytes?: number })
  /** A quantum did not need to run: its key is in the action cache and its outputs exist (rebound). */
  | (Stamp & QuantumRef & { event: "quantum-up-to-date" })
  /**
   * A quantum failed for good (after its last attempt): the error's message and the last lines of its
   * captured log (`quanta log` prints all of it). It may come without a `quantum-started`, when the
   * quantum could not even be started.
   */
  | (Stamp & QuantumRef & { event: "quantum-failed"; attempt: number; error: string; logTail: string[]; durationMs: number })
  /** A quantum failed and will be tried again: `attempt` is the attempt about to start, `error` the last one's. */
  | (Stamp & QuantumRef & { event: "quantum-retrying"; attempt: number; error: string })
  /** A quantum will not run because a quantum it depends on (`blockedBy`) failed. */
  | (Stamp & QuantumRef & { event: "quantum-blocked"; blockedBy: QuantumRef })
  /** Every quantum of a task is settled (ran, up to date, failed or blocked): the task's counts. */
  | (Stamp & { event: "task-finished"; counts: TaskCounts })
  /** The last event of a run: the totals, per task in pipeline order, the slowest quanta, the exit code. */
  | (Stamp & {
      event: "run-finished";
      pipeline: string;
      collection: string;
      counts: RunCounts;
      durationMs: number;
      tasks: TaskCounts[];
      /** The slowest quanta that ran, slowest first (a few at most). */
      slowest: (QuantumRef & { durationMs: number })[];
      exitCode: number;
      /**
       * Only in a run ended by Ctrl-C or SIGTERM (exit code 130): the signal, the quanta it stopped while
       * they ran (not recorded: the next run starts them again), and how many never started.
       */
      interrupted?: { signal: string; stopped: QuantumRef[]; notStarted: number };
      /** Candidate quanta the plan dropped (a `multiple` input short of its `minimum`), when any. */
      dropped?: number;
    })
  /** The last event of `quanta status`: how many quanta will run, may run, are up to date, are blocked, in total and per task. */
  | (Stamp & {
      event: "status";
      pipeline: string;
      collection: string;
      counts: StatusCounts;
      tasks: ({ task: string; total: number } & StatusCounts)[];
    })
  /** Watch mode is idle, watching this many paths. */
  | (Stamp & { event: "watch-waiting"; paths: number })
  /** Watch mode saw these paths change (after debouncing); a run follows. */
  | (Stamp & { event: "watch-changed"; paths: string[] })
  /** Watch mode could not load the changed pipeline (or another error): it keeps watching. */
  | (Stamp & { event: "watch-error"; message: string });

export type QuantaEventName = QuantaEvent["event"];

/** Something that listens to events: the ink view, plain lines, JSON lines, or a test recorder. */
export interface Reporter {
  onEvent(event: QuantaEvent): void;
  /** Flushes and tears down (the live view leaves its final summary on screen). */
  close(): Promise<void>;
}

type Unstamped<E> = E extends QuantaEvent ? Omit<E, "v" | "time"> : never;
export type EventBody = Unstamped<QuantaEvent>;

/** Stamps an event body with the version and the given time. */
export function stampEvent(body: EventBody, time: number): QuantaEvent {
  return { v: EVENTS_VERSION, time, ...body } as QuantaEvent;
}
