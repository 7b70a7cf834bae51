/**
 * One input changed since the last run: what a one-shot `quanta run` can take from that run instead of
 * resolving every quantum again (a watch keeps the same in memory, run-session.ts `changesSince`).
 *
 * The run stamp (stamps.ts) says that the last run with this fingerprint settled every quantum and left
 * the registry at generation G. When the registry was still at G just before this run's ingest, and
 * that ingest changed the content of some input files but added, removed and re-related none, then
 * this run's graph is that run's (same fingerprint, same inputs) and only the datasets of the changed
 * files differ. The states that run ended with (every produced dataset's digest, or none) were kept
 * beside its stamp, a line each (`runStatesText`, stamps.ts `writeRunStamp`), and are taken when they hash
 * to the digest the stamp holds. They are the run's own answer, as a watch keeps it in memory: the
 * output collection's records are not (an output left from before its quantum found no work, a
 * dataset another pipeline wrote into the same collection), and reading them back cost a record per
 * produced dataset, most of the time of a one-change run of a large graph. The engine then decides
 * only the quanta the changes reach (engine.ts, RunOptions.since); every other quantum is up to date
 * without reading its record or computing its key.
 *
 * Anything else (another write since the stamp, an input added or removed, a changed file that names
 * no dataset of the graph) gives undefined, and the run resolves every quantum as it would anyway.
 *
 * The graph itself is that run's too: it was kept beside the stamp, as a plan file's bytes
 * (store/plan-file.ts), and `stampedGraph` decodes it instead of building it again from every input
 * dataset. The builder reads the input collection's datasets and relations (a pipeline's types that
 * no task produces are its declared inputs); a run writes neither, so the registry at the stamp's
 * generation gives the graph that run started with. (A run of some `--tasks` keeps a graph of fewer
 * tasks than the pipeline's, which the decoding refuses: such a run builds its graph.)
 */
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { DatasetStates, RunOptions } from "../exec/engine.js";
import type { BlobDigest } from "../core/digest.js";
import type { Repository } from "../store/repository.js";
import { inputDatasetsAt } from "./changed-input-datasets.js";
import type { IngestReport } from "./ingest.js";
import { keptRunPlan, keptRunStates, runStampAt, statesTextDigest } from "./stamps.js";
import type { Pipeline } from "../core/pipeline.js";
import type { PlanWarning } from "../core/plan-warning.js";

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

/** Whether the ingest changed the content of some inputs and added, removed and re-related none. */
function onlyContentChanged(ingest: IngestReport): boolean {
  const sameInputs = ingest.added === 0 && ingest.removed === 0 && ingest.relations.every((r) => r.status === "unchanged");
  return sameInputs && ingest.changed > 0;
}

/**
 * The graph of the last run with this fingerprint, of `pipeline` (the same, by the fingerprint), the
 * warnings its planning gave, and the plan's bytes it was decoded from, when this run's is that one
 * (see the module comment); undefined otherwise, and the graph is built.
 */
export async function stampedGraph(check: Omit<StampedRunCheck, "graph"> & { pipeline: Pipeline }): Promise<{ graph: QuantumGraph; warnings: PlanWarning[]; bytes: Uint8Array } | undefined> {
  if (!onlyContentChanged(check.ingest)) return undefined;
  const stamp = runStampAt(check.repo, check.collection, check.fingerprint, check.generationBefore);
  const bytes = stamp === undefined ? undefined : keptRunPlan(check.repo, check.collection, stamp);
  if (bytes === undefined) return undefined;
  // Loaded here: msgpackr costs every other run about 30 ms to load.
  const { decodeSavedPlan } = await import("../store/plan-file.js");
  try {
    const { graph } = decodeSavedPlan(bytes, "the last run's plan", undefined, check.pipeline);
    return graph.quantumCount === stamp!.quanta && graph.datasetCount === stamp!.datasets ? { graph, warnings: stamp!.warnings ?? [], bytes } : undefined;
  } catch {
    return undefined;
  }
}

export function sinceStampedRun(check: StampedRunCheck): RunOptions["since"] | undefined {
  const { repo, graph, ingest } = check;
  if (!onlyContentChanged(ingest)) return undefined;
  const stamp = runStampAt(repo, check.collection, check.fingerprint, check.generationBefore);
  if (stamp?.states === undefined || stamp.quanta !== graph.quantumCount || stamp.datasets !== graph.datasetCount) return undefined;
  const changedInputs = new Set<number>();
  for (const ids of inputDatasetsAt(graph, ingest.changedPaths)) {
    if (ids.length === 0) return undefined;
    for (const id of ids) changedInputs.add(id);
  }
  const text = keptRunStates(repo, check.collection);
  if (text === undefined || statesTextDigest(repo.hasher, text) !== stamp.states) return undefined;
  const states = statesOfText(graph, text);
  return states === undefined ? undefined : { states, changedInputs, fileBlobs: stamp.fileBlobs };
}

/**
 * What a run stamp keeps of the states a run ended with (stamps.ts writeRunStamp): first the shape of
 * the graph's produced datasets, a line per dataset type that has them (its name, its first id and its
 * count), so that the lines after it are never taken for another graph's; then each produced
 * dataset's digest ("-" when absent), a line each, in id order.
 */
export function runStatesText(graph: QuantumGraph, states: DatasetStates): string {
  const lines = [shapeOf(graph)];
  for (let d = 0; d < graph.datasetCount; d++) if (graph.producerOf(d) >= 0) lines.push(states[d] ?? "-");
  return lines.join("\n") + "\n";
}

function shapeOf(graph: QuantumGraph): string {
  const types = graph.types.filter((t) => t.count > 0 && graph.producerOf(t.first) >= 0);
  return `produced ${types.map((t) => `${JSON.stringify(t.type)} ${t.first} ${t.count}`).join(", ")}`;
}

/**
 * The states `runStatesText` wrote, as the engine takes them (inputs null: the engine reads an input's
 * state itself and knows the changed ones from `changedInputs`); undefined unless the text is of a
 * graph of this shape, with a line for each of its produced datasets.
 */
function statesOfText(graph: QuantumGraph, text: string): DatasetStates | undefined {
  const lines = text.split("\n");
  if (lines[0] !== shapeOf(graph)) return undefined;
  const states: (BlobDigest | null)[] = new Array(graph.datasetCount).fill(null);
  let at = 1;
  for (let d = 0; d < graph.datasetCount; d++) {
    if (graph.producerOf(d) < 0) continue;
    const line = lines[at++];
    if (line === undefined || line === "") return undefined;
    states[d] = line === "-" ? null : (line as BlobDigest);
  }
  return at === lines.length - 1 && lines[at] === "" ? states : undefined;
}
