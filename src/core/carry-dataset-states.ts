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
  const name = (g: QuantumGraph, id: number) => `${g.typeOf(id)}\0${g.datasetKey(id)}`;
  const oldIds = new Map<string, number>();
  for (let d = 0; d < before.datasetCount; d++) oldIds.set(name(before, d), d);
  const carried: (BlobDigest | null)[] = new Array(after.datasetCount);
  const newInputs: number[] = [];
  for (let d = 0; d < after.datasetCount; d++) {
    const old = oldIds.get(name(after, d));
    carried[d] = old === undefined ? null : (states[old] ?? null);
    if (old === undefined && after.producerOf(d) < 0) newInputs.push(d);
  }
  const oldQuanta = new Map<string, number>();
  for (let q = 0; q < before.quantumCount; q++) oldQuanta.set(`${before.taskOf(q)}\0${before.quantumKey(q)}`, q);
  const sameInputs = new Uint8Array(after.quantumCount);
  for (let q = 0; q < after.quantumCount; q++) {
    const old = oldQuanta.get(`${after.taskOf(q)}\0${after.quantumKey(q)}`);
    if (old !== undefined && readsTheSame(after.quantum(q), after, before.quantum(old), before, name)) sameInputs[q] = 1;
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
