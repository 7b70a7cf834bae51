/**
 * How an ingest decides what the files it looks at make of their datasets, shared by the walk of every
 * input file (ingest.ts) and the ingest of given paths (ingest-changed-paths.ts): whether a file is as
 * its remembered state says, reading and hashing the ones that are not, and the registry writes for
 * files found, changed or gone.
 */
import { basename, dirname, relative, resolve } from "node:path";
import { encodeDataId } from "../core/data-id.js";
import { RepositoryError } from "../core/errors.js";
import type { PathTemplate } from "../core/path-template.js";
import { transferOf, type FileInputSpec } from "../core/pipeline.js";
import type { DatasetRecord, FileState } from "../store/registry.js";
import type { Repository } from "../store/repository.js";
import { findNonUtf8, isInside, matchInputFile, type Candidate } from "./collect-candidates.js";
import type { IngestOptions, IngestReport, IngestSink } from "./ingest.js";
import { hashesInParallel, hashFilesInParallel } from "./parallel-hash.js";

export type Templates = readonly { spec: FileInputSpec; template: PathTemplate }[];

/** Files up to this size are read with one synchronous call: cheaper than open/stat/read/close in libuv's pool. */
const SYNC_READ_MAX_BYTES = 256 * 1024;

/**
 * Whether a file is as its remembered state says: the same size, mtime and inode (two files of one
 * size and mtime swapped by `mv`, as after `tar x` or `cp -p`, trade inodes), and, held by reference
 * (where a reader trusts the stat, see store/referenced-inputs.ts), also the same ctime and device: an
 * edit that kept the size and set the mtime back still changes the ctime. (A copy or link does not
 * compare the ctime: linking a file into the blob store changes it.) A state written before inodes
 * were kept for copies has none, and is compared without. A file whose input now asks for another
 * `transfer:` is read again.
 */
export function isSameFile(state: FileState, c: Candidate): boolean {
  const transfer = transferOf(c.spec);
  if (state.size !== c.size || state.mtimeMs !== c.mtimeMs || (state.transfer ?? "copy") !== transfer) return false;
  if (transfer === "reference") return state.ctimeMs === c.ctimeMs && state.ino === c.ino && state.dev === c.dev;
  return state.ino === undefined || state.ino === c.ino;
}

/**
 * Whether a file's stat, taken by a walk that started at `walkStart`, could miss a later edit: its
 * mtime lies within its file system's timestamp granularity of the walk, so an edit made after the
 * stat could leave the mtime as it is. The granularity is guessed file by file (one walk can span
 * file systems): an mtime in whole seconds is taken for a coarse file system's (ext3, HFS+: 1 s; FAT:
 * 2 s), any other for the kernel's coarse clock (a few ms). A racy file's state is stored with mtime
 * -1, so that the next ingest reads it again (as git does with "racily clean" index entries).
 */
export function isRacy(mtimeMs: number, walkStart: number): boolean {
  return mtimeMs >= walkStart - (mtimeMs % 1000 === 0 ? 2000 : 50);
}

/**
 * Hashes files through the sink (which copies them into the blob store when it commits), `concurrency`
 * at a time; many files held by reference (only hashed) on several threads (parallel-hash.ts). Returns
 * each file's state, by its index in `files`: undefined for a file that could not be read, a problem
 * of the report. A failed write to the repository (a RepositoryError from the blob store) stops the
 * ingest.
 */
export async function hashFiles(
  files: readonly Candidate[],
  sink: IngestSink,
  concurrency: number,
  report: IngestReport,
): Promise<Array<FileState | undefined>> {
  // By index in `files`, not by path: a Map of 333,334 paths was a tenth of a first ingest's time.
  const out = new Array<FileState | undefined>(files.length).fill(undefined);
  // Files held by reference are only hashed: many of them are hashed on several threads at once.
  let left = files.map((_, i) => i);
  const referenced = left.filter((i) => transferOf(files[i]!.spec) === "reference");
  if (hashesInParallel(referenced.length)) {
    const answers = await hashFilesInParallel(referenced.map((i) => files[i]!.path));
    referenced.forEach((i, k) => {
      const c = files[i]!;
      const answer = answers[k]!;
      if ("error" in answer) {
        report.problems.push({ file: c.path, message: `cannot read: ${answer.error}` });
        return;
      }
      out[i] = { digest: answer.digest, size: answer.size, mtimeMs: c.mtimeMs, transfer: "reference", ctimeMs: c.ctimeMs, ino: c.ino, dev: c.dev };
      report.filesHashed++;
      report.bytesHashed += answer.size;
      c.size = answer.size;
    });
    left = left.filter((i) => transferOf(files[i]!.spec) !== "reference");
  }
  let next = 0;
  let yieldedAt = Date.now();
  let sinceYield = 0;
  let writeFailed: RepositoryError | undefined;
  const worker = async () => {
    while (next < left.length && writeFailed === undefined) {
      const at = left[next++]!;
      const c = files[at]!;
      if (++sinceYield >= 64 || Date.now() - yieldedAt > 20) {
        // Synchronous reads never wait: let timers and signals in now and then.
        await new Promise((resolve) => setImmediate(resolve));
        yieldedAt = Date.now();
        sinceYield = 0;
      }
      try {
        const transfer = transferOf(c.spec);
        const { digest, size, linked } = c.size <= SYNC_READ_MAX_BYTES ? sink.takeFileSync(c.path, transfer) : await sink.takeFile(c.path, transfer);
        const held = transfer === "reference" ? { transfer, ctimeMs: c.ctimeMs, ino: c.ino, dev: c.dev } : { transfer, ino: c.ino };
        out[at] = { digest, size, mtimeMs: c.mtimeMs, ...held };
        if (linked === false) noteCopiedLink(report, c);
        report.filesHashed++;
        report.bytesHashed += size;
        // A file that changed between its stat and its read: keep the size actually stored.
        c.size = size;
      } catch (err) {
        // Writing the repository failed (a full disk): the whole ingest stops, never a partial set.
        if (err instanceof RepositoryError) {
          writeFailed ??= err;
          return;
        }
        report.problems.push({ file: c.path, message: `cannot read: ${(err as Error).message}` });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, left.length) }, worker));
  // Thrown once every worker has stopped, so nothing writes while the repository closes.
  if (writeFailed !== undefined) throw writeFailed;
  return out;
}

/**
 * The state to store for a file just read (`state`, as hashFiles made it): its mtime -1 when racy for
 * a walk that started at `walkStart` (`isRacy`), and, held by reference, its path relative to the
 * repository. Written out field by field, in the order hashFiles makes them (the order msgpack's
 * shared structures record): a spread of it was a tenth of a first ingest's time.
 */
export function storedState(repo: Repository, state: FileState, path: string, walkStart: number): FileState {
  const mtimeMs = isRacy(state.mtimeMs, walkStart) ? -1 : state.mtimeMs;
  if (state.transfer !== "reference") return { ...state, mtimeMs };
  const { digest, size, transfer, ctimeMs, ino, dev } = state;
  return { digest, size, mtimeMs, transfer, ctimeMs, ino, dev, ...relativeTo(repo, state, path) };
}

/** Per repository, directories' paths relative to it, as `relativeTo` found them: a walk meets each directory many times. */
const relativeDirs = new WeakMap<Repository, Map<string, string>>();

/** A file held by reference: its path relative to the repository (see FileState.relPath). */
export function relativeTo(repo: Repository, state: FileState, path: string): { relPath?: string } {
  if (state.transfer !== "reference") return {};
  let dirs = relativeDirs.get(repo);
  if (dirs === undefined) relativeDirs.set(repo, (dirs = new Map()));
  const dir = dirname(path);
  let rel = dirs.get(dir);
  if (rel === undefined) dirs.set(dir, (rel = relative(resolve(repo.root), dir)));
  return { relPath: rel === "" ? basename(path) : `${rel}/${basename(path)}` };
}

/** Notes once per input type that its `link` files were copied: the file system refused hard links. */
function noteCopiedLink(report: IngestReport, c: Candidate): void {
  const note = `input '${c.spec.type}': no hard link from ${c.path} into the repository (another file system, or one without hard links): its files are copied (transfer: link)`;
  if (!report.notes.some((n) => n.startsWith(`input '${c.spec.type}':`))) report.notes.push(note);
}

export interface Decide extends IngestOptions {
  collection: string;
  sink: IngestSink;
  report: IngestReport;
  /** The datasets removed so far (type and key), each counted once. */
  removedKeys: Set<string>;
  /** The datasets a file of this ingest is bound to (type and key): a gone path no longer holds them (a rename). */
  boundKeys: Set<string>;
  /**
   * The paths the walk of every file finds (when deciding for a walk compared with the stamped one,
   * ingest.ts; those found not to be text are taken out): a dataset removed keeps the state of its
   * file when it is one of them, as that walk does (another input may read the file).
   */
  stillWalked?: Set<string>;
}

/**
 * The registry writes for the candidates, decided as the walk of every file decides them (ingest.ts),
 * and the state of each candidate that could be read. A file racy for a walk that started at
 * `walkStart` (`isRacy`) has its state stored with mtime -1, so that the next ingest reads it again.
 */
export async function decideCandidates(
  candidates: readonly Candidate[],
  opts: Decide & { walkStart: number },
): Promise<{ writes: Array<() => void>; states: Map<string, FileState> }> {
  const { repo, sink, report, collection, walkStart } = opts;
  const registry = repo.registry;
  const concurrency = opts.concurrency ?? 16;
  const known = new Map<string, FileState>();
  const toHash: Candidate[] = [];
  for (const c of candidates) {
    const state = registry.getFileState(c.path);
    const same = state !== undefined && isSameFile(state, c);
    if (same && (state.transfer === "reference" || repo.blobs.inRegistry(state.digest) || repo.blobs.exists(state.digest))) known.set(c.path, state);
    else toHash.push(c);
  }
  const notText = findNonUtf8(toHash, report);
  for (const path of notText) opts.stillWalked?.delete(path);
  const readable = toHash.filter((c) => !notText.has(c.path));
  const read = await hashFiles(readable, sink, concurrency, report);
  const hashed = new Map<string, FileState>();
  readable.forEach((c, i) => read[i] !== undefined && hashed.set(c.path, read[i]!));
  const writes: Array<() => void> = [];
  for (const c of candidates) {
    const existing = registry.getDataset(collection, c.spec.type, c.key);
    if (notText.has(c.path)) {
      // Left out, as the walk leaves it out: its dataset goes.
      if (existing !== undefined) writes.push(...removeDataset(c.spec.type, c.key, existing, opts));
      continue;
    }
    // Its data ID is held by a file of this ingest (as the walk's kept keys): a gone path gives it up (a rename).
    opts.boundKeys.add(c.spec.type + "\0" + c.key);
    let state = known.get(c.path) ?? hashed.get(c.path);
    if (state === undefined) continue; // unreadable: reported, and its old dataset is kept
    if (existing === undefined && known.has(c.path) && state.transfer !== "reference" && !repo.blobs.has(state.digest)) {
      // A remembered file whose blob is gone (collected after the dataset was removed): copy it again.
      state = (await hashFiles([c], sink, 1, report))[0];
      if (state === undefined) continue;
      hashed.set(c.path, state);
    }
    const status = existing === undefined ? "added" : existing.digest === state.digest ? "unchanged" : "changed";
    report.byType[c.spec.type]![status]++;
    report[status]++;
    if (status === "changed") report.changedPaths.push(c.path);
    const record: DatasetRecord = { digest: state.digest, size: c.size, storage: c.spec.storage, producer: null, sourcePath: c.path };
    if (status !== "unchanged" || existing!.sourcePath !== c.path || existing!.storage !== c.spec.storage) {
      writes.push(() => sink.records.putDataset(collection, c.spec.type, c.dataId, record));
    }
    if (hashed.has(c.path)) {
      const stored = storedState(repo, state, c.path, walkStart);
      writes.push(() => sink.records.putFileState(c.path, stored));
    }
  }
  return { writes, states: new Map([...known, ...hashed]) };
}

/**
 * The writes that drop the datasets whose file was `path` (a deleted file) or under it (a deleted
 * directory: the collection's datasets of each input type are scanned for it).
 *
 * `types`: `path` left the list of the walk for these inputs only (ingest.ts ingestSinceLastWalk),
 * and may still be a file: another input's, or one whose data ID another file now gives. As the walk
 * of every file does, the state of a file whose data ID another file holds now is kept (and, by
 * `opts.stillWalked`, the state of a file still walked).
 */
export function removeGone(path: string, templates: Templates, opts: Decide, types?: ReadonlySet<string>): Array<() => void> {
  const { repo, collection } = opts;
  const writes: Array<() => void> = [];
  const matches = matchInputFile(path, templates, { problems: [] });
  for (const { spec, dataId } of matches) {
    if (types !== undefined && !types.has(spec.type)) continue;
    const key = encodeDataId(dataId);
    const existing = repo.registry.getDataset(collection, spec.type, key);
    if (existing?.sourcePath !== path) continue;
    if (opts.boundKeys.has(spec.type + "\0" + key)) {
      // Renamed to a path that gives the same data ID: the dataset stays, bound to the new file.
      if (types === undefined) writes.push(() => opts.sink.records.deleteFileState(path));
    } else {
      writes.push(...removeDataset(spec.type, key, existing, opts));
    }
  }
  if (matches.length > 0) return writes;
  for (const { spec, template } of templates) {
    const root = template.root || "/";
    if (!isInside(path, root) && !isInside(root, path) && root !== path) continue;
    for (const e of repo.registry.listDatasets({ collection, type: spec.type })) {
      if (e.record.sourcePath === undefined || !isInside(e.record.sourcePath, path)) continue;
      if (opts.boundKeys.has(spec.type + "\0" + e.key)) writes.push(() => opts.sink.records.deleteFileState(e.record.sourcePath!));
      else writes.push(...removeDataset(spec.type, e.key, e.record, opts));
    }
  }
  return writes;
}

function removeDataset(type: string, key: string, record: DatasetRecord, opts: Decide): Array<() => void> {
  if (opts.removedKeys.has(type + "\0" + key)) return [];
  opts.removedKeys.add(type + "\0" + key);
  opts.report.removed++;
  opts.report.byType[type]!.removed++;
  const source = record.sourcePath;
  const dropState = source !== undefined && opts.stillWalked?.has(source) !== true;
  return [() => opts.sink.records.deleteDataset(opts.collection, type, key), ...(dropState ? [() => opts.sink.records.deleteFileState(source)] : [])];
}
