/**
 * Saved plans (`quanta graph -o plan.qg`, run later by `quanta exec plan.qg`).
 *
 * Format 2 (format 1 held 64-bit code digests, 16 hex, absolute paths and no checksum; 2 holds 128-bit
 * digests, see core/digest.ts), all integers little-endian:
 *   bytes 0-7    magic "QUANTAQG"
 *   bytes 8-11   format version (uint32)
 *   bytes 12-19  length of the body in bytes (uint64)
 *   bytes 20-51  SHA-256 of the body
 *   bytes 52-    the body, a msgpack map (msgpackr, no records extension):
 *     pipeline         the Pipeline snapshot (tasks with configs, module paths, code digests); its
 *                      paths (pipeline file, module paths, input paths) relative to the plan file's
 *                      directory, so a project moved with its plan still runs it
 *     inputCollection, query
 *     inputDigests     per dataset the graph does not produce, in dataset order: the digest it had
 *                      when the plan was made ("" when it had none); `exec` refuses to run a plan
 *                      whose inputs changed since
 *     dims             dictionary of dimension names
 *     strings          dictionary of string dimension values
 *     types[]          per dataset type, in graph order (by name): name, storage, count, dims (indices into
 *                      `dims`, in the order of the type's data IDs), columns (one per dim, see below; none
 *                      for a type whose datasets are all produced: they share their producers' data IDs)
 *     producers        int32 per dataset (-1 for inputs)
 *     tasks[]          per task, in pipeline order: count of its quanta (they are contiguous), dims,
 *                      columns, inputs (per connection: CSR `offsets` uint32[count+1] and `ids` uint32[]),
 *                      outputs (per connection: uint32 dataset id per quantum)
 *   A column is `{kind: "i32" | "f64" | "str", data: bytes}`: int32 or float64 values, or uint32 indices
 *   into `strings`. Keys, consumers and the ids of quanta and datasets are implied by the order and are
 *   rebuilt on load; a produced dataset shares its producer's data ID.
 * On a version mismatch, loading fails with "plan format N found, M expected: rebuild it with quanta graph";
 * a file shorter or longer than its header says is "truncated", one whose body does not match its
 * checksum "corrupt" (exit 2 with a hint to make it again). Plans hold no absolute repository paths.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { Packr } from "msgpackr";
import { DataIdColumns, type DataIdColumn } from "../core/data-id-columns.js";
import { UsageError } from "../core/errors.js";
import type { FileInputSpec, InputSpec, Pipeline, TaskNode } from "../core/pipeline.js";
import { QuantumGraph, type IdLists, type TaskQuanta, type TypeDatasets } from "../core/quantum-graph.js";
import type { StorageClass } from "../core/storage-class.js";
import { writeOutputFile } from "./write-output-file.js";

export const PLAN_FORMAT = 2;
const MAGIC = "QUANTAQG";
const VERSION_BYTES = 12;
const CHECKSUM_BYTES = 32;
const HEADER_BYTES = VERSION_BYTES + 8 + CHECKSUM_BYTES;
const packr = new Packr({ useRecords: false });

interface Column {
  kind: "i32" | "f64" | "str";
  data: Uint8Array;
}

interface TypeBlock {
  name: string;
  storage: StorageClass;
  count: number;
  dims: number[];
  columns: Column[];
}

interface TaskBlock {
  label: string;
  count: number;
  dims: number[];
  columns: Column[];
  inputs: Record<string, { offsets: Uint8Array; ids: Uint8Array }>;
  outputs: Record<string, Uint8Array>;
}

interface PlanBody {
  pipeline: Pipeline;
  inputCollection: string;
  query: QuantumGraph["query"];
  dims: string[];
  strings: string[];
  types: TypeBlock[];
  producers: Uint8Array;
  tasks: TaskBlock[];
  inputDigests?: string[];
}

/** A plan as `exec` reads it: the graph, and the digests its inputs had when it was made. */
export interface SavedPlan {
  readonly graph: QuantumGraph;
  /** By dataset id, for the datasets the graph does not produce: "" for one that had no digest. */
  readonly inputDigests: ReadonlyMap<number, string>;
}

export interface EncodePlanOptions {
  /** Paths are written relative to this directory (the plan file's), and read back against it. */
  readonly baseDir?: string;
  /** Per input dataset id (producer < 0), its digest now; see the module comment. */
  readonly inputDigest?: (datasetId: number) => string | undefined;
}

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error("internal error: plan files are written on little-endian machines only");
}

function bytesOf(array: Int32Array | Uint32Array | Float64Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/** A copy of `bytes` as a typed array (msgpack may hand back unaligned views). */
function viewAs<T>(bytes: Uint8Array, make: (buffer: ArrayBuffer) => T): T {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return make(copy.buffer);
}

/** Dictionaries shared by every column of the file. */
class Dictionaries {
  readonly dims: string[] = [];
  readonly strings: string[] = [];
  private readonly dimIndex = new Map<string, number>();
  private readonly stringIndex = new Map<string, number>();

  dim(name: string): number {
    let i = this.dimIndex.get(name);
    if (i === undefined) this.dimIndex.set(name, (i = this.dims.push(name) - 1));
    return i;
  }

  string(value: string): number {
    let i = this.stringIndex.get(value);
    if (i === undefined) this.stringIndex.set(value, (i = this.strings.push(value) - 1));
    return i;
  }
}

/** One column of the file from an in-memory column (strings re-indexed into the file's dictionary). */
function encodeColumn(dicts: Dictionaries, column: DataIdColumn): Column {
  if (column.kind !== "str") return { kind: column.kind, data: bytesOf(column.values) };
  const codes = column.strings.map((v) => dicts.string(v));
  const out = new Uint32Array(column.values.length);
  for (let i = 0; i < out.length; i++) out[i] = codes[column.values[i]!]!;
  return { kind: "str", data: bytesOf(out) };
}

function encodeTypes(graph: QuantumGraph, dicts: Dictionaries): TypeBlock[] {
  return graph.types.map((t) => {
    // A produced dataset's data ID is its producer's: only inputs need their own columns.
    const names = t.dataIds?.names ?? Object.keys(graph.datasetDataId(t.first));
    const columns = t.dataIds === undefined ? [] : t.dataIds.columns.map((c) => encodeColumn(dicts, c));
    return { name: t.type, storage: t.storage, count: t.count, dims: names.map((d) => dicts.dim(d)), columns };
  });
}

function encodeTasks(graph: QuantumGraph, dicts: Dictionaries): TaskBlock[] {
  return graph.taskQuanta.map((t) => {
    const inputs: TaskBlock["inputs"] = {};
    for (const [name, lists] of t.inputs) inputs[name] = { offsets: bytesOf(lists.offsets), ids: bytesOf(lists.ids) };
    const outputs: TaskBlock["outputs"] = {};
    for (const [name, ids] of t.outputs) outputs[name] = bytesOf(ids);
    const columns = t.dataIds.columns.map((c) => encodeColumn(dicts, c));
    return { label: t.task.label, count: t.count, dims: t.dataIds.names.map((d) => dicts.dim(d)), columns, inputs, outputs };
  });
}

/** The plan as bytes (see the module comment). */
export function encodePlan(graph: QuantumGraph, options: EncodePlanOptions = {}): Uint8Array {
  const [header, packed] = encodePlanParts(graph, options);
  const out = new Uint8Array(header.length + packed.length);
  out.set(header, 0);
  out.set(packed, header.length);
  return out;
}

/** The plan as its header and its body, written one after the other (no copy of a body of tens of MB). */
function encodePlanParts(graph: QuantumGraph, options: EncodePlanOptions): [Uint8Array, Uint8Array] {
  assertLittleEndian();
  const dicts = new Dictionaries();
  const producers = graph.allProducers();
  const tasks = encodeTasks(graph, dicts);
  const inputDigests: string[] = [];
  if (options.inputDigest !== undefined) {
    for (let d = 0; d < producers.length; d++) if (producers[d]! < 0) inputDigests.push(options.inputDigest(d) ?? "");
  }
  const rebase = (path: string): string => (options.baseDir === undefined ? path : relative(options.baseDir, path) || ".");
  const body: PlanBody = {
    pipeline: rebasePipeline({ ...graph.pipeline, tasks: graph.tasks }, rebase),
    ...(options.inputDigest === undefined ? {} : { inputDigests }),
    inputCollection: graph.inputCollection,
    query: graph.query,
    dims: dicts.dims,
    strings: dicts.strings,
    types: encodeTypes(graph, dicts),
    producers: bytesOf(producers),
    tasks,
  };
  const packed = packr.pack(body);
  const header = new Uint8Array(HEADER_BYTES);
  header.set(new TextEncoder().encode(MAGIC), 0);
  const view = new DataView(header.buffer);
  view.setUint32(8, PLAN_FORMAT, true);
  view.setBigUint64(VERSION_BYTES, BigInt(packed.length), true);
  header.set(createHash("sha256").update(packed).digest(), VERSION_BYTES + 8);
  return [header, packed];
}

/** The pipeline with every path it holds passed through `rebase`. */
function rebasePipeline(pipeline: Pipeline, rebase: (path: string) => string): Pipeline {
  return {
    ...pipeline,
    file: rebase(pipeline.file),
    inputs: pipeline.inputs.map((i): InputSpec => (i.kind === "files" ? rebaseInput(i, rebase) : { ...i, path: rebase(i.path) })),
    tasks: pipeline.tasks.map((t): TaskNode => {
      const moved = t.modulePath === undefined ? t : { ...t, modulePath: rebase(t.modulePath) };
      return moved.path === undefined ? moved : { ...moved, path: moved.path.map(rebase) };
    }),
  };
}

/** A files input with its path template and its `include`/`exclude` globs passed through `rebase`. */
function rebaseInput(input: FileInputSpec, rebase: (path: string) => string): FileInputSpec {
  return {
    ...input,
    path: rebase(input.path),
    ...(input.include !== undefined ? { include: input.include.map(rebase) } : {}),
    ...(input.exclude !== undefined ? { exclude: input.exclude.map(rebase) } : {}),
  };
}

/** Writes the plan to `path`, its paths relative to the file's directory (a bad path: UsageError). */
export async function savePlan(graph: QuantumGraph, path: string, inputDigest?: (datasetId: number) => string | undefined): Promise<void> {
  writeOutputFile(path, encodePlanParts(graph, { baseDir: dirname(resolve(path)), inputDigest }));
}

export async function loadPlan(path: string): Promise<QuantumGraph> {
  return (await loadSavedPlan(path)).graph;
}

/** The plan at `path`, with the digests of its inputs (empty for a plan saved without them). */
export async function loadSavedPlan(path: string): Promise<SavedPlan> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `plan file ${path} does not exist` : `cannot read plan file ${path}: ${(err as Error).message}`);
  }
  return decodeSavedPlan(bytes, path, dirname(resolve(path)));
}

/** The graph a plan's bytes hold; `name` is used in errors. */
export function decodePlan(bytes: Uint8Array, name = "the plan"): QuantumGraph {
  return decodeSavedPlan(bytes, name).graph;
}

/**
 * The plan its bytes hold; relative paths are resolved against `baseDir` (default: the current
 * directory). With `pipeline`, the graph is of that pipeline, not of the snapshot the plan holds: the
 * caller knows it is the one the plan was made of (a run stamp's plan, app/stamps.ts); a plan of other
 * tasks is refused all the same.
 */
export function decodeSavedPlan(bytes: Uint8Array, name = "the plan", baseDir?: string, pipeline?: Pipeline): SavedPlan {
  assertLittleEndian();
  const body = unpackBody(bytes, name);
  if (pipeline !== undefined && pipeline.tasks.map((t) => t.label).join("\0") !== body.pipeline.tasks.map((t) => t.label).join("\0")) {
    throw new UsageError(`${name} is of other tasks than pipeline ${pipeline.name}`);
  }
  pipeline ??= rebasePipeline(body.pipeline, (p) => (isAbsolute(p) ? p : resolve(baseDir ?? ".", p)));
  const producers = viewAs(body.producers, (b) => new Int32Array(b));
  const taskQuanta = decodeTasks(body, pipeline.tasks);
  const types = decodeTypes(body, producers);
  const inputDigests = new Map<number, string>();
  if (body.inputDigests !== undefined) {
    let i = 0;
    for (let d = 0; d < producers.length; d++) if (producers[d]! < 0) inputDigests.set(d, body.inputDigests[i++] ?? "");
  }
  const graph = new QuantumGraph({ pipeline, taskQuanta, types, producers, query: body.query, inputCollection: body.inputCollection });
  return { graph, inputDigests };
}

/** Checks the header (magic, version, length, checksum) and unpacks the body. */
function unpackBody(bytes: Uint8Array, name: string): PlanBody {
  const again = "make it again with 'quanta graph PIPELINE -o FILE'";
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (bytes.length < VERSION_BYTES || magic !== MAGIC) {
    throw new UsageError(`${name} is not a quanta plan file`, "write one with 'quanta graph PIPELINE -o plan.qg'");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== PLAN_FORMAT) throw new UsageError(`plan format ${version} found, ${PLAN_FORMAT} expected: rebuild it with quanta graph`);
  const expected = bytes.length >= HEADER_BYTES ? Number(view.getBigUint64(VERSION_BYTES, true)) + HEADER_BYTES : undefined;
  if (expected === undefined || bytes.length < expected) {
    const of = expected === undefined ? "" : ` of ${expected}`;
    throw new UsageError(`plan file ${name} is truncated: ${bytes.length}${of} bytes`, again);
  }
  if (bytes.length > expected) throw new UsageError(`plan file ${name} is corrupt: ${bytes.length - expected} bytes past its end`, again);
  const body = bytes.subarray(HEADER_BYTES);
  const checksum = createHash("sha256").update(body).digest();
  if (!checksum.equals(bytes.subarray(VERSION_BYTES + 8, HEADER_BYTES))) {
    throw new UsageError(`plan file ${name} is corrupt: its contents do not match its checksum`, again);
  }
  return packr.unpack(body) as PlanBody;
}

/** Reads a block's columns back, in the sorted order of their dimension names. */
function decodeColumns(body: PlanBody, dims: readonly number[], columns: readonly Column[], count: number): DataIdColumns {
  const names = dims.map((d) => body.dims[d]!);
  const order = names.map((_, j) => j).sort((a, b) => (names[a]! < names[b]! ? -1 : 1));
  const decoded = order.map((j): DataIdColumn => {
    const c = columns[j]!;
    if (c.kind === "f64") return { kind: "f64", values: viewAs(c.data, (b) => new Float64Array(b)) };
    if (c.kind === "i32") return { kind: "i32", values: viewAs(c.data, (b) => new Int32Array(b)) };
    return { kind: "str", values: viewAs(c.data, (b) => new Uint32Array(b)), strings: body.strings };
  });
  return new DataIdColumns(order.map((j) => names[j]!), decoded, count);
}

function decodeTasks(body: PlanBody, tasks: readonly TaskNode[]): TaskQuanta[] {
  if (body.tasks.length !== tasks.length) throw new UsageError("the plan is corrupt: its tasks do not match its pipeline");
  let first = 0;
  return body.tasks.map((block, i) => {
    const inputs = new Map<string, IdLists>();
    for (const [name, c] of Object.entries(block.inputs)) inputs.set(name, { offsets: viewAs(c.offsets, (b) => new Uint32Array(b)), ids: viewAs(c.ids, (b) => new Uint32Array(b)) });
    const outputs = new Map<string, Uint32Array>();
    for (const [name, bytes] of Object.entries(block.outputs)) outputs.set(name, viewAs(bytes, (b) => new Uint32Array(b)));
    const t: TaskQuanta = { task: tasks[i]!, first, count: block.count, dataIds: decodeColumns(body, block.dims, block.columns, block.count), inputs, outputs };
    first += block.count;
    return t;
  });
}

function decodeTypes(body: PlanBody, producers: Int32Array): TypeDatasets[] {
  let first = 0;
  return body.types.map((block) => {
    const inputs = block.count > 0 && producers[first]! < 0;
    const t: TypeDatasets = {
      type: block.name,
      storage: block.storage,
      first,
      count: block.count,
      ...(inputs ? { dataIds: decodeColumns(body, block.dims, block.columns, block.count) } : {}),
    };
    first += block.count;
    return t;
  });
}
