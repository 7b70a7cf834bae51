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
  return inputDatasetsAt(graph, paths).flat();
}

/** Per path, the ids of the graph's input datasets whose file it is (none for most other paths). */
export function inputDatasetsAt(graph: QuantumGraph, paths: readonly string[]): number[][] {
  const specs = graph.pipeline.inputs.filter((s): s is FileInputSpec => s.kind === "files");
  const templates = specs.map((spec) => ({ spec, template: parseTemplate(spec, graph.dimensions) }));
  const names = paths.map((path) => matchInputFile(resolve(path), templates, { problems: [] }).map(({ spec, dataId }) => `${spec.type}\0${encodeDataId(dataId)}`));
  const wanted = new Map(names.flat().map((name) => [name, -1]));
  if (wanted.size > 0) {
    for (const t of graph.types) {
      if (t.dataIds === undefined) continue;
      for (let i = 0; i < t.count; i++) {
        const name = `${t.type}\0${t.dataIds.key(i)}`;
        if (wanted.has(name)) wanted.set(name, t.first + i);
      }
    }
  }
  return names.map((list) => list.map((name) => wanted.get(name)!).filter((id) => id >= 0));
}
