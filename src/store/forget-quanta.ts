/**
 * `quanta forget`: what the repository remembers of some quanta, dropped so that the next run computes
 * them again, for good. A quantum is named by its task label and, optionally, its data ID; a label alone
 * names every quantum of the task. For each, every action cache entry made by it (whatever its key: a
 * config or input seen before would otherwise bring the old result back) and its record in every
 * collection are deleted. The datasets it produced stay bound until the next run replaces them, and
 * their blobs stay for `gc`.
 *
 * Scans the action cache and every collection's quantum records: a command, not a run's hot path.
 */
import type { QuantumKey } from "../core/digest.js";
import type { Registry } from "./registry.js";

/** A task label, and the canonical data ID of one of its quanta (undefined: all of them). */
export interface ForgetTarget {
  task: string;
  dataId?: string;
}

export interface ForgottenQuanta {
  /** Per target, in order: action cache entries and quantum records dropped. */
  perTarget: { actions: number; records: number }[];
}

/** Deletes the targets' action cache entries and quantum records; call it inside a registry commit. */
export function forgetQuanta(registry: Registry, targets: readonly ForgetTarget[]): ForgottenQuanta {
  const perTarget = targets.map(() => ({ actions: 0, records: 0 }));
  const matching = (task: string, dataId: string) => targets.findIndex((t) => t.task === task && (t.dataId === undefined || t.dataId === dataId));
  const keys: QuantumKey[] = [];
  for (const action of registry.listActions()) {
    const i = matching(action.manifest.task, action.manifest.dataId);
    if (i < 0) continue;
    keys.push(action.key);
    perTarget[i]!.actions++;
  }
  const records: { collection: string; task: string; dataId: string }[] = [];
  for (const q of registry.listAllQuanta()) {
    const i = matching(q.task, q.dataId);
    if (i < 0) continue;
    records.push(q);
    perTarget[i]!.records++;
  }
  for (const key of keys) registry.deleteAction(key);
  for (const q of records) registry.deleteQuantum(q.collection, q.task, q.dataId);
  return { perTarget };
}
