/**
 * What an executor is handed to run one quantum, and what it hands back. Both are plain data (they
 * cross worker-thread boundaries by structured clone, and would cross a Slurm job boundary as files).
 * Inputs are blob paths, or the bytes themselves for blobs kept in the registry (at most 4 KiB). The job
 * writes large outputs into the blob store itself and returns digests; small outputs come back as bytes
 * (from a worker thread, which has no registry) or already staged in the registry (in the scheduler's
 * thread), so large bytes never travel back through the scheduler.
 */
import type { DataId } from "../core/data-id.js";
import type { BlobDigest } from "../core/digest.js";
import type { TaskNode } from "../core/pipeline.js";
import type { StorageClass } from "../core/storage-class.js";

export interface JobInputItem {
  dataId: DataId;
  digest: BlobDigest;
  /** Absolute path of the input's blob file (read-only); unset when `bytes` is given. */
  path?: string;
  /** The bytes of a blob kept in the registry. */
  bytes?: Uint8Array;
  /** For ingested files: the extension of the file it came from (`.c`), so a sandbox can keep it. */
  extension?: string;
}

export interface QuantumJob {
  /** Quantum id in the graph. */
  quantum: number;
  task: TaskNode;
  dataId: DataId;
  inputs: Record<string, { storage: StorageClass; multiple: boolean; items: JobInputItem[] }>;
  /** The repository directory (blobs under `blobs/`, scratch under `tmp/`). */
  repoRoot: string;
  attempt: number;
}

export interface OutputBlob {
  digest: BlobDigest;
  size: number;
  /** A small output not stored yet (from a worker thread): the scheduler stages it in the registry. */
  bytes?: Uint8Array;
  /** Kept as a blob file, not in the registry: the commit of its record syncs the file system first. */
  file?: true;
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
      startedAt: number;
      finishedAt: number;
      peakRssBytes?: number;
    };

/** How quanta are started: the only thing that differs between executors. */
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
   * Runs the quantum: its outcome itself when it ran to its end at once (a synchronous task in process:
   * no promise and no turn of the microtask queue per quantum), else a promise of it. `started` is
   * called when the quantum starts running (at once, unless it waits for a slot).
   */
  execute(job: QuantumJob, started: () => void): QuantumOutcome | Promise<QuantumOutcome>;
  /**
   * Stops every quantum it runs or holds in advance (an interrupt): commands' process groups are
   * killed, worker threads terminated, and each of those quanta then ends as a failure.
   */
  stop(): void;
  close(): Promise<void>;
}

/**
 * Whether a value that may be a promise is one (any thenable: a task's `run`, or an executor, may
 * hand back a promise of another realm or library). Values are taken as they are.
 */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
