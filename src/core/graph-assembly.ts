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
  let total = 0;
  for (const store of stores) {
    numbering.set(store.type, numberStore(store, total));
    total += store.dataIds.length;
  }
  renumberQuanta(input.tasks, input.quanta, numbering);
  const consumers = collectConsumers(total, input.quanta);
  const datasets: GraphDataset[] = new Array(total);
  for (const store of stores) {
    const n = numbering.get(store.type)!;
    for (let pos = 0; pos < store.dataIds.length; pos++) {
      const local = n.order ? n.order[pos]! : pos;
      const id = n.offset + pos;
      datasets[id] = {
        id,
        type: store.type,
        dataId: store.dataIds[local]!,
        key: store.keys[local]!,
        storage: store.storage,
        producer: store.producers[local]!,
        consumers: consumers[id] ?? NO_CONSUMERS,
      };
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

/** Shared by every dataset that nothing reads (most final outputs), to spare a million empty arrays. */
export const NO_CONSUMERS: readonly number[] = Object.freeze([]);

/**
 * Per dataset id, the ascending ids of the quanta that read it (each once); undefined when none does.
 * Counts first, so each list is allocated at its size.
 */
export function collectConsumers(datasetCount: number, quanta: readonly GraphQuantum[]): (number[] | undefined)[] {
  const counts = new Int32Array(datasetCount);
  const last = new Int32Array(datasetCount);
  const each = (visit: (id: number, q: number) => void): void => {
    last.fill(-1);
    for (const q of quanta) {
      for (const name in q.inputs) {
        for (const id of q.inputs[name]!) {
          if (last[id] === q.id) continue;
          last[id] = q.id;
          visit(id, q.id);
        }
      }
    }
  };
  each((id) => counts[id]!++);
  const lists: (number[] | undefined)[] = new Array(datasetCount);
  for (let i = 0; i < datasetCount; i++) if (counts[i]! > 0) lists[i] = new Array(counts[i]!);
  counts.fill(0);
  each((id, q) => (lists[id]![counts[id]!++] = q));
  return lists;
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
