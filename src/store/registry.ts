/**
 * The registry: what the repository knows, apart from the bytes (those are in the blob store).
 * `LmdbRegistry` (lmdb-registry.ts) is the implementation; this interface is what the rest uses.
 *
 * Keys use canonical data IDs (`encodeDataId`). Collections: ingest writes the `raw` collection; each run
 * writes one output collection (default: the pipeline's name). The action cache (`getAction`/`putAction`)
 * is keyed by quantum key alone and shared by all collections.
 *
 * Writes: `commit(fn)` runs `fn` and commits what it wrote in one write transaction: everything becomes
 * visible and durable together, or not at all (a throw from `fn` writes nothing). Reads inside `fn` see
 * what was committed before it, not its own writes. Plain `put*` calls outside `commit` are single-put
 * transactions.
 */
import type { DataId } from "../core/data-id.js";
import type { BlobDigest, CodeDigest, QuantumKey } from "../core/digest.js";
import type { DimensionUniverse } from "../core/dimensions.js";
import type { StorageClass } from "../core/storage-class.js";
import type { Reason } from "../core/explain.js";
import type { KeyInput, KeyManifest } from "../core/quantum-key.js";

export interface DatasetTypeRecord {
  name: string;
  dimensions: string[];
  storage: StorageClass;
  /** Written by an `executable` output (a program): `quanta export` makes its files executable. */
  executable?: boolean;
  /** Written by a `temp` output: a blob of its missing was dropped on purpose (app/drop-temp-outputs.ts). */
  temp?: boolean;
}

export interface DatasetRecord {
  digest: BlobDigest;
  size: number;
  storage: StorageClass;
  /** The quantum key of the execution that produced it; null for ingested datasets. */
  producer: QuantumKey | null;
  /** Ingested datasets: the source file it was read from. */
  sourcePath?: string;
}

export interface DatasetEntry {
  collection: string;
  type: string;
  dataId: DataId;
  /** encodeDataId(dataId) */
  key: string;
  record: DatasetRecord;
}

/**
 * What ingest remembers about a source file, to skip re-hashing it when unchanged. A file ingested by
 * reference (`transfer: reference`: its bytes stay in the file, none in the blob store) also keeps its
 * ctime, inode and device: a reader that does not hash the bytes trusts them to be the digest's only
 * while the file's stat still gives all of them (store/referenced-inputs.ts). A copied or linked file
 * and a relation file keep their inode (app/ingest-decisions.ts `isSameFile`; absent in states written
 * before it was kept).
 */
export interface FileState {
  size: number;
  /** -1 for a file ingested within the file system's timestamp granularity (racy: hashed again). */
  mtimeMs: number;
  digest: BlobDigest;
  /** How the repository holds the bytes; absent: a copy in the blob store (files ingested before `transfer:`, relations). */
  transfer?: "reference" | "link" | "copy";
  ctimeMs?: number;
  ino?: number;
  dev?: number;
  /**
   * Held by reference: the path relative to the repository directory, where a reader looks when
   * nothing is at the path any more (a project folder moved together with its repository).
   */
  relPath?: string;
}

export interface RelationRecord {
  name: string;
  dimensions: string[];
  rows: DataId[];
  /** Digest of the relation file the rows came from. */
  digest: BlobDigest;
}

export type { KeyInput, KeyManifest } from "../core/quantum-key.js";

/** The action cache entry: what one quantum key produced (shared by all collections). */
export interface ActionRecord {
  key: QuantumKey;
  manifest: KeyManifest;
  /** Per output connection. Empty when the task returned noWork(). */
  outputs: Record<string, { type: string; digest: BlobDigest; size: number }>;
  noWork: boolean;
  /** The execution that first produced it. */
  executionId: string;
}

/** The latest state of one quantum (task at data ID) in one collection. */
export interface QuantumRecord {
  status: "succeeded" | "failed" | "no-work";
  key: QuantumKey;
  executionId: string;
  /** Wall time of the latest decision, ms since the epoch. */
  time: number;
  /**
   * The outputs bound for it (as in the action record of `key`), so that a no-op run decides from this
   * record alone. Absent on failures.
   */
  outputs?: Record<string, { type: string; digest: BlobDigest; size: number }>;
  /**
   * The pipeline whose run recorded it: a run of that whole pipeline removes its quanta that no longer
   * exist (engine.ts), and no other pipeline's writing to the same collection. Absent in records of
   * older versions, which are never removed.
   */
  pipeline?: string;
}

/** Provenance of one execution (one attempt at running one quantum). */
export interface ExecutionRecord {
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
  /**
   * Peak memory of the quantum itself, in bytes; unset when not measured. A command's: the peak resident
   * set of its shell and the descendants the shell waited for (the largest one, not their sum), from
   * the quanta-spawn helper (commands started by Node's spawn are not measured). A TypeScript task's:
   * its worker thread's V8 heap and ArrayBuffers when the quantum ended.
   */
  peakRssBytes?: number;
  /** Why it ran (what changed since the previous run of the same quantum). */
  reasons?: Reason[];
}

export interface Registry {
  /** The repository directory. */
  readonly root: string;
  close(): Promise<void>;

  /** Runs `fn` and commits its writes in one all-or-nothing transaction; resolves once it is durable. */
  commit(fn: () => void): Promise<void>;
  /** Waits for every write issued so far to be durable. */
  flush(): Promise<void>;

  /**
   * Records dimension types (merged with those already known; ingest refuses a dimension whose type
   * differs from the recorded one). Lets readers such as `quanta get` parse data IDs without a pipeline.
   */
  putDimensions(universe: DimensionUniverse): void;
  /** Every dimension recorded so far, with its type. */
  getDimensions(): DimensionUniverse;

  putDatasetType(rec: DatasetTypeRecord): void;
  getDatasetType(name: string): DatasetTypeRecord | undefined;
  listDatasetTypes(): DatasetTypeRecord[];

  putRelation(rec: RelationRecord): void;
  getRelation(name: string): RelationRecord | undefined;
  deleteRelation(name: string): void;
  listRelations(): RelationRecord[];

  putDataset(collection: string, type: string, dataId: DataId, rec: DatasetRecord): void;
  getDataset(collection: string, type: string, key: string): DatasetRecord | undefined;
  deleteDataset(collection: string, type: string, key: string): void;
  /** In (collection, type, key) order; either filter may be omitted. */
  listDatasets(filter?: { collection?: string; type?: string }): Iterable<DatasetEntry>;
  listCollections(): string[];

  getFileState(path: string): FileState | undefined;
  /** Also indexes a state with `transfer: "reference"` under its digest (see `listReferences`). */
  putFileState(path: string, state: FileState): void;
  deleteFileState(path: string): void;
  /**
   * The paths of the files ingested by reference whose state names `digest` (as last committed; a
   * reader checks each path's state and stat before trusting its bytes).
   */
  listReferences(digest: BlobDigest): string[];

  getAction(key: QuantumKey): ActionRecord | undefined;
  /** Every action record, in key order (a full scan: for `quanta provenance` and repairs, not for runs). */
  listActions(): Iterable<ActionRecord>;
  putAction(rec: ActionRecord): void;

  getQuantum(collection: string, task: string, dataId: string): QuantumRecord | undefined;
  putQuantum(collection: string, task: string, dataId: string, rec: QuantumRecord): void;
  listQuanta(collection: string, task?: string): Iterable<{ task: string; dataId: string; record: QuantumRecord }>;

  putExecution(rec: ExecutionRecord): void;
  getExecution(id: string): ExecutionRecord | undefined;
  /** Every execution record, in id order (a full scan: for gc). */
  listExecutions(): Iterable<ExecutionRecord>;
  /** Inside `commit`. */
  deleteExecution(id: string): void;

  /**
   * When each cached result that a run replaced (or removed) as a quantum's current result was last
   * current, ms since the epoch, by its key (for `quanta gc`; empty in a read-only registry). Written by
   * `putQuantum` and `deleteQuantum` in the same commit; `deleteAction` deletes it.
   */
  lastUses(): Map<QuantumKey, number>;
  /** Inside `commit`: drops a time `lastUses` holds for a key that has no cached result. */
  deleteLastUse(key: QuantumKey): void;

  /**
   * Small blobs kept in the registry itself (see blob-store.ts). `stageBlob` holds the bytes in memory
   * (readable at once) until the next `commit`, which writes every staged blob first, in the same
   * transaction as the records that reference it.
   */
  stageBlob(digest: BlobDigest, bytes: Uint8Array): void;
  getBlob(digest: BlobDigest): Uint8Array | undefined;
  hasBlob(digest: BlobDigest): boolean;
  /** Inside `commit`. */
  deleteBlob(digest: BlobDigest): void;
  /** The blobs kept in the registry (committed ones), in digest order. */
  listBlobs(): Iterable<BlobDigest>;

  /**
   * A number that every commit changing the registry raises, except for stamps and file states: equal
   * generations mean nothing a run depends on was written in between, by this process or any other.
   * File states are ingest's cache of its sources (size, mtime → digest): a file touched without a
   * change rewrites its state and nothing else, so the next run is still answered by its stamp.
   */
  generation(): number;
  /**
   * A number raised by every commit that changes a dataset of `collection`, the dimensions, dataset
   * types or relations, or that removes a blob the registry keeps or a file from the references index
   * (a file held by reference, which another collection's dataset may read so); not by one that
   * writes only other collections' datasets, quanta, actions, executions, stamps, file states or new
   * blobs. Equal values mean `collection`'s datasets are as they were: a run into another collection
   * does not move it, so the ingest stamp of the input collection (app/stamps.ts) outlives the runs
   * that read it. A commit by a quanta that did not keep these counters (the same registry format)
   * is noticed, and counted as a change of what is shared.
   */
  datasetsGeneration(collection: string): number;
  /** Stamps: what a complete run or ingest saw, to answer the next one without redoing it (app/stamps.ts). */
  getStamp(name: string): unknown;
  /** Inside `commit`; does not raise the generation. */
  putStamp(name: string, value: unknown): void;

  /**
   * Every blob digest a dataset, relation, action or execution references (for gc and verify), read
   * from one snapshot of the registry. `pastInputs: false` leaves out what executions only read: a
   * raw file ingested by reference and edited since leaves its old digest there, in no blob (verify).
   */
  referencedDigests(options?: { pastInputs?: boolean }): Set<BlobDigest>;

  /** Inside `commit`. */
  deleteAction(key: QuantumKey): void;
  /** The quantum records of every collection (a scan of them all: for repairs, not for runs). */
  listAllQuanta(): Iterable<{ collection: string; task: string; dataId: string; record: QuantumRecord }>;
  /** Inside `commit`. */
  deleteQuantum(collection: string, task: string, dataId: string): void;
}
