/**
 * One input changed since the last run: what a one-shot `quanta run` can take from that run instead of
 * resolving every quantum again (a watch keeps the same in memory, run-session.ts `changesSince`).
 *
 * The run stamp (stamps.ts) says that the last run with this fingerprint settled every quantum and left
 * the registry at generation G. When the registry was still at G just before this run's ingest, and
 * that ingest changed the content of some input files but added, removed and re-related none, then
 * this run's graph is that run's (same fingerprint, same inputs) and only the datasets of the changed
 * files differ. What that run left of every produced dataset is read back from the output collection's
 * records, and taken only if it hashes to the digest of the states the run ended with, kept in its
 * stamp (`statesDigest`): the records can hold other things (an output left from before its quantum
 * found no work, a dataset another pipeline wrote into the same collection), and those are not what
 * the quanta that would be skipped left. The engine then decides only the quanta the changes reach
 * (engine.ts, RunOptions.since); every other quantum is up to date without reading its record or
 * computing its key.
 *
 * Anything else (another write since the stamp, an input added or removed, a changed file that names
 * no dataset of the graph) gives undefined, and the run resolves every quantum as it would anyway.
 */
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { DatasetStates, RunOptions } from "../exec/engine.js";
import type { BlobDigest } from "../core/digest.js";
import { createTextHash, type StoreHasher } from "../store/hasher.js";
import type { Registry } from "../store/registry.js";
import type { Repository } from "../store/repository.js";
import { inputDatasetsAt } from "./changed-input-datasets.js";
import type { IngestReport } from "./ingest.js";
import { runStampAt } from "./stamps.js";

export interface StampedRunCheck {
  repo: Repository;
  graph: QuantumGraph;
  /** The output collection. */
  collection: string;
  fingerprint: string;
  /** The registry's generation before this run's ingest. */
  generationBefore: number;
  ingest: IngestReport;
}

export function sinceStampedRun(check: StampedRunCheck): RunOptions["since"] | undefined {
  const { repo, graph, ingest } = check;
  const sameInputs = ingest.added === 0 && ingest.removed === 0 && ingest.relations.every((r) => r.status === "unchanged");
  if (!sameInputs || ingest.changed === 0) return undefined;
  const stamp = runStampAt(repo, check.collection, check.fingerprint, check.generationBefore);
  if (stamp?.states === undefined || stamp.quanta !== graph.quantumCount || stamp.datasets !== graph.datasetCount) return undefined;
  const changedInputs = new Set<number>();
  for (const ids of inputDatasetsAt(graph, ingest.changedPaths)) {
    if (ids.length === 0) return undefined;
    for (const id of ids) changedInputs.add(id);
  }
  const states = statesInRegistry(graph, repo.registry, check.collection);
  return statesDigest(repo.hasher, graph, states) === stamp.states ? { states, changedInputs } : undefined;
}

/** A digest of every produced dataset's state (digest or absent), in id order. */
export function statesDigest(hasher: StoreHasher, graph: QuantumGraph, states: DatasetStates): string {
  const hash = createTextHash(hasher);
  for (let d = 0; d < graph.datasetCount; d++) if (graph.producerOf(d) >= 0) hash.add(`${states[d] ?? "-"}\n`);
  return hash.digest();
}

/**
 * Every produced dataset's digest as `collection` holds it (null: absent). Inputs are left null: the
 * engine reads an input's state itself and knows the changed ones from `changedInputs`.
 */
function statesInRegistry(graph: QuantumGraph, registry: Registry, collection: string): DatasetStates {
  const states: (BlobDigest | null)[] = new Array(graph.datasetCount).fill(null);
  for (const t of graph.types) {
    if (t.count === 0 || graph.producerOf(t.first) < 0) continue;
    const digests = new Map<string, BlobDigest>();
    for (const e of registry.listDatasets({ collection, type: t.type })) digests.set(e.key, e.record.digest);
    for (let d = t.first; d < t.first + t.count; d++) if (graph.producerOf(d) >= 0) states[d] = digests.get(graph.datasetKey(d)) ?? null;
  }
  return states;
}
