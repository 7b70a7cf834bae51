/**
 * After a run that settled every quantum: drops the blobs of the graph's temp outputs that some
 * quantum of the graph reads (core/temp-outputs.ts). Their records stay, digests and all. A temp output
 * that nothing in the graph reads is kept (it was asked for). A blob that anything else references, a
 * dataset of a type that is not temp (in any collection: equal bytes share one blob) or a relation, is
 * kept; finding those reads every dataset record, which only runs with temp outputs to drop pay.
 *
 * The dataset types are marked temp (`DatasetTypeRecord.temp`) in a commit before any blob goes, so
 * that `get` and `verify` know a missing blob of theirs was dropped on purpose, whenever a crash comes.
 */
import type { BlobDigest } from "../core/digest.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import { tempDatasets } from "../core/temp-outputs.js";
import type { DatasetStates } from "../exec/engine.js";
import type { Repository } from "../store/repository.js";

/** Drops what it can; returns the digests of the blobs it deleted. */
export async function dropTempOutputs(repo: Repository, graph: QuantumGraph, states: DatasetStates): Promise<Set<BlobDigest>> {
  const dropped = new Set<BlobDigest>();
  const temp = tempDatasets(graph);
  if (temp.size === 0) return dropped;
  const tempTypes = new Set<string>();
  for (const id of temp) {
    tempTypes.add(graph.typeOf(id));
    const digest = states[id];
    if (graph.consumersOf(id).length > 0 && typeof digest === "string" && repo.blobs.exists(digest)) dropped.add(digest);
  }
  for (let id = 0; id < states.length; id++) {
    const digest = states[id];
    if (typeof digest === "string" && dropped.has(digest) && !(temp.has(id) && graph.consumersOf(id).length > 0)) dropped.delete(digest);
  }
  if (dropped.size === 0) return dropped;
  const registry = repo.registry;
  for (const e of registry.listDatasets()) if (!tempTypes.has(e.type)) dropped.delete(e.record.digest);
  for (const r of registry.listRelations()) dropped.delete(r.digest);
  if (dropped.size === 0) return dropped;
  const unmarked = [...tempTypes].map((name) => registry.getDatasetType(name)).filter((t) => t !== undefined && t.temp !== true);
  if (unmarked.length > 0) await registry.commit(() => unmarked.forEach((t) => registry.putDatasetType({ ...t!, temp: true })));
  // One transaction: blobs kept in the registry are deleted there.
  await registry.commit(() => {
    for (const digest of dropped) if (!repo.blobs.delete(digest)) dropped.delete(digest);
  });
  return dropped;
}
