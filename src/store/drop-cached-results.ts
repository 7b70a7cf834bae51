/**
 * Forgetting what was computed from a corrupt blob. A quantum key hashes its inputs' digests, not
 * their bytes: a quantum that read a blob after it went bad is cached under the same key as one that
 * read the good bytes, and would stay up to date for good. So when a blob is found corrupt, every
 * action cache entry whose inputs include it is dropped, with the quantum records (of any collection)
 * that hold such a key: those quanta run again. What they produced is left bound until then; its own
 * downstream reruns anyway once the rerun gives other bytes (their keys change).
 *
 * This scans the whole action cache: it runs only when corruption was found (verify --repair, or a
 * quantum that found a corrupt input), never on a run's hot path.
 */
import type { BlobDigest, QuantumKey } from "../core/digest.js";
import type { Registry } from "./registry.js";

export interface DroppedResults {
  /** Action cache entries dropped. */
  actions: number;
  /** Quantum records dropped (they pointed at those entries). */
  quanta: number;
}

/** Drops the cached results computed from any of `digests`; call it inside a registry commit. */
export function dropCachedResults(registry: Registry, digests: ReadonlySet<BlobDigest>): DroppedResults {
  const keys = new Set<QuantumKey>();
  for (const action of registry.listActions()) {
    if (action.manifest.inputs.some((i) => digests.has(i.digest))) keys.add(action.key);
  }
  for (const key of keys) registry.deleteAction(key);
  let quanta = 0;
  for (const q of registry.listAllQuanta()) {
    if (!keys.has(q.record.key)) continue;
    registry.deleteQuantum(q.collection, q.task, q.dataId);
    quanta++;
  }
  return { actions: keys.size, quanta };
}
