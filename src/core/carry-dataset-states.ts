/**
 * What a run over one graph left of its datasets, carried over to a graph built again after inputs came
 * or went (a watch's pass): the same datasets, named by type and data ID, keep their digests; which
 * input datasets are new; and which quanta read the same datasets as before. A quantum that did not,
 * or a new one, must be decided again; the others may keep their outputs when their inputs' digests
 * are the same (engine.ts, `since`).
 */
import type { BlobDigest } from "./digest.js";
import type { GraphQuantum, QuantumGraph } from "./quantum-graph.js";

export interface CarriedStates {
  /** Per dataset of the new graph: its digest in the old run, or null (absent, or new). */
  states: (BlobDigest | null)[];
  /** Input datasets of the new graph that the old one did not have. */
  newInputs: number[];
  /** Per quantum of the new graph: 1 when the old graph had it reading the same datasets. */
  sameInputs: Uint8Array;
}

export function carryDatasetStates(before: QuantumGraph, states: readonly (BlobDigest | null)[], after: QuantumGraph): CarriedStates {
  const name = (g: QuantumGraph, id: number) => `${g.datasets[id]!.type}\0${g.datasets[id]!.key}`;
  const oldIds = new Map<string, number>();
  for (const d of before.datasets) oldIds.set(name(before, d.id), d.id);
  const carried: (BlobDigest | null)[] = new Array(after.datasets.length);
  const newInputs: number[] = [];
  for (const d of after.datasets) {
    const old = oldIds.get(name(after, d.id));
    carried[d.id] = old === undefined ? null : (states[old] ?? null);
    if (old === undefined && d.producer < 0) newInputs.push(d.id);
  }
  const oldQuanta = new Map<string, GraphQuantum>();
  for (const q of before.quanta) oldQuanta.set(`${q.task}\0${q.key}`, q);
  const sameInputs = new Uint8Array(after.quanta.length);
  for (const q of after.quanta) {
    const old = oldQuanta.get(`${q.task}\0${q.key}`);
    if (old !== undefined && readsTheSame(q, after, old, before, name)) sameInputs[q.id] = 1;
  }
  return { states: carried, newInputs, sameInputs };
}

function readsTheSame(q: GraphQuantum, g: QuantumGraph, old: GraphQuantum, oldGraph: QuantumGraph, name: (g: QuantumGraph, id: number) => string): boolean {
  const connections = Object.keys(q.inputs);
  if (connections.length !== Object.keys(old.inputs).length) return false;
  for (const c of connections) {
    const now = q.inputs[c]!;
    const then = old.inputs[c];
    if (then === undefined || then.length !== now.length) return false;
    for (let i = 0; i < now.length; i++) if (name(g, now[i]!) !== name(oldGraph, then[i]!)) return false;
  }
  return true;
}
