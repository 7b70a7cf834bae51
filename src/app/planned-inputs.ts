/**
 * A saved plan remembers the digests of the datasets it reads but does not produce (its inputs), and
 * `exec` refuses to run it once they changed: the graph was built over those datasets (which data IDs
 * exist, which quanta there are), so running it over others could give a wrong answer silently.
 *
 * An input resolves as the engine resolves it (quantum-decider.ts): the input collection first, then
 * the output collection.
 */
import { UsageError } from "../core/errors.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { Registry } from "../store/registry.js";

/** The digest each input dataset of `graph` has now ("" for none), by dataset id. */
export function readInputDigests(graph: QuantumGraph, registry: Registry, collection: string): Map<number, string> {
  const digests = new Map<number, string>();
  for (const ds of graph.datasets) {
    if (ds.producer >= 0) continue;
    const record = registry.getDataset(graph.inputCollection, ds.type, ds.key) ?? registry.getDataset(collection, ds.type, ds.key);
    digests.set(ds.id, record?.digest ?? "");
  }
  return digests;
}

/** Throws a UsageError (exit 2) naming the inputs whose digests differ from the plan's. */
export function checkPlannedInputs(graph: QuantumGraph, planned: ReadonlyMap<number, string>, registry: Registry, collection: string): void {
  if (planned.size === 0) return;
  const now = readInputDigests(graph, registry, collection);
  const changed: string[] = [];
  for (const [id, digest] of planned) {
    const current = now.get(id) ?? "";
    if (current === digest) continue;
    const ds = graph.datasets[id]!;
    changed.push(`${ds.type}@${ds.key} (planned ${digest || "absent"}, now ${current || "absent"})`);
  }
  if (changed.length === 0) return;
  const shown = changed.slice(0, 5).join(", ") + (changed.length > 5 ? ` and ${changed.length - 5} more` : "");
  throw new UsageError(
    `the plan's inputs changed since it was made: ${shown}`,
    `make the plan again (quanta graph ${graph.pipeline.file} -o PLAN), or run the pipeline with quanta run`,
  );
}
