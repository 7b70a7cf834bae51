/**
 * The registry in LMDB (lmdb-js), one environment at `<repo>/registry/` (data.mdb, lock.mdb) with
 * named sub-databases, values in msgpack, keys as strings.
 *
 * Registry format 3 (format 1 stored each value with its own msgpack structure; 2 shares structures per
 * sub-database, under lmdb-js's shared-structures key, which halves the cost of reading records back;
 * 3 keeps small blobs here, in `blobs`):
 *   meta          "format" → 3 (a number); "created" → ms since the epoch
 *   dimensions    name → "int" | "string"
 *   datasetTypes  name → DatasetTypeRecord
 *   relations     name → RelationRecord
 *   datasets      `collection\0type\0dataIdKey` → [dataId, DatasetRecord]
 *   fileStates    absolute source path → FileState
 *   actions       quantum key → ActionRecord
 *   quanta        `collection\0task\0dataIdKey` → QuantumRecord
 *   executions    execution id → ExecutionRecord
 *   stamps        `run\0collection`, `ingest\0collection` → what the last complete run or ingest saw
 *                 (app/stamps.ts); writing one does not change the generation
 *   meta          also "generation" → a number, raised by every commit that changes anything else
 *   blobs         blob digest → the blob's bytes (binary, not msgpack): blobs of at most
 *                 INLINE_BLOB_MAX_BYTES written by runs and ingest (blob-store.ts)
 * `\0` sorts before every other character, so key order is (collection, type, key) order and a prefix
 * range `c\0` … `c\x01` selects exactly one collection.
 *
 * On open, a `format` other than 3 is a RepositoryError (exit 3): "registry format N found, 2 expected".
 * A registry with no format marker is treated as corrupt, the same way.
 */
import { open } from "lmdb";

/** Where each sub-database keeps its shared msgpack structures (not visible to range reads). */
const SHARED_STRUCTURES = Symbol.for("quanta.structures");
import type { Database, RootDatabase } from "lmdb";
import type { DataId } from "../core/data-id.js";
import { encodeDataId } from "../core/data-id.js";
import type { BlobDigest, QuantumKey } from "../core/digest.js";
import type { DimensionType, DimensionUniverse } from "../core/dimensions.js";
import { RepositoryError } from "../core/errors.js";
import type {
  ActionRecord,
  DatasetEntry,
  DatasetRecord,
  DatasetTypeRecord,
  ExecutionRecord,
  FileState,
  QuantumRecord,
  Registry,
  RelationRecord,
} from "./registry.js";

/** The registry format this code reads and writes. */
export const REGISTRY_FORMAT = 3;

const SEP = "\0";
const AFTER_SEP = "\x01";

export interface LmdbRegistryOptions {
  /** The repository directory; the environment lives in `<root>/registry/`. */
  root: string;
  /** Open read-only (readers: datasets, get, status). The environment must exist. */
  readOnly: boolean;
}

type DatasetValue = [DataId, DatasetRecord];

export class LmdbRegistry implements Registry {
  readonly root: string;
  private readonly env: RootDatabase;
  private readonly dimensions: Database<DimensionType, string>;
  private readonly datasetTypes: Database<DatasetTypeRecord, string>;
  private readonly relations: Database<RelationRecord, string>;
  private readonly datasets: Database<DatasetValue, string>;
  private readonly fileStates: Database<FileState, string>;
  private readonly actions: Database<ActionRecord, string>;
  private readonly quanta: Database<QuantumRecord, string>;
  private readonly executions: Database<ExecutionRecord, string>;
  private readonly blobs: Database<Buffer, string>;
  /** Blobs staged for the next commit, readable meanwhile. */
  private readonly stagedBlobs = new Map<BlobDigest, Uint8Array>();
  private readonly meta: Database<unknown, string>;
  private readonly stamps: Database<unknown, string>;
  /** Whether a write since the last commit changed what the registry holds (see `generation`). */
  private dirty = false;

  private constructor(root: string, env: RootDatabase) {
    this.root = root;
    this.env = env;
    const sub = <V>(name: string) => env.openDB<V, string>(name, { encoding: "msgpack", sharedStructuresKey: SHARED_STRUCTURES });
    this.dimensions = sub("dimensions");
    this.datasetTypes = sub("datasetTypes");
    this.relations = sub("relations");
    this.datasets = sub("datasets");
    this.fileStates = sub("fileStates");
    this.actions = sub("actions");
    this.quanta = sub("quanta");
    this.executions = sub("executions");
    this.blobs = env.openDB<Buffer, string>("blobs", { encoding: "binary" });
    this.meta = env.openDB<unknown, string>("meta", { encoding: "msgpack" });
    this.stamps = sub("stamps");
  }

  /**
   * Opens (and, unless read-only, creates) the registry of the repository at `root`, checking its format.
   * Throws RepositoryError on a format mismatch.
   */
  static async open(options: LmdbRegistryOptions): Promise<LmdbRegistry> {
    const path = `${options.root}/registry`;
    const env = open({ path, maxDbs: 16, readOnly: options.readOnly, noMemInit: true });
    const meta = env.openDB<unknown, string>("meta", { encoding: "msgpack" });
    const found = meta.get("format");
    if (found === undefined) {
      if (options.readOnly) {
        await env.close();
        throw new RepositoryError(
          `registry in ${options.root} has no format marker (an interrupted creation?)`,
          `delete ${options.root} and ingest again`,
        );
      }
      await env.transaction(() => {
        if (meta.get("format") !== undefined) return;
        meta.put("format", REGISTRY_FORMAT);
        meta.put("created", Date.now());
      });
    } else if (found !== REGISTRY_FORMAT) {
      await env.close();
      throw new RepositoryError(
        `registry format ${String(found)} found, ${REGISTRY_FORMAT} expected: delete ${options.root} or use the version of quanta that wrote it`,
      );
    }
    return new LmdbRegistry(options.root, env);
  }

  async close(): Promise<void> {
    await this.env.close();
  }

  /**
   * Runs `fn` in a synchronous LMDB write transaction, durable when it returns. Not lmdb-js's
   * asynchronous `transaction()`: its callbacks cannot be rolled back (a throw, or returning ABORT,
   * still commits the writes made before it; checked with lmdb 3.5.6), so all-or-nothing needs
   * `transactionSync`. It blocks the event loop while it runs (about 0.7 s for 100,000 puts).
   */
  async commit(fn: () => void): Promise<void> {
    const staged = [...this.stagedBlobs];
    this.env.transactionSync(() => {
      for (const [digest, bytes] of staged) void this.blobs.put(digest, asBuffer(bytes));
      fn();
      if (this.dirty || staged.length > 0) void this.meta.put("generation", this.generation() + 1);
    });
    this.dirty = false;
    // Only now: a failed transaction leaves them staged (and readable) for the next one.
    for (const [digest] of staged) this.stagedBlobs.delete(digest);
  }

  async flush(): Promise<void> {
    await this.env.flushed;
  }

  putDimensions(universe: DimensionUniverse): void {
    for (const [name, type] of Object.entries(universe)) {
      if (this.dimensions.get(name) === type) continue;
      void this.dimensions.put(name, type);
      this.dirty = true;
    }
  }

  getDimensions(): DimensionUniverse {
    const out: Record<string, DimensionType> = {};
    for (const { key, value } of this.dimensions.getRange()) out[key] = value;
    return out;
  }

  putDatasetType(rec: DatasetTypeRecord): void {
    const known = this.datasetTypes.get(rec.name);
    if (known && known.storage === rec.storage && known.dimensions.join("\0") === rec.dimensions.join("\0")) return;
    this.dirty = true;
    void this.datasetTypes.put(rec.name, rec);
  }

  getDatasetType(name: string): DatasetTypeRecord | undefined {
    return this.datasetTypes.get(name);
  }

  listDatasetTypes(): DatasetTypeRecord[] {
    return [...this.datasetTypes.getRange().map(({ value }) => value)];
  }

  putRelation(rec: RelationRecord): void {
    this.dirty = true;
    void this.relations.put(rec.name, rec);
  }

  getRelation(name: string): RelationRecord | undefined {
    return this.relations.get(name);
  }

  deleteRelation(name: string): void {
    this.dirty = true;
    void this.relations.remove(name);
  }

  listRelations(): RelationRecord[] {
    return [...this.relations.getRange().map(({ value }) => value)];
  }

  putDataset(collection: string, type: string, dataId: DataId, rec: DatasetRecord): void {
    this.dirty = true;
    void this.datasets.put(datasetKey(collection, type, encodeDataId(dataId)), [dataId, rec]);
  }

  getDataset(collection: string, type: string, key: string): DatasetRecord | undefined {
    return this.datasets.get(datasetKey(collection, type, key))?.[1];
  }

  deleteDataset(collection: string, type: string, key: string): void {
    this.dirty = true;
    void this.datasets.remove(datasetKey(collection, type, key));
  }

  *listDatasets(filter: { collection?: string; type?: string } = {}): Iterable<DatasetEntry> {
    const { collection, type } = filter;
    const range =
      collection === undefined
        ? {}
        : type === undefined
          ? { start: collection + SEP, end: collection + AFTER_SEP }
          : { start: collection + SEP + type + SEP, end: collection + SEP + type + AFTER_SEP };
    for (const { key, value } of this.datasets.getRange(range)) {
      const [c, t, k] = splitKey(key);
      if (type !== undefined && t !== type) continue;
      yield { collection: c, type: t, dataId: value[0], key: k, record: value[1] };
    }
  }

  listCollections(): string[] {
    const out: string[] = [];
    // Skip from one collection to the next instead of visiting every dataset.
    let start = "";
    for (;;) {
      let next: string | undefined;
      for (const key of this.datasets.getKeys({ start, limit: 1 })) next = key;
      if (next === undefined) return out;
      const collection = splitKey(next)[0];
      out.push(collection);
      start = collection + AFTER_SEP;
    }
  }

  getFileState(path: string): FileState | undefined {
    return this.fileStates.get(path);
  }

  putFileState(path: string, state: FileState): void {
    this.dirty = true;
    void this.fileStates.put(path, state);
  }

  deleteFileState(path: string): void {
    this.dirty = true;
    void this.fileStates.remove(path);
  }

  getAction(key: QuantumKey): ActionRecord | undefined {
    return this.actions.get(key);
  }

  putAction(rec: ActionRecord): void {
    this.dirty = true;
    void this.actions.put(rec.key, rec);
  }

  getQuantum(collection: string, task: string, dataId: string): QuantumRecord | undefined {
    return this.quanta.get(datasetKey(collection, task, dataId));
  }

  putQuantum(collection: string, task: string, dataId: string, rec: QuantumRecord): void {
    this.dirty = true;
    void this.quanta.put(datasetKey(collection, task, dataId), rec);
  }

  *listQuanta(collection: string, task?: string): Iterable<{ task: string; dataId: string; record: QuantumRecord }> {
    const start = task === undefined ? collection + SEP : collection + SEP + task + SEP;
    const end = task === undefined ? collection + AFTER_SEP : collection + SEP + task + AFTER_SEP;
    for (const { key, value } of this.quanta.getRange({ start, end })) {
      const [, t, k] = splitKey(key);
      yield { task: t, dataId: k, record: value };
    }
  }

  putExecution(rec: ExecutionRecord): void {
    this.dirty = true;
    void this.executions.put(rec.id, rec);
  }

  getExecution(id: string): ExecutionRecord | undefined {
    return this.executions.get(id);
  }

  generation(): number {
    return (this.meta.get("generation") as number | undefined) ?? 0;
  }

  getStamp(name: string): unknown {
    return this.stamps.get(name);
  }

  putStamp(name: string, value: unknown): void {
    void this.stamps.put(name, value);
  }

  stageBlob(digest: BlobDigest, bytes: Uint8Array): void {
    this.stagedBlobs.set(digest, bytes);
  }

  /** The blobs staged so far, for a commit made by another thread (registry-writer.ts). */
  stagedBlobEntries(): [BlobDigest, Uint8Array][] {
    return [...this.stagedBlobs];
  }

  /**
   * After another thread committed writes (and these staged blobs) to this environment: drops the
   * blobs from the staging map and renews this thread's read snapshot, so that it reads them there.
   */
  committedElsewhere(blobs: readonly [BlobDigest, Uint8Array][]): void {
    this.env.resetReadTxn();
    for (const [digest, bytes] of blobs) if (this.stagedBlobs.get(digest) === bytes) this.stagedBlobs.delete(digest);
  }

  getBlob(digest: BlobDigest): Uint8Array | undefined {
    return this.stagedBlobs.get(digest) ?? this.blobs.getBinary(digest);
  }

  hasBlob(digest: BlobDigest): boolean {
    return this.stagedBlobs.has(digest) || this.blobs.doesExist(digest);
  }

  deleteBlob(digest: BlobDigest): void {
    this.dirty = true;
    this.stagedBlobs.delete(digest);
    void this.blobs.remove(digest);
  }

  *listBlobs(): Iterable<BlobDigest> {
    for (const key of this.blobs.getKeys()) yield key as BlobDigest;
  }

  referencedDigests(): Set<BlobDigest> {
    const out = new Set<BlobDigest>();
    for (const { value } of this.datasets.getRange()) out.add(value[1].digest);
    for (const { value } of this.relations.getRange()) out.add(value.digest);
    for (const { value } of this.actions.getRange()) {
      for (const o of Object.values(value.outputs)) out.add(o.digest);
    }
    for (const { value } of this.executions.getRange()) {
      for (const i of value.inputs) out.add(i.digest);
      for (const o of value.outputs) out.add(o.digest);
    }
    return out;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function datasetKey(collection: string, type: string, key: string): string {
  return collection + SEP + type + SEP + key;
}

function splitKey(key: string): [string, string, string] {
  const a = key.indexOf(SEP);
  const b = key.indexOf(SEP, a + 1);
  if (a < 0 || b < 0) throw new Error(`internal error: malformed registry key ${JSON.stringify(key)}`);
  return [key.slice(0, a), key.slice(a + 1, b), key.slice(b + 1)];
}
