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
  const tempConnections = new Map<string, string[]>();
  for (const t of graph.tasks) {
    const names = Object.values(t.outputs).filter((c) => c.temp === true).map((c) => c.name);
    if (names.length > 0) tempConnections.set(t.label, names);
  }
  if (tempConnections.size === 0) return temp;
  for (const q of graph.quanta) {
    for (const name of tempConnections.get(q.task) ?? []) {
      const id = q.outputs[name];
      if (id !== undefined) temp.add(id);
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
  const name = (id: number) => `${graph.quanta[id]!.task}@${graph.quanta[id]!.key}`;
  for (;;) {
    const resolver = resolverFor(needed);
    const verdicts = dryRun(graph, resolver);
    let added = false;
    const need = (datasetId: number, consumer: string) => {
      const ds = graph.datasets[datasetId]!;
      if (needed.has(ds.producer)) return;
      const digest = resolver.stateOf(datasetId);
      if (typeof digest !== "string" || blobExists(digest)) return;
      needed.set(ds.producer, { kind: "temp-needed", type: ds.type, dataId: ds.key, consumer });
      added = true;
    };
    for (const id of temp) if (graph.datasets[id]!.consumers.length === 0) need(id, "");
    verdicts.forEach((verdict, id) => {
      if (verdict === undefined || (verdict.status !== "will-run" && verdict.status !== "may-run")) return;
      const q = graph.quanta[id]!;
      for (const conn in q.inputs) for (const d of q.inputs[conn]!) if (temp.has(d)) need(d, name(id));
    });
    if (!added) return needed;
  }
}
