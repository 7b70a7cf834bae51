/**
 * The walk of an ingest: which files under the input templates' roots are inputs, with their data IDs,
 * sizes and mtimes (the "candidates"), and which look like inputs but cannot be read as one (reported
 * as problems). It reads directories and stats files, never their contents; `ingest.ts` decides which
 * candidates to hash. Shared by the ingest and its preview (a reader's planning).
 *
 * One pass: each template's root directory is walked once (roots nested in another root are walked as
 * part of it), and every file is matched against the templates whose root contains it.
 */
import type { Dirent } from "node:fs";
import { readdirSync, readFileSync, statSync, type Stats } from "node:fs";
import type { DataId } from "../core/data-id.js";
import { encodeDataId } from "../core/data-id.js";
import { compilePathGlob, isSelectedPath } from "../core/path-glob.js";
import type { PathTemplate } from "../core/path-template.js";
import type { FileInputSpec } from "../core/pipeline.js";
import type { IngestProblem } from "./ingest.js";
import { FIELDS, statFiles } from "../store/parallel-stat.js";

/** A file that is an input: its spec, its data ID (and that ID's key), and what its stat said. */
export interface Candidate {
  spec: FileInputSpec;
  path: string;
  dataId: DataId;
  key: string;
  size: number;
  mtimeMs: number;
  /** Kept for files ingested by reference (a reader compares them, see store/referenced-inputs.ts). */
  ctimeMs: number;
  ino: number;
  dev: number;
}

/** Where the walk reports what it found besides candidates. */
export interface WalkReport {
  problems: IngestProblem[];
  /** Regular files found under the template roots. */
  filesSeen: number;
}

/**
 * Walks each root once; matches every file; reports files that fit no template and duplicate data IDs.
 * A file several inputs match gives a candidate per input, next to each other (ingest.ts relies on it).
 */
export async function collectCandidates(
  templates: readonly { spec: FileInputSpec; template: PathTemplate }[],
  report: WalkReport,
): Promise<Candidate[]> {
  const prepared = prepareTemplates(templates);
  const roots = [...new Set(prepared.map((t) => t.root))].sort();
  const outer = roots.filter((r) => !roots.some((o) => o !== r && isInside(r, o)));
  const paths: string[] = [];
  // The matches, one entry each in three arrays (a path may be several inputs): the index of the path
  // in `paths`, the template, the data ID. Arrays of numbers, not an object per file, for the collector.
  const found: Matches = { templates: [], dataIds: [] };
  const matchPaths: number[] = [];
  for (const root of outer) {
    const mine = prepared.filter((t) => isInside(t.root, root) || t.root === root);
    const depth = Math.max(...mine.map((t) => t.template.text.slice(root === "/" ? 1 : root.length + 1).split("/").length));
    const odd: OddEntry[] = [];
    const files = walkFiles(root, { depth, report, odd });
    reportOddEntries(odd, mine, report);
    for (const path of files) {
      report.filesSeen++;
      const count = matchInto(found, path, mine, report);
      if (count === 0) continue;
      for (let k = 0; k < count; k++) matchPaths.push(paths.length);
      paths.push(path);
    }
  }
  // Only the files that are inputs are stated, all at once (on several threads when there are many).
  const stats = await statFiles(paths);
  // Duplicates are looked for by key only in an input one of whose files is not the rendering of its
  // data ID (PathTemplate.renders): a no-op ingest then makes no key at all (ingest.ts's listing needs
  // none). Files that render their data IDs cannot share one (equal data IDs render equal paths, and
  // the walk gives each path once).
  const keyChecked = prepared.map((t) => prepared.some((o) => o !== t && o.spec === t.spec));
  for (let m = 0; m < matchPaths.length; m++) {
    const t = found.templates[m]!;
    if (keyChecked[t]) continue;
    const { template, prefix } = prepared[t]!;
    if (!template.renders(paths[matchPaths[m]!]!.slice(prefix.length), found.dataIds[m]!)) keyChecked[t] = true;
  }
  const out: Candidate[] = [];
  // Per input: the first path that gave each key (looked up by template index: one per file).
  const firstsOf = new Map<FileInputSpec, Map<string, string>>();
  for (const t of prepared) if (!firstsOf.has(t.spec)) firstsOf.set(t.spec, new Map());
  const firsts = prepared.map((t) => firstsOf.get(t.spec)!);
  for (let m = 0; m < matchPaths.length; m++) {
    const at = matchPaths[m]! * FIELDS;
    if (Number.isNaN(stats[at])) continue; // vanished during the walk
    const path = paths[matchPaths[m]!]!;
    const t = found.templates[m]!;
    const spec = prepared[t]!.spec;
    const dataId = found.dataIds[m]!;
    let key: string | undefined;
    if (keyChecked[t]) {
      key = encodeDataId(dataId);
      const first = firsts[t]!.get(key);
      if (first !== undefined) {
        report.problems.push({ file: path, message: `gives ${spec.type}@${key}, as ${first} does; ignored` });
        continue;
      }
      firsts[t]!.set(key, path);
    }
    out.push(new WalkedCandidate(spec, path, dataId, key, stats, at));
  }
  return out;
}

/**
 * A candidate as the walk makes it: its key is encoded when first asked for (a no-op ingest never
 * asks), and its stat numbers other than the size are read from the walk's array when asked for: as
 * fields, the times would be a boxed number each, three objects a file for the collector.
 */
class WalkedCandidate implements Candidate {
  /** A field: hashing sets it to the size read (ingest.ts). */
  size: number;
  constructor(
    public spec: FileInputSpec,
    public path: string,
    public dataId: DataId,
    private encoded: string | undefined,
    // The walk's stat numbers and where this file's start: no options object, which would be one
    // more object per file.
    private stats: Float64Array,
    private at: number,
  ) {
    this.size = stats[at]!;
  }

  get key(): string {
    return (this.encoded ??= encodeDataId(this.dataId));
  }
  get mtimeMs(): number {
    return this.stats[this.at + 1]!;
  }
  get ctimeMs(): number {
    return this.stats[this.at + 2]!;
  }
  get ino(): number {
    return this.stats[this.at + 3]!;
  }
  get dev(): number {
    return this.stats[this.at + 4]!;
  }
}

/**
 * The inputs a file found under the template roots is (with its data ID under each); none when it fits
 * no template, reported as a problem when it lies under the root of a template with fields.
 */
export function matchInputFile(
  path: string,
  templates: readonly { spec: FileInputSpec; template: PathTemplate }[],
  report: { problems: IngestProblem[] },
): { spec: FileInputSpec; dataId: DataId }[] {
  const prepared = prepareTemplates(templates);
  const found: Matches = { templates: [], dataIds: [] };
  matchInto(found, path, prepared, report);
  return found.templates.map((t, k) => ({ spec: prepared[t]!.spec, dataId: found.dataIds[k]! }));
}

/** A template ready for matching many paths. */
interface PreparedTemplate {
  /** Its place in the list the caller gave (what `Matches.templates` holds). */
  index: number;
  spec: FileInputSpec;
  template: PathTemplate;
  /** The directory walked (`/` for a template at the top). */
  root: string;
  /** What a path under `root` starts with: the root and a `/`, made once rather than once a file. */
  prefix: string;
  limits: { include?: RegExp[]; exclude?: RegExp[] };
  /** Whether a file it does not fit is reported (see matchInto). */
  hasFields: boolean;
}

function prepareTemplates(templates: readonly { spec: FileInputSpec; template: PathTemplate }[]): PreparedTemplate[] {
  let prepared = preparedOf.get(templates);
  if (prepared === undefined) {
    prepared = templates.map(({ spec, template }, index) => {
      const root = template.root || "/";
      return { index, spec, template, root, prefix: root === "/" ? "/" : root + "/", limits: limitsOf(spec), hasFields: template.dimensions.length > 0 };
    });
    preparedOf.set(templates, prepared);
  }
  return prepared;
}

/** Prepared once per list of templates: matchInputFile is called once per file of a watch's changes. */
const preparedOf = new WeakMap<readonly { spec: FileInputSpec; template: PathTemplate }[], PreparedTemplate[]>();

/** Matches found, one entry each in parallel arrays: the index of the template, the data ID. */
interface Matches {
  templates: number[];
  dataIds: DataId[];
}

/**
 * Appends to `found` the inputs `path` is (see matchInputFile) and returns how many; reports the
 * path when it is none but lies under the root of a template with fields.
 */
function matchInto(found: Matches, path: string, templates: readonly PreparedTemplate[], report: { problems: IngestProblem[] }): number {
  let count = 0;
  let misfits: string[] | undefined;
  for (const t of templates) {
    if (!path.startsWith(t.prefix) || !isSelected(path, t.limits)) continue;
    const m = t.template.match(path.slice(t.prefix.length));
    if (m.ok) {
      found.templates.push(t.index);
      found.dataIds.push(m.dataId);
      count++;
    } else if (m.reason === "bad-value") (misfits ??= []).push(`${m.message} (input '${t.spec.type}', template '${t.template.text}')`);
  }
  if (count > 0) return count;
  // Only a file under the root of a template with fields is a problem: the directory of a
  // fixed-name input (`data/truth.json`) holds other inputs' files too (a relation file, say).
  // Nor is one an input's `include`/`exclude` leaves out.
  const fits = templates.filter((t) => path.startsWith(t.prefix) && t.hasFields && isSelected(path, t.limits)).map((t) => `'${t.template.text}'`);
  if (misfits !== undefined || fits.length > 0) {
    report.problems.push({ file: path, message: misfits !== undefined ? misfits.join("; ") : `${MISFIT} ${fits.join(" or ")}` });
  }
  return 0;
}

/** isSelectedPath, without its calls for the input that has neither `include` nor `exclude` (most). */
function isSelected(path: string, limits: { include?: RegExp[]; exclude?: RegExp[] }): boolean {
  return (limits.include === undefined && limits.exclude === undefined) || isSelectedPath(path, limits);
}

/** How the warning about a file that fits no template starts (ingest says it once per file: ingest.ts). */
export const MISFIT = "does not fit the template";

const compiledLimits = new WeakMap<FileInputSpec, { include?: RegExp[]; exclude?: RegExp[] }>();

/** An input's `include` and `exclude` globs, compiled once per spec. */
function limitsOf(spec: FileInputSpec): { include?: RegExp[]; exclude?: RegExp[] } {
  let limits = compiledLimits.get(spec);
  if (limits === undefined) {
    limits = { include: spec.include?.map(compilePathGlob), exclude: spec.exclude?.map(compilePathGlob) };
    compiledLimits.set(spec, limits);
  }
  return limits;
}

export function isInside(path: string, dir: string): boolean {
  return dir === "/" ? path.startsWith("/") : path.startsWith(dir + "/");
}

/** An entry under a template root that is not a regular file: reported when its path fits a template. */
interface OddEntry {
  path: string;
  /** Why it is not read, e.g. `is a FIFO, not a regular file`. */
  reason: string;
}

/** Why a non-regular entry is skipped; its target's kind for a symlink (`stat` never opens a FIFO). */
function describeOddEntry(kind: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isBlockDevice(): boolean; isCharacterDevice(): boolean }): string {
  if (kind.isDirectory()) return "is a directory, not a file";
  if (kind.isFIFO()) return "is a FIFO (named pipe), not a regular file; not read";
  if (kind.isSocket()) return "is a socket, not a regular file";
  if (kind.isBlockDevice() || kind.isCharacterDevice()) return "is a device, not a regular file";
  return "is not a regular file";
}

/**
 * Regular files (and symlinks to them) under `root`, in sorted order; names starting with `.` are
 * skipped. Descends at most `depth` levels (a template's fields never match a `/`, so no file deeper
 * than its template can be an input), and never into a directory that is one of its own ancestors
 * (a symbolic link loop: reported, not followed). Everything else (directories, dangling symlinks,
 * FIFOs, sockets, devices) goes to `odd`, to be reported if a template would match it.
 */
function walkFiles(root: string, walk: { depth: number; report: WalkReport; odd: OddEntry[] }): string[] {
  const { depth, report, odd } = walk;
  const out: string[] = [];
  const ancestors = new Set<string>();
  const visit = (dir: string, level: number) => {
    const id = directoryId(dir);
    if (id !== undefined && ancestors.has(id)) {
      report.problems.push({ file: dir, message: "symbolic link loop (a directory inside itself); not followed" });
      return;
    }
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && dir === root) {
        report.problems.push({ file: root, message: "directory does not exist; no files ingested from it" });
        return;
      }
      if (code === "ENOENT") return;
      report.problems.push({ file: dir, message: `cannot list directory: ${(err as Error).message}` });
      return;
    }
    if (id !== undefined) ancestors.add(id);
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    let previous: string | undefined;
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      // `dir` is absolute and normal, so a join is a concatenation (path.join costs microseconds a file).
      const path = dir === "/" ? "/" + e.name : dir + "/" + e.name;
      // Names are read as UTF-8: two names whose bytes differ (one not UTF-8) can read alike. The path
      // is walked once (collectCandidates counts on each path coming once).
      if (e.name === previous) {
        report.problems.push({ file: path, message: "is the name of two directory entries as read (one name is not UTF-8); only one is read" });
        continue;
      }
      previous = e.name;
      const deeper = level + 1 < depth;
      if (e.isDirectory()) {
        odd.push({ path, reason: describeOddEntry(e) });
        if (deeper) visit(path, level + 1);
      } else if (e.isFile()) out.push(path);
      else if (e.isSymbolicLink()) {
        const st = statFollowing(path, report);
        if (st?.isFile()) out.push(path);
        else if (st === undefined) odd.push({ path, reason: "is a dangling symbolic link (its target does not exist)" });
        else if (st !== null) {
          odd.push({ path, reason: describeOddEntry(st) });
          if (st.isDirectory() && deeper) visit(path, level + 1);
        }
      } else odd.push({ path, reason: describeOddEntry(e) });
    }
    if (id !== undefined) ancestors.delete(id);
  };
  visit(root, 0);
  return out;
}

/** Reports the odd entries a template matches: a path that looks like an input but cannot be read as one. */
function reportOddEntries(odd: readonly OddEntry[], templates: readonly PreparedTemplate[], report: WalkReport): void {
  for (const entry of odd) {
    for (const { spec, template, prefix } of templates) {
      if (!entry.path.startsWith(prefix) || !template.match(entry.path.slice(prefix.length)).ok) continue;
      report.problems.push({ file: entry.path, message: `${entry.reason}; input '${spec.type}' skips it` });
      break;
    }
  }
}

/**
 * Files of `text` inputs that are not UTF-8: reported and left out (their datasets, if any, removed),
 * so that no task reads mangled text. Only files about to be hashed are read here.
 */
export function findNonUtf8(files: readonly Candidate[], report: { problems: IngestProblem[] }): Set<string> {
  const bad = new Set<string>();
  const decoder = new TextDecoder("utf-8", { fatal: true });
  for (const c of files) {
    if (c.spec.storage !== "text") continue;
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(c.path);
    } catch {
      continue; // unreadable: hashing reports it
    }
    try {
      decoder.decode(bytes);
    } catch {
      bad.add(c.path);
      report.problems.push({ file: c.path, message: `is not UTF-8 text, but input '${c.spec.type}' has storage text; skipped` });
    }
  }
  return bad;
}

function directoryId(dir: string): string | undefined {
  try {
    const st = statSync(dir);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** The stat of what a symbolic link points at; undefined when dangling; null when looping (reported). */
function statFollowing(path: string, report: WalkReport): Stats | undefined | null {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (err) {
    report.problems.push({ file: path, message: `cannot follow symbolic link: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    return null;
  }
}
