/**
 * Ingest: turns the files named by a pipeline's `inputs:` section into datasets of the pipeline's input
 * collection (`raw/<pipeline name>`, see core/input-collection.ts; `raw` when none is given).
 *
 * One pass: walk each template's root directory once (collect-candidates.ts), stat every matching file,
 * and compare (size, mtimeMs, and for a file held by reference its ctime, inode and device too) with
 * the FileState remembered for its path (`isSameFile`). Only files whose state differs (or that are
 * new) are read: hashed, and, as the input's `transfer:` says, left where they are (`reference`, the
 * default: the file state, indexed under the digest, is all the repository keeps), hard-linked into
 * the blob store (`link`) or copied into it (`copy`). Files that vanished are
 * removed from the collection. All registry writes go into one commit, after every new blob is
 * durable, so the registry never references a missing blob.
 *
 * Where the bytes and the records go is the sink's business (`IngestSink`): `ingestInputs` stores the
 * bytes in the blob store and commits the records; a reader's preview (ingest-preview.ts) goes through
 * the very same walk, decisions and hashing, but only remembers the digests and records in memory.
 *
 * Racy files: a file modified within its file system's timestamp granularity of its stat could change
 * again without its mtime changing. Its FileState is stored with `mtimeMs: -1`, so the next ingest
 * re-hashes it (ingest-decisions.ts `isRacy`, which guesses the granularity file by file). Relation
 * files follow the same rule.
 */
import { readFileSync, statSync } from "node:fs";
import { hashFile } from "./ingest-preview.js";
import type { BlobDigest } from "../core/digest.js";
import type { DimensionUniverse } from "../core/dimensions.js";
import { UsageError } from "../core/errors.js";
import type { PathTemplate } from "../core/path-template.js";
import { parsePathTemplate } from "../core/path-template.js";
import type { EventBody, IngestCounts, IngestProblem } from "../core/events.js";
import { type FileInputSpec, type InputSpec, type InputTransfer, type RelationInputSpec } from "../core/pipeline.js";
import type { DatasetRecord, FileState, Registry } from "../store/registry.js";
import { readRelationFile } from "../store/relation-file.js";
import type { Repository } from "../store/repository.js";
import { canonicalJson } from "../core/canonical-json.js";
import { inputCollectionOf, relationKeyOf } from "../core/input-collection.js";
import { ingestUnchanged, lastWalk, misfitsStampName, vanishedStampName, writeIngestStamp, type WalkListing } from "./stamps.js";
import { addBlobs, shardBlobs, type ShardedBlobs } from "../store/sharded-blobs.js";
import { collectCandidates, findNonUtf8, MISFIT, type Candidate } from "./collect-candidates.js";
import { createTextHash } from "../store/hasher.js";
import { decideCandidates, hashFiles, isRacy, isSameFile, removeGone, storedState, type Decide, type Templates } from "./ingest-decisions.js";

export interface IngestOptions {
  inputs: readonly InputSpec[];
  dimensions: DimensionUniverse;
  repo: Repository;
  /** The collection ingested files go to (default `raw`). */
  collection?: string;
  /** How many files are hashed and copied at once (default 16). */
  concurrency?: number;
}

export type { IngestCounts, IngestProblem };

export interface RelationOutcome {
  name: string;
  rows: number;
  status: "added" | "changed" | "unchanged" | "failed";
}

export interface IngestReport extends IngestCounts {
  collection: string;
  byType: Record<string, IngestCounts>;
  relations: RelationOutcome[];
  /** Files that did not fit, could not be read, or duplicated a data ID; ingest went on without them. */
  problems: IngestProblem[];
  /** Regular files found under the template roots. */
  filesSeen: number;
  /** Files whose contents were read (new, changed or racy). */
  filesHashed: number;
  bytesHashed: number;
  /** What the user may want to know, not problems (a `link` input copied: no hard links there). */
  notes: string[];
  /** The files of the datasets whose content changed (`changed`), in walk order. */
  changedPaths: string[];
}


const DEFAULT_CONCURRENCY = 16;

/** A problem as a warning line: `warning: FILE[:LINE]: MESSAGE`. */
export function formatIngestProblem(p: IngestProblem): string {
  return `warning: ${p.file}${p.line === undefined ? "" : `:${p.line}`}: ${p.message}\n`;
}

/** The registry writes an ingest makes. */
export type IngestRecords = Pick<
  Registry,
  "putDimensions" | "putDatasetType" | "putDataset" | "deleteDataset" | "putFileState" | "deleteFileState" | "putRelation" | "putStamp"
>;

/**
 * In the ingest's commit: when it removed datasets or changed a relation, quanta run on the collection's
 * inputs may have lost theirs; the next run of the whole pipeline looks for them (run-session.ts).
 */
export function noteVanishedInputs(sink: IngestSink, collection: string, report: IngestReport): void {
  if (sink.commits && (report.removed > 0 || report.relations.some((r) => r.status === "changed"))) sink.records.putStamp(vanishedStampName(collection), true);
}

/**
 * The ingest's one commit, after every blob taken: the dimensions and the input types, `writes`, and
 * the note of vanished inputs.
 */
export async function applyIngest(
  sink: IngestSink,
  options: { dimensions: DimensionUniverse; fileSpecs: readonly FileInputSpec[]; collection: string; report: IngestReport },
  writes: ReadonlyArray<() => void>,
): Promise<void> {
  await sink.apply(() => {
    sink.records.putDimensions(options.dimensions);
    for (const spec of options.fileSpecs) sink.records.putDatasetType({ name: spec.type, dimensions: [...spec.dimensions], storage: spec.storage });
    for (const write of writes) write();
    noteVanishedInputs(sink, options.collection, options.report);
  });
}

/**
 * Where an ingest puts what it reads. The ingest asks the sink for the digest of every file and relation
 * it must read (the same digest, whatever the sink), hands it its registry writes, and stamps its walk
 * only when the sink `commits`.
 */
export interface IngestSink {
  /** Whether the writes reach the repository (then the walk may be stamped for the next ingest). */
  readonly commits: boolean;
  /**
   * The digest and size of a small file's bytes (read with one synchronous call), held as `transfer`
   * says; `linked` false when a `link` could not be made and the bytes were copied instead.
   */
  takeFileSync(path: string, transfer: InputTransfer): { digest: BlobDigest; size: number; linked?: boolean };
  /** The digest and size of a file's bytes, read in chunks when large. */
  takeFile(path: string, transfer: InputTransfer): Promise<{ digest: BlobDigest; size: number; linked?: boolean }>;
  /** The digest of bytes already read (a relation file's). */
  takeBytes(bytes: Uint8Array): Promise<BlobDigest>;
  /** What `writes` write to. */
  readonly records: IngestRecords;
  /** Runs `writes`: all of them or none reach the records, after every blob taken so far. */
  apply(writes: () => void): Promise<void>;
}

/** The sink of `quanta ingest` and of the writers' planning: the blob store, then one registry commit. */
export function repositorySink(repo: Repository): IngestSink {
  return {
    commits: true,
    takeFileSync(path, transfer) {
      if (transfer === "copy") return repo.blobs.putFileSync(path);
      const bytes = readFileSync(path);
      const digest = repo.hasher.hashBytes(bytes);
      return { digest, size: bytes.length, ...(transfer === "link" ? { linked: linkOrCopy(repo, path, digest, bytes) } : {}) };
    },
    async takeFile(path, transfer) {
      if (transfer === "copy") return repo.blobs.putFile(path);
      const { digest, size } = await hashFile(repo.hasher, path);
      if (transfer === "link" && !repo.blobs.linkFileSync(path, digest)) return { ...(await repo.blobs.putFile(path)), linked: false };
      return { digest, size, ...(transfer === "link" ? { linked: true } : {}) };
    },
    takeBytes: (bytes) => repo.blobs.put(bytes),
    records: repo.registry,
    async apply(writes) {
      // Blobs first, durable under their names; then the records that reference them, in one transaction.
      repo.blobs.flush();
      await repo.registry.commit(writes);
    },
  };
}

/** A hard link to the file as the blob `digest`, or, where the file system refuses one, a copy of `bytes`: false then. */
function linkOrCopy(repo: Repository, path: string, digest: BlobDigest, bytes: Uint8Array): boolean {
  if (repo.blobs.linkFileSync(path, digest)) return true;
  repo.blobs.stage(digest, bytes);
  return false;
}

/** Ingests the pipeline's input files and relations into the repository (which must be writable). */
export async function ingestInputs(options: IngestOptions): Promise<IngestReport> {
  if (!options.repo.writable) throw new Error("internal error: ingest into a repository opened for reading");
  return ingestInto(options, repositorySink(options.repo));
}

/**
 * The ingest itself: reads from `options.repo` (what it remembers of each file, the collection's
 * datasets), decides, and writes through `sink` alone.
 */
export async function ingestInto(options: IngestOptions, sink: IngestSink): Promise<IngestReport> {
  const { repo, dimensions } = options;
  const collection = options.collection ?? "raw";
  const registry = repo.registry;
  const records = sink.records;
  checkDimensions(dimensions, registry.getDimensions(), repo.root);
  const fileSpecs = options.inputs.filter((s): s is FileInputSpec => s.kind === "files");
  const relationSpecs = options.inputs.filter((s): s is RelationInputSpec => s.kind === "relation");
  const templates = fileSpecs.map((spec) => ({ spec, template: parseTemplate(spec, dimensions) }));

  const report: IngestReport = {
    collection,
    added: 0,
    changed: 0,
    unchanged: 0,
    removed: 0,
    byType: Object.fromEntries(fileSpecs.map((s) => [s.type, { added: 0, changed: 0, unchanged: 0, removed: 0 }])),
    relations: [],
    problems: [],
    filesSeen: 0,
    filesHashed: 0,
    bytesHashed: 0,
    notes: [],
    changedPaths: [],
  };

  const walkStart = Date.now();
  let candidates = await collectCandidates(templates, report);
  const misfits = quietKnownMisfits(registry, collection, report);
  const stampMisfits = (writes: Array<() => void>) => {
    if (misfits !== undefined && sink.commits) writes.push(() => records.putStamp(misfitsStampName(collection), misfits));
  };
  const walk = describeWalk(repo, dimensions, fileSpecs, candidates);
  if (await ingestUnchanged(repo, collection, walk.digest)) {
    // The same files, sizes and mtimes as the last complete ingest, and nothing written since to the
    // collection's datasets or to what they depend on (Registry.datasetsGeneration).
    for (const c of candidates) {
      report.byType[c.spec.type]!.unchanged++;
      report.unchanged++;
    }
    const writes: Array<() => void> = [];
    for (const spec of relationSpecs) writes.push(...(await ingestRelation(spec, { ...options, sink }, report, walkStart)));
    stampMisfits(writes);
    if (writes.length > 0) {
      await sink.apply(() => {
        for (const write of writes) write();
        noteVanishedInputs(sink, collection, report);
      });
    }
    return report;
  }

  const last = lastWalk(repo, collection, walk.specs);
  if (last !== undefined) {
    const since = { ...options, collection, sink, report, templates, walk, walkStart };
    return ingestSinceLastWalk(candidates, last, since, async (writes) => {
      for (const spec of relationSpecs) writes.push(...(await ingestRelation(spec, { ...options, sink }, report, walkStart)));
      stampMisfits(writes);
    });
  }

  // Decide, per candidate, whether its contents must be read: the state of each, by its index in
  // `candidates` (arrays, not maps of paths: at 333,334 files those were a second of a first ingest).
  let states = new Array<FileState | undefined>(candidates.length).fill(undefined);
  let wasRead = new Uint8Array(candidates.length);
  const toHash: number[] = [];
  // Blobs found in the registry (most ingested files are small): the stamp need not ask again.
  const inRegistry = new Set<BlobDigest>();
  candidates.forEach((c, i) => {
    const state = registry.getFileState(c.path);
    if (state === undefined || !isSameFile(state, c)) {
      toHash.push(i);
      return;
    }
    // An unchanged file whose blob is gone (removed as damaged, or collected) is copied in again; a
    // file held by reference is its own bytes.
    if (state.transfer !== "reference") {
      if (repo.blobs.inRegistry(state.digest)) inRegistry.add(state.digest);
      else if (!repo.blobs.exists(state.digest)) {
        toHash.push(i);
        return;
      }
    }
    states[i] = state;
  });
  const notText = findNonUtf8(toHash.map((i) => candidates[i]!), report);
  const readable = notText.size > 0 ? toHash.filter((i) => !notText.has(candidates[i]!.path)) : toHash;
  const read = await hashFiles(readable.map((i) => candidates[i]!), sink, options.concurrency ?? DEFAULT_CONCURRENCY, report);
  readable.forEach((i, k) => {
    states[i] = read[k];
    wasRead[i] = read[k] === undefined ? 0 : 1;
  });
  if (notText.size > 0) {
    const kept = candidates.flatMap((c, i) => (notText.has(c.path) ? [] : [i]));
    candidates = kept.map((i) => candidates[i]!);
    states = kept.map((i) => states[i]);
    wasRead = Uint8Array.from(kept, (i) => wasRead[i]!);
  }
  oneStatePerFile(candidates, states, wasRead);

  // Compare with what the collection holds: one range scan per type (cheaper than a get per file).
  const existingByType = new Map<string, Map<string, DatasetRecord>>();
  for (const spec of fileSpecs) {
    const map = new Map<string, DatasetRecord>();
    for (const e of registry.listDatasets({ collection, type: spec.type })) map.set(e.key, e.record);
    existingByType.set(spec.type, map);
  }
  const writes: Array<() => void> = [];
  // The existing datasets a walked file still gives (the rest are gone); none to look for in a new collection.
  const keptKeys = new Map<string, Set<string>>(fileSpecs.map((s) => [s.type, new Set<string>()]));
  for (let i = 0; i < candidates.length; i++) {
    const c = candidates[i]!;
    const existingOfType = existingByType.get(c.spec.type)!;
    const existing = existingOfType.size === 0 ? undefined : existingOfType.get(c.key);
    if (existing !== undefined) keptKeys.get(c.spec.type)!.add(c.key);
    let state = states[i];
    if (state === undefined) continue; // unreadable: reported, and its old dataset is kept
    if (existing === undefined && wasRead[i] === 0 && state.transfer !== "reference" && !repo.blobs.has(state.digest)) {
      // A remembered file whose blob is gone (collected after the dataset was removed): copy it again.
      state = (await hashFiles([c], sink, 1, report))[0];
      if (state === undefined) continue;
      states[i] = state;
      wasRead[i] = 1;
    }
    const counts = report.byType[c.spec.type]!;
    const status = existing === undefined ? "added" : existing.digest === state.digest ? "unchanged" : "changed";
    counts[status]++;
    report[status]++;
    if (status === "changed") report.changedPaths.push(c.path);
    const record: DatasetRecord = {
      digest: state.digest,
      size: c.size,
      storage: c.spec.storage,
      producer: null,
      sourcePath: c.path,
    };
    if (status !== "unchanged" || existing!.sourcePath !== c.path || existing!.storage !== c.spec.storage) {
      writes.push(() => records.putDataset(collection, c.spec.type, c.dataId, record));
    }
    if (wasRead[i] === 1) {
      const stored = storedState(repo, state, c.path, walkStart);
      writes.push(() => records.putFileState(c.path, stored));
    }
  }

  // Datasets of these types whose file is gone.
  let walkedPaths: Set<string> | undefined;
  for (const spec of fileSpecs) {
    const kept = keptKeys.get(spec.type)!;
    for (const [key, record] of existingByType.get(spec.type)!) {
      if (kept.has(key)) continue;
      report.removed++;
      report.byType[spec.type]!.removed++;
      writes.push(() => records.deleteDataset(collection, spec.type, key));
      const source = record.sourcePath;
      walkedPaths ??= new Set(candidates.map((c) => c.path));
      // Not the state of a file still walked (its data ID or input changed with the specs): a new dataset holds it.
      if (source !== undefined && !walkedPaths.has(source)) writes.push(() => records.deleteFileState(source));
    }
  }

  for (const spec of relationSpecs) writes.push(...(await ingestRelation(spec, { ...options, sink }, report, walkStart)));
  stampMisfits(writes);

  await applyIngest(sink, { dimensions, fileSpecs, collection, report }, writes);
  // Stamp a listing that a later walk can trust: every file read or known, none racily new.
  if (sink.commits && notText.size === 0 && states.every((st) => st !== undefined) && candidates.every((c) => !isRacy(c.mtimeMs, walkStart))) {
    // Files held by reference have no blob to look for: their stat is in the listing.
    const held = states.filter((st) => st!.transfer !== "reference").map((st) => st!.digest);
    const fileBlobs = shardBlobs(held.filter((d) => !inRegistry.has(d) && !repo.blobs.inRegistry(d)));
    await writeIngestStamp(repo, collection, walk, fileBlobs);
  }
  return report;
}

/**
 * Gives a file that several inputs match (its candidates are adjacent, see collect-candidates.ts) one
 * state: the remembered one, when an input finds the file as it was, else the one read last. Inputs
 * that hold the file differently (another `transfer:`) would otherwise each write their own state in
 * the one commit, the index of references left with a stale entry, and the next ingest flip it back.
 */
function oneStatePerFile(candidates: readonly Candidate[], states: Array<FileState | undefined>, wasRead: Uint8Array): void {
  for (let start = 0, end = 1; start < candidates.length; start = end, end = start + 1) {
    while (end < candidates.length && candidates[end]!.path === candidates[start]!.path) end++;
    if (end - start === 1) continue;
    let chosen = -1;
    for (let i = start; i < end && chosen < 0; i++) if (states[i] !== undefined && wasRead[i] === 0) chosen = i;
    for (let i = end - 1; i >= start && chosen < 0; i--) if (states[i] !== undefined) chosen = i;
    if (chosen < 0) continue;
    for (let i = start; i < end; i++) {
      states[i] = states[chosen];
      wasRead[i] = wasRead[chosen]!;
    }
  }
}

/**
 * The walk as the ingest stamp lists it (stamps.ts WalkListing), with its digest: of the dimensions,
 * the input specs, and every matched file's input, path, size, mtime, ctime, inode and device. Listing
 * format 2: the text `listing 2`, the file count, the dimensions and specs as canonical JSON, then per
 * file its input type and path, each after a NUL (which no path holds), then the digest of the stat
 * numbers: five 64-bit floats per file, in the files' order. A file's data ID is not written: its path
 * and its template (in the specs) give it. A stamp of another format never equals it, so the first
 * ingest after a change of format reads every file state once.
 */
function describeWalk(repo: Repository, dimensions: DimensionUniverse, specs: readonly FileInputSpec[], candidates: readonly Candidate[]): WalkListing {
  // Numbers are hashed as their bytes: printing two floats per file as decimal text was most of the
  // cost of a listing. The text is hashed as it is written: 333,334 files make a listing of tens of
  // MB, which joined into one string was a tenth of a re-ingest's time.
  const hash = createTextHash(repo.hasher);
  const specsText = canonicalJson({ dimensions, specs });
  hash.add(`listing 2\0${candidates.length}\0${specsText}`);
  const files: string[] = new Array(candidates.length);
  const numbers = new Float64Array(candidates.length * 5);
  for (let i = 0, at = 0; i < candidates.length; i++, at += 5) {
    const c = candidates[i]!;
    files[i] = `${c.spec.type}\0${c.path}`;
    hash.add(`\0${files[i]}`);
    numbers[at] = c.size;
    numbers[at + 1] = c.mtimeMs;
    numbers[at + 2] = c.ctimeMs;
    numbers[at + 3] = c.ino;
    numbers[at + 4] = c.dev;
  }
  hash.add(`\0${repo.hasher.hashBytes(new Uint8Array(numbers.buffer))}`);
  return { digest: hash.digest(), specs: specsText, files, numbers };
}

interface SinceLastWalk extends IngestOptions {
  collection: string;
  sink: IngestSink;
  report: IngestReport;
  templates: Templates;
  /** This walk: its candidates' entries and numbers, in their order. */
  walk: WalkListing;
  /** When this walk started (what `isRacy` measures from). */
  walkStart: number;
}

/**
 * The ingest of a walk whose list differs from the one the ingest stamp lists, while that stamp holds
 * (stamps.ts `lastWalk`): the collection's datasets are as that walk left them. A file whose entry
 * (input, path and the five stat numbers) is in the last walk's list is as that walk found it, and so
 * is its dataset: it is counted unchanged without reading its state or its dataset. The others (new,
 * or with another stat) and the entries gone from the list are decided as an ingest of those paths
 * decides them (ingest-decisions.ts), but input by input, and keeping the state of every file this
 * walk finds (`Decide.stillWalked`), as the walk of every file does: the walk settled which file holds
 * a data ID two files give, and a file that lost it is gone from the list for that input alone.
 * `more` adds the relations' and the misfits' writes. The list is stamped as the full walk stamps
 * it, with the blob files of both walks.
 */
async function ingestSinceLastWalk(
  candidates: readonly Candidate[],
  last: { walk: WalkListing; fileBlobs: ShardedBlobs },
  opts: SinceLastWalk,
  more: (writes: Array<() => void>) => Promise<void>,
): Promise<IngestReport> {
  const { repo, sink, report, walk, collection } = opts;
  const lastFiles = last.walk.files;
  // Both walks list their files in one order: where no file came or went, each is at its own place in
  // the last walk's list, and none is looked up by path (a map of 100,000 paths, most of this step).
  let byEntry: Map<string, number> | undefined;
  const lastIndexOf = (entry: string, i: number): number | undefined => {
    if (lastFiles[i] === entry) return i;
    if (byEntry === undefined) {
      byEntry = new Map();
      lastFiles.forEach((e, k) => byEntry!.set(e, k));
    }
    return byEntry.get(entry);
  };
  const seen = new Uint8Array(lastFiles.length);
  const looked: Candidate[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const at = lastIndexOf(walk.files[i]!, i);
    if (at !== undefined) {
      seen[at] = 1;
      if (sameNumbers(walk.numbers, i, last.walk.numbers, at)) {
        report.byType[candidates[i]!.spec.type]!.unchanged++;
        report.unchanged++;
        continue;
      }
    }
    looked.push(candidates[i]!);
  }
  // Per path gone from the list, the inputs whose entry went (the path may still be another input's).
  const gone = new Map<string, Set<string>>();
  lastFiles.forEach((entry, i) => {
    if (seen[i] !== 0) return;
    const cut = entry.indexOf("\0");
    const path = entry.slice(cut + 1);
    let types = gone.get(path);
    if (types === undefined) gone.set(path, (types = new Set()));
    types.add(entry.slice(0, cut));
  });

  const stillWalked = new Set(candidates.map((c) => c.path));
  const decide: Decide & { walkStart: number } = { ...opts, removedKeys: new Set(), boundKeys: new Set(), stillWalked };
  const { writes, states } = await decideCandidates(looked, decide);
  for (const [path, types] of gone) writes.push(...removeGone(path, opts.templates, decide, types));
  await more(writes);
  await applyIngest(sink, { dimensions: opts.dimensions, fileSpecs: opts.templates.map((t) => t.spec), collection, report }, writes);
  const readable = looked.every((c) => states.has(c.path));
  if (sink.commits && readable && candidates.every((c) => !isRacy(c.mtimeMs, opts.walkStart))) {
    const held = [...states.values()].filter((st) => st.transfer !== "reference" && !repo.blobs.inRegistry(st.digest)).map((st) => st.digest);
    await writeIngestStamp(repo, collection, walk, addBlobs(last.fileBlobs, held));
  }
  return report;
}

/** Whether the five stat numbers of file `i` of `a` are those of file `j` of `b`. */
function sameNumbers(a: Float64Array, i: number, b: Float64Array, j: number): boolean {
  for (let k = 0; k < 5; k++) if (!Object.is(a[5 * i + k], b[5 * j + k])) return false;
  return true;
}

export function checkDimensions(pipeline: DimensionUniverse, recorded: DimensionUniverse, root: string): void {
  for (const [name, type] of Object.entries(pipeline)) {
    const before = recorded[name];
    if (before !== undefined && before !== type) {
      throw new UsageError(
        `dimension '${name}' is declared ${type}, but repository ${root} holds it as ${before}`,
        `declare '${name}: ${before}', or use another --repo`,
      );
    }
  }
}

export function parseTemplate(spec: FileInputSpec, dimensions: DimensionUniverse): PathTemplate {
  const parsed = parsePathTemplate(spec.path, dimensions);
  if (!parsed.ok) throw new UsageError(`input '${spec.type}': ${parsed.message}`);
  return parsed.template;
}

/**
 * Drops from the report the files that fit no template which the collection's last ingest found too:
 * such a file is warned about by the first ingest that finds it, not by every one (a folder of sources
 * holds a Makefile and a README; `exclude:` silences them for good). Returns the list to stamp when
 * it differs from the last one.
 */
function quietKnownMisfits(registry: Registry, collection: string, report: IngestReport): string[] | undefined {
  const isMisfit = (p: IngestProblem) => p.line === undefined && p.message.startsWith(MISFIT);
  const found = report.problems.filter(isMisfit).map((p) => p.file).sort();
  const stamped = registry.getStamp(misfitsStampName(collection));
  const known = new Set(Array.isArray(stamped) ? (stamped as string[]) : []);
  report.problems = report.problems.filter((p) => !(isMisfit(p) && known.has(p.file)));
  const same = found.length === known.size && found.every((f) => known.has(f));
  return same ? undefined : found;
}

export async function ingestRelation(
  spec: RelationInputSpec,
  options: IngestOptions & { sink: IngestSink },
  report: IngestReport,
  walkStart: number,
): Promise<Array<() => void>> {
  const { repo } = options;
  const registry = repo.registry;
  const relationKey = relationKeyOf(options.collection ?? "raw", spec.type);
  const st = statSync(spec.path, { throwIfNoEntry: false });
  if (st === undefined) {
    report.problems.push({ file: spec.path, message: `relation '${spec.type}': file does not exist` });
    report.relations.push({ name: spec.type, rows: 0, status: "failed" });
    return [];
  }
  const before = registry.getRelation(relationKey);
  const state = registry.getFileState(spec.path);
  const sameDims = before !== undefined && before.dimensions.join(",") === spec.dimensions.join(",");
  // An unchanged file whose blob is gone (set aside as corrupt, or deleted) is read and copied in again.
  // Its inode is compared as an input file's is (isSameFile): a relation file replaced by another of
  // the same size and mtime has another; states written before inodes were kept have none.
  const sameFile = state?.size === st.size && state.mtimeMs === st.mtimeMs && (state.ino === undefined || state.ino === st.ino);
  const unchanged = sameDims && sameFile && before!.digest === state!.digest;
  if (unchanged && repo.blobs.has(before!.digest)) {
    report.relations.push({ name: spec.type, rows: before!.rows.length, status: "unchanged" });
    return [];
  }
  const { bytes, result } = await readRelationFile({
    file: spec.path,
    dimensions: spec.dimensions,
    universe: options.dimensions,
  });
  report.filesHashed++;
  report.bytesHashed += bytes.length;
  if (!result.ok) {
    report.problems.push(...result.problems);
    report.relations.push({ name: spec.type, rows: 0, status: "failed" });
    return [];
  }
  const digest: BlobDigest = await options.sink.takeBytes(bytes);
  const status = before === undefined ? "added" : before.digest === digest && sameDims ? "unchanged" : "changed";
  report.relations.push({ name: spec.type, rows: result.rows.length, status });
  const fileState: FileState = { size: bytes.length, mtimeMs: isRacy(st.mtimeMs, walkStart) ? -1 : st.mtimeMs, digest, ino: st.ino };
  return [
    () => options.sink.records.putRelation({ name: relationKey, dimensions: [...spec.dimensions], rows: result.rows, digest }),
    () => options.sink.records.putFileState(spec.path, fileState),
  ];
}

/** The events that report an ingest: one `ingest-problem` per problem, then `ingest-finished`. */
export function describeIngest(report: IngestReport, durationMs: number): EventBody[] {
  const { added, changed, unchanged, removed, collection, byType, relations, filesSeen, filesHashed, bytesHashed } = report;
  return [
    ...report.problems.map((p): EventBody => ({ event: "ingest-problem", ...p })),
    {
      event: "ingest-finished",
      ...{ added, changed, unchanged, removed, errors: report.problems.length, collection, byType, relations },
      ...{ filesSeen, filesHashed, bytesHashed, durationMs: Math.round(durationMs) },
    },
  ];
}

export interface RunIngestOptions {
  repoRoot: string;
  pipelineFile: string;
  fsync: boolean;
  json: boolean;
  quiet: boolean;
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * `quanta ingest PIPELINE`: takes the writer lock, ingests, and prints the counts (and, with `--json`,
 * one `ingest-problem` event per problem and a final `ingest-finished` event). Problems are warnings:
 * the exit code is 0 as long as the repository could be written.
 */
export async function runIngest(options: RunIngestOptions): Promise<number> {
  const { loadPipeline } = await import("./load-pipeline.js");
  const { openRepository } = await import("../store/repository.js");
  const { pipeline } = await loadPipeline(options.pipelineFile);
  const repo = await openRepository(options.repoRoot, {
    write: true,
    command: "quanta ingest",
    fsync: options.fsync,
    onNote: (note) => options.err(note + "\n"),
  });
  const started = performance.now();
  let report: IngestReport;
  try {
    report = await ingestInputs({ inputs: pipeline.inputs, dimensions: pipeline.dimensions, repo, collection: inputCollectionOf(pipeline.name) });
  } finally {
    await repo.close();
  }
  const seconds = (performance.now() - started) / 1000;
  if (options.json) {
    const { printJsonEvents } = await import("../ui/json-reporter.js");
    printJsonEvents(options.out, describeIngest(report, seconds * 1000));
    return 0;
  }
  for (const p of report.problems) options.err(formatIngestProblem(p));
  for (const n of report.notes) options.err(`note: ${n}\n`);
  const total = report.added + report.changed + report.unchanged;
  let line =
    `ingested ${total} dataset${total === 1 ? "" : "s"} into ${report.collection}: ` +
    `${report.added} added, ${report.changed} changed, ${report.unchanged} unchanged, ${report.removed} removed`;
  if (report.relations.length > 0) {
    line += `; relations: ${report.relations.map((r) => `${r.name} (${r.rows} rows, ${r.status})`).join(", ")}`;
  }
  if (report.problems.length > 0) line += `; ${report.problems.length} problem${report.problems.length === 1 ? "" : "s"} (see above)`;
  options.out(`${line} [${seconds.toFixed(2)} s, ${report.filesHashed} files read]\n`);
  return 0;
}
