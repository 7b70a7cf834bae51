/**
 * Runs one quantum job where it stands (the CLI's thread, a worker thread, or a batch job): reads the
 * input blobs, runs the task (a TypeScript module or a command in a sandbox), writes the outputs into
 * the blob store, and returns their digests. It never touches the registry, and does not make its blobs
 * durable: the scheduler flushes the blob store once per batch of results, before committing them.
 */
import { readFileSync, statSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { join } from "node:path";
import { FIELDS, statFiles } from "../store/parallel-stat.js";
import { INLINE_BLOB_MAX_BYTES, type BlobStore } from "../store/blob-store.js";
import { loadTaskModule, type LoadedTaskModule } from "./task-module.js";
import { runModuleQuantum, type ModuleQuantumResult } from "./module-runner.js";
import { runCommandQuantum, type CommandInputItem } from "./command-runner.js";
import type { CommandHost } from "./command-host.js";
import type { Launch } from "./launch-slots.js";
import type { JobInputItem, OutputBlob, QuantumJob, QuantumOutcome } from "./quantum-job.js";
import { blobDigestSize, type BlobDigest } from "../core/digest.js";
import { encodeDataId } from "../core/data-id.js";
import { RepositoryError } from "../core/errors.js";
import { changedWhileReadError, referencedFileHolds, type HeldStat } from "../store/referenced-inputs.js";

const EMPTY = new Uint8Array(0);

/**
 * The memory a module quantum's thread holds when it ends: its V8 heap (as committed: the heap grows to
 * what the quantum needed at its peak, and shrinks only later) and the memory of its ArrayBuffers. The
 * thread's own, not the process's: module quanta run on worker threads. It may include what earlier
 * quanta on the same thread left for the garbage collector.
 */
function threadMemory(): number {
  const heap = getHeapStatistics();
  return heap.total_heap_size + heap.external_memory;
}

/** How the executor starts and stops a job: the `-j` slot a command must hold, and a signal that cancels it. */
export interface JobControl {
  readonly launch?: Launch;
  /** Aborted to stop the job (an interrupt): a command's process group is killed, it ends as failed. */
  readonly signal?: AbortSignal;
  /** The executor's sandboxes and spawner: a command job needs them. */
  readonly host?: CommandHost;
}

/**
 * An outcome as a job hands it to its executor. A job on a worker thread (which has no registry) hands
 * back its small outputs' bytes with it; the executor keeps them in the registry (`keepReturnedBytes`)
 * before the outcome goes on, so that what the scheduler sees names digests only.
 */
export type JobOutcome = QuantumOutcome & { bytes?: [BlobDigest, Uint8Array][] };

/**
 * Keeps what a worker thread handed back in the store: its small outputs' bytes go to the registry, and
 * its blob files are noted as written (the store's listing of what exists would not know them). The
 * outcome then names digests only.
 */
export function keepReturnedBytes(outcome: JobOutcome, blobs: BlobStore): QuantumOutcome {
  if (!outcome.ok) return outcome;
  for (const name in outcome.outputs) {
    const output = outcome.outputs[name]!;
    if (!blobs.keepsInline(output.size)) blobs.noteWrittenElsewhere(output.digest);
  }
  if (outcome.bytes === undefined) return outcome;
  for (const [digest, bytes] of outcome.bytes) blobs.stage(digest, bytes);
  delete outcome.bytes;
  return outcome;
}

export function runQuantumJob(job: QuantumJob, blobs: BlobStore, control: JobControl = {}): Promise<JobOutcome> {
  const outcome = runQuantumJobNow(job, blobs, control);
  return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
}

/**
 * `runQuantumJob`, with the outcome itself when the job ran to its end synchronously. With `launch`, a
 * command is prepared at once and started when it gets a slot; its time counts from then.
 */
export function runQuantumJobNow(job: QuantumJob, blobs: BlobStore, control: JobControl = {}): JobOutcome | Promise<JobOutcome> {
  const { launch, signal } = control;
  let startedAt = Date.now();
  const timedLaunch: Launch | undefined = launch && {
    slots: launch.slots,
    started: () => {
      startedAt = Date.now();
      launch.started();
    },
  };
  // Peak memory: a command's as its spawner measured it (none with Node's spawn); a module quantum's thread's.
  const memory = (r: Result) => (job.task.kind === "module" ? threadMemory() : r.peakRssBytes);
  // Spelled out (no spread): this runs once per quantum.
  const done = (r: Result): JobOutcome =>
    r.ok
      ? { ok: true, outputs: r.outputs, noWork: r.noWork, log: r.log, startedAt, finishedAt: Date.now(), peakRssBytes: memory(r), unsynced: r.unsynced, bytes: r.bytes, discovered: r.discovered }
      : { ok: false, error: r.error, log: r.log, corrupt: r.corrupt, inputChanged: r.inputChanged, startedAt, finishedAt: Date.now(), peakRssBytes: memory(r) };
  const threw = (err: unknown): JobOutcome => {
    const e = err instanceof Error ? err : new Error(String(err));
    const outcome: JobOutcome = { ok: false, error: e.message, log: e.stack ?? e.message, startedAt, finishedAt: Date.now() };
    // The task's own errors come back as results (module-runner.ts, command-runner.ts): a thrown
    // RepositoryError is the repository's (a write that failed), and stops the run.
    if (err instanceof RepositoryError) outcome.repositoryError = { message: err.message, hint: err.hint };
    return outcome;
  };
  try {
    const result = job.task.kind === "module" ? runModule(job, blobs) : runCommand(job, blobs, { launch: timedLaunch, signal, host: control.host });
    return result instanceof Promise ? result.then(done, threw) : done(result);
  } catch (err) {
    return threw(err);
  }
}

/**
 * Task modules already loaded by this thread, by path and code digest. A run's plan fixes each task's
 * code digest, so the module is bundled and imported once per thread, not once per quantum; a module
 * whose code changed during the run is loaded again (and then refused by its new digest).
 *
 * Per thread, not per process: module quanta run on the worker threads of an executor
 * (module-workers.ts), each with its own copy of this module, and the cache ends with its thread when
 * the executor closes. A run session keeps them across runs: a later run whose plan has a new digest
 * (the module was edited) misses, and the new bundle is imported.
 */
const loadedModules = new Map<string, Promise<LoadedTaskModule>>();
/** The same modules once loaded, for quanta that need not wait for anything. */
const readyModules = new Map<string, LoadedTaskModule>();

function loadModuleOnce(id: string, modulePath: string, repoRoot: string): Promise<LoadedTaskModule> {
  let loading = loadedModules.get(id);
  if (!loading) {
    loading = loadTaskModule(modulePath, { cacheDir: join(repoRoot, "modules") });
    loadedModules.set(id, loading);
    loading.then(
      (loaded) => {
        // Edited between the plan and this load: its quanta are refused (see runModule), and the entry
        // goes, so that a later plan with this digest (the edit undone) loads the module again instead
        // of finding other code under its digest for the rest of the thread's life.
        if (id.startsWith(`${loaded.codeDigest}\0`)) readyModules.set(id, loaded);
        else loadedModules.delete(id);
      },
      () => loadedModules.delete(id),
    );
  }
  return loading;
}

/**
 * Loads the module of a job's task if this thread has not yet (a failure is left for the job to
 * report), so that a timeout counts the quantum's own time, not the module's bundling and import.
 */
export async function loadJobModule(job: QuantumJob): Promise<void> {
  const task = job.task;
  if (task.kind !== "module") return;
  await loadModuleOnce(`${task.codeDigest}\0${task.modulePath!}`, task.modulePath!, job.repoRoot).catch(() => undefined);
}

type Result =
  | { ok: true; outputs: Record<string, OutputBlob>; noWork: boolean; log: string; peakRssBytes?: number; unsynced?: true; bytes?: [BlobDigest, Uint8Array][]; discovered?: Record<string, string[]> }
  | { ok: false; error: string; log: string; peakRssBytes?: number; corrupt?: BlobDigest[]; inputChanged?: string[] };

/** Runs a module task's quantum: synchronously when its module is loaded and its `run` is synchronous. */
function runModule(job: QuantumJob, blobs: BlobStore): Result | Promise<Result> {
  const task = job.task;
  const id = `${task.codeDigest}\0${task.modulePath!}`;
  const ready = readyModules.get(id);
  if (ready === undefined) return loadModuleOnce(id, task.modulePath!, job.repoRoot).then((loaded) => runLoadedModule(job, loaded, blobs));
  return runLoadedModule(job, ready, blobs);
}

function runLoadedModule(job: QuantumJob, loaded: LoadedTaskModule, blobs: BlobStore): Result | Promise<Result> {
  const task = job.task;
  if (loaded.codeDigest !== task.codeDigest) {
    return {
      ok: false,
      error: `the code of task ${task.label} changed since the plan was made (${task.codeDigest} -> ${loaded.codeDigest}); run again`,
      log: "",
    };
  }
  const inputs: Parameters<typeof runModuleQuantum>[0]["inputs"] = {};
  const damaged = new InputDamage();
  for (const name in job.inputs) {
    const input = job.inputs[name]!;
    inputs[name] = {
      storage: input.storage,
      multiple: input.multiple,
      items: input.items.map((i) => {
        if (i.reference !== undefined) {
          // A raw file read where it is: a `file` input's stat is compared (hashed only when it differs).
          const bytes = input.storage === "file" ? damaged.checkReference(name, i, blobs) : damaged.readReference(name, i, blobs);
          return { dataId: i.dataId, bytes, path: i.path };
        }
        // Read whole anyway: its digest is checked (a hash costs far less than the read). A `file`
        // input is not read here: its size is.
        const bytes = i.bytes ?? (input.storage === "file" ? EMPTY : readFileSync(i.path!));
        if (input.storage === "file" && i.bytes === undefined) damaged.checkSize(name, i);
        else if (!blobs.isIntact(i.digest, bytes)) damaged.add(name, i, bytes.length);
        return { dataId: i.dataId, bytes, path: i.path };
      }),
    };
  }
  if (damaged.found()) return damaged.result();
  const r = runModuleQuantum({ definition: loaded.definition, config: task.config, label: task.label, dataId: job.dataId, inputs });
  // A `file` input read where it is, checked again after the task as a command's is.
  const after = (settled: ModuleQuantumResult): Result => {
    const changed = damaged.changedSinceCheck();
    return changed.length === 0 ? keepOutputs(settled, blobs) : { ok: false, error: changedWhileReadError(changed, "task"), log: settled.log, inputChanged: changed };
  };
  return r instanceof Promise ? r.then(after) : after(r);
}

/** Puts a module quantum's encoded outputs in the blob store (or hands small ones back as bytes). */
function keepOutputs(r: ModuleQuantumResult, blobs: BlobStore): Result {
  if (!r.ok) return r;
  const outputs: Record<string, OutputBlob> = {};
  let bytesBack: [BlobDigest, Uint8Array][] | undefined;
  let unsynced: true | undefined;
  for (const name in r.outputs) {
    const bytes = r.outputs[name]!;
    if (bytes.length <= INLINE_BLOB_MAX_BYTES && !blobs.keepsInline(bytes.length)) {
      // A worker thread: its executor keeps it in the registry.
      const digest = blobs.hasher.hashBytes(bytes);
      outputs[name] = { digest, size: bytes.length };
      (bytesBack ??= []).push([digest, bytes]);
      continue;
    }
    // Synchronous: the thread has nothing else to do meanwhile, and it saves four trips through
    // libuv's thread pool per output.
    outputs[name] = { digest: blobs.putSync(bytes), size: bytes.length };
    if (!blobs.keepsInline(bytes.length)) unsynced = true;
  }
  return { ok: true, outputs, noWork: r.noWork, log: r.log, unsynced, bytes: bytesBack };
}

async function runCommand(job: QuantumJob, blobs: BlobStore, control: JobControl): Promise<Result> {
  const host = control.host;
  if (host === undefined) throw new Error(`internal error: command quantum ${job.task.label} handed over without a command host`);
  const sandbox = host.sandboxes.take(Object.keys(job.task.inputs));
  // A sandbox whose command may still be running is removed, never handed to another quantum.
  let reuse = false;
  try {
    // Inputs are hard-linked into the sandbox from blob files. A blob kept in the registry is written
    // into the sandbox from its bytes for a connection of one dataset (into a file the sandbox keeps:
    // see command-runner.ts), and made a blob file once for a `multiple` one (a gather of 10,000 small
    // outputs would otherwise write 10,000 files each run).
    const damaged = await checkCommandInputs(job, blobs);
    if (damaged.found()) return damaged.result();
    const inputs: Record<string, CommandInputItem[]> = {};
    for (const [name, input] of Object.entries(job.inputs)) {
      inputs[name] = input.multiple
        ? await Promise.all(input.items.map(async (i) => ({ path: i.bytes ? await blobs.materialize(i.digest, i.bytes) : i.path!, dataId: i.dataId, extension: i.extension, executable: i.executable, referenced: damaged.heldStat(i) })))
        : input.items.map((i) => ({ path: i.path ?? "", bytes: i.bytes, dataId: i.dataId, extension: i.extension, executable: i.executable, referenced: damaged.heldStat(i) }));
    }
    const r = await runCommandQuantum({ task: job.task, dataId: job.dataId, inputs, sandbox, spawners: host, timeoutMs: job.task.timeoutMs, launch: control.launch, signal: control.signal });
    reuse = r.ok || r.stray !== true;
    if (!r.ok) {
      for (const path of r.removed ?? []) blobs.forgetFile(path);
      return { ok: false, error: r.error, log: r.log, peakRssBytes: r.peakRssBytes, inputChanged: r.inputChanged };
    }
    const outputs: Record<string, OutputBlob> = {};
    // Renamed into the store as blob files, synchronously (no trips through libuv's thread pool).
    for (const name in r.outputs) outputs[name] = blobs.adoptFileSync(r.outputs[name]!, r.sizes[name]);
    return { ok: true, outputs, noWork: false, log: r.log, peakRssBytes: r.peakRssBytes, unsynced: true, discovered: r.discovered };
  } finally {
    sandbox.release({ reuse });
  }
}

/**
 * A command's inputs, checked where it is cheap before they are linked into its sandbox: a blob file's
 * size (one stat; its bytes are not read here; a gather's many on several threads, as the ingest walk
 * stats), a blob kept in the registry whole (at most 4 KiB).
 */
async function checkCommandInputs(job: QuantumJob, blobs: BlobStore): Promise<InputDamage> {
  const damaged = new InputDamage();
  const sized: { connection: string; item: JobInputItem }[] = [];
  for (const name in job.inputs) {
    for (const i of job.inputs[name]!.items) {
      if (i.reference !== undefined) damaged.checkReference(name, i, blobs);
      else if (i.bytes === undefined) sized.push({ connection: name, item: i });
      else if (!blobs.isIntact(i.digest, i.bytes)) damaged.add(name, i, i.bytes.length);
    }
  }
  const stats = await statFiles(sized.map((s) => s.item.path!));
  sized.forEach((s, k) => damaged.checkSize(s.connection, s.item, stats[k * FIELDS]!));
  return damaged;
}

/**
 * Inputs found not to hold the bytes of their digest: the quantum fails without running, naming them.
 * A blob is set aside as corrupt; a raw file ingested by reference that changed (or went) is not the
 * repository's to set aside: the error names it, and the next run's ingest hashes it again.
 */
class InputDamage {
  private readonly problems: string[] = [];
  private readonly digests: BlobDigest[] = [];
  private readonly changed: string[] = [];
  /** The files of `changed`. */
  private readonly changedFiles: string[] = [];

  /** A raw file's bytes, read and hashed; an empty array when it is gone or changed (noted). */
  readReference(connection: string, item: JobInputItem, blobs: BlobStore): Uint8Array {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(item.path!);
    } catch (err) {
      this.noteChanged(connection, item, (err as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : "changed");
      return EMPTY;
    }
    if (!blobs.isIntact(item.digest, bytes)) this.noteChanged(connection, item, "changed");
    return bytes;
  }

  /** Whether a raw file still holds its digest (its stat compared, its bytes hashed only when that differs). */
  checkReference(connection: string, item: JobInputItem, blobs: BlobStore): Uint8Array {
    const { status, held } = referencedFileHolds(item.path!, item.reference!, item.digest, blobs.hasher);
    if (status !== "ok") this.noteChanged(connection, item, status);
    else this.held.set(item, held!);
    return EMPTY;
  }

  /** The stat of a raw file `checkReference` found to hold its digest. */
  heldStat(item: JobInputItem): HeldStat | undefined {
    return this.held.get(item);
  }

  /** The raw files `checkReference` found to hold their digests whose stat moved since (size, mtime or inode). */
  changedSinceCheck(): string[] {
    const changed = new Set<string>();
    for (const [item, held] of this.held) {
      const st = statSync(item.path!, { throwIfNoEntry: false });
      if (st === undefined || st.ino !== held.ino || st.size !== held.size || st.mtimeMs !== held.mtimeMs) changed.add(item.path!);
    }
    return [...changed];
  }

  private readonly held = new Map<JobInputItem, HeldStat>();

  private noteChanged(connection: string, item: JobInputItem, status: "missing" | "changed"): void {
    const what = status === "missing" ? "is missing" : "changed since it was ingested";
    this.changed.push(`input ${connection} (${encodeDataId(item.dataId)}): the file ${item.path} ${what}`);
    this.changedFiles.push(item.path!);
  }

  /**
   * Checks the size of an input's blob file against its digest: `size` as a stat found it (NaN: the
   * file is missing, which is left to the reader), else stated here.
   */
  checkSize(connection: string, item: JobInputItem, size = statSync(item.path!, { throwIfNoEntry: false })?.size ?? Number.NaN): void {
    if (!Number.isNaN(size) && size !== blobDigestSize(item.digest)) this.add(connection, item, size);
  }

  add(connection: string, item: JobInputItem, size: number): void {
    const expected = blobDigestSize(item.digest);
    const what = size === expected ? "other bytes of the same size" : `${size} bytes, not ${expected}`;
    this.problems.push(`input ${connection} (${encodeDataId(item.dataId)}) is corrupt: blob ${item.digest} holds ${what}`);
    if (!this.digests.includes(item.digest)) this.digests.push(item.digest);
  }

  found(): boolean {
    return this.digests.length > 0 || this.changed.length > 0;
  }

  result(): Result {
    if (this.digests.length === 0) return { ok: false, error: `${this.changed.join("; ")}: run again (its ingest hashes the file again)`, log: "", inputChanged: this.changedFiles };
    const error = `${[...this.changed, ...this.problems].join("; ")}; it is set aside in the repository's quarantine/ and the results computed from it are dropped: run again to recompute it`;
    // No log: the quantum never ran, and a reporter prints the error and then the log's tail (the same text twice).
    return { ok: false, error, log: "", corrupt: this.digests };
  }
}
