/**
 * The event stream: the engine and the graph builder emit these; reporters (live view, plain lines,
 * JSON lines) only listen. `--json` prints each event as one line, so this union is a public,
 * versioned interface: add fields and events freely, never rename or remove them without bumping
 * `EVENTS_VERSION`. Every event carries `v` (the version) and `time` (ms since the epoch).
 */
import type { SlurmEstimate } from "./slurm-estimate.js";
import type { BlobDigest, CodeDigest, QuantumKey } from "./digest.js";
import type { QuantumStatus } from "./dry-run.js";
import type { Reason } from "./explain.js";
import type { PlanWarning } from "./plan-warning.js";
import type { KeyInput } from "./quantum-key.js";

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
  /**
   * The first start and the last end (ms since the epoch) of the task's quanta that ran or failed in
   * this run; absent when none did. `finishedAt - startedAt` is the task's wall time.
   */
  startedAt?: number;
  finishedAt?: number;
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
 * Every line any command prints under `--json`, by its `event` field.
 *
 * In a run (`run`, `exec`), the order is: `ingest-problem`s then `ingest-finished` (`run` only),
 * `plan-warning`s, `graph-built`, `run-started`, then per quantum either `quantum-up-to-date`, or
 * `quantum-started` followed by `quantum-finished` / `quantum-retrying` (then `quantum-started` again)
 * / `quantum-failed`, or `quantum-blocked`; `task-finished` once all of a task's quanta are settled,
 * after the last one's event; `run-finished` last. Two quantum events may come without a
 * `quantum-started`: a `quantum-failed` of a quantum that could not start (an input missing), and a
 * `quantum-finished` with `noWork` and `durationMs` 0 of a quantum with nothing to do (an upstream
 * quantum produced none of its inputs). A run answered by the run stamp reports each task's quanta at
 * once with `task-up-to-date` instead of per quantum, and a watch's pass so reports the quanta its
 * changes could not reach. In an interrupted run, the quanta it stopped have a
 * `quantum-started` and no later event, and a task with such quanta has no `task-finished`.
 *
 * Sums: per task, `ran` is the number of `quantum-finished` (`noWork` those with `noWork`), `upToDate`
 * the number of `quantum-up-to-date` plus the `quanta` of `task-up-to-date`, `failed` of
 * `quantum-failed`, `blocked` of `quantum-blocked` (core/run-tally.ts counts them, for the engine and
 * the reporters alike); `run-finished`'s `counts` are the sums over its `tasks`.
 *
 * The other commands print: `status` (after `ingest-finished`, `plan-warning`s, `graph-built`), `why`,
 * `graph` (`plan-warning`s, `graph-built`), `ingest` (`ingest-problem`s, `ingest-finished`), `gc`
 * (`gc-finished`), `verify` (`blob-problem`s, `verify-finished`, `verify-repaired`), `datasets`
 * (`dataset`s), `log` (`execution`), `provenance` (`provenance`), `show` (`show`); watch mode adds
 * `watch-*` events between runs.
 */
export type QuantaEvent = RunEvent | CommandEvent;

/** The events of a run (and of `status`, which shares its beginning). */
export type RunEvent =
  /** A file that ingest skipped (did not fit a template, unreadable, a duplicate data ID): a warning. */
  | (Stamp & { event: "ingest-problem" } & IngestProblem)
  /**
   * The inputs were (re)registered: how many files were new, changed, unchanged, gone, and how many
   * problems (`errors`, one `ingest-problem` each), with the details of the walk.
   */
  | (Stamp & { event: "ingest-finished" } & IngestSummary)
  /** The quantum graph was built: its size, the time it took, and the quanta per task in pipeline order. */
  | (Stamp & { event: "graph-built"; pipeline: string; quanta: number; datasets: number; durationMs: number; tasks: { task: string; quanta: number }[] })
  /** Planning dropped something without failing (plan-warning.ts): `message` is the warning as text. */
  | (Stamp & { event: "plan-warning"; warning: PlanWarning; message: string })
  /** Execution begins: where outputs go, how, on how many workers, and every task's quanta in pipeline order. */
  | (Stamp & {
      event: "run-started";
      pipeline: string;
      collection: string;
      /** The repository's directory (absolute). */
      repository?: string;
      executor: "in-process" | "pool" | "slurm";
      workers: number;
      tasks: { task: string; total: number }[];
    })
  /**
   * A quantum began running; `attempt` counts from 1 (retries start it again with the next number).
   * `jobId`: with `--executor slurm`, the Slurm job it runs in (the array element, `JOB_ELEMENT`).
   */
  | (Stamp & QuantumRef & { event: "quantum-started"; attempt: number; jobId?: string })
  /**
   * A quantum ran and its outputs are committed; `noWork` when its task returned `noWork()`. `startedAt`
   * (ms since the epoch) is when its last attempt started, absent when it did not start. `jobId`: the
   * Slurm job it ran in, as for `quantum-started`.
   */
  | (Stamp & QuantumRef & { event: "quantum-finished"; durationMs: number; noWork: boolean; peakRssBytes?: number; startedAt?: number; jobId?: string })
  /** A quantum did not need to run: its key is in the action cache and its outputs exist (rebound). */
  | (Stamp & QuantumRef & { event: "quantum-up-to-date" })
  /**
   * `quanta` quanta of a task are up to date, reported at once without a look at each: every quantum
   * of the task in a run answered by the run stamp (app/stamps.ts); in a watch's pass, the ones its
   * changes could not reach (engine.ts, `since`), after the walk.
   */
  | (Stamp & { event: "task-up-to-date"; task: string; quanta: number })
  /**
   * A quantum failed for good (after its last attempt): the error's message and the last lines of its
   * captured log (`quanta log` prints all of it). It may come without a `quantum-started`, when the
   * quantum could not even be started (and then without `startedAt`). `jobId`: the Slurm job it ran
   * (or was to run) in, as for `quantum-started`.
   */
  | (Stamp & QuantumRef & { event: "quantum-failed"; attempt: number; error: string; logTail: string[]; durationMs: number; startedAt?: number; jobId?: string })
  /** A quantum failed and will be tried again: `attempt` is the attempt about to start, `error` the last one's. */
  | (Stamp & QuantumRef & { event: "quantum-retrying"; attempt: number; error: string })
  /** A quantum will not run because a quantum it depends on (`blockedBy`) failed. */
  | (Stamp & QuantumRef & { event: "quantum-blocked"; blockedBy: QuantumRef })
  /**
   * `--executor slurm` submitted an array job: its id, the task of its elements' first quanta, its jobs
   * (array elements), their quanta, the `sbatch` calls it took; per task, how many of its quanta the
   * array job holds (`tasks`) and their ids (`quantumIds`), the quanta handed over and those that
   * follow them in their elements alike.
   */
  | (Stamp & {
      event: "slurm-submitted";
      jobId: string;
      task: string;
      jobs: number;
      quanta: number;
      sbatchCalls: number;
      tasks: Record<string, number>;
      quantumIds: Record<string, number[]>;
    })
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
      /**
       * Quanta of an earlier run that no longer exist (an input they read was deleted), removed from the
       * collection with their outputs (their blobs stay until `gc`), when any.
       */
      removed?: number;
      /**
       * Quanta a watch's pass left to the next because an input of theirs changed again while it ran
       * (cancelled while running, or never started; not recorded), when any.
       */
      superseded?: number;
      /** Only with `--executor slurm`: the `sbatch` calls the run made (retries included) and the jobs (array elements) they submitted. */
      slurm?: { sbatchCalls: number; jobs: number };
    })
  /** The last event of `quanta status`: how many quanta will run, may run, are up to date, are blocked, in total and per task. */
  | (Stamp & {
      event: "status";
      pipeline: string;
      collection: string;
      /** The repository's directory (absolute). */
      repository?: string;
      counts: StatusCounts;
      tasks: ({ task: string; total: number } & StatusCounts)[];
      /** With `--executor slurm`: what would be submitted for the quanta that will or may run (core/slurm-estimate.ts). */
      slurm?: SlurmEstimate;
    })
  /** Watch mode is idle, watching this many paths. */
  | (Stamp & {
      event: "watch-waiting";
      paths: number;
      /** The change the last pass read: its paths (a few at most) and when it was seen. */
      lastChange?: { paths: string[]; more: number; time: number };
      /** Why the last pass ran what it ran: `task@dataId: reason; reason` for its first few quanta. */
      why?: string[];
    })
  /** Watch mode saw these paths change (after debouncing); a run follows. */
  | (Stamp & { event: "watch-changed"; paths: string[]; changes: { path: string; kind: "added" | "changed" | "removed" }[] })
  /** Watch mode could not load the changed pipeline (or another error): it keeps watching. */
  | (Stamp & { event: "watch-error"; message: string });

/** The lines of the commands that do not run a graph. */
export type CommandEvent =
  /** `quanta why`: the verdict on one quantum, then the same for each upstream quantum it waits on. */
  | (Stamp & { event: "why" } & QuantumVerdictView & { upstream: QuantumVerdictView[] })
  /** `quanta gc`: what was deleted and what is kept. */
  | (Stamp & { event: "gc-finished"; dryRun: boolean; blobsDeleted: number; blobsKept: number; tempFilesDeleted: number; bytesFreed: number; bytesKept: number; cacheEntriesDeleted: number; cacheEntriesKept: number; executionsDeleted: number })
  /** `quanta verify`: a blob that is missing or whose bytes no longer hash to its name. */
  | (Stamp & {
      event: "blob-problem";
      digest: BlobDigest;
      /** `changed`: a raw file ingested by reference no longer holds the digest. */
      status: "missing" | "corrupt" | "changed";
      /** With `path` a raw file ingested by reference rather than a blob. */
      raw?: true;
      /** The blob's path, or `registry` for a blob kept in the registry. */
      path: string;
      /** `collection/type@dataId` of every dataset whose bytes are this blob. */
      referencedBy: string[];
    })
  /** `quanta verify`: blobs and bytes checked, and how many were missing or corrupt (one `blob-problem` each). */
  | (Stamp & { event: "verify-finished"; blobs: number; references: number; bytes: number; missing: number; corrupt: number; changed: number })
  /** `quanta verify --repair`: corrupt blobs set aside, cached results and quantum records dropped. */
  | (Stamp & { event: "verify-repaired"; quarantined: number; actionsDropped: number; quantaDropped: number })
  /** `quanta datasets`: one dataset, with its data ID as an object. */
  | (Stamp & { event: "dataset"; type: string; dataId: Record<string, number | string>; digest: string; size: number; collection: string })
  /** `quanta log`: the record of a quantum's latest execution, with its whole log. */
  | (Stamp & { event: "execution" } & ExecutionView)
  /** `quanta provenance`: the lineage of a dataset, as a tree. */
  | (Stamp & { event: "provenance" } & LineageNode)
  /** `quanta show … --json`: what the text form shows (the resolved pipeline, tasks, config sources or dimensions). */
  | (Stamp & { event: "show"; what: "pipeline" | "config" | "tasks" | "dimensions"; task?: string; value: unknown });

/** A file ingest skipped, and why. */
export interface IngestProblem {
  /** The file concerned (absolute path). */
  file: string;
  /** 1-based line, for relation files. */
  line?: number;
  message: string;
}

export interface IngestCounts {
  added: number;
  changed: number;
  unchanged: number;
  removed: number;
}

/** What `ingest-finished` says: the counts, and the details of the walk. */
export interface IngestSummary extends IngestCounts {
  /** How many `ingest-problem`s came before. */
  errors: number;
  /** The input collection written. */
  collection: string;
  byType: Record<string, IngestCounts>;
  relations: { name: string; rows: number; status: "added" | "changed" | "unchanged" | "failed" }[];
  /** Regular files found under the template roots. */
  filesSeen: number;
  /** Files whose contents were read (new, changed or racy). */
  filesHashed: number;
  bytesHashed: number;
  durationMs: number;
}

/** A quantum's verdict for `quanta why`: `quantum` is its name, `task@dataId`. */
export interface QuantumVerdictView {
  quantum: string;
  status: QuantumStatus;
  reasons: Reason[];
}

/** One execution of a quantum, as `quanta log --json` prints it (the registry's execution record). */
export interface ExecutionView {
  id: string;
  collection: string;
  task: string;
  dataId: string;
  key: QuantumKey;
  status: "succeeded" | "failed" | "no-work";
  attempt: number;
  error?: string;
  log: string;
  inputs: KeyInput[];
  outputs: { connection: string; type: string; dataId: string; digest: BlobDigest; size: number }[];
  config: unknown;
  codeDigest: CodeDigest;
  packages: Record<string, string>;
  host: string;
  startedAt: number;
  finishedAt: number;
  durationMs: number;
  peakRssBytes?: number;
  reasons?: Reason[];
}

/** A dataset in a lineage tree: the quantum that made it and its inputs, or the file it was ingested from. */
export interface LineageNode {
  dataset: string;
  digest: string;
  source?: string;
  quantum?: { task: string; dataId: string; key: string; codeDigest: string; config: unknown; host?: string; startedAt?: number; durationMs?: number };
  inputs?: LineageNode[];
  /** Its lineage was shown earlier in the tree. */
  seen?: boolean;
  /** The digest the collection holds now, when it is not the one read. */
  replacedBy?: string;
}

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
