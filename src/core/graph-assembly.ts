/**
 * Turns the planned quanta and the type stores into a `QuantumGraph`: datasets numbered by type name and
 * then data ID, quanta's type-local dataset indices rewritten into graph ids (each input list ascending,
 * which is data ID order), every dataset's producer set. The quantum graph fills in consumers itself.
 *
 * Quanta are collected per task by a `TaskQuantaBuilder` straight into columns (see quantum-graph.ts), so
 * planning a million quanta makes no object per quantum.
 */
import type { DataId, DataIdValue } from "./data-id.js";
import { DataIdColumnsBuilder } from "./data-id-columns.js";
import type { GraphSources, TypeStore } from "./graph-sources.js";
import type { Pipeline, TaskNode } from "./pipeline.js";
import { QuantumGraph, type GraphDataset, type GraphQuantum, type IdLists, type TaskQuanta, type TypeDatasets } from "./quantum-graph.js";

/** Growable lists of ids, one per item, frozen into an `IdLists`. */
class IdListsBuilder {
  private readonly offsets: number[] = [0];
  private readonly ids: number[] = [];

  add(ids: ArrayLike<number>): void {
    for (let k = 0; k < ids.length; k++) this.ids.push(ids[k]!);
    this.offsets.push(this.ids.length);
  }

  finish(): IdLists {
    return { offsets: Uint32Array.from(this.offsets), ids: Uint32Array.from(this.ids) };
  }
}

/** One task's quanta, added in id order, collected into columns. */
export class TaskQuantaBuilder {
  readonly dataIds: DataIdColumnsBuilder;
  private readonly inputs: [string, IdListsBuilder][];
  private readonly outputs: [string, number[]][];
  private added = 0;

  constructor(
    readonly task: TaskNode,
    readonly first: number,
  ) {
    this.dataIds = new DataIdColumnsBuilder(task.dimensions);
    this.inputs = Object.keys(task.inputs).map((name) => [name, new IdListsBuilder()]);
    this.outputs = Object.keys(task.outputs).map((name) => [name, []]);
  }

  get count(): number {
    return this.added;
  }

  /**
   * Adds the next quantum: its data ID (values in the order of the sorted task dimensions, or an object),
   * its inputs per input connection and its outputs per output connection, both in declaration order.
   */
  add(dataId: ArrayLike<DataIdValue> | DataId, inputs: readonly ArrayLike<number>[], outputs: readonly number[]): number {
    if (isValueList(dataId)) this.dataIds.push(dataId);
    else this.dataIds.pushDataId(dataId);
    for (let k = 0; k < this.inputs.length; k++) this.inputs[k]![1].add(inputs[k]!);
    for (let k = 0; k < this.outputs.length; k++) this.outputs[k]![1].push(outputs[k]!);
    return this.first + this.added++;
  }

  finish(): TaskQuanta {
    return {
      task: this.task,
      first: this.first,
      count: this.added,
      dataIds: this.dataIds.finish(),
      inputs: new Map(this.inputs.map(([name, b]) => [name, b.finish()])),
      outputs: new Map(this.outputs.map(([name, ids]) => [name, Uint32Array.from(ids)])),
    };
  }
}

function isValueList(dataId: ArrayLike<DataIdValue> | DataId): dataId is ArrayLike<DataIdValue> {
  return Array.isArray(dataId);
}

/** Orders data IDs over the same dimensions as `compareDataIds` does. */
export function makeDataIdComparator(dims: readonly string[]): (a: DataId, b: DataId) => number {
  const names = [...dims].sort();
  return (a, b) => {
    for (const n of names) {
      const x = a[n]!;
      const y = b[n]!;
      if (x === y) continue;
      if (typeof x === "number" && typeof y === "number") return x - y;
      return String(x) < String(y) ? -1 : 1;
    }
    return 0;
  };
}

interface Numbering {
  readonly offset: number;
  /** Graph position within the type, by local index; undefined when local order is already data ID order. */
  readonly rank?: Int32Array;
}

export interface AssemblyInput {
  readonly pipeline: Pipeline;
  /** Per task of `pipeline.tasks`, in order. */
  readonly tasks: readonly TaskQuanta[];
  readonly sources: GraphSources;
  readonly query: QuantumGraph["query"];
}

export function assembleGraph(input: AssemblyInput): QuantumGraph {
  const stores = input.sources.allStores().filter((s) => s.size > 0);
  stores.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const numbering = new Map<string, Numbering>();
  const types: TypeDatasets[] = [];
  let total = 0;
  for (const store of stores) {
    const { block, rank } = numberStore(store, total);
    numbering.set(store.type, { offset: total, rank });
    types.push(block);
    total += store.size;
  }
  const producers = new Int32Array(total).fill(-1);
  for (const store of stores) {
    if (store.producedFirst === undefined) continue;
    const offset = numbering.get(store.type)!.offset;
    for (let i = 0; i < store.size; i++) producers[offset + i] = store.producedFirst + i;
  }
  for (const t of input.tasks) renumberTask(t, numbering);
  return new QuantumGraph({ pipeline: input.pipeline, taskQuanta: input.tasks, types, producers, query: input.query, inputCollection: input.sources.inputCollection });
}

/** A type's block; for an available type, its used data IDs sorted and the rank of each local index. */
function numberStore(store: TypeStore, first: number): { block: TypeDatasets; rank?: Int32Array } {
  const block = { type: store.type, storage: store.storage, first, count: store.size };
  if (store.producedFirst !== undefined) return { block };
  const compare = makeDataIdComparator(store.dimensions);
  const order = store.dataIds.map((_, i) => i).sort((a, b) => compare(store.dataIds[a]!, store.dataIds[b]!));
  const rank = new Int32Array(order.length);
  const columns = new DataIdColumnsBuilder(store.dimensions);
  order.forEach((local, pos) => {
    rank[local] = pos;
    columns.pushDataId(store.dataIds[local]!);
  });
  return { block: { ...block, dataIds: columns.finish() }, rank };
}

/** Rewrites one task's type-local indices into graph ids, in place; each quantum's input list ascending. */
function renumberTask(t: TaskQuanta, numbering: Map<string, Numbering>): void {
  const numberOf = (type: string): Numbering => numbering.get(type) ?? { offset: 0 };
  for (const [name, lists] of t.inputs) {
    const n = numberOf(t.task.inputs[name]!.type);
    const ids = lists.ids;
    for (let k = 0; k < ids.length; k++) ids[k] = n.offset + (n.rank ? n.rank[ids[k]!]! : ids[k]!);
    for (let i = 0; i < t.count; i++) {
      const from = lists.offsets[i]!;
      const to = lists.offsets[i + 1]!;
      if (to - from > 1) ids.subarray(from, to).sort();
    }
  }
  for (const [name, ids] of t.outputs) {
    const offset = numberOf(t.task.outputs[name]!.type).offset;
    for (let i = 0; i < ids.length; i++) ids[i] = offset + ids[i]!;
  }
}

/** A quantum of `graphFromLists`: a quantum view without the parts its place gives (id, key). */
export type ListedQuantum = Pick<GraphQuantum, "task" | "dataId" | "inputs" | "outputs">;

/** A dataset of `graphFromLists`: a dataset view without id, key and consumers. */
export type ListedDataset = Pick<GraphDataset, "type" | "dataId" | "storage" | "producer">;

/**
 * A graph from lists of quanta and datasets that already have graph ids (their positions): quanta
 * grouped by task in pipeline order, datasets grouped by type in name order. For small graphs made
 * from another (pruning) and for tests.
 */
export function graphFromLists(
  base: { pipeline: Pipeline; query?: QuantumGraph["query"]; inputCollection?: string },
  quanta: readonly ListedQuantum[],
  datasets: readonly ListedDataset[],
): QuantumGraph {
  const taskQuanta: TaskQuanta[] = [];
  let at = 0;
  for (const task of base.pipeline.tasks) {
    const builder = new TaskQuantaBuilder(task, at);
    while (at < quanta.length && quanta[at]!.task === task.label) {
      const q = quanta[at++]!;
      builder.add(q.dataId, Object.keys(task.inputs).map((c) => q.inputs[c] ?? []), Object.keys(task.outputs).map((c) => q.outputs[c]!));
    }
    taskQuanta.push(builder.finish());
  }
  if (at !== quanta.length) throw new Error(`internal error: quantum ${at} (${quanta[at]!.task}) is out of pipeline order`);
  const types: TypeDatasets[] = [];
  for (let start = 0; start < datasets.length; ) {
    const first = datasets[start]!;
    let end = start;
    while (end < datasets.length && datasets[end]!.type === first.type) end++;
    const produced = datasets[start]!.producer >= 0;
    let dataIds;
    if (!produced) {
      const columns = new DataIdColumnsBuilder(Object.keys(first.dataId));
      for (let i = start; i < end; i++) columns.pushDataId(datasets[i]!.dataId);
      dataIds = columns.finish();
    }
    types.push({ type: first.type, storage: first.storage, first: start, count: end - start, ...(dataIds ? { dataIds } : {}) });
    start = end;
  }
  return new QuantumGraph({
    pipeline: base.pipeline,
    taskQuanta,
    types,
    producers: Int32Array.from(datasets, (d) => d.producer),
    query: base.query ?? {},
    inputCollection: base.inputCollection ?? "raw",
  });
}
