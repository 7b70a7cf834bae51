/**
 * The event stream: the engine and the graph builder emit these; reporters (live view, plain lines,
 * JSON lines) only listen. `--json` prints each event as one line, so this union is a public,
 * versioned interface: add fields and events freely, never rename or remove them without bumping
 * `EVENTS_VERSION`. Every event carries `v` (the version) and `time` (ms since the epoch).
 */
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

export type QuantaEvent =
  | (Stamp & { event: "ingest-finished"; added: number; changed: number; unchanged: number; removed: number; errors: number })
  | (Stamp & { event: "graph-built"; pipeline: string; quanta: number; datasets: number; durationMs: number; tasks: { task: string; quanta: number }[] })
  | (Stamp & {
      event: "run-started";
      pipeline: string;
      collection: string;
      executor: "in-process" | "pool" | "slurm";
      workers: number;
      tasks: { task: string; total: number }[];
    })
  | (Stamp & QuantumRef & { event: "quantum-started"; attempt: number })
  | (Stamp & QuantumRef & { event: "quantum-finished"; durationMs: number; noWork: boolean; peakRssBytes?: number })
  | (Stamp & QuantumRef & { event: "quantum-up-to-date" })
  | (Stamp & QuantumRef & { event: "quantum-failed"; attempt: number; error: string; logTail: string[]; durationMs: number })
  | (Stamp & QuantumRef & { event: "quantum-retrying"; attempt: number; error: string })
  | (Stamp & QuantumRef & { event: "quantum-blocked"; blockedBy: QuantumRef })
  | (Stamp & { event: "task-finished"; counts: TaskCounts })
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
    })
  | (Stamp & {
      event: "status";
      pipeline: string;
      collection: string;
      counts: StatusCounts;
      tasks: ({ task: string; total: number } & StatusCounts)[];
    })
  | (Stamp & { event: "watch-waiting"; paths: number })
  | (Stamp & { event: "watch-changed"; paths: string[] })
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
