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
 *                 but stamps and file states
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
import { RepositoryError, UsageError } from "../core/errors.js";
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
import { writing } from "./write-failure.js";
import { whileCommitting } from "./lost-commit-failure.js";

/** The registry format this code reads and writes. */
export const REGISTRY_FORMAT = 3;

const SEP = "\0";
/** LMDB's largest key, in bytes (its default build). */
const MAX_KEY_BYTES = 1978;
/** Marks a collected write as a delete. */
const REMOVE = Symbol("remove");
type Write = [Database<unknown, string>, string, unknown];
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

  private constructor(root: string, env: RootDatabase, private readonly readOnly: boolean) {
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
    return new LmdbRegistry(options.root, env, options.readOnly);
  }

  async close(): Promise<void> {
    // After a failed commit lmdb-js's close waits for it for ever: the process ends without it.
    if (this.commitFailed) void this.env.close().catch(() => undefined);
    else await this.env.close();
  }

  /** Whether a commit failed (see `close`). */
  private commitFailed = false;

  /**
   * Runs `fn`, then commits everything it wrote in one LMDB transaction; resolves once that is durable.
   *
   * `fn` runs first, outside the transaction: its writes are only collected (its reads see what was
   * committed before), so a throw from `fn` writes nothing. The collected writes, with the staged blobs
   * and the raised generation, then go to lmdb-js's asynchronous `transaction()`, whose commit and
   * fsyncs run on lmdb-js's writer thread: a synchronous commit held this thread for every fsync
   * (about 160 ms per batch on this project's test machine, more than the batch's own work). The
   * transaction is atomic against crashes: a killed process or a power loss leaves all of it or none.
   */
  async commit(fn: () => void): Promise<void> {
    if (this.collecting !== undefined) throw new Error("internal error: nested registry commit");
    const writes: Write[] = [];
    this.collecting = writes;
    try {
      fn();
    } finally {
      this.collecting = undefined;
    }
    const changed = this.dirty;
    this.dirty = false;
    const staged = [...this.stagedBlobs];
    if (writes.length === 0 && staged.length === 0) return;
    // A failed commit (a full disk) is a RepositoryError naming the registry (see lost-commit-failure.ts).
    this.commitFailed = true; // until the commit below is done
    await writing(`${this.root}/registry`, () => whileCommitting(this.env.transaction(() => {
      // First: should a write below fail (lmdb-js commits the ones before it), no stamp vouches for
      // the half-written state.
      if (changed || staged.length > 0) void this.meta.put("generation", this.generation() + 1);
      for (const [digest, bytes] of staged) void this.blobs.put(digest, asBuffer(bytes));
      for (const [db, key, value] of writes) void (value === REMOVE ? db.remove(key) : db.put(key, value));
    })));
    this.commitFailed = false;
    // Only now: until the commit is done, reads find them here.
    for (const [digest] of staged) this.stagedBlobs.delete(digest);
  }

  /** The writes of the `commit` under way; undefined outside one. */
  private collecting: Write[] | undefined;

  /** A put (or, with REMOVE, a delete): collected inside `commit`, a transaction of its own outside. */
  private write<V>(db: Database<V, string>, key: string, value: V | typeof REMOVE): void {
    // LMDB refuses longer keys; refused here, inside `fn`, the commit writes nothing.
    if (key.length * 3 > MAX_KEY_BYTES && Buffer.byteLength(key) > MAX_KEY_BYTES) {
      throw new UsageError(`a registry key is too long (${Buffer.byteLength(key)} bytes, at most ${MAX_KEY_BYTES}): ${key.slice(0, 120).replace(/\0/g, "/")}…`, "use shorter data ID values or file paths");
    }
    if (this.collecting !== undefined) this.collecting.push([db as Database<unknown, string>, key, value]);
    else void (value === REMOVE ? db.remove(key) : db.put(key, value as V));
  }

  async flush(): Promise<void> {
    await this.env.flushed;
  }

  putDimensions(universe: DimensionUniverse): void {
    for (const [name, type] of Object.entries(universe)) {
      if (this.dimensions.get(name) === type) continue;
      this.write(this.dimensions, name, type);
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
    this.write(this.datasetTypes, rec.name, rec);
  }

  getDatasetType(name: string): DatasetTypeRecord | undefined {
    return this.datasetTypes.get(name);
  }

  listDatasetTypes(): DatasetTypeRecord[] {
    return [...this.datasetTypes.getRange().map(({ value }) => value)];
  }

  putRelation(rec: RelationRecord): void {
    this.dirty = true;
    this.write(this.relations, rec.name, rec);
  }

  getRelation(name: string): RelationRecord | undefined {
    return this.relations.get(name);
  }

  deleteRelation(name: string): void {
    this.dirty = true;
    this.write(this.relations, name, REMOVE);
  }

  listRelations(): RelationRecord[] {
    return [...this.relations.getRange().map(({ value }) => value)];
  }

  putDataset(collection: string, type: string, dataId: DataId, rec: DatasetRecord): void {
    this.dirty = true;
    this.write(this.datasets, datasetKey(collection, type, encodeDataId(dataId)), [dataId, rec]);
  }

  getDataset(collection: string, type: string, key: string): DatasetRecord | undefined {
    return this.datasets.get(datasetKey(collection, type, key))?.[1];
  }

  deleteDataset(collection: string, type: string, key: string): void {
    this.dirty = true;
    this.write(this.datasets, datasetKey(collection, type, key), REMOVE);
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

  // File states do not raise the generation (see Registry.generation).
  putFileState(path: string, state: FileState): void {
    this.write(this.fileStates, path, state);
  }

  deleteFileState(path: string): void {
    this.write(this.fileStates, path, REMOVE);
  }

  getAction(key: QuantumKey): ActionRecord | undefined {
    return this.actions.get(key);
  }

  putAction(rec: ActionRecord): void {
    this.dirty = true;
    this.write(this.actions, rec.key, rec);
  }

  getQuantum(collection: string, task: string, dataId: string): QuantumRecord | undefined {
    return this.quanta.get(datasetKey(collection, task, dataId));
  }

  putQuantum(collection: string, task: string, dataId: string, rec: QuantumRecord): void {
    this.dirty = true;
    this.write(this.quanta, datasetKey(collection, task, dataId), rec);
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
    this.write(this.executions, rec.id, rec);
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
    this.write(this.stamps, name, value);
  }

  stageBlob(digest: BlobDigest, bytes: Uint8Array): void {
    this.stagedBlobs.set(digest, bytes);
  }

  getBlob(digest: BlobDigest): Uint8Array | undefined {
    return this.stagedBlobs.get(digest) ?? this.blobs.getBinary(digest);
  }

  hasBlob(digest: BlobDigest): boolean {
    if (this.stagedBlobs.has(digest) || this.blobsSeen.has(digest)) return true;
    const found = this.blobs.doesExist(digest);
    // Only a writer remembers: it holds the repository's lock, so no other process deletes blobs.
    if (found && !this.readOnly) this.blobsSeen.add(digest);
    return found;
  }

  /** Blobs a lookup found committed (a run asks about each of its outputs more than once). */
  private readonly blobsSeen = new Set<BlobDigest>();

  deleteBlob(digest: BlobDigest): void {
    this.dirty = true;
    this.stagedBlobs.delete(digest);
    this.blobsSeen.delete(digest);
    this.write(this.blobs, digest, REMOVE);
  }

  *listBlobs(): Iterable<BlobDigest> {
    for (const key of this.blobs.getKeys()) yield key as BlobDigest;
  }

  /** Read in one read transaction: one consistent snapshot of every table, whatever commits meanwhile. */
  referencedDigests(): Set<BlobDigest> {
    const out = new Set<BlobDigest>();
    const transaction = this.env.useReadTransaction();
    try {
      for (const { value } of this.datasets.getRange({ transaction })) out.add(value[1].digest);
      for (const { value } of this.relations.getRange({ transaction })) out.add(value.digest);
      for (const { value } of this.actions.getRange({ transaction })) {
        for (const o of Object.values(value.outputs)) out.add(o.digest);
      }
      for (const { value } of this.executions.getRange({ transaction })) {
        for (const i of value.inputs) out.add(i.digest);
        for (const o of value.outputs) out.add(o.digest);
      }
    } finally {
      transaction.done();
    }
    return out;
  }

  *listActions(): Iterable<ActionRecord> {
    for (const { value } of this.actions.getRange()) yield value;
  }

  deleteAction(key: QuantumKey): void {
    this.dirty = true;
    this.write(this.actions, key, REMOVE);
  }

  *listAllQuanta(): Iterable<{ collection: string; task: string; dataId: string; record: QuantumRecord }> {
    for (const { key, value } of this.quanta.getRange()) {
      const [collection, task, dataId] = splitKey(key);
      yield { collection, task, dataId, record: value };
    }
  }

  deleteQuantum(collection: string, task: string, dataId: string): void {
    this.dirty = true;
    this.write(this.quanta, datasetKey(collection, task, dataId), REMOVE);
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
