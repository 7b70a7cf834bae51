/**
 * The registry in LMDB (lmdb-js), one environment at `<repo>/registry/` (data.mdb, lock.mdb) with
 * named sub-databases, values in msgpack.
 *
 * Registry format 5 (format 1 stored each value with its own msgpack structure; 2 shares structures per
 * sub-database, under lmdb-js's shared-structures key, which halves the cost of reading records back;
 * 3 keeps small blobs here, in `blobs`; 4 encodes keys as bytes (registry-key.ts), so keys of any
 * length read back as written, and widens digests and quantum keys to 128 bits (core/digest.ts); 5 adds raw files ingested by reference,
whose bytes are in no blob, and the `references` index):
 *   meta          "format" → 5 (a number); "created" → ms since the epoch
 *   dimensions    (name) → "int" | "string"
 *   datasetTypes  (name) → DatasetTypeRecord
 *   relations     (name) → RelationRecord
 *   datasets      (collection, type, dataIdKey) → [dataId, DatasetRecord]
 *   fileStates    (absolute source path) → FileState
 *   references    (blob digest, absolute source path) → 1: the files ingested by reference whose
 *                 state names the digest, kept by putFileState and deleteFileState (format 5)
 *   actions       (quantum key) → ActionRecord
 *   quanta        (collection, task, dataIdKey) → QuantumRecord
 *   executions    (execution id) → ExecutionRecord
 *   stamps        (`run\0collection`), (`ingest\0collection`) → what the last complete run or
 *                 ingest saw (app/stamps.ts), (`rs\0collection`) → the states that run
 *                 ended with, a line each, (`rp\0collection`) → its graph as a plan file's bytes,
 *                 (`walk\0collection`) → the files that ingest found; writing one does not change
 *                 the generation
 *   actionUses    (quantum key) → ms since the epoch when a cached result stopped being a quantum's
 *                 current one (for `gc --keep-age/--max-size`), written with the record replacing it.
 *                 Added within format 4: a writer's open creates it; readers never open it.
 *   meta          also "generation" → a number, raised by every commit that changes anything else
 *                 but stamps and file states; "shared generation" → one raised by every commit that
 *                 changes dimensions, dataset types or relations, or removes a blob kept here or a file
 *                 from the references index, and by the first after one of an older quanta; and, per collection
 *                 whose datasets a commit changed, "generation of <digest of the collection's name>" →
 *                 one raised by it; "counted generation" → the generation the last commit that kept
 *                 them left (see Registry.datasetsGeneration; all three added within format 5:
 *                 absent is 0)
 *   blobs         (blob digest) → the blob's bytes (binary, not msgpack): blobs of at most
 *                 INLINE_BLOB_MAX_BYTES written by runs and ingest (blob-store.ts)
 * Every sub-database but `meta` has binary keys: a tuple of strings, encoded by registry-key.ts, which
 * keeps key order equal to tuple order, so a prefix range selects exactly one collection (or one
 * collection and type). A sub-database's shared msgpack structures sit under the key 0xff, after every
 * tuple. `meta` keeps lmdb-js's default string keys: its keys are short ASCII names, stored as their
 * bytes by every format, so the format marker of an older registry is read and named.
 * A key longer than LMDB's maximum (1978 bytes) is refused with a UsageError (exit 2) that names it,
 * before the commit writes anything; a lookup of such a key finds nothing.
 *
 * On open, a `format` other than 5 is a RepositoryError (exit 3): "registry format 4 found, 5 expected",
 * with what to do (delete the repository, or use the quanta that wrote it). A registry with no format
 * marker is an interrupted creation: a writer's open completes it; a read-only open throws
 * UnfinishedRegistryError, on which repository.ts completes it (under the writer lock) and reads on.
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { open } from "lmdb";
import type { Database, RootDatabase, Transaction } from "lmdb";
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
import { UnfinishedRegistryError } from "./registry-file.js";
import { decodeRegistryKey, describeRegistryKey, encodeRegistryKey, END_OF_KEYS, isStorableKey, keyAfter, MAX_KEY_BYTES, prefixRange } from "./registry-key.js";
import { isRefusedWrite, writeFailure, writing } from "./write-failure.js";
import { whileCommitting } from "./lost-commit-failure.js";
import { trackWrite } from "./writes-in-flight.js";

/** The registry format this code reads and writes. */
export const REGISTRY_FORMAT = 5;

/** Where each sub-database keeps its shared msgpack structures: after every key (registry-key.ts). */
const SHARED_STRUCTURES = END_OF_KEYS;
/** Every tuple key of a sub-database, not its shared structures (a new object each time: lmdb-js writes to range options). */
const allKeys = () => ({ end: END_OF_KEYS });
/** The `meta` key of the counter that every commit changing something shared raises (see `datasetsGeneration`). */
const SHARED_GENERATION = "shared generation";
/** The `meta` key of the generation the last commit that kept the counters left (see `datasetsGeneration`). */
const COUNTED_GENERATION = "counted generation";
/** The `meta` key of a collection's counter: its name's digest, so that the key is short whatever the name. */
const generationOf = (collection: string) => `generation of ${createHash("sha256").update(collection).digest("hex").slice(0, 32)}`;
/** Marks a collected write as a delete. */
const REMOVE = Symbol("remove");
type Key = Uint8Array;
/**
 * The writes of a commit, in order: the i-th is to `dbs[i]`, of `keys[i]`. Three arrays, not a tuple
 * per write: a first ingest of 333,334 files collects a million, each kept until the transaction.
 */
interface Writes {
  dbs: Database<unknown, Key>[];
  keys: Key[];
  values: unknown[];
}

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
  private readonly dimensions: Database<DimensionType, Key>;
  private readonly datasetTypes: Database<DatasetTypeRecord, Key>;
  private readonly relations: Database<RelationRecord, Key>;
  private readonly datasets: Database<DatasetValue, Key>;
  private readonly fileStates: Database<FileState, Key>;
  private readonly references: Database<number, Key>;
  private readonly actions: Database<ActionRecord, Key>;
  private readonly quanta: Database<QuantumRecord, Key>;
  private readonly executions: Database<ExecutionRecord, Key>;
  private readonly blobs: Database<Buffer, Key>;
  /** Blobs staged for the next commit, readable meanwhile. */
  private readonly stagedBlobs = new Map<BlobDigest, Uint8Array>();
  private readonly meta: Database<unknown, string>;
  private readonly stamps: Database<unknown, Key>;
  /** Writers only (a read-only open cannot create it in a registry written before it existed). */
  private readonly actionUses: Database<number, Key> | undefined;
  /** Whether a write since the last commit changed what the registry holds (see `generation`). */
  private dirty = false;
  /** What the writes since the last commit changed, for `datasetsGeneration`: collections of datasets, and whether anything shared. */
  private readonly changedCollections = new Set<string>();
  private sharedChanged = false;
  /**
   * Read-only: the one read transaction every read goes through, from the open to the close, so that a
   * reader sees one snapshot of the registry whatever a writer in another process commits meanwhile
   * (and never a run's record without the dataset it references). Writers read what is committed.
   */
  private readonly snapshot: { transaction?: Transaction };

  private constructor(root: string, env: RootDatabase, private readonly readOnly: boolean) {
    this.root = root;
    this.env = env;
    const sub = <V>(name: string) =>
      env.openDB<V, Key>(name, { encoding: "msgpack", keyEncoding: "binary", sharedStructuresKey: SHARED_STRUCTURES });
    this.dimensions = sub("dimensions");
    this.datasetTypes = sub("datasetTypes");
    this.relations = sub("relations");
    this.datasets = sub("datasets");
    this.fileStates = sub("fileStates");
    this.references = sub("references");
    this.actions = sub("actions");
    this.quanta = sub("quanta");
    this.executions = sub("executions");
    this.blobs = env.openDB<Buffer, Key>("blobs", { encoding: "binary", keyEncoding: "binary" });
    this.meta = env.openDB<unknown, string>("meta", { encoding: "msgpack" });
    this.stamps = sub("stamps");
    this.actionUses = readOnly ? undefined : sub("actionUses");
    // Last: opening a sub-database ends the read transaction under way.
    this.snapshot = readOnly ? { transaction: env.useReadTransaction() } : {};
  }

  /**
   * Opens (and, unless read-only, creates) the registry of the repository at `root`, checking its format.
   * Throws RepositoryError on a format mismatch.
   */
  static async open(options: LmdbRegistryOptions): Promise<LmdbRegistry> {
    const path = `${options.root}/registry`;
    const env = openEnvironment(path, options.readOnly);
    const meta = env.openDB<unknown, string>("meta", { encoding: "msgpack" });
    const found = meta.get("format");
    if (found === undefined) {
      if (options.readOnly) {
        await env.close();
        throw new UnfinishedRegistryError(options.root);
      }
      // Every sub-database is made before the format is written: a reader takes a registry without a
      // format for unfinished (a writer killed while creating it), and one with a format for whole.
      const registry = new LmdbRegistry(options.root, env, false);
      // Creating the registry is a write like any other (see write-failure.ts).
      await writing(path, () =>
        trackWrite(
          whileCommitting(
            env.transaction(() => {
              if (meta.get("format") !== undefined) return;
              meta.put("format", REGISTRY_FORMAT);
              meta.put("created", Date.now());
            }),
          ),
        ),
      );
      return registry;
    } else if (found !== REGISTRY_FORMAT) {
      await env.close();
      throw new RepositoryError(
        `registry format ${String(found)} found in ${options.root}, ${REGISTRY_FORMAT} expected`,
        `delete ${options.root} and ingest again (the next run recomputes every result), or keep using the version of quanta that wrote it` +
          (found === 4 ? " (format 4: quanta 0.1 before raw inputs by reference)" : typeof found === "number" && found < 4 ? ` (format ${found}: quanta 0.1 before 128-bit digests and binary registry keys)` : ""),
      );
    }
    const registry = new LmdbRegistry(options.root, env, options.readOnly);
    // A registry a killed writer left before its sub-databases were all made (an older quanta wrote the
    // format first): a reader has it completed, as one without a format.
    if (options.readOnly && registry.lacksDatabase()) {
      await env.close();
      throw new UnfinishedRegistryError(options.root);
    }
    return registry;
  }

  private lacksDatabase(): boolean {
    const all: unknown[] = [this.dimensions, this.datasetTypes, this.relations, this.datasets, this.fileStates, this.references, this.actions, this.quanta, this.executions, this.blobs, this.stamps];
    return all.some((db) => db === undefined);
  }

  async close(): Promise<void> {
    this.snapshot.transaction?.done();
    // After a failed commit lmdb-js's close waits for it for ever: the process ends without it.
    if (this.commitFailed) void this.env.close().catch(() => undefined);
    else await trackWrite(this.env.close());
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
    const noFileStates = (this.fileStates.getStats() as { entryCount: number }).entryCount === 0;
    const writes: Writes = { dbs: [], keys: [], values: [] };
    this.collecting = writes;
    this.noFileStates = noFileStates;
    try {
      fn();
    } finally {
      this.collecting = undefined;
      this.noFileStates = false;
    }
    const changed = this.dirty;
    this.dirty = false;
    const collections = [...this.changedCollections];
    this.changedCollections.clear();
    const shared = this.sharedChanged;
    this.sharedChanged = false;
    const staged = [...this.stagedBlobs];
    if (writes.dbs.length === 0 && staged.length === 0) return;
    // A failed commit (a full disk) is a RepositoryError naming the registry (see lost-commit-failure.ts).
    this.commitFailed = true; // until the commit below is done
    await writing(`${this.root}/registry`, () => trackWrite(whileCommitting(this.env.transaction(() => {
      // First, the counters: should a write below fail (lmdb-js commits the ones before it), no stamp
      // vouches for the half-written state. A commit by a quanta that kept no datasets generations
      // raised `generation` alone: what it changed is unknown, so it counts as a change of what is shared.
      const before = this.generation();
      const uncounted = this.counter(COUNTED_GENERATION) !== before;
      const generation = changed || staged.length > 0 ? before + 1 : before;
      if (generation !== before) void this.meta.put("generation", generation);
      if (generation !== before || uncounted) void this.meta.put(COUNTED_GENERATION, generation);
      if (shared || uncounted) void this.meta.put(SHARED_GENERATION, this.counter(SHARED_GENERATION) + 1);
      for (const key of collections.map(generationOf)) void this.meta.put(key, this.counter(key) + 1);
      for (const [digest, bytes] of staged) void this.blobs.put(encodeRegistryKey([digest]), asBuffer(bytes));
      const { dbs, keys, values } = writes;
      for (let i = 0; i < dbs.length; i++) void (values[i] === REMOVE ? dbs[i]!.remove(keys[i]!) : dbs[i]!.put(keys[i]!, values[i]));
    }))));
    this.commitFailed = false;
    // Only now: until the commit is done, reads find them here.
    for (const [digest] of staged) this.stagedBlobs.delete(digest);
  }

  /**
   * While `commit` collects: whether the registry holds no file state (the first ingest into it), so
   * that `unindexReference` has none to read (a lookup per file: 2% of a first ingest's time).
   */
  private noFileStates = false;

  /** The writes of the `commit` under way; undefined outside one. */
  private collecting: Writes | undefined;

  /** A put (or, with REMOVE, a delete): collected inside `commit`, a transaction of its own outside. */
  private write<V>(db: Database<V, Key>, parts: readonly string[], value: V | typeof REMOVE): void {
    const key = encodeRegistryKey(parts);
    // LMDB refuses longer keys; refused here, inside `fn`, the commit writes nothing.
    if (!isStorableKey(key)) {
      throw new UsageError(
        `a registry key is too long (${key.length} bytes, at most ${MAX_KEY_BYTES}): ${describeRegistryKey(key)}`,
        "use shorter data ID values, dataset type, task or collection names, or file paths",
      );
    }
    this.noteChange(db as Database<unknown, Key>, parts, value === REMOVE);
    if (this.collecting !== undefined) {
      this.collecting.dbs.push(db as Database<unknown, Key>);
      this.collecting.keys.push(key);
      this.collecting.values.push(value);
    }
    // Its failure stays an unhandled rejection, as an untracked write's was.
    else
      void trackWrite(value === REMOVE ? db.remove(key) : db.put(key, value as V)).then(undefined, (err: unknown) => {
        throw err;
      });
  }

  /** Notes what a write to `db` (a removal when `removing`) changes, for `datasetsGeneration`. */
  private noteChange(db: Database<unknown, Key>, parts: readonly string[], removing: boolean): void {
    if (db === this.datasets) this.changedCollections.add(parts[0]!);
    else if (db === this.dimensions || db === this.datasetTypes || db === this.relations) this.sharedChanged = true;
    // A blob kept here, or a file held by reference taken out of the index: a dataset of any collection may name it.
    else if ((db === this.blobs || db === this.references) && removing) this.sharedChanged = true;
  }

  /** A range read from this registry's snapshot, if it has one. */
  private scan<R extends object>(range: R): R & { transaction?: Transaction } {
    return this.snapshot.transaction === undefined ? range : { ...range, transaction: this.snapshot.transaction };
  }

  /** The value at the key of `parts`; undefined for a key too long to have been stored. */
  private read<V>(db: Database<V, Key>, parts: readonly string[]): V | undefined {
    const key = encodeRegistryKey(parts);
    return isStorableKey(key) ? db.get(key, this.snapshot) : undefined;
  }

  async flush(): Promise<void> {
    await this.env.flushed;
  }

  putDimensions(universe: DimensionUniverse): void {
    for (const [name, type] of Object.entries(universe)) {
      if (this.read(this.dimensions, [name]) === type) continue;
      this.write(this.dimensions, [name], type);
      this.dirty = true;
    }
  }

  getDimensions(): DimensionUniverse {
    const out: Record<string, DimensionType> = {};
    for (const { key, value } of this.dimensions.getRange(this.scan(allKeys()))) out[decodeRegistryKey(key)[0]!] = value;
    return out;
  }

  putDatasetType(rec: DatasetTypeRecord): void {
    const known = this.read(this.datasetTypes, [rec.name]);
    if (known && known.storage === rec.storage && known.dimensions.join("\0") === rec.dimensions.join("\0") && known.executable === rec.executable && known.temp === rec.temp) return;
    this.dirty = true;
    this.write(this.datasetTypes, [rec.name], rec);
  }

  getDatasetType(name: string): DatasetTypeRecord | undefined {
    return this.read(this.datasetTypes, [name]);
  }

  listDatasetTypes(): DatasetTypeRecord[] {
    return [...this.datasetTypes.getRange(this.scan(allKeys())).map(({ value }) => value)];
  }

  putRelation(rec: RelationRecord): void {
    this.dirty = true;
    this.write(this.relations, [rec.name], rec);
  }

  getRelation(name: string): RelationRecord | undefined {
    return this.read(this.relations, [name]);
  }

  deleteRelation(name: string): void {
    this.dirty = true;
    this.write(this.relations, [name], REMOVE);
  }

  listRelations(): RelationRecord[] {
    return [...this.relations.getRange(this.scan(allKeys())).map(({ value }) => value)];
  }

  putDataset(collection: string, type: string, dataId: DataId, rec: DatasetRecord): void {
    this.dirty = true;
    this.write(this.datasets, [collection, type, encodeDataId(dataId)], [dataId, rec]);
  }

  getDataset(collection: string, type: string, key: string): DatasetRecord | undefined {
    return this.read(this.datasets, [collection, type, key])?.[1];
  }

  deleteDataset(collection: string, type: string, key: string): void {
    this.dirty = true;
    this.write(this.datasets, [collection, type, key], REMOVE);
  }

  *listDatasets(filter: { collection?: string; type?: string } = {}): Iterable<DatasetEntry> {
    const { collection, type } = filter;
    const range = collection === undefined ? allKeys() : prefixRange(type === undefined ? [collection] : [collection, type]);
    if (!isStorableKey(range.end)) return;
    for (const { key, value } of this.datasets.getRange(this.scan(range))) {
      const [c, t, k] = splitKey(key);
      if (type !== undefined && t !== type) continue;
      yield { collection: c, type: t, dataId: value[0], key: k, record: value[1] };
    }
  }

  listCollections(): string[] {
    const out: string[] = [];
    // Skip from one collection to the next instead of visiting every dataset.
    let start: Key | undefined;
    for (;;) {
      let next: Key | undefined;
      for (const key of this.datasets.getKeys(this.scan({ start, end: END_OF_KEYS, limit: 1 }))) next = key;
      if (next === undefined) return out;
      const collection = splitKey(next)[0];
      out.push(collection);
      start = keyAfter(collection);
    }
  }

  getFileState(path: string): FileState | undefined {
    return this.read(this.fileStates, [path]);
  }

  // File states do not raise the generation (see Registry.generation).
  putFileState(path: string, state: FileState): void {
    this.unindexReference(path, state);
    this.write(this.fileStates, [path], state);
    if (state.transfer === "reference") this.write(this.references, [state.digest, path], 1);
  }

  deleteFileState(path: string): void {
    this.unindexReference(path, undefined);
    this.write(this.fileStates, [path], REMOVE);
  }

  /** Drops the reference the committed state of `path` indexes, unless `next` indexes the same one. */
  private unindexReference(path: string, next: FileState | undefined): void {
    const before = this.noFileStates ? undefined : this.read(this.fileStates, [path]);
    if (before?.transfer !== "reference") return;
    if (next?.transfer === "reference" && next.digest === before.digest) return;
    this.write(this.references, [before.digest, path], REMOVE);
  }

  listReferences(digest: BlobDigest): string[] {
    const out: string[] = [];
    for (const key of this.references.getKeys(this.scan(prefixRange([digest])))) out.push(decodeRegistryKey(key as Key)[1]!);
    return out;
  }

  getAction(key: QuantumKey): ActionRecord | undefined {
    return this.read(this.actions, [key]);
  }

  *listActions(): Iterable<ActionRecord> {
    for (const { value } of this.actions.getRange(this.scan(allKeys()))) yield value;
  }

  putAction(rec: ActionRecord): void {
    this.dirty = true;
    this.write(this.actions, [rec.key], rec);
  }

  getQuantum(collection: string, task: string, dataId: string): QuantumRecord | undefined {
    return this.read(this.quanta, [collection, task, dataId]);
  }

  putQuantum(collection: string, task: string, dataId: string, rec: QuantumRecord): void {
    this.dirty = true;
    this.noteReplaced(collection, task, dataId, rec.key);
    this.write(this.quanta, [collection, task, dataId], rec);
  }

  /** A quantum's record is replaced by one of key `next` (undefined: removed): its result was used until now. */
  private noteReplaced(collection: string, task: string, dataId: string, next: QuantumKey | undefined): void {
    if (this.actionUses === undefined) return;
    const old = this.read(this.quanta, [collection, task, dataId]);
    if (old === undefined || old.key === next || old.status === "failed") return;
    this.write(this.actionUses, [old.key], Date.now());
  }

  lastUses(): Map<QuantumKey, number> {
    const out = new Map<QuantumKey, number>();
    if (this.actionUses === undefined) return out;
    for (const { key, value } of this.actionUses.getRange(allKeys())) out.set(decodeRegistryKey(key)[0] as QuantumKey, value);
    return out;
  }

  deleteLastUse(key: QuantumKey): void {
    if (this.actionUses !== undefined) this.write(this.actionUses, [key], REMOVE);
  }

  *listQuanta(collection: string, task?: string): Iterable<{ task: string; dataId: string; record: QuantumRecord }> {
    const range = prefixRange(task === undefined ? [collection] : [collection, task]);
    if (!isStorableKey(range.end)) return;
    for (const { key, value } of this.quanta.getRange(this.scan(range))) {
      const [, t, k] = splitKey(key);
      yield { task: t, dataId: k, record: value };
    }
  }

  putExecution(rec: ExecutionRecord): void {
    this.dirty = true;
    this.write(this.executions, [rec.id], rec);
  }

  getExecution(id: string): ExecutionRecord | undefined {
    return this.read(this.executions, [id]);
  }

  *listExecutions(): Iterable<ExecutionRecord> {
    for (const { value } of this.executions.getRange(this.scan(allKeys()))) yield value;
  }

  deleteExecution(id: string): void {
    this.dirty = true;
    this.write(this.executions, [id], REMOVE);
  }

  generation(): number {
    return this.counter("generation");
  }

  datasetsGeneration(collection: string): number {
    // Since a commit that kept no counters, nothing is known (NaN equals no number) until the next commit.
    if (this.counter(COUNTED_GENERATION) !== this.generation()) return Number.NaN;
    // Both counters only grow, and a commit that matters raises one: an equal sum means neither moved.
    return this.counter(SHARED_GENERATION) + this.counter(generationOf(collection));
  }

  /** A counter kept in `meta`; 0 when never raised. */
  private counter(name: string): number {
    return (this.meta.get(name, this.snapshot) as number | undefined) ?? 0;
  }

  getStamp(name: string): unknown {
    return this.read(this.stamps, [name]);
  }

  putStamp(name: string, value: unknown): void {
    this.write(this.stamps, [name], value);
  }

  stageBlob(digest: BlobDigest, bytes: Uint8Array): void {
    this.stagedBlobs.set(digest, bytes);
  }

  getBlob(digest: BlobDigest): Uint8Array | undefined {
    const key = encodeRegistryKey([digest]);
    if (this.snapshot.transaction !== undefined) return isStorableKey(key) ? this.blobs.get(key, this.snapshot) : undefined;
    return this.stagedBlobs.get(digest) ?? (isStorableKey(key) ? this.blobs.getBinary(key) : undefined);
  }

  hasBlob(digest: BlobDigest): boolean {
    if (this.stagedBlobs.has(digest) || this.blobsSeen.has(digest)) return true;
    const key = encodeRegistryKey([digest]);
    const found = isStorableKey(key) && (this.snapshot.transaction === undefined ? this.blobs.doesExist(key) : this.blobs.get(key, this.snapshot) !== undefined);
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
    this.write(this.blobs, [digest], REMOVE);
  }

  *listBlobs(): Iterable<BlobDigest> {
    for (const key of this.blobs.getKeys(this.scan(allKeys()))) yield decodeRegistryKey(key)[0] as BlobDigest;
  }

  /** Read in one read transaction: one consistent snapshot of every table, whatever commits meanwhile. */
  referencedDigests(options: { pastInputs?: boolean } = {}): Set<BlobDigest> {
    const out = new Set<BlobDigest>();
    const transaction = this.snapshot.transaction ?? this.env.useReadTransaction();
    try {
      for (const { value } of this.datasets.getRange({ ...allKeys(), transaction })) out.add(value[1].digest);
      for (const { value } of this.relations.getRange({ ...allKeys(), transaction })) out.add(value.digest);
      for (const { value } of this.actions.getRange({ ...allKeys(), transaction })) {
        for (const o of Object.values(value.outputs)) out.add(o.digest);
      }
      for (const { value } of this.executions.getRange({ ...allKeys(), transaction })) {
        if (options.pastInputs !== false) for (const i of value.inputs) out.add(i.digest);
        for (const o of value.outputs) out.add(o.digest);
      }
    } finally {
      if (transaction !== this.snapshot.transaction) transaction.done();
    }
    return out;
  }

  deleteAction(key: QuantumKey): void {
    this.dirty = true;
    this.write(this.actions, [key], REMOVE);
    this.deleteLastUse(key);
  }

  *listAllQuanta(): Iterable<{ collection: string; task: string; dataId: string; record: QuantumRecord }> {
    for (const { key, value } of this.quanta.getRange(this.scan(allKeys()))) {
      const [collection, task, dataId] = splitKey(key);
      yield { collection, task, dataId, record: value };
    }
  }

  deleteQuantum(collection: string, task: string, dataId: string): void {
    this.dirty = true;
    this.noteReplaced(collection, task, dataId, undefined);
    this.write(this.quanta, [collection, task, dataId], REMOVE);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The parts of a (collection, type or task, data ID key) key. */
function splitKey(key: Key): [string, string, string] {
  const parts = decodeRegistryKey(key);
  if (parts.length !== 3) throw new Error(`internal error: malformed registry key ${JSON.stringify(parts)}`);
  return parts as [string, string, string];
}

/** Opens the LMDB environment at `path`; one a writer cannot create (a full disk) is `writeFailure`. */
function openEnvironment(path: string, readOnly: boolean): RootDatabase {
  try {
    return open({ path, maxDbs: 16, readOnly, noMemInit: true, ...(readOnly ? {} : { mapSize: writerMapSize(path) }) });
  } catch (err) {
    throw !readOnly && isRefusedWrite(err) ? writeFailure(path, err) : err;
  }
}

/** The least address space a writer maps the registry with. */
const MIN_WRITER_MAP = 2 ** 30;

/**
 * The address space a writer maps the registry with: room for the registry to grow to twice its size,
 * and 1 GiB at least. Only address space: the file grows as it is written, and only the pages read or
 * written count toward the process's memory. A map that fills up is grown by lmdb-js, which keeps the
 * old map (and its pages in the process's resident set) until the registry is closed: from a small
 * first map, a cold build of 60,001 quanta peaked at 488 MB resident where one map gives 342 MB.
 */
function writerMapSize(path: string): number {
  const size = statSync(`${path}/data.mdb`, { throwIfNoEntry: false })?.size ?? 0;
  return Math.max(MIN_WRITER_MAP, Math.ceil((2 * size) / MIN_WRITER_MAP) * MIN_WRITER_MAP);
}
