/**
 * Runs one quantum of a TypeScript task where it stands (the CLI's thread or a worker thread): decodes
 * the input bytes by storage class, calls `run` with a context whose log is captured, checks that it
 * returned exactly the declared outputs, and encodes them. Every way a task can fail (it throws,
 * returns the wrong outputs, returns a value its storage class cannot hold) comes back as a value
 * naming the connection; only a broken invariant of the caller throws.
 *
 * The log is one line per call, `LEVEL message` (`INFO detecting above 5 sigma`), in call order.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compareDataIds, encodeDataId, type DataId } from "../core/data-id.js";
import { createCapturedLog } from "../core/define-task.js";
import type { StorageClass } from "../core/storage-class.js";
import { isNoWork, type TaskDefinition } from "../core/task-definition.js";
import { decodeValue, encodeValue } from "../store/storage-formats.js";
import { isThenable } from "./quantum-job.js";

export interface ModuleInputItem {
  readonly dataId: DataId;
  readonly bytes: Uint8Array;
  /**
   * A read-only file holding `bytes` (its blob). `file` inputs are handed to `run` as this path; without
   * one, the bytes are written to a temporary file for the duration of the run.
   */
  readonly path?: string;
}

export interface ModuleInput {
  readonly storage: StorageClass;
  readonly multiple: boolean;
  readonly items: readonly ModuleInputItem[];
}

export interface ModuleQuantumOptions {
  readonly definition: TaskDefinition;
  /** The effective config, already validated (see `validateTaskConfig`). */
  readonly config: unknown;
  readonly label: string;
  readonly dataId: DataId;
  readonly inputs: Record<string, ModuleInput>;
}

export type ModuleQuantumResult =
  | { ok: true; outputs: Record<string, Uint8Array>; noWork: boolean; log: string }
  | { ok: false; error: string; log: string };

const STACK_FRAMES_KEPT = 6;

/**
 * Runs the quantum. Synchronous when the task's `run` is (the common case of a trivial task: no
 * promise and no trip through the microtask queue per quantum); a promise when `run` returns one.
 */
export function runModuleQuantum(opts: ModuleQuantumOptions): ModuleQuantumResult | Promise<ModuleQuantumResult> {
  const lines: string[] = [];
  const joinLog = () => (lines.length === 0 ? "" : lines.join("\n") + "\n");
  const fail = (error: string): ModuleQuantumResult => ({ ok: false, error, log: joinLog() });
  const threw = (thrown: unknown): ModuleQuantumResult => {
    lines.push(...describeThrown(thrown));
    return fail(`run() threw ${thrown instanceof Error ? `${thrown.name}: ${thrown.message}` : summarize(thrown)}`);
  };
  const finish = (result: unknown): ModuleQuantumResult => {
    if (isNoWork(result)) {
      lines.push(`INFO no work${result.reason ? `: ${result.reason}` : ""}`);
      return { ok: true, outputs: {}, noWork: true, log: joinLog() };
    }
    const encoded = encodeOutputs(opts.definition, result);
    if (!encoded.ok) return fail(encoded.error);
    return { ok: true, outputs: encoded.outputs, noWork: false, log: joinLog() };
  };
  const scratch = new ScratchFiles();
  let removeScratch = true;
  try {
    const decoded = decodeInputs(opts, scratch);
    if (!decoded.ok) return fail(decoded.error);
    const ctx = { label: opts.label, dataId: opts.dataId, log: createCapturedLog(lines) };
    let result: unknown;
    try {
      result = opts.definition.run(decoded.values as never, opts.config, ctx);
    } catch (thrown) {
      return threw(thrown);
    }
    if (!isThenable(result)) return finish(result);
    // The scratch files stay until the task's promise settles.
    removeScratch = false;
    return Promise.resolve(result)
      .then(finish, threw)
      .finally(() => scratch.remove());
  } finally {
    if (removeScratch) scratch.remove();
  }
}

type Decoded = { ok: true; values: Record<string, unknown> } | { ok: false; error: string };

function decodeInputs(opts: ModuleQuantumOptions, scratch: ScratchFiles): Decoded {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(opts.definition.inputs)) {
    const spec = opts.definition.inputs[name]!;
    const input = opts.inputs[name];
    const items = input === undefined ? [] : input.items.length < 2 ? input.items : [...input.items].sort((a, b) => compareDataIds(a.dataId, b.dataId));
    const storage = input?.storage ?? spec.storage;
    const multiple = input?.multiple ?? spec.multiple === true;
    const decodeItem = (item: ModuleInputItem): unknown => {
      const path = storage === "file" ? (item.path ?? scratch.write(item.bytes)) : undefined;
      return decodeValue(storage, item.bytes, { path });
    };
    try {
      if (multiple) {
        values[name] = items.map((item) => ({ dataId: item.dataId, value: decodeItem(item) }));
      } else if (items.length === 1) {
        values[name] = decodeItem(items[0]!);
      } else {
        return { ok: false, error: `input "${name}" needs exactly one dataset, got ${items.length}` };
      }
    } catch (error) {
      const where = items.length === 1 ? ` at ${encodeDataId(items[0]!.dataId) || "{}"}` : "";
      return { ok: false, error: `cannot read input "${name}" (${storage})${where}: ${messageOf(error)}` };
    }
  }
  return { ok: true, values };
}

type Encoded = { ok: true; outputs: Record<string, Uint8Array> } | { ok: false; error: string };

function encodeOutputs(definition: TaskDefinition, result: unknown): Encoded {
  const declared = Object.keys(definition.outputs);
  if (typeof result !== "object" || result === null || Array.isArray(result)) {
    const expected = declared.length === 0 ? "{}" : `an object with ${declared.map((d) => `"${d}"`).join(", ")}`;
    return { ok: false, error: `run() returned ${summarize(result)}; expected ${expected} or noWork()` };
  }
  const returned = result as Record<string, unknown>;
  const extra = Object.keys(returned).filter((k) => !Object.hasOwn(definition.outputs, k) && returned[k] !== undefined);
  if (extra.length > 0) {
    const list = extra.map((k) => `"${k}"`).join(", ");
    const noun = extra.length === 1 ? "which is not a declared output" : "which are not declared outputs";
    return { ok: false, error: `run() returned ${list}, ${noun} (declared: ${declared.join(", ") || "none"})` };
  }
  const missing = declared.filter((k) => returned[k] === undefined);
  if (missing.length > 0) {
    const noun = missing.length === 1 ? "output" : "outputs";
    return { ok: false, error: `run() did not return declared ${noun} ${missing.map((k) => `"${k}"`).join(", ")}` };
  }
  const outputs: Record<string, Uint8Array> = {};
  for (const name of declared) {
    const storage = definition.outputs[name]!.storage;
    try {
      outputs[name] = encodeValue(storage, returned[name]);
    } catch (error) {
      return { ok: false, error: `output "${name}" (${storage}): ${messageOf(error)}` };
    }
  }
  return { ok: true, outputs };
}

/** The log lines for a thrown value: `ERROR Name: message`, then the stack's first frames. */
function describeThrown(thrown: unknown): string[] {
  if (!(thrown instanceof Error) && !(typeof thrown === "object" && thrown !== null && "stack" in thrown)) {
    return [`ERROR thrown: ${summarize(thrown)}`];
  }
  const error = thrown as Error;
  const frames = (error.stack ?? "")
    .split("\n")
    .filter((line) => /^\s+at /.test(line))
    .slice(0, STACK_FRAMES_KEPT)
    .map((line) => `  ${line.trim()}`);
  return [`ERROR ${error.name}: ${error.message}`, ...frames];
}

function summarize(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return value.constructor?.name ? `a ${value.constructor.name}` : "an object";
  return String(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Temporary read-only files for `file` inputs that came without a path (small blobs kept in the
 * registry); removed after the run. Synchronous: they are rare and small.
 */
class ScratchFiles {
  private dir: string | undefined;
  private count = 0;

  write(bytes: Uint8Array): string {
    this.dir ??= mkdtempSync(join(tmpdir(), "quanta-file-input-"));
    const path = join(this.dir, String(this.count++));
    writeFileSync(path, bytes);
    chmodSync(path, 0o444);
    return path;
  }

  remove(): void {
    if (this.dir !== undefined) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
