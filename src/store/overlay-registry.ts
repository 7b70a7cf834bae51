/**
 * A registry as it would be after some writes that are never committed: what a reader plans over.
 * Reads see `base` (one snapshot of the repository's registry; none for a repository that does not
 * exist yet, which reads as empty) with the writes made to this overlay applied on top, in memory.
 *
 * Only the writes an ingest makes are kept (dimensions, dataset types, datasets, file states,
 * relations: see app/ingest-preview.ts); every other write, and `commit`, is an internal error: a
 * reader never writes the repository. Listings come out in the registry's own order (registry-key.ts),
 * whatever was overlaid, so a graph built over an overlay is the graph built after the real ingest.
 */
import type { DataId } from "../core/data-id.js";
import { encodeDataId } from "../core/data-id.js";
import type { BlobDigest, QuantumKey } from "../core/digest.js";
import type { DimensionUniverse } from "../core/dimensions.js";
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
import { encodeRegistryKey } from "./registry-key.js";

/** An overlaid dataset: its entry, or null where it was deleted. */
type DatasetChange = DatasetEntry | null;

export class OverlayRegistry implements Registry {
  private readonly dimensions: Record<string, DimensionUniverse[string]> = {};
  private readonly datasetTypes = new Map<string, DatasetTypeRecord>();
  private readonly relations = new Map<string, RelationRecord | null>();
  /** By (collection, type), then by data ID key. */
  private readonly datasets = new Map<string, OverlaidType>();
  private readonly fileStates = new Map<string, FileState | null>();

  /** `base`: the registry read from; absent for a repository that does not exist yet. */
  constructor(
    readonly root: string,
    private readonly base?: Registry,
  ) {}

  /** The base is the repository's to close. */
  async close(): Promise<void> {}

  commit(): Promise<void> {
    return Promise.reject(readOnly("commit"));
  }

  async flush(): Promise<void> {}

  putDimensions(universe: DimensionUniverse): void {
    Object.assign(this.dimensions, universe);
  }

  getDimensions(): DimensionUniverse {
    return { ...this.base?.getDimensions(), ...this.dimensions };
  }

  putDatasetType(rec: DatasetTypeRecord): void {
    this.datasetTypes.set(rec.name, rec);
  }

  getDatasetType(name: string): DatasetTypeRecord | undefined {
    return this.datasetTypes.get(name) ?? this.base?.getDatasetType(name);
  }

  listDatasetTypes(): DatasetTypeRecord[] {
    const byName = new Map((this.base?.listDatasetTypes() ?? []).map((t) => [t.name, t]));
    for (const [name, rec] of this.datasetTypes) byName.set(name, rec);
    return inKeyOrder([...byName.values()], (t) => [t.name]);
  }

  putRelation(rec: RelationRecord): void {
    this.relations.set(rec.name, rec);
  }

  getRelation(name: string): RelationRecord | undefined {
    const change = this.relations.get(name);
    return change === undefined ? this.base?.getRelation(name) : (change ?? undefined);
  }

  deleteRelation(name: string): void {
    this.relations.set(name, null);
  }

  listRelations(): RelationRecord[] {
    const byName = new Map((this.base?.listRelations() ?? []).map((r) => [r.name, r]));
    for (const [name, rec] of this.relations) {
      if (rec === null) byName.delete(name);
      else byName.set(name, rec);
    }
    return inKeyOrder([...byName.values()], (r) => [r.name]);
  }

  putDataset(collection: string, type: string, dataId: DataId, record: DatasetRecord): void {
    const key = encodeDataId(dataId);
    this.changesOf(collection, type).set(key, { collection, type, dataId, key, record });
  }

  getDataset(collection: string, type: string, key: string): DatasetRecord | undefined {
    const change = this.datasets.get(typeId(collection, type))?.changes.get(key);
    return change === undefined ? this.base?.getDataset(collection, type, key) : change?.record;
  }

  deleteDataset(collection: string, type: string, key: string): void {
    this.changesOf(collection, type).set(key, null);
  }

  *listDatasets(filter: { collection?: string; type?: string } = {}): Iterable<DatasetEntry> {
    const overlaid = [...this.datasets.values()].filter((t) => matches(t, filter));
    if (overlaid.length === 0) {
      if (this.base) yield* this.base.listDatasets(filter);
      return;
    }
    const out: DatasetEntry[] = [];
    for (const entry of this.base?.listDatasets(filter) ?? []) {
      if (this.datasets.get(typeId(entry.collection, entry.type))?.changes.has(entry.key) !== true) out.push(entry);
    }
    for (const t of overlaid) for (const change of t.changes.values()) if (change !== null) out.push(change);
    yield* inKeyOrder(out, (e) => [e.collection, e.type, e.key]);
  }

  listCollections(): string[] {
    const candidates = new Set(this.base?.listCollections() ?? []);
    for (const t of this.datasets.values()) candidates.add(t.collection);
    const out: string[] = [];
    for (const collection of candidates) {
      for (const _ of this.listDatasets({ collection })) {
        out.push(collection);
        break;
      }
    }
    return inKeyOrder(out, (c) => [c]);
  }

  getFileState(path: string): FileState | undefined {
    const change = this.fileStates.get(path);
    return change === undefined ? this.base?.getFileState(path) : (change ?? undefined);
  }

  putFileState(path: string, state: FileState): void {
    this.fileStates.set(path, state);
  }

  deleteFileState(path: string): void {
    this.fileStates.set(path, null);
  }

  /** The base's references, less those whose path this overlay changed, plus the overlay's own. */
  listReferences(digest: BlobDigest): string[] {
    const out = (this.base?.listReferences(digest) ?? []).filter((path) => !this.fileStates.has(path));
    for (const [path, state] of this.fileStates) if (state?.transfer === "reference" && state.digest === digest) out.push(path);
    return out;
  }

  getAction(key: ActionRecord["key"]): ActionRecord | undefined {
    return this.base?.getAction(key);
  }

  listActions(): Iterable<ActionRecord> {
    return this.base?.listActions() ?? [];
  }

  putAction(): void {
    throw readOnly("putAction");
  }

  getQuantum(collection: string, task: string, dataId: string): QuantumRecord | undefined {
    return this.base?.getQuantum(collection, task, dataId);
  }

  putQuantum(): void {
    throw readOnly("putQuantum");
  }

  listQuanta(collection: string, task?: string): Iterable<{ task: string; dataId: string; record: QuantumRecord }> {
    return this.base?.listQuanta(collection, task) ?? [];
  }

  putExecution(): void {
    throw readOnly("putExecution");
  }

  getExecution(id: string): ExecutionRecord | undefined {
    return this.base?.getExecution(id);
  }

  listExecutions(): Iterable<ExecutionRecord> {
    return this.base?.listExecutions() ?? [];
  }

  deleteExecution(): void {
    throw readOnly("deleteExecution");
  }

  lastUses(): Map<QuantumKey, number> {
    return this.base?.lastUses() ?? new Map();
  }

  deleteLastUse(): void {
    throw readOnly("deleteLastUse");
  }

  stageBlob(): void {
    throw readOnly("stageBlob");
  }

  getBlob(digest: BlobDigest): Uint8Array | undefined {
    return this.base?.getBlob(digest);
  }

  hasBlob(digest: BlobDigest): boolean {
    return this.base?.hasBlob(digest) ?? false;
  }

  deleteBlob(): void {
    throw readOnly("deleteBlob");
  }

  listBlobs(): Iterable<BlobDigest> {
    return this.base?.listBlobs() ?? [];
  }

  generation(): number {
    return this.base?.generation() ?? 0;
  }

  datasetsGeneration(collection: string): number {
    return this.base?.datasetsGeneration(collection) ?? 0;
  }

  getStamp(name: string): unknown {
    return this.base?.getStamp(name);
  }

  putStamp(): void {
    throw readOnly("putStamp");
  }

  referencedDigests(options: { pastInputs?: boolean } = {}): Set<BlobDigest> {
    const out = this.base?.referencedDigests(options) ?? new Set<BlobDigest>();
    for (const t of this.datasets.values()) for (const change of t.changes.values()) if (change !== null) out.add(change.record.digest);
    for (const rec of this.relations.values()) if (rec !== null) out.add(rec.digest);
    return out;
  }

  deleteAction(): void {
    throw readOnly("deleteAction");
  }

  listAllQuanta(): Iterable<{ collection: string; task: string; dataId: string; record: QuantumRecord }> {
    return this.base?.listAllQuanta() ?? [];
  }

  deleteQuantum(): void {
    throw readOnly("deleteQuantum");
  }

  private changesOf(collection: string, type: string): Map<string, DatasetChange> {
    const id = typeId(collection, type);
    let overlaid = this.datasets.get(id);
    if (overlaid === undefined) this.datasets.set(id, (overlaid = { collection, type, changes: new Map() }));
    return overlaid.changes;
  }
}

interface OverlaidType {
  collection: string;
  type: string;
  changes: Map<string, DatasetChange>;
}

/** A map key for (collection, type): the JSON of the pair, which no two pairs share. */
const typeId = (collection: string, type: string) => JSON.stringify([collection, type]);

function matches(t: OverlaidType, filter: { collection?: string; type?: string }): boolean {
  return (filter.collection === undefined || filter.collection === t.collection) && (filter.type === undefined || filter.type === t.type);
}

/** `items` sorted as the registry keys of `parts` sort (registry-key.ts). */
function inKeyOrder<T>(items: T[], parts: (item: T) => string[]): T[] {
  const keyed = items.map((item) => ({ item, key: encodeRegistryKey(parts(item)) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((k) => k.item);
}

function readOnly(what: string): Error {
  return new Error(`internal error: ${what} on a reader's registry (readers never write the repository)`);
}
