/**
 * Turns the planned quanta and the type stores into a `QuantumGraph`: datasets numbered by type name and
 * then data ID, quanta's type-local dataset indices rewritten into graph ids (each input list ascending,
 * which is data ID order), and every dataset's consumers filled in.
 */
import type { DataId } from "./data-id.js";
import type { GraphSources, TypeStore } from "./graph-sources.js";
import type { PlannedQuantum } from "./graph-task-planner.js";
import type { Pipeline, TaskNode } from "./pipeline.js";
import type { GraphDataset, GraphQuantum, QuantumGraph } from "./quantum-graph.js";

export interface AssemblyInput {
  readonly pipeline: Pipeline;
  readonly tasks: readonly TaskNode[];
  readonly quanta: PlannedQuantum[];
  readonly sources: GraphSources;
  readonly query: QuantumGraph["query"];
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
  /** Local index by position. */
  readonly order?: number[];
}

function numberStore(store: TypeStore, offset: number): Numbering {
  if (store.producerTask !== undefined) return { offset };
  const compare = makeDataIdComparator(store.dimensions);
  const order = store.dataIds.map((_, i) => i).sort((a, b) => compare(store.dataIds[a]!, store.dataIds[b]!));
  const rank = new Int32Array(order.length);
  order.forEach((local, pos) => (rank[local] = pos));
  return { offset, rank, order };
}

export function assembleGraph(input: AssemblyInput): QuantumGraph {
  const stores = input.sources.allStores().filter((s) => s.dataIds.length > 0);
  stores.sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
  const numbering = new Map<string, Numbering>();
  const datasets: GraphDataset[] = [];
  for (const store of stores) {
    const n = numberStore(store, datasets.length);
    numbering.set(store.type, n);
    for (let pos = 0; pos < store.dataIds.length; pos++) {
      const local = n.order ? n.order[pos]! : pos;
      datasets.push({
        id: datasets.length,
        type: store.type,
        dataId: store.dataIds[local]!,
        key: store.keys[local]!,
        storage: store.storage,
        producer: store.producers[local]!,
        consumers: [],
      });
    }
  }
  renumberQuanta(input.tasks, input.quanta, numbering);
  for (const q of input.quanta) {
    for (const ids of Object.values(q.inputs)) {
      for (const id of ids) {
        const consumers = datasets[id]!.consumers as number[];
        if (consumers[consumers.length - 1] !== q.id) consumers.push(q.id);
      }
    }
  }
  return {
    pipeline: input.pipeline,
    dimensions: input.pipeline.dimensions,
    tasks: input.tasks,
    datasets,
    quanta: input.quanta as GraphQuantum[],
    query: input.query,
    inputCollection: input.sources.inputCollection,
  };
}

/** Rewrites type-local indices into graph ids, in place. */
function renumberQuanta(tasks: readonly TaskNode[], quanta: PlannedQuantum[], numbering: Map<string, Numbering>): void {
  const byTask = new Map(tasks.map((t) => [t.label, t]));
  let task: TaskNode | undefined;
  let inputs: [string, Numbering][] = [];
  let outputs: [string, Numbering][] = [];
  for (const q of quanta) {
    if (task?.label !== q.task) {
      task = byTask.get(q.task)!;
      const numberOf = (type: string): Numbering => numbering.get(type) ?? { offset: 0 };
      inputs = Object.values(task.inputs).map((c) => [c.name, numberOf(c.type)]);
      outputs = Object.values(task.outputs).map((c) => [c.name, numberOf(c.type)]);
    }
    for (const [name, n] of inputs) {
      const ids = q.inputs[name]!;
      for (let i = 0; i < ids.length; i++) ids[i] = n.offset + (n.rank ? n.rank[ids[i]!]! : ids[i]!);
      if (ids.length > 1) ids.sort((a, b) => a - b);
    }
    for (const [name, n] of outputs) q.outputs[name] = n.offset + q.outputs[name]!;
  }
}
