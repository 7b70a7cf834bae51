/**
 * A saved plan remembers the digests of the datasets it reads but does not produce (its inputs), and
 * `exec` refuses to run it once they changed: the graph was built over those datasets (which data IDs
 * exist, which quanta there are), so running it over others could give a wrong answer silently.
 *
 * An input is read from where the quantum resolver reads it (core/input-collection.ts, sourceCollectionOf).
 */
import { UsageError } from "../core/errors.js";
import { sourceCollectionOf } from "../core/input-collection.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { Registry } from "../store/registry.js";
import type { ListedDigests } from "./build-graph.js";

/**
 * The digest each input dataset of `graph` has now ("" for none), by dataset id. `listed`: what the
 * graph builder read from this registry (build-graph.ts, `listedDigests`), looked up by the dataset's
 * data ID object instead of reading the dataset again; one it did not list is read from the registry.
 */
export function readInputDigests(graph: QuantumGraph, registry: Registry, collection: string, listed?: ListedDigests): Map<number, string> {
  const digests = new Map<number, string>();
  const outputHolds = new Map<string, boolean>();
  const outputHas = (type: string) => {
    let has = outputHolds.get(type);
    if (has === undefined) outputHolds.set(type, (has = !registry.listDatasets({ collection, type })[Symbol.iterator]().next().done));
    return has;
  };
  const where = {
    ingestedTypes: new Set(graph.pipeline.inputs.filter((i) => i.kind === "files").map((i) => i.type)),
    inputCollection: graph.inputCollection,
    outputCollection: collection,
    outputHas,
  };
  for (const t of graph.types) {
    if (t.dataIds === undefined) continue;
    const known = listed?.get(t.type);
    for (let i = 0; i < t.count; i++) {
      const key = t.dataIds.key(i);
      digests.set(t.first + i, known?.get(key) ?? registry.getDataset(sourceCollectionOf(t.type, where), t.type, key)?.digest ?? "");
    }
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
    changed.push(`${graph.typeOf(id)}@${graph.datasetKey(id)} (planned ${digest || "absent"}, now ${current || "absent"})`);
  }
  if (changed.length === 0) return;
  const shown = changed.slice(0, 5).join(", ") + (changed.length > 5 ? ` and ${changed.length - 5} more` : "");
  throw new UsageError(
    `the plan's inputs changed since it was made: ${shown}`,
    `make the plan again (quanta graph ${graph.pipeline.file} -o PLAN), or run the pipeline with quanta run`,
  );
}
