/**
 * Ingest of "these paths changed" (a file watcher's report, a run session's `changedPaths`): the same
 * records as a full ingest (ingest.ts) would leave, but only the given paths are looked at. Nothing
 * else is walked or stat'ed: the caller promises that no other input file changed since the last
 * ingest into this repository.
 *
 * A path may be an input file (edited, new or deleted), a relation file, or a directory: an existing
 * one stands for the files under it (a new `visit7/`), a vanished one for the datasets whose file was
 * under it. A path that fits no template (and is no relation file) changes nothing, as in the walk.
 *
 * Where only the whole walk can decide, it is done instead: when a path gives a data ID that another
 * existing file gives too (the walk keeps the first in sorted order, and reports the other).
 *
 * The ingest stamp (stamps.ts) is neither read nor written: it records the listing of a complete walk,
 * which this ingest did not see. The stamp left by the last walk cannot hold wrongly afterwards: a
 * changed dataset raises the registry generation, and a file whose state alone changed has a new
 * size or mtime, so the next walk's listing differs from the stamped one.
 *
 * The report counts the paths looked at: `unchanged` is the number of those files that were found
 * unchanged, not the size of the collection.
 */
import { readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { encodeDataId } from "../core/data-id.js";
import type { PathTemplate } from "../core/path-template.js";
import type { FileInputSpec, RelationInputSpec } from "../core/pipeline.js";
import type { DatasetRecord, FileState } from "../store/registry.js";
import { findNonUtf8, isInside, matchInputFile, type Candidate } from "./collect-candidates.js";
import {
  checkDimensions,
  hashFiles,
  ingestInto,
  isSameFile,
  ingestRelation,
  noteVanishedInputs,
  parseTemplate,
  racyWindowMs,
  relativeTo,
  repositorySink,
  type IngestOptions,
  type IngestReport,
  type IngestSink,
} from "./ingest.js";

type Templates = readonly { spec: FileInputSpec; template: PathTemplate }[];

/** Ingests what changed at `paths` (absolute, or relative to the working directory) into the repository. */
export async function ingestChangedPaths(options: IngestOptions & { paths: readonly string[] }): Promise<IngestReport> {
  const { repo, dimensions } = options;
  if (!repo.writable) throw new Error("internal error: ingest into a repository opened for reading");
  const sink = repositorySink(repo);
  const collection = options.collection ?? "raw";
  checkDimensions(dimensions, repo.registry.getDimensions(), repo.root);
  const fileSpecs = options.inputs.filter((s): s is FileInputSpec => s.kind === "files");
  const relationSpecs = options.inputs.filter((s): s is RelationInputSpec => s.kind === "relation");
  const templates = fileSpecs.map((spec) => ({ spec, template: parseTemplate(spec, dimensions) }));
  const report: IngestReport = {
    collection,
    ...{ added: 0, changed: 0, unchanged: 0, removed: 0 },
    byType: Object.fromEntries(fileSpecs.map((s) => [s.type, { added: 0, changed: 0, unchanged: 0, removed: 0 }])),
    ...{ relations: [], problems: [], filesSeen: 0, filesHashed: 0, bytesHashed: 0, notes: [], changedPaths: [] },
  };
  const walkStart = Date.now();
  const paths = [...new Set(options.paths.map((p) => resolve(p)))].sort();
  const { files, gone } = lookAt(paths, templates);
  const candidates = matchFiles(files, templates, report, gone);
  if (needsWholeWalk(candidates, gone, options)) return ingestInto(options, sink);

  const decide: Decide = { ...options, collection, sink, report, removedKeys: new Set(), boundKeys: new Set() };
  const writes = await decideCandidates(candidates, { ...decide, walkStart });
  for (const path of gone) writes.push(...removeGone(path, templates, decide));
  for (const spec of relationSpecs) {
    if (paths.includes(resolve(spec.path))) writes.push(...(await ingestRelation(spec, { ...options, sink }, report, walkStart)));
  }
  await sink.apply(() => {
    sink.records.putDimensions(dimensions);
    for (const spec of fileSpecs) sink.records.putDatasetType({ name: spec.type, dimensions: [...spec.dimensions], storage: spec.storage });
    for (const write of writes) write();
    noteVanishedInputs(sink, collection, report);
  });
  return report;
}

/** The regular files at or under `paths` (as the walk finds them: no dot names), and the paths that are gone. */
function lookAt(paths: readonly string[], templates: Templates): { files: string[]; gone: string[] } {
  const roots = templates.map((t) => t.template.root || "/");
  const files: string[] = [];
  const gone: string[] = [];
  // Directories listed, by device and inode: a symbolic link loop is listed once.
  const listed = new Set<string>();
  const visit = (path: string) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) gone.push(path);
    else if (st.isFile()) files.push(path);
    else if (st.isDirectory() && !listed.has(`${st.dev}:${st.ino}`)) {
      listed.add(`${st.dev}:${st.ino}`);
      let names: string[];
      try {
        names = readdirSync(path).sort();
      } catch {
        return;
      }
      for (const name of names) if (!name.startsWith(".")) visit(join(path, name));
    }
  };
  for (const path of paths) {
    const hidden = roots.some((root) => isInside(path, root) && path.slice(root.length).split("/").some((part) => part.startsWith(".")));
    if (!hidden) visit(path);
  }
  return { files, gone };
}

/** The candidates among `files` (a file gone since it was listed joins `gone`). */
function matchFiles(files: readonly string[], templates: Templates, report: IngestReport, gone: string[]): Candidate[] {
  const out: Candidate[] = [];
  for (const path of files) {
    const matches = matchInputFile(path, templates, report);
    if (matches.length === 0) continue;
    report.filesSeen++;
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) {
      gone.push(path);
      continue;
    }
    for (const { spec, dataId } of matches) out.push({ spec, path, dataId, key: encodeDataId(dataId), size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev });
  }
  return out;
}

/** Whether a candidate gives a data ID that another file, still there, gives too: the walk decides. */
function needsWholeWalk(candidates: readonly Candidate[], gone: readonly string[], options: IngestOptions): boolean {
  const collection = options.collection ?? "raw";
  const seen = new Set<string>();
  for (const c of candidates) {
    const id = c.spec.type + "\0" + c.key;
    if (seen.has(id)) return true;
    seen.add(id);
    const other = options.repo.registry.getDataset(collection, c.spec.type, c.key)?.sourcePath;
    if (other !== undefined && other !== c.path && !gone.includes(other) && statSync(other, { throwIfNoEntry: false }) !== undefined) return true;
  }
  return false;
}

interface Decide extends IngestOptions {
  collection: string;
  sink: IngestSink;
  report: IngestReport;
  /** The datasets removed so far (type and key), each counted once. */
  removedKeys: Set<string>;
  /** The datasets a file of this ingest is bound to (type and key): a gone path no longer holds them (a rename). */
  boundKeys: Set<string>;
}

/** The registry writes for the candidates, decided as the full ingest decides them (ingest.ts). */
async function decideCandidates(candidates: readonly Candidate[], opts: Decide & { walkStart: number }): Promise<Array<() => void>> {
  const { repo, sink, report, collection } = opts;
  const registry = repo.registry;
  const concurrency = opts.concurrency ?? 16;
  const racyBefore = opts.walkStart - racyWindowMs(candidates);
  const known = new Map<string, FileState>();
  const toHash: Candidate[] = [];
  for (const c of candidates) {
    const state = registry.getFileState(c.path);
    const same = state !== undefined && isSameFile(state, c);
    if (same && (state.transfer === "reference" || repo.blobs.inRegistry(state.digest) || repo.blobs.exists(state.digest))) known.set(c.path, state);
    else toHash.push(c);
  }
  const notText = findNonUtf8(toHash, report);
  const hashed = await hashFiles(toHash.filter((c) => !notText.has(c.path)), sink, concurrency, report);
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
      state = (await hashFiles([c], sink, 1, report)).get(c.path);
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
      const stored: FileState = { ...state, mtimeMs: c.mtimeMs >= racyBefore ? -1 : state.mtimeMs, ...relativeTo(repo, state, c.path) };
      writes.push(() => sink.records.putFileState(c.path, stored));
    }
  }
  return writes;
}

/**
 * The writes that drop the datasets whose file was `path` (a deleted file) or under it (a deleted
 * directory: the collection's datasets of each input type are scanned for it).
 */
function removeGone(path: string, templates: Templates, opts: Decide): Array<() => void> {
  const { repo, collection } = opts;
  const writes: Array<() => void> = [];
  const matches = matchInputFile(path, templates, { problems: [] });
  for (const { spec, dataId } of matches) {
    const key = encodeDataId(dataId);
    const existing = repo.registry.getDataset(collection, spec.type, key);
    if (existing?.sourcePath !== path) continue;
    // Renamed to a path that gives the same data ID: the dataset stays, bound to the new file.
    if (opts.boundKeys.has(spec.type + "\0" + key)) writes.push(() => opts.sink.records.deleteFileState(path));
    else writes.push(...removeDataset(spec.type, key, existing, opts));
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
  return [() => opts.sink.records.deleteDataset(opts.collection, type, key), ...(source === undefined ? [] : [() => opts.sink.records.deleteFileState(source)])];
}
