/**
 * What an executor is handed to run one quantum, and what it hands back. Both are plain data (they
 * cross worker-thread boundaries by structured clone, and would cross a Slurm job boundary as files).
 * Inputs are blob paths, or the bytes themselves for blobs kept in the registry (at most 4 KiB). The job
 * writes its outputs into the blob store itself (the executor keeps a worker thread's small outputs in
 * the registry) and hands back digests only, so bytes never travel back through the scheduler.
 */
import type { DataId } from "../core/data-id.js";
import type { BlobDigest, QuantumKey } from "../core/digest.js";
import { RepositoryError } from "../core/errors.js";
import type { TaskNode } from "../core/pipeline.js";
import type { StorageClass } from "../core/storage-class.js";
import type { ClusterFlags } from "../core/cluster-plan.js";
import type { KeyManifest } from "../core/quantum-key.js";

export interface JobInputItem {
  dataId: DataId;
  digest: BlobDigest;
  /** Absolute path of the input's blob file (read-only); unset when `bytes` is given. */
  path?: string;
  /** The bytes of a blob kept in the registry. */
  bytes?: Uint8Array;
  /** For ingested files: the extension of the file it came from (`.c`), so a sandbox can keep it. */
  extension?: string;
  /** Written by an `executable` output: a command gets it as an executable file. */
  executable?: boolean;
  /**
   * A raw file ingested by reference (`path` is the user's file, not a blob): its stat when it was
   * hashed. A reader that does not hash it compares this first (store/referenced-inputs.ts), and a
   * changed file fails the quantum, naming it; it is never set aside as a corrupt blob.
   */
  reference?: { size: number; mtimeMs: number; ctimeMs?: number; ino?: number; dev?: number };
}

export interface QuantumJob {
  /** Quantum id in the graph. */
  quantum: number;
  /** The quantum's key: what an executor whose work outlives the process files it under (re-attach). */
  key: QuantumKey;
  task: TaskNode;
  dataId: DataId;
  inputs: Record<string, { storage: StorageClass; multiple: boolean; items: JobInputItem[] }>;
  /** The repository directory (blobs under `blobs/`, scratch under `tmp/`). */
  repoRoot: string;
  attempt: number;
}

/**
 * A quantum handed over ahead of its turn, to run in the same batch job after the quanta whose outputs
 * it reads (a cluster's chain, depth first). The job fills in those inputs (`holes`: their digests in
 * `job.inputs` and in `manifest`), computes the key, and runs it, unless that key is `previous`'s:
 * then it takes `previous`'s outputs, as the scheduler would. The scheduler still decides the quantum
 * itself once its inputs are known, and the executor hands back the job's result only when the keys
 * agree; otherwise the quantum runs on its own.
 */
export interface FollowOnJob {
  /** Its key is empty, and the items at `holes` have an empty digest and no path, until the job fills them. */
  job: QuantumJob;
  manifest: KeyManifest;
  holes: { connection: string; item: number; manifestIndex: number; quantum: number; output: string }[];
  /** How many of the quanta it was handed over with run before it (a chain runs depth first). */
  afterHeads: number;
  /** Its last successful result in the collection; the paths are filled in by the executor. */
  previous?: { key: QuantumKey; outputs: Record<string, OutputBlob & { path?: string }> };
}

/** An output as an outcome names it: its digest and size. Where its bytes live is the store's business. */
export interface OutputBlob {
  digest: BlobDigest;
  size: number;
}

export type QuantumOutcome =
  | {
      ok: true;
      outputs: Record<string, OutputBlob>;
      noWork: boolean;
      log: string;
      startedAt: number;
      finishedAt: number;
      /** See `ExecutionRecord.peakRssBytes`; unset when not measured. */
      peakRssBytes?: number;
      /** The host it ran on, when not this process's (a Slurm job's). */
      host?: string;
      /** The batch job it ran in (a Slurm array element, `JOB_ELEMENT`), when it ran in one. */
      jobId?: string;
      /**
       * The outputs were written without a sync of the file system: the commit that records them syncs
       * it first (a blob must be durable before a record names it).
       */
      unsynced?: true;
      /**
       * Per discovered input connection, the canonical data IDs of the datasets the command's depfile
       * named (core/discovered-inputs.ts); unset for tasks without a depfile.
       */
      discovered?: Record<string, string[]>;
    }
  | {
      ok: false;
      error: string;
      log: string;
      /** Inputs whose blob no longer holds the bytes of its digest: the scheduler sets them aside. */
      corrupt?: BlobDigest[];
      /**
       * A repository problem the job met, not the quantum's (a blob or sandbox file that could not be
       * written: a full disk): the run stops with it as a RepositoryError (exit 3), and the quantum is
       * not recorded, so the same command runs it again once the problem is fixed.
       */
      repositoryError?: { message: string; hint?: string };
      /**
       * Raw files read by reference (their paths) that changed after they were ingested, before or
       * while the quantum read them: neither the quantum's failure nor the repository's, and the next
       * run's ingest hashes them again. A watch's pass leaves the quantum to the next pass
       * (RunOptions.supersede in engine.ts); any other run fails it, with no retry (it would read the
       * same files).
       */
      inputChanged?: string[];
      /** Cancelled (`QuantumExecutor.cancel` or `stop`) before it could end by itself. */
      cancelled?: true;
      startedAt: number;
      finishedAt: number;
      peakRssBytes?: number;
      host?: string;
      jobId?: string;
    };

/**
 * Where an executor reports what becomes of the quanta it was handed. Either call may come before
 * `submit` returns (a quantum run to its end at once: no promise per quantum), or much later, from
 * another process's work (a batch job).
 */
export interface OutcomeSink {
  /**
   * The quantum began to run (it had a slot); before its outcome, at most once per attempt. `jobId`:
   * the batch job it runs in (a Slurm array element), when it runs in one.
   */
  started(quantum: number, where?: { jobId?: string }): void;
  /** The quantum ended: exactly once per quantum handed over (or adopted), whatever happened. */
  finished(quantum: number, outcome: QuantumOutcome): void;
}

/**
 * How quanta run: the only thing that differs between executors. Work is handed over and its outcome
 * comes back later through a sink, so an executor may run it in this thread, in worker threads, in
 * child processes, or on other hosts; an outcome carries digests and records only.
 */
export interface QuantumExecutor {
  readonly kind: "in-process" | "pool" | "slurm";
  /** How many quanta may run at once. */
  readonly slots: number;
  /**
   * How many quanta more than `slots` it takes in advance (none when unset): they are prepared (a
   * command's sandbox filled) and wait for a slot, so that one starts the moment another ends.
   */
  readonly queued?: number;
  /**
   * Set by an executor that runs clusters of quanta in one batch job (Slurm): the command line's
   * clustering (it replaces the pipeline file's `clusters:`). The scheduler then hands over the quanta
   * of a cluster ready together in one `submit`, with the quanta that can follow them in the same job.
   */
  readonly clustering?: ClusterFlags;
  /**
   * With `clustering`: whether the quantum of `task` with canonical data ID `dataId` already follows
   * others in a job handed over earlier (in this session, or by a head that died). The scheduler then
   * hands it over alone, and never packs it to follow in another job.
   */
  isFollowing?(task: string, dataId: string): boolean;
  /** The scheduler's walk ended: work handed over ahead of its turn that no quantum took is let go. */
  runEnded?(): void;
  /**
   * Hands over work: one quantum, or several that run together (a cluster: one batch job), whose
   * outcomes each reach `sink`; `followOns` may run after them in the same job (executors without
   * `clustering` get none).
   */
  submit(jobs: readonly QuantumJob[], sink: OutcomeSink, followOns?: readonly FollowOnJob[]): void;
  /**
   * Cancels quanta handed over: one that has not started never starts; a running command's process
   * group is killed (other work may be let finish). Each still ends through its sink, as a failure
   * marked `cancelled` unless it finished first. The scheduler records no cancelled quantum and retries
   * none: one its run stopped is counted as stopped (an interrupt); any other is reported as failed
   * ("cancelled"), its descendants blocked, and the next run starts it again.
   */
  cancel(quanta: readonly number[]): void;
  /** Cancels everything it was handed (an interrupt, or a repository error). */
  stop(): void;
  /**
   * Work an earlier process handed to this executor and that may still be running elsewhere (a batch
   * job outlives the process that submitted it), by quantum key. Local executors have none: their
   * work ends with their process.
   */
  unfinished(): ReadonlySet<QuantumKey>;
  /**
   * Takes up earlier work of key `job.key` (one of `unfinished()`) for this run's quantum `job.quantum`
   * instead of starting it again: its outcome reaches `sink` when it ends.
   */
  adopt(job: QuantumJob, sink: OutcomeSink): void;
  /** Earlier work no quantum of this run adopted (its inputs changed since): cancelled. */
  abandon(keys: Iterable<QuantumKey>): void;
  close(): Promise<void>;
}

/** The outcome of a quantum whose executor threw instead of reporting (a repository error is the run's). */
export function crashedOutcome(err: unknown): QuantumOutcome {
  const now = Date.now();
  const error = err instanceof Error ? err.message : String(err);
  const repositoryError = err instanceof RepositoryError ? { message: err.message, hint: err.hint } : undefined;
  return { ok: false, error, log: String(err), startedAt: now, finishedAt: now, repositoryError };
}

/** The outcome of a quantum cancelled before it ended by itself. */
export function cancelledOutcome(error: string): QuantumOutcome {
  const now = Date.now();
  return { ok: false, error, log: "", startedAt: now, finishedAt: now, cancelled: true };
}

/**
 * Hands `run`'s outcome to the sink: at once when it ran to its end synchronously, else when it
 * settles; a throw or a rejection becomes a failed outcome (`crashedOutcome`).
 */
export function deliver(quantum: number, run: () => QuantumOutcome | PromiseLike<QuantumOutcome>, sink: OutcomeSink): void {
  let outcome: QuantumOutcome | PromiseLike<QuantumOutcome>;
  try {
    outcome = run();
  } catch (err) {
    sink.finished(quantum, crashedOutcome(err));
    return;
  }
  if (isThenable(outcome)) outcome.then((o) => sink.finished(quantum, o), (err: unknown) => sink.finished(quantum, crashedOutcome(err)));
  else sink.finished(quantum, outcome);
}

/** What the executors whose work ends with their process answer about earlier work: there is none. */
export const NO_EARLIER_WORK: ReadonlySet<QuantumKey> = new Set();

/**
 * Whether a value that may be a promise is one (any thenable: a task's `run`, or an executor, may
 * hand back a promise of another realm or library). Values are taken as they are.
 */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
