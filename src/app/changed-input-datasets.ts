/**
 * Which input datasets of a graph live at some changed paths: what a watch mode hands the run in hand
 * (engine.ts, `supersede`) when files change again during a pass. A path is matched against the
 * pipeline's input templates as the ingest matches it, without reading it (it may be gone). A
 * directory or a relation file names no dataset here: what they change is left to the next pass.
 */
import { resolve } from "node:path";
import { encodeDataId } from "../core/data-id.js";
import type { FileInputSpec } from "../core/pipeline.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import { matchInputFile } from "./collect-candidates.js";
import { parseTemplate } from "./ingest.js";

export function changedInputDatasets(graph: QuantumGraph, paths: readonly string[]): number[] {
  const specs = graph.pipeline.inputs.filter((s): s is FileInputSpec => s.kind === "files");
  const templates = specs.map((spec) => ({ spec, template: parseTemplate(spec, graph.dimensions) }));
  const wanted = new Set<string>();
  for (const path of paths) {
    for (const { spec, dataId } of matchInputFile(resolve(path), templates, { problems: [] })) wanted.add(`${spec.type}\0${encodeDataId(dataId)}`);
  }
  if (wanted.size === 0) return [];
  return graph.datasets.filter((d) => d.producer === -1 && wanted.has(`${d.type}\0${d.key}`)).map((d) => d.id);
}
