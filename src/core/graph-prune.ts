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
import type { GraphDataset, GraphQuantum, QuantumGraph } from "./quantum-graph.js";

export interface GraphTarget {
  readonly type: string;
  readonly dataId: DataId;
}

function matchesTarget(dataset: GraphDataset, target: GraphTarget): boolean {
  if (dataset.type !== target.type) return false;
  for (const [d, v] of Object.entries(target.dataId)) if (dataset.dataId[d] !== v) return false;
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
    const found = graph.datasets.filter((d) => matchesTarget(d, target));
    if (found.length === 0) {
      const example = graph.datasets.find((d) => d.type === target.type);
      const hint = example === undefined ? `the graph has no ${target.type} datasets` : `e.g. ${formatRef(example.type, example.key)} is in the graph`;
      return { ok: false, error: makeGraphError("target-not-found", `target ${name} matches no dataset of the graph`, hint) };
    }
    for (const d of found) ids.push(d.id);
  }
  return { ok: true, ids };
}

/** The quanta the target datasets need, as a mask over quantum ids. */
function markAncestors(graph: QuantumGraph, targetIds: readonly number[]): Uint8Array {
  const keep = new Uint8Array(graph.quanta.length);
  const stack = [...targetIds];
  while (stack.length > 0) {
    const producer = graph.datasets[stack.pop()!]!.producer;
    if (producer < 0 || keep[producer]) continue;
    keep[producer] = 1;
    for (const ids of Object.values(graph.quanta[producer]!.inputs)) for (const id of ids) stack.push(id);
  }
  return keep;
}

export function pruneGraphToTargets(graph: QuantumGraph, targets: readonly GraphTarget[]): { ok: true; graph: QuantumGraph } | { ok: false; error: GraphError } {
  const found = findTargets(graph, targets);
  if (!found.ok) return found;
  const keepQuanta = markAncestors(graph, found.ids);
  const keepDatasets = new Uint8Array(graph.datasets.length);
  for (const id of found.ids) keepDatasets[id] = 1;
  graph.quanta.forEach((q) => {
    if (!keepQuanta[q.id]) return;
    for (const ids of Object.values(q.inputs)) for (const id of ids) keepDatasets[id] = 1;
    for (const id of Object.values(q.outputs)) keepDatasets[id] = 1;
  });
  const quantumId = renumber(keepQuanta);
  const datasetId = renumber(keepDatasets);
  const quanta: GraphQuantum[] = graph.quanta
    .filter((q) => keepQuanta[q.id])
    .map((q) => ({
      ...q,
      id: quantumId[q.id]!,
      inputs: Object.fromEntries(Object.entries(q.inputs).map(([c, ids]) => [c, ids.map((id) => datasetId[id]!)])),
      outputs: Object.fromEntries(Object.entries(q.outputs).map(([c, id]) => [c, datasetId[id]!])),
    }));
  const datasets: GraphDataset[] = graph.datasets
    .filter((d) => keepDatasets[d.id])
    .map((d) => ({
      ...d,
      id: datasetId[d.id]!,
      producer: d.producer < 0 ? -1 : quantumId[d.producer]!,
      consumers: d.consumers.filter((c) => keepQuanta[c]).map((c) => quantumId[c]!),
    }));
  return { ok: true, graph: { ...graph, quanta, datasets } };
}

/** New ids for the kept entries (in the same order), -1 for the others. */
function renumber(keep: Uint8Array): Int32Array {
  const ids = new Int32Array(keep.length).fill(-1);
  let next = 0;
  for (let i = 0; i < keep.length; i++) if (keep[i]) ids[i] = next++;
  return ids;
}
