/**
 * Temp outputs (an output connection marked `temp: true`, as Snakemake's `temp()`): once every quantum
 * of a run that reads such a dataset has run, its blob is dropped (app/drop-temp-outputs.ts); the
 * registry keeps its record and digest, so the keys of its readers do not change and a reader that is
 * up to date stays up to date without it (the resolver takes a temp output's missing blob as present).
 *
 * A reader that must run needs the bytes: its producer must run first. Whether a reader must run is
 * known only once its other inputs are resolved, after the producer was decided; so, before a run,
 * `tempProducersToRun` walks the graph as `quanta status` does (core/dry-run.ts) and names each
 * producer whose dropped output a quantum that will (or may) run reads. Forcing those producers can
 * make more quanta run (their other outputs' readers, and the producers of temp inputs they read
 * themselves), so the walk is repeated until no producer is added: once per level of temp outputs
 * read by temp producers, in practice once or twice. A dropped temp output that no quantum of the
 * graph reads (the graph was narrowed to its producer) is computed again too: that is how one is
 * asked for.
 */
import type { BlobDigest } from "./digest.js";
import { dryRun } from "./dry-run.js";
import type { Reason } from "./explain.js";
import type { QuantumGraph } from "./quantum-graph.js";
import type { QuantumResolver } from "./quantum-resolver.js";

/** Per quantum id, why it runs whatever the cache holds: one of its temp outputs is needed again. */
export type NeededProducers = Map<number, Extract<Reason, { kind: "temp-needed" }>>;

/** The datasets of the graph that temp output connections write, by id. */
export function tempDatasets(graph: QuantumGraph): Set<number> {
  const temp = new Set<number>();
  for (const t of graph.taskQuanta) {
    for (const c of Object.values(t.task.outputs)) {
      if (c.temp !== true) continue;
      for (const id of t.outputs.get(c.name) ?? []) temp.add(id);
    }
  }
  return temp;
}

/**
 * The producers that must run again because a dropped temp output of theirs is needed; undefined when
 * the graph has no temp outputs (nothing to walk). `resolverFor` makes a fresh resolver forcing the
 * producers given; `blobExists` tells whether a blob is in the store.
 */
export function tempProducersToRun(
  graph: QuantumGraph,
  resolverFor: (needed: NeededProducers) => QuantumResolver,
  blobExists: (digest: BlobDigest) => boolean,
): NeededProducers | undefined {
  const temp = tempDatasets(graph);
  if (temp.size === 0) return undefined;
  const needed: NeededProducers = new Map();
  for (;;) {
    const resolver = resolverFor(needed);
    const verdicts = dryRun(graph, resolver);
    let added = false;
    const need = (datasetId: number, consumer: string) => {
      const producer = graph.producerOf(datasetId);
      if (needed.has(producer)) return;
      const digest = resolver.stateOf(datasetId);
      if (typeof digest !== "string" || blobExists(digest)) return;
      needed.set(producer, { kind: "temp-needed", type: graph.typeOf(datasetId), dataId: graph.datasetKey(datasetId), consumer });
      added = true;
    };
    for (const id of temp) if (graph.consumersOf(id).length === 0) need(id, "");
    verdicts.forEach((verdict, id) => {
      if (verdict === undefined || (verdict.status !== "will-run" && verdict.status !== "may-run")) return;
      graph.forEachInput(id, (d) => {
        if (temp.has(d)) need(d, graph.quantumName(id));
      });
    });
    if (!added) return needed;
  }
}
