/**
 * Runs one quantum of a command task: expands its template, runs it with `/bin/sh -c` in a sandbox
 * directory that holds only its declared inputs, and checks that it wrote its declared outputs.
 *
 * Sandbox layout (the command's working directory; every path in the template is relative to it):
 *
 *     inputs/<connection>/<data ID>[.<ext>]   one per input dataset (hard links to the blobs, checked
 *                                              for writes afterwards; copies on another file system;
 *                                              written from the item's bytes when it carries them,
 *                                              into the file the sandbox's last quantum had for a
 *                                              connection of one dataset)
 *     inputs/<connection>.list                 with `{inputs.X.list}`: those paths, one per line
 *     inputs/<connection>.paths                with `{inputs.X.paths}`: the absolute paths of the
 *                                              datasets' own files (blobs), one per line
 *
 * A connection the template names only as `{inputs.X.paths}` is not placed in the sandbox at all:
 * a gather of 100,000 datasets then costs one list file, not 100,000 links. Its blob files are
 * checked after the command like linked ones (a command that wrote to one fails, and the blob is
 * removed). Only what has no file of its own (a small blob kept in the registry, for a connection
 * of one dataset) or must be a private copy (a program) is placed, and listed at its sandbox path.
 *     outputs/<connection>[.<ext>]             where the command must write each declared output
 *
 * A data ID becomes a file name as its canonical text (`detector=3,visit=12`) with every character
 * outside `[A-Za-z0-9._,=+-]` replaced by `_` (so a path never needs shell quoting), or the item's
 * index when the data ID is empty; a name longer than 200 characters is cut, and a hash of the whole
 * appended. The extension is the one of the input's own path if it has one, else the storage
 * class's (`.npy`, `.json`, `.txt`; none for `bytes` and `file`).
 *
 * Template fields (their grammar and shell quoting: core/command-template.ts): `{inputs.X}` (a
 * `multiple` input: its paths as separate words, in data ID order), `{inputs.X.list}`, `{outputs.Y}`,
 * `{config.a.b}` (one word; a list, one word per item), `{dataId.d}`. Every value is quoted, so no
 * path, data ID value or config string runs as shell code. An unknown field is an error naming it.
 *
 * The sandbox comes empty from a SandboxPool (its directories are reused, see sandbox-pool.ts), and
 * the caller releases it once it has taken the outputs. The shell is started by a ShellSpawner
 * (shell-spawner.ts): stdout and stderr are captured together, interleaved as written; on a timeout or
 * an abort the whole process group is killed, and when the shell exits, processes it left in the
 * background are killed too, so a finished quantum leaves nothing running. The file-system calls here
 * are synchronous: each costs a few microseconds, less than a trip through libuv's thread pool.
 * Sandboxes live in the repository's `tmp/`: a file quanta cannot write there (a full disk) is a
 * RepositoryError (write-failure.ts) that stops the run; what the command itself writes is its own affair.
 */
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import { chmodSync, closeSync, constants, copyFileSync, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { extname, join, posix, resolve } from "node:path";
import { compareDataIds, encodeDataId, type DataId } from "../core/data-id.js";
import { didYouMean } from "../core/errors.js";
import { configWords, parseCommandTemplate, quoteShellWords, renderCommandTemplate, type TemplateField } from "../core/command-template.js";
import { parseDepfile } from "../core/discovered-inputs.js";
import { findConfigValue } from "../core/find-config-value.js";
import { shortened } from "../core/name-bounds.js";
import { renderSandboxName } from "../core/sandbox-name.js";
import type { Connection, TaskNode } from "../core/pipeline.js";
import type { StorageClass } from "../core/storage-class.js";
import { absolutePaths } from "./absolute-paths.js";
import { holdingSlots, slotsOf, type Launch } from "./launch-slots.js";
import type { Sandbox, SandboxPool } from "./sandbox-pool.js";
import { runShell, type SpawnerSource } from "./command-host.js";
import type { ShellRun } from "./shell-spawner.js";
import { claimStablePath } from "./stable-sandbox-path.js";
import { changedWhileReadError, type HeldStat } from "../store/referenced-inputs.js";
import { isRefusedWrite, writeFailure, writing, writingSync } from "../store/write-failure.js";

export interface CommandInputItem {
  /** A readable file holding the dataset (usually its blob); unused when `bytes` is given. */
  readonly path: string;
  /** The dataset's bytes, for one that has no file of its own (a small blob kept in the registry). */
  readonly bytes?: Uint8Array;
  readonly dataId: DataId;
  /** The extension its file should have in the sandbox (`.c`), when `path` (a blob) has none. */
  readonly extension?: string;
  /** A program (its producer's output is `executable`): placed in the sandbox as an executable copy. */
  readonly executable?: boolean;
  /**
   * `path` is a raw file ingested by reference, not a blob, and this is its stat when it was checked
   * to hold its digest: placed in the sandbox as a symbolic link (a hard link would change its ctime,
   * which its readers compare), compared with this stat after the command (a change since the check
   * is caught too), and never removed.
   */
  readonly referenced?: HeldStat;
}

export interface CommandQuantumOptions {
  readonly task: TaskNode;
  readonly dataId: DataId;
  readonly inputs: Readonly<Record<string, readonly CommandInputItem[]>>;
  /** Taken from a SandboxPool for the task's inputs; the caller releases it after taking the outputs. */
  readonly sandbox: Sandbox;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Where its shell spawner comes from (the executor's command host). */
  readonly spawners: SpawnerSource;
  /** The slot the command must hold while it runs (the pool's `-j`); the sandbox is prepared before. */
  readonly launch?: Launch;
}

/**
 * `peakRssBytes` (both kinds, when the spawner measured it): the command's peak memory, see
 * `ShellRun.peakRssBytes`.
 */
export type CommandQuantumResult =
  /** `outputs`: each output's file in the sandbox; `sizes`: their sizes when the command ended. */
  | { ok: true; outputs: Record<string, string>; sizes: Record<string, number>; log: string; peakRssBytes?: number; discovered?: Record<string, string[]> }
  /**
   * `stray`: processes of the command may still run (a timeout, a cancel, a spawner that died).
   * `removed`: blob files the command damaged through their links, now deleted.
   * `inputChanged`: the raw files read by reference that changed while it ran, when no other input did
   * (QuantumOutcome.inputChanged).
   */
  | { ok: false; error: string; log: string; stray?: boolean; removed?: string[]; peakRssBytes?: number; inputChanged?: string[] };

export async function runCommandQuantum(opts: CommandQuantumOptions): Promise<CommandQuantumResult> {
  const measured: { peakRssBytes?: number } = {};
  const result = await runCommandOnce(opts, measured);
  if (measured.peakRssBytes !== undefined) result.peakRssBytes = measured.peakRssBytes;
  return result;
}

/** `runCommandQuantum`, leaving the command's peak memory (when measured) in `measured`. */
async function runCommandOnce(opts: CommandQuantumOptions, measured: { peakRssBytes?: number }): Promise<CommandQuantumResult> {
  const { task } = opts;
  if (task.kind !== "command" || task.command === undefined) {
    throw new Error(`internal error: task ${task.label} is not a command task`);
  }
  const sandbox = opts.sandbox.path;
  const layout = prepareSandbox(opts.sandbox, task, opts.dataId, opts.inputs, pathFieldsOf(task.command));
  if (layout.problem !== undefined) return { ok: false, error: layout.problem, log: "" };
  if (layout.writes.length > 0) await Promise.all(layout.writes.map(([to, bytes]) => writing(to, () => writeFile(to, bytes))));
  // The -j slots it takes: its resources.cpus, at most the pool's size; what {resources.cpus} says.
  const cpus = opts.launch === undefined ? slotsOf(task) : Math.min(slotsOf(task), opts.launch.slots.size);
  const expanded = expandCommandTemplate(task.command, (field) => resolveField(field, { task, dataId: opts.dataId, layout, cpus }));
  if (!expanded.ok) return { ok: false, error: expanded.error, log: "" };
  for (const name of layout.listsWanted) {
    const list = join(sandbox, listPath(name));
    writingSync(list, () => writeFileSync(list, layout.inputs[name]!.join("\n") + "\n"));
  }
  for (const name of layout.pathListsWanted) {
    const list = join(sandbox, pathListPath(name));
    writingSync(list, () => writeFileSync(list, (layout.ownPaths[name] ?? []).join("\n") + "\n"));
  }

  // Prepared: the command now waits for its launch slot, and gives it back when it has ended.
  // The shell moves to the quantum's stable path first (stable-sandbox-path.ts), so $PWD is the same every run.
  const stable = claimStablePath(task.label, opts.dataId, sandbox);
  const text = (stable === undefined ? "" : `cd ${quoteShellWords([stable.path], "none")} 2>/dev/null\n`) + environmentLines(task) + expanded.text;
  // Released once the outputs are taken: an output may be a link through it ($PWD/inputs/…).
  try {
    return await runPrepared(opts, { layout, text, cpus, stablePath: stable?.path }, measured);
  } finally {
    stable?.release();
  }
}

/** Runs a prepared command (`text`, the shell's whole script) and takes its outputs. */
async function runPrepared(
  opts: CommandQuantumOptions,
  prepared: { layout: SandboxLayout; text: string; cpus: number; stablePath?: string },
  measured: { peakRssBytes?: number },
): Promise<CommandQuantumResult> {
  const { task } = opts;
  const { layout, text, cpus } = prepared;
  const sandbox = opts.sandbox.path;
  const shell = { cwd: sandbox, timeoutMs: opts.timeoutMs, signal: opts.signal };
  const run: ShellRun =
    cpus > 1 && opts.launch !== undefined
      ? await holdingSlots(opts.launch, cpus, () => runShell(opts.spawners, text, shell), { signal: opts.signal, cancelled: () => ({ end: { kind: "aborted" }, log: "" }) })
      : await runShell(opts.spawners, text, { ...shell, launch: opts.launch });
  const log = run.log;
  measured.peakRssBytes = run.peakRssBytes;
  const modified = findModifiedInputs(layout.linked.checked.values());
  // Processes of the command may still run (see the switch below): its sandbox is not used again.
  const stray = run.end.kind === "timeout" || run.end.kind === "aborted" || run.end.kind === "spawn-error";
  // A raw file read by reference that changed: the command may have written it, or anyone else (the
  // user saving it again while a watch pass runs); its result is not kept, and nothing is removed. A
  // command that did not end by itself says so instead (a timeout; cancelled).
  const rawOnly = modified.every((m) => m.raw === true);
  if (modified.length > 0 && rawOnly && !stray) {
    const files = modified.map((m) => m.file);
    return { ok: false, error: changedWhileReadError(files, "command"), log, stray, inputChanged: files };
  }
  if (modified.length > 0 && !rawOnly) {
    // The blob no longer holds the bytes its name promises: remove it, so that nothing trusts it.
    for (const m of modified) {
      if (m.raw === true) continue;
      removeFile(m.file);
      if (m.spare) opts.sandbox.pool.forgetCopy(m.file);
    }
    const blobs = modified.filter((m) => !m.spare && m.raw !== true).map((m) => m.file);
    const names = modified.map((m) => m.file).join(", ");
    return { ok: false, error: `the command modified its input ${names} (inputs are read-only); the damaged blob was removed`, log, stray, removed: blobs };
  }
  switch (run.end.kind) {
    case "timeout":
      return { ok: false, error: `timed out after ${formatSeconds(opts.timeoutMs!)}`, log, stray: true };
    case "aborted":
      return { ok: false, error: "cancelled", log, stray: true };
    case "spawn-error":
      return { ok: false, error: `cannot run /bin/sh: ${run.end.message}`, log, stray: true };
    case "signal":
      return { ok: false, error: `command was killed by ${run.end.signal}`, log };
    case "exit":
      // The error says what happened, the log what the command said: reporters print the log's tail
      // under the error, and `quanta log` all of it, so the error does not repeat it.
      if (run.end.code !== 0) return { ok: false, error: `command exited with code ${run.end.code}`, log };
      break;
    default:
      return assertNever(run.end);
  }

  const outputs: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  const missing: string[] = [];
  for (const [name, relPath] of Object.entries(layout.outputs)) {
    const path = join(sandbox, relPath);
    const st = regularOutput(path);
    if (st?.isFile()) {
      outputs[name] = path;
      sizes[name] = st.size;
    } else missing.push(`"${name}" (${relPath})`);
  }
  if (missing.length > 0) {
    const what = missing.length === 1 ? `declared output ${missing[0]} was` : `declared outputs ${missing.join(", ")} were`;
    return { ok: false, error: `${what} not written by the command`, log };
  }
  if (task.depfile === undefined) return { ok: true, outputs, sizes, log };
  const discovered = readDiscovered(task.depfile, { sandbox, stable: prepared.stablePath, layout });
  if (typeof discovered === "string") return { ok: false, error: discovered, log };
  return { ok: true, outputs, sizes, log, discovered };
}

/**
 * The datasets of discovered connections the command's depfile names (core/discovered-inputs.ts), per
 * connection, as canonical data IDs; a string when the command wrote no depfile. A path the depfile
 * gives absolute counts when it is inside the sandbox (by its own or its stable path); others (system
 * headers) are not inputs of the quantum.
 */
function readDiscovered(depfile: string, where: { sandbox: string; stable?: string; layout: SandboxLayout }): Record<string, string[]> | string {
  let text: string;
  try {
    text = readFileSync(join(where.sandbox, depfile), "utf8");
  } catch {
    return `the command did not write its depfile "${depfile}" (declared by depfile:); a compiler writes it with -MD -MF ${depfile}`;
  }
  const named: Record<string, string[]> = {};
  for (const [, [connection]] of where.layout.discoverable) named[connection] ??= [];
  for (const prerequisite of parseDepfile(text)) {
    let path = prerequisite;
    for (const root of [resolve(where.sandbox), where.stable]) if (root !== undefined && path.startsWith(`${root}/`)) path = path.slice(root.length + 1);
    const file = where.layout.discoverable.get(posix.normalize(path));
    if (file !== undefined) named[file[0]]!.push(encodeDataId(file[1]));
  }
  return named;
}

/**
 * The stat of an output file, never of a link: an output that is a symbolic link to a file is replaced
 * by a copy of that file first (the store keeps files, and the link could point at anything, such as
 * an input the sandbox rewrites later). Undefined when there is no such file.
 */
function regularOutput(path: string): Stats | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isSymbolicLink()) return st;
  if (!statSync(path, { throwIfNoEntry: false })?.isFile()) return undefined;
  const copy = `${path}.copy`;
  try {
    copyFileSync(path, copy);
    renameSync(copy, path);
  } catch (err) {
    removeFile(copy);
    throw isRefusedWrite(err) ? writeFailure(path, err) : err;
  }
  return lstatSync(path);
}

/**
 * Checks a command task's template without running it: undefined when every field resolves, else the
 * first problem (as `runCommandQuantum` would report it). `{dataId.d}` must name a quantum dimension.
 */
export function checkCommandTemplate(task: TaskNode): string | undefined {
  if (task.command === undefined) return "a command task needs a command";
  const dataId = Object.fromEntries(task.dimensions.map((d) => [d, 0]));
  const inputs = Object.fromEntries(Object.keys(task.inputs).map((name) => [name, [`inputs/${name}/x`]]));
  const outputs = Object.fromEntries(Object.keys(task.outputs).map((name) => [name, `outputs/${name}`]));
  const layout: SandboxLayout = { inputs, outputs, listsWanted: new Set(), pathListsWanted: new Set(), ownPaths: inputs, linked: { checked: new Map(), sourceOf: new Map() }, writes: [], discoverable: new Map() };
  const expanded = expandCommandTemplate(task.command, (field) => resolveField(field, { task, dataId, layout, cpus: slotsOf(task) }));
  return expanded.ok ? undefined : expanded.error;
}

// ---------------------------------------------------------------------------------------------
// The sandbox

interface SandboxLayout {
  /** Per input connection: the sandbox-relative paths, in data ID order. */
  inputs: Record<string, string[]>;
  /** Per output connection: the sandbox-relative path the command must write. */
  outputs: Record<string, string>;
  /** The inputs whose `.list` file the template uses (written after expansion). */
  listsWanted: Set<string>;
  /** The inputs whose `.paths` file the template uses (written after expansion). */
  pathListsWanted: Set<string>;
  /** Per connection the template names as `{inputs.X.paths}`: the absolute paths of its datasets' files. */
  ownPaths: Record<string, string[]>;
  /** The files inputs are hard-linked to. */
  linked: LinkedFiles;
  /** Inputs of `multiple` connections to write from their bytes (in libuv's thread pool). */
  writes: [string, Uint8Array][];
  /** Two files given the same path by connections' `name:` (the quantum fails with it). */
  problem?: string;
  /** The files of discovered input connections: sandbox-relative path → [connection, data ID]. */
  discoverable: Map<string, [string, DataId]>;
}

/**
 * The input connections the template names as `{inputs.X.paths}` (`wanted`), and those it names in no
 * other form (`only`: nothing of theirs needs to be in the sandbox).
 */
function pathFieldsOf(command: string | undefined): { wanted: Set<string>; only: Set<string> } {
  const wanted = new Set<string>();
  const other = new Set<string>();
  const parsed = command === undefined ? undefined : parseCommandTemplate(command);
  if (parsed?.ok) {
    for (const part of parsed.parts) {
      if (part.kind !== "field" || part.field.scope !== "inputs") continue;
      (part.field.paths ? wanted : other).add(part.field.name);
    }
  }
  return { wanted, only: new Set([...wanted].filter((name) => !other.has(name))) };
}

/** Places the inputs in the (empty) sandbox, and says where everything is. */
function prepareSandbox(
  sandbox: Sandbox,
  task: TaskNode,
  dataId: DataId,
  given: Readonly<Record<string, readonly CommandInputItem[]>>,
  pathFields: { wanted: Set<string>; only: Set<string> },
): SandboxLayout {
  const inputs: Record<string, string[]> = {};
  const ownPaths: Record<string, string[]> = {};
  const named = new NamedFiles();
  for (const connection of Object.values(task.inputs)) {
    if (connection.sandboxName === undefined) continue;
    for (const item of given[connection.name] ?? []) {
      const relPath = renderSandboxName(connection.sandboxName, item.dataId);
      if (named.fits(relPath, `input "${connection.name}"`, connection.sandboxName)) makeParents(sandbox.path, relPath);
    }
  }
  const linked: LinkedFiles = { checked: new Map(), sourceOf: new Map() };
  const writes: [string, Uint8Array][] = [];
  const absolute = absolutePaths();
  for (const [name, connection] of Object.entries(task.inputs)) {
    const items = [...(given[name] ?? [])].sort((a, b) => compareDataIds(a.dataId, b.dataId));
    const dir = `inputs/${name}`;
    const used = new Set<string>();
    // The private file the sandbox's last quantum left for this connection is rewritten if this
    // quantum has bytes to write there too, and removed first otherwise (another input may take its name).
    const rewrites = connection.sandboxName === undefined && !connection.multiple && items.length === 1 && items[0]!.bytes !== undefined;
    let spare = sandbox.takeSpare(name);
    if (spare !== undefined && !rewrites) {
      removeFile(spare);
      spare = undefined;
    }
    const own = pathFields.wanted.has(name) ? (ownPaths[name] = new Array<string>(items.length)) : undefined;
    // Named only by `{inputs.X.paths}`: files are listed where they are, not placed.
    const unplaced = pathFields.only.has(name) && connection.discovered !== true && connection.executable !== true;
    inputs[name] = items.map((item, index) => {
      if (unplaced && item.bytes === undefined && item.executable !== true && item.path !== "") {
        const path = absolute(item.path);
        noteReadInPlace(path, linked, item.referenced);
        own![index] = path;
        return path;
      }
      let relPath: string;
      if (connection.sandboxName !== undefined) {
        relPath = renderSandboxName(connection.sandboxName, item.dataId);
        if (!named.fits(relPath, `input "${name}"`, connection.sandboxName) || !named.claim(relPath, `input "${name}"`)) return relPath;
      } else {
        let base = fileNameOf(item.dataId) || String(index);
        if (used.has(base)) base = `${base}-${index}`;
        used.add(base);
        relPath = `${dir}/${base}${item.extension ?? extensionOf(item.path, connection)}`;
      }
      const to = join(sandbox.path, relPath);
      if (item.executable === true || connection.executable === true) writeExecutableInput(item, to);
      else if (item.referenced !== undefined) linkReferencedInput(item.path, to, linked, item.referenced);
      else if (item.bytes === undefined) linkInput(item.path, to, linked, sandbox.pool);
      else if (rewrites) writePrivateInput(sandbox, name, to, item.bytes, spare);
      else writes.push([to, item.bytes]);
      if (own !== undefined) own[index] = item.bytes === undefined && item.executable !== true && connection.executable !== true ? absolute(item.path) : to;
      return relPath;
    });
  }
  const outputs: Record<string, string> = {};
  for (const [name, connection] of Object.entries(task.outputs)) {
    if (connection.sandboxName === undefined) outputs[name] = `outputs/${name}${STORAGE_EXTENSIONS[connection.storage]}`;
    else {
      const relPath = (outputs[name] = renderSandboxName(connection.sandboxName, dataId));
      if (named.fits(relPath, `output "${name}"`, connection.sandboxName) && named.claim(relPath, `output "${name}"`)) makeParents(sandbox.path, relPath);
    }
  }
  const discoverable = new Map<string, [string, DataId]>();
  for (const [name, connection] of Object.entries(task.inputs)) {
    if (connection.discovered !== true) continue;
    const items = [...(given[name] ?? [])].sort((a, b) => compareDataIds(a.dataId, b.dataId));
    items.forEach((item, i) => discoverable.set(inputs[name]![i]!, [name, item.dataId]));
  }
  return { inputs, outputs, listsWanted: new Set(), pathListsWanted: new Set(), ownPaths, linked, writes, problem: named.problem, discoverable };
}

/**
 * The paths connections' `name:` give, each claimed once; a second claim is the quantum's error (two
 * datasets of a gather whose names differ only in characters made `_`, an input and an output named alike).
 */
class NamedFiles {
  private readonly owners = new Map<string, string>();
  problem: string | undefined;

  claim(relPath: string, owner: string): boolean {
    const first = this.owners.get(relPath) ?? (relPath === "inputs" || relPath === "outputs" ? "quanta's own directory" : undefined);
    if (first === undefined) {
      this.owners.set(relPath, owner);
      return true;
    }
    this.problem ??= `${owner} and ${first} are both named "${relPath}" in the sandbox; give them distinct names (name: "{dimension}…")`;
    return false;
  }

  /**
   * Whether each part of `relPath` (made from the connection's `name:` template and a data ID) is a
   * file name the file system takes; a longer one is the quantum's error, not a failed write.
   */
  fits(relPath: string, owner: string, template: string): boolean {
    // Most names are short: no part of a path of at most NAME_MAX bytes can be longer.
    if (Buffer.byteLength(relPath, "utf8") <= NAME_MAX) return true;
    const long = relPath.split("/").find((part) => Buffer.byteLength(part, "utf8") > NAME_MAX);
    if (long === undefined) return true;
    this.problem ??= `${owner} would be named "${shortened(long)}" in the sandbox (name: "${template}"), ${Buffer.byteLength(long, "utf8")} bytes: file systems allow ${NAME_MAX}; give it a name that uses fewer or shorter fields`;
    return false;
  }
}

/** The longest file name (one part of a path) file systems take, in bytes. */
const NAME_MAX = 255;

/** Makes the directories above a named file of the sandbox (`include/` for `include/stats.h`). */
function makeParents(sandbox: string, relPath: string): void {
  const slash = relPath.lastIndexOf("/");
  if (slash < 0) return;
  const dir = join(sandbox, relPath.slice(0, slash));
  writingSync(dir, () => mkdirSync(dir, { recursive: true }));
}

/** An executable input: a private copy with mode 0755 (the blob itself stays read-only and shared). */
function writeExecutableInput(item: CommandInputItem, to: string): void {
  writingSync(to, () => {
    if (item.bytes !== undefined) writeFileSync(to, item.bytes, { flag: "wx" });
    else copyFileSync(item.path, to, constants.COPYFILE_EXCL);
    chmodSync(to, 0o755);
  });
}

const STORAGE_EXTENSIONS: Record<StorageClass, string> = { json: ".json", text: ".txt", ndarray: ".npy", bytes: "", file: "" };

function extensionOf(path: string, connection: Connection): string {
  const own = extname(path);
  return /^\.[A-Za-z0-9_+-]{1,16}$/.test(own) ? own : STORAGE_EXTENSIONS[connection.storage];
}

/**
 * The longest name fileNameOf gives, in bytes (its names are ASCII): file systems allow NAME_MAX, and
 * an extension (up to 17) and a `-<index>` must fit after it.
 */
const MAX_FILE_NAME = 200;

function fileNameOf(dataId: DataId): string {
  const name = encodeDataId(dataId).replace(/[^A-Za-z0-9._,=+-]/g, "_");
  // A data ID of long values (two path fields of 200 characters) would be a name the file system
  // refuses: its start, then a hash of the whole, which keeps names of different data IDs apart.
  if (name.length <= MAX_FILE_NAME) return name;
  return `${name.slice(0, MAX_FILE_NAME - 9)}-${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
}

/**
 * Puts an input that has a file into the sandbox: a hard link to its blob (one system call, whatever
 * the size), or a copy on another file system. File modes do not stop root from writing through a
 * link, so every linked file is checked after the command (`findModifiedInputs`), once however many
 * inputs link it. A blob with as many links as the file system allows is linked through a spare copy
 * (`SandboxPool.spareCopy`), which is checked likewise.
 */
function linkInput(from: string, to: string, links: LinkedFiles, pool: SandboxPool): void {
  let source = links.sourceOf.get(from) ?? from;
  for (;;) {
    try {
      linkSync(source, to);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Another file system (EXDEV), or one without hard links (EPERM): a private copy, never over a file.
      if (code === "EXDEV" || code === "EPERM") {
        copyInput(from, to);
        return;
      }
      if (code !== "EMLINK") throw isRefusedWrite(err) ? writeFailure(to, err) : err;
      source = pool.spareCopy(from, source === from ? undefined : source);
      links.sourceOf.set(from, source);
    }
  }
  if (links.checked.has(source)) return;
  const st = statSync(source);
  links.checked.set(source, { file: source, spare: source !== from, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
}

/**
 * Puts a raw file ingested by reference into the sandbox: a symbolic link to it (its ctime stays as
 * it was hashed; see store/referenced-inputs.ts). It is checked after the command like a linked blob,
 * and a command that wrote to it fails, naming it; the user's file is never removed.
 */
function linkReferencedInput(from: string, to: string, links: LinkedFiles, held: HeldStat): void {
  writingSync(to, () => symlinkSync(from, to));
  if (!links.checked.has(from)) links.checked.set(from, { file: from, spare: false, raw: true, ...held });
}

/**
 * A dataset's file a command reads where it is (`{inputs.X.paths}`): checked after the command as a
 * linked one. `raw`: a raw file ingested by reference, the user's own, never removed, with its stat
 * when it was checked (CommandInputItem.referenced).
 */
function noteReadInPlace(path: string, links: LinkedFiles, raw: HeldStat | undefined): void {
  if (links.checked.has(path)) return;
  if (raw !== undefined) {
    links.checked.set(path, { file: path, spare: false, raw: true, ...raw });
    return;
  }
  const st = statSync(path);
  links.checked.set(path, { file: path, spare: false, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
}

/** A private copy of an input, for a file system without hard links to it; never over a file. */
function copyInput(from: string, to: string): void {
  try {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
  } catch (err) {
    if (!isRefusedWrite(err)) throw err;
    removeFile(to);
    throw writeFailure(to, err);
  }
}

/**
 * Writes an input's bytes (a blob kept in the registry) into the sandbox as a private copy: into the
 * file the sandbox's last quantum had for it when there is one, renamed (no new inode: see
 * `Sandbox.takeSpare`), else into a new file. The old file is rewritten only if it is still a regular
 * file of one link, and never through a symbolic link: a command may have put a link to a blob, or
 * to anything else, in its place. A command that writes to its private copy harms nothing.
 */
function writePrivateInput(sandbox: Sandbox, input: string, path: string, bytes: Uint8Array, spare: string | undefined): void {
  writingSync(path, () => writePrivateInputNow(path, bytes, spare));
  sandbox.keepSpare(input, path);
}

function writePrivateInputNow(path: string, bytes: Uint8Array, spare: string | undefined): void {
  if (spare !== undefined) {
    const st = lstatSync(spare, { throwIfNoEntry: false });
    if (st?.isFile() && st.nlink === 1) {
      if (spare !== path) renameSync(spare, path);
    } else if (st !== undefined) removeFile(spare);
  }
  // Written over and cut to length, not truncated first: truncating frees the file's block, and the
  // write then allocates one again, both journaled (O_TRUNC made this open cost 75 us on average).
  // A file the command made read-only is replaced by a new one.
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  } catch {
    removeFile(path);
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o644);
  }
  try {
    writeSync(fd, bytes, 0, bytes.length, 0);
    ftruncateSync(fd, bytes.length);
  } finally {
    closeSync(fd);
  }
}

/** The files a sandbox's inputs are hard links to, each with what it looked like before the command ran. */
interface LinkedFiles {
  checked: Map<string, LinkedFile>;
  /** The spare copy an input's blob is linked through, for blobs that had too many links. */
  sourceOf: Map<string, string>;
}

interface LinkedFile {
  file: string;
  /** A spare copy of a blob rather than the blob itself. */
  spare: boolean;
  /** A raw file ingested by reference (the user's own): never removed. */
  raw?: boolean;
  ino: number;
  size: number;
  mtimeMs: number;
}

/** Linked files the command wrote to; they no longer match their digests. */
function findModifiedInputs(linked: Iterable<LinkedFile>): LinkedFile[] {
  const modified: LinkedFile[] = [];
  for (const l of linked) {
    const st = statSync(l.file, { throwIfNoEntry: false });
    // Another file under a blob's name: another writer put the same bytes there meanwhile, and it is
    // not the file this command could write to. Under a raw file's name, it is the file saved again.
    if (st !== undefined && st.ino !== l.ino && l.raw !== true) continue;
    // Not ctime: other quanta linking the same blob change it.
    if (!st || st.ino !== l.ino || st.size !== l.size || st.mtimeMs !== l.mtimeMs) modified.push(l);
  }
  return modified;
}

function removeFile(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // gone already
  }
}

function listPath(input: string): string {
  return `inputs/${input}.list`;
}

function pathListPath(input: string): string {
  return `inputs/${input}.paths`;
}

// ---------------------------------------------------------------------------------------------
// The template

type FieldValue = { ok: true; words: readonly string[] } | { ok: false; error: string };

/**
 * The template with each field replaced by its value, quoted for the shell (command-template.ts); the
 * first field that does not follow the grammar, or does not resolve, is the error.
 */
export function expandCommandTemplate(
  template: string,
  resolve: (field: TemplateField) => FieldValue,
): { ok: true; text: string } | { ok: false; error: string } {
  const parsed = parseCommandTemplate(template);
  if (!parsed.ok) return { ok: false, error: parsed.problem.message + (parsed.problem.hint ? `; ${parsed.problem.hint}` : "") };
  return renderCommandTemplate(parsed.parts, resolve);
}

interface FieldContext {
  task: TaskNode;
  dataId: DataId;
  layout: SandboxLayout;
  /** The cores the quantum holds (its `-j` slots). */
  cpus: number;
}

/** The shell lines that set a task's `env:` and put its `path:` folders first in PATH (values quoted, never expanded). */
function environmentLines(task: TaskNode): string {
  let lines = "";
  for (const [name, value] of Object.entries(task.env ?? {})) lines += `export ${name}=${quoteShellWords([value], "none")}\n`;
  if (task.path !== undefined && task.path.length > 0) lines += `export PATH=${quoteShellWords([task.path.join(":")], "none")}:"$PATH"\n`;
  return lines;
}

function resolveField(field: TemplateField, ctx: FieldContext): FieldValue {
  const { name } = field;
  const unknown = (known: Iterable<string>, what: string): FieldValue => {
    const hint = didYouMean(`${field.scope}.${name}`, [...known].map((k) => `${field.scope}.${k}`));
    return { ok: false, error: `unknown template field ${field.text}: ${what}${hint ? `; ${hint}` : ""}` };
  };
  switch (field.scope) {
    case "inputs": {
      const paths = ctx.layout.inputs[name];
      if (paths === undefined) return unknown(Object.keys(ctx.layout.inputs), `the task has no input "${name}"`);
      if (!field.list) return { ok: true, words: paths };
      if (field.paths) {
        ctx.layout.pathListsWanted.add(name);
        return { ok: true, words: [pathListPath(name)] };
      }
      ctx.layout.listsWanted.add(name);
      return { ok: true, words: [listPath(name)] };
    }
    case "outputs": {
      const path = ctx.layout.outputs[name];
      return path === undefined ? unknown(Object.keys(ctx.layout.outputs), `the task has no output "${name}"`) : { ok: true, words: [path] };
    }
    case "config":
      return resolveConfigField(field.text, name.split("."), ctx.task.config);
    case "dataId": {
      const value = ctx.dataId[name];
      return value === undefined ? unknown(Object.keys(ctx.dataId), `the quantum has no dimension "${name}"`) : { ok: true, words: [String(value)] };
    }
    case "resources": {
      if (name === "cpus") return { ok: true, words: [String(ctx.cpus)] };
      const value = ctx.task.resources?.[name];
      return value === undefined ? unknown(["cpus", ...Object.keys(ctx.task.resources ?? {})], `the task has no resource "${name}"`) : { ok: true, words: configWords(value) };
    }
    default:
      return assertNever(field.scope);
  }
}

function resolveConfigField(text: string, path: string[], config: unknown): FieldValue {
  const found = findConfigValue(config, path);
  if (found.ok) return { ok: true, words: configWords(found.value) };
  const prefix = ["config", ...path.slice(0, found.depth)].join(".");
  const hint = found.nearest === undefined ? "" : `; did you mean {${prefix}.${found.nearest}}?`;
  return { ok: false, error: `unknown template field ${text}: no config key "${path.slice(0, found.depth + 1).join(".")}"${hint}` };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

function assertNever(value: never): never {
  throw new Error(`internal error: unexpected ${JSON.stringify(value)}`);
}
