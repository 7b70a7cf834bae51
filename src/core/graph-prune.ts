/**
 * Positional targets (`calexp@visit=12,detector=3`): the graph pruned to the quanta those datasets need
 * (their producers and, transitively, the producers of those quanta's inputs). A target's data ID may
 * name fewer dimensions than its type has: it then selects every dataset of the type that agrees with it
 * (`coadd@band=r` is every r-band coadd). Ids are renumbered in the same order, so the pruned graph keeps
 * every ordering invariant.
 */
import type { DataId } from "./data-id.js";
import { encodeDataId } from "./data-id.js";
import { didYouMean } from "./errors.js";
import { makeGraphError, type GraphError } from "./graph-error.js";
import { formatRef } from "./graph-names.js";
import { graphFromLists, type ListedDataset, type ListedQuantum } from "./graph-assembly.js";
import type { QuantumGraph } from "./quantum-graph.js";

export interface GraphTarget {
  readonly type: string;
  readonly dataId: DataId;
}

function matchesTarget(dataId: DataId, target: GraphTarget): boolean {
  for (const [d, v] of Object.entries(target.dataId)) if (dataId[d] !== v) return false;
  return true;
}

/** Every dataset type the graph's tasks read or write. */
function knownTypes(graph: QuantumGraph): Set<string> {
  const types = new Set<string>(graph.pipeline.inputs.map((i) => i.type));
  for (const t of graph.tasks) for (const c of [...Object.values(t.inputs), ...Object.values(t.outputs)]) types.add(c.type);
  return types;
}

function findTargets(graph: QuantumGraph, targets: readonly GraphTarget[]): { ok: true; ids: number[] } | { ok: false; error: GraphError } {
  const types = knownTypes(graph);
  const ids: number[] = [];
  for (const target of targets) {
    const name = formatRef(target.type, encodeDataId(target.dataId));
    if (!types.has(target.type)) {
      return { ok: false, error: makeGraphError("unknown-target", `target ${name}: no task of the pipeline reads or writes dataset type "${target.type}"`, didYouMean(target.type, types)) };
    }
    const block = graph.types.find((t) => t.type === target.type);
    const before = ids.length;
    for (let d = block?.first ?? 0; block !== undefined && d < block.first + block.count; d++) if (matchesTarget(graph.datasetDataId(d), target)) ids.push(d);
    if (ids.length === before) {
      const hint = block === undefined ? `the graph has no ${target.type} datasets` : `e.g. ${formatRef(block.type, graph.datasetKey(block.first))} is in the graph`;
      return { ok: false, error: makeGraphError("target-not-found", `target ${name} matches no dataset of the graph`, hint) };
    }
    // Datasets no quantum makes: asking for them asks for nothing to run (an empty graph, with no reason to give).
    if (ids.slice(before).every((d) => graph.producerOf(d) < 0)) {
      const made = [...new Set(graph.tasks.flatMap((t) => Object.values(t.outputs).map((c) => c.type)))];
      return { ok: false, error: makeGraphError("input-target", `target ${name} names inputs of the pipeline, which no task makes`, `a target names what a task writes: ${made.join(", ")}`) };
    }
  }
  return { ok: true, ids };
}

/** The quanta the target datasets need, as a mask over quantum ids. */
function markAncestors(graph: QuantumGraph, targetIds: readonly number[]): Uint8Array {
  const keep = new Uint8Array(graph.quantumCount);
  const stack = [...targetIds];
  while (stack.length > 0) {
    const producer = graph.producerOf(stack.pop()!);
    if (producer < 0 || keep[producer]) continue;
    keep[producer] = 1;
    graph.forEachInput(producer, (id) => stack.push(id));
  }
  return keep;
}

export function pruneGraphToTargets(graph: QuantumGraph, targets: readonly GraphTarget[]): { ok: true; graph: QuantumGraph } | { ok: false; error: GraphError } {
  const found = findTargets(graph, targets);
  if (!found.ok) return found;
  const keepQuanta = markAncestors(graph, found.ids);
  const keepDatasets = new Uint8Array(graph.datasetCount);
  for (const id of found.ids) keepDatasets[id] = 1;
  for (let q = 0; q < graph.quantumCount; q++) {
    if (!keepQuanta[q]) continue;
    graph.forEachInput(q, (id) => (keepDatasets[id] = 1));
    for (const id of graph.outputIds(q)) keepDatasets[id] = 1;
  }
  const quantumId = renumber(keepQuanta);
  const datasetId = renumber(keepDatasets);
  const quanta: ListedQuantum[] = [];
  for (let q = 0; q < graph.quantumCount; q++) {
    if (!keepQuanta[q]) continue;
    const view = graph.quantum(q);
    quanta.push({
      ...view,
      inputs: Object.fromEntries(Object.entries(view.inputs).map(([c, ids]) => [c, ids.map((id) => datasetId[id]!)])),
      outputs: Object.fromEntries(Object.entries(view.outputs).map(([c, id]) => [c, datasetId[id]!])),
    });
  }
  const datasets: ListedDataset[] = [];
  for (let d = 0; d < graph.datasetCount; d++) {
    if (!keepDatasets[d]) continue;
    const producer = graph.producerOf(d);
    datasets.push({ type: graph.typeOf(d), dataId: graph.datasetDataId(d), storage: graph.storageOf(d), producer: producer < 0 ? -1 : quantumId[producer]! });
  }
  return { ok: true, graph: graphFromLists(graph, quanta, datasets) };
}

/** New ids for the kept entries (in the same order), -1 for the others. */
function renumber(keep: Uint8Array): Int32Array {
  const ids = new Int32Array(keep.length).fill(-1);
  let next = 0;
  for (let i = 0; i < keep.length; i++) if (keep[i]) ids[i] = next++;
  return ids;
}
