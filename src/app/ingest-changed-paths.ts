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
import type { FileInputSpec, RelationInputSpec } from "../core/pipeline.js";
import { isInside, matchInputFile, type Candidate } from "./collect-candidates.js";
import { applyIngest, checkDimensions, ingestInto, ingestRelation, parseTemplate, repositorySink, type IngestOptions, type IngestReport } from "./ingest.js";
import { decideCandidates, removeGone, type Decide, type Templates } from "./ingest-decisions.js";

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
  const { writes } = await decideCandidates(candidates, { ...decide, walkStart });
  for (const path of gone) writes.push(...removeGone(path, templates, decide));
  for (const spec of relationSpecs) {
    if (paths.includes(resolve(spec.path))) writes.push(...(await ingestRelation(spec, { ...options, sink }, report, walkStart)));
  }
  await applyIngest(sink, { dimensions, fileSpecs, collection, report }, writes);
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
