/**
 * The quantum graph: the plan. A bipartite DAG of quanta (one task at one data ID) and datasets.
 *
 * Ids are array indices and are deterministic: quanta are ordered by task (pipeline order) and then by
 * data ID (`compareDataIds`); datasets by dataset type name and then by data ID. Every dataset is either
 * an input (`producer === -1`: ingested or prerequisite, read from the input collection at run time) or
 * produced by exactly one quantum. Inputs of a quantum always have smaller quantum ids as producers, so
 * walking the quanta in id order is a valid execution order.
 *
 * The graph holds no digests: it is a plan over dataset references, resolved against the repository when
 * it runs, so a saved plan stays valid when inputs change content.
 *
 * Memory layout: columns, not objects (a million quanta would otherwise be several million heap
 * objects). Per task, its quanta's data IDs (`DataIdColumns`), per input connection a CSR pair (the
 * dataset ids of quantum i are `ids[offsets[i] .. offsets[i + 1])`), per output connection one dataset
 * id per quantum. Per dataset type, its range of ids and, for input types, their data IDs (a produced
 * dataset's data ID is its producer's). Per dataset its producer (int32), and the consumers as a second
 * CSR. `quantum(id)` and `dataset(id)` make an object view on demand; hot paths use the accessors that
 * return numbers and typed-array views.
 */
import type { DataId } from "./data-id.js";
import { DataIdColumns } from "./data-id-columns.js";
import type { DimensionUniverse } from "./dimensions.js";
import type { Pipeline, TaskNode } from "./pipeline.js";
import type { StorageClass } from "./storage-class.js";

export interface GraphDataset {
  readonly id: number;
  readonly type: string;
  readonly dataId: DataId;
  /** `encodeDataId(dataId)`. */
  readonly key: string;
  readonly storage: StorageClass;
  /** The producing quantum's id, or -1 for an input dataset. */
  readonly producer: number;
  /** Ids of the quanta that read it, ascending. */
  readonly consumers: readonly number[];
}

export interface GraphQuantum {
  readonly id: number;
  /** The task label. */
  readonly task: string;
  readonly dataId: DataId;
  /** `encodeDataId(dataId)`. */
  readonly key: string;
  /** Per input connection, the dataset ids it reads, in data ID order (one for a non-`multiple` input). */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  /** Per output connection, the dataset id it writes. */
  readonly outputs: Readonly<Record<string, number>>;
}

/** Lists of ids, one per item: item i's are `ids[offsets[i] .. offsets[i + 1])`. */
export interface IdLists {
  readonly offsets: Uint32Array;
  readonly ids: Uint32Array;
}

/** One task's quanta: ids `first .. first + count - 1`. */
export interface TaskQuanta {
  readonly task: TaskNode;
  readonly first: number;
  readonly count: number;
  readonly dataIds: DataIdColumns;
  /** Per input connection (declaration order), the dataset ids each quantum reads, ascending. */
  readonly inputs: ReadonlyMap<string, IdLists>;
  /** Per output connection (declaration order), the dataset id each quantum writes. */
  readonly outputs: ReadonlyMap<string, Uint32Array>;
}

/** One dataset type's datasets: ids `first .. first + count - 1`. */
export interface TypeDatasets {
  readonly type: string;
  readonly storage: StorageClass;
  readonly first: number;
  readonly count: number;
  /** Input types: their data IDs. Produced types: none (a dataset's data ID is its producer's). */
  readonly dataIds?: DataIdColumns;
}

export interface QuantumGraphParts {
  /** The pipeline the plan was built from, restricted to the selected tasks (`tasks` in the same order). */
  readonly pipeline: Pipeline;
  /** One entry per task of `pipeline.tasks`, in that order, ids contiguous from 0. */
  readonly taskQuanta: readonly TaskQuanta[];
  /** By type name, ids contiguous from 0. */
  readonly types: readonly TypeDatasets[];
  /** Per dataset, its producing quantum or -1. */
  readonly producers: Int32Array;
  readonly query: QuantumGraph["query"];
  readonly inputCollection: string;
}

const NO_IDS = new Uint32Array(0);

export class QuantumGraph {
  readonly pipeline: Pipeline;
  readonly dimensions: DimensionUniverse;
  readonly tasks: readonly TaskNode[];
  /** The query the plan was built with, for display. */
  readonly query: { readonly where?: string; readonly bind?: Readonly<Record<string, string>> };
  /** The collection input datasets are read from (default `raw`). */
  readonly inputCollection: string;
  readonly taskQuanta: readonly TaskQuanta[];
  readonly types: readonly TypeDatasets[];
  readonly quantumCount: number;
  readonly datasetCount: number;
  private readonly producers: Int32Array;
  private readonly consumers: IdLists;
  private readonly taskFirsts: Int32Array;
  private readonly typeFirsts: Int32Array;

  constructor(parts: QuantumGraphParts) {
    this.pipeline = parts.pipeline;
    this.dimensions = parts.pipeline.dimensions;
    this.tasks = parts.pipeline.tasks;
    this.query = parts.query;
    this.inputCollection = parts.inputCollection;
    this.taskQuanta = parts.taskQuanta;
    this.types = parts.types;
    this.producers = parts.producers;
    this.quantumCount = parts.taskQuanta.reduce((n, t) => n + t.count, 0);
    this.datasetCount = parts.producers.length;
    this.taskFirsts = Int32Array.from(parts.taskQuanta, (t) => t.first);
    this.typeFirsts = Int32Array.from(parts.types, (t) => t.first);
    this.consumers = collectConsumers(this.datasetCount, parts.taskQuanta);
  }

  // ---- quanta

  /** The index in `taskQuanta` of quantum `q`'s task. */
  taskIndexOf(q: number): number {
    return lastAtMost(this.taskFirsts, q, this.taskQuanta, (t) => t.count);
  }

  taskQuantaOf(q: number): TaskQuanta {
    return this.taskQuanta[this.taskIndexOf(q)]!;
  }

  /** The task label of quantum `q`. */
  taskOf(q: number): string {
    return this.taskQuantaOf(q).task.label;
  }

  quantumDataId(q: number): DataId {
    const t = this.taskQuantaOf(q);
    return t.dataIds.dataId(q - t.first);
  }

  /** `encodeDataId` of quantum `q`'s data ID. */
  quantumKey(q: number): string {
    const t = this.taskQuantaOf(q);
    return t.dataIds.key(q - t.first);
  }

  /** The dataset ids quantum `q` reads through connection `name` (ascending; a view, do not keep). */
  inputIds(q: number, name: string): Uint32Array {
    const t = this.taskQuantaOf(q);
    const lists = t.inputs.get(name);
    if (lists === undefined) return NO_IDS;
    const i = q - t.first;
    return lists.ids.subarray(lists.offsets[i]!, lists.offsets[i + 1]!);
  }

  /** Calls `visit` with every dataset id quantum `q` reads, per connection in declaration order. */
  forEachInput(q: number, visit: (datasetId: number, connection: string) => void): void {
    const t = this.taskQuantaOf(q);
    const i = q - t.first;
    for (const [name, lists] of t.inputs) for (let k = lists.offsets[i]!; k < lists.offsets[i + 1]!; k++) visit(lists.ids[k]!, name);
  }

  /** The dataset quantum `q` writes through connection `name`. */
  outputId(q: number, name: string): number {
    const t = this.taskQuantaOf(q);
    const ids = t.outputs.get(name);
    if (ids === undefined) throw new Error(`internal error: task ${t.task.label} has no output connection ${name}`);
    return ids[q - t.first]!;
  }

  /** The dataset ids quantum `q` writes, per output connection in declaration order. */
  outputIds(q: number): number[] {
    const t = this.taskQuantaOf(q);
    const out: number[] = [];
    for (const ids of t.outputs.values()) out.push(ids[q - t.first]!);
    return out;
  }

  /** The id of `task`'s quantum whose canonical key is `key`, or -1. */
  findQuantum(task: string, key: string): number {
    const t = this.taskQuanta.find((x) => x.task.label === task);
    if (t === undefined) return -1;
    for (let i = 0; i < t.count; i++) if (t.dataIds.key(i) === key) return t.first + i;
    return -1;
  }

  /** `task@key` of quantum `q`, as it is printed and named in reasons. */
  quantumName(q: number): string {
    return `${this.taskOf(q)}@${this.quantumKey(q)}`;
  }

  /** An object view of quantum `id` (made on each call: keep only the ones you need). */
  quantum(id: number): GraphQuantum {
    const t = this.taskQuantaOf(id);
    const i = id - t.first;
    const inputs: Record<string, number[]> = {};
    for (const [name, lists] of t.inputs) inputs[name] = Array.from(lists.ids.subarray(lists.offsets[i]!, lists.offsets[i + 1]!));
    const outputs: Record<string, number> = {};
    for (const [name, ids] of t.outputs) outputs[name] = ids[i]!;
    return { id, task: t.task.label, dataId: t.dataIds.dataId(i), key: t.dataIds.key(i), inputs, outputs };
  }

  /** Every quantum as an object view, in id order. */
  *allQuanta(): IterableIterator<GraphQuantum> {
    for (let id = 0; id < this.quantumCount; id++) yield this.quantum(id);
  }

  // ---- datasets

  typeIndexOf(d: number): number {
    return lastAtMost(this.typeFirsts, d, this.types, (t) => t.count);
  }

  typeOf(d: number): string {
    return this.types[this.typeIndexOf(d)]!.type;
  }

  storageOf(d: number): StorageClass {
    return this.types[this.typeIndexOf(d)]!.storage;
  }

  /** The producing quantum of dataset `d`, or -1 for an input. */
  producerOf(d: number): number {
    return this.producers[d]!;
  }

  /** The quanta that read dataset `d`, ascending (a view, do not keep). */
  consumersOf(d: number): Uint32Array {
    return this.consumers.ids.subarray(this.consumers.offsets[d]!, this.consumers.offsets[d + 1]!);
  }

  datasetDataId(d: number): DataId {
    const producer = this.producers[d]!;
    if (producer >= 0) return this.quantumDataId(producer);
    const t = this.types[this.typeIndexOf(d)]!;
    return t.dataIds!.dataId(d - t.first);
  }

  datasetKey(d: number): string {
    const producer = this.producers[d]!;
    if (producer >= 0) return this.quantumKey(producer);
    const t = this.types[this.typeIndexOf(d)]!;
    return t.dataIds!.key(d - t.first);
  }

  /** An object view of dataset `id` (made on each call). */
  dataset(id: number): GraphDataset {
    const t = this.types[this.typeIndexOf(id)]!;
    const producer = this.producers[id]!;
    const own = producer < 0 ? t.dataIds! : undefined;
    return {
      id,
      type: t.type,
      dataId: own ? own.dataId(id - t.first) : this.quantumDataId(producer),
      key: own ? own.key(id - t.first) : this.quantumKey(producer),
      storage: t.storage,
      producer,
      consumers: Array.from(this.consumersOf(id)),
    };
  }

  /** Every dataset as an object view, in id order. */
  *allDatasets(): IterableIterator<GraphDataset> {
    for (let id = 0; id < this.datasetCount; id++) yield this.dataset(id);
  }

  /** The producers of every dataset (a view: do not modify). */
  allProducers(): Int32Array {
    return this.producers;
  }
}

/** The index of the last block whose first id is at most `id` and that is not empty. */
function lastAtMost<T>(firsts: Int32Array, id: number, blocks: readonly T[], count: (b: T) => number): number {
  let lo = 0;
  let hi = firsts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (firsts[mid]! <= id) lo = mid;
    else hi = mid - 1;
  }
  // Empty blocks share their first id with the next one: step back to the block that holds `id`.
  while (lo > 0 && count(blocks[lo]!) === 0) lo--;
  if (lo < 0 || lo >= blocks.length || id < firsts[lo]! || id >= firsts[lo]! + count(blocks[lo]!)) {
    throw new Error(`internal error: id ${id} is outside the graph`);
  }
  return lo;
}

/**
 * Per dataset, the ascending ids of the quanta that read it (each once), as one CSR. Counts first, then
 * fills: quanta are visited in id order, so every list comes out ascending.
 */
function collectConsumers(datasetCount: number, tasks: readonly TaskQuanta[]): IdLists {
  const offsets = new Uint32Array(datasetCount + 1);
  const last = new Int32Array(datasetCount);
  const each = (visit: (d: number, q: number) => void): void => {
    last.fill(-1);
    for (const t of tasks) {
      for (let i = 0; i < t.count; i++) {
        const q = t.first + i;
        for (const lists of t.inputs.values()) {
          for (let k = lists.offsets[i]!; k < lists.offsets[i + 1]!; k++) {
            const d = lists.ids[k]!;
            if (last[d] === q) continue;
            last[d] = q;
            visit(d, q);
          }
        }
      }
    }
  };
  each((d) => offsets[d + 1]!++);
  for (let d = 0; d < datasetCount; d++) offsets[d + 1]! += offsets[d]!;
  const ids = new Uint32Array(offsets[datasetCount]!);
  const fill = offsets.slice(0, datasetCount);
  each((d, q) => (ids[fill[d]!++] = q));
  return { offsets, ids };
}
