/**
 * The first half of `run`, `status` and `why`: load the pipeline, ingest changed input files, and build
 * the quantum graph over what the repository holds.
 */
import type { EventBody } from "../core/events.js";
import type { Pipeline } from "../core/pipeline.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { Repository } from "../store/repository.js";
import { ingestInputs } from "./ingest.js";
import { loadPipeline } from "./load-pipeline.js";
import { buildQuantumGraph, type AvailableInputs, type GraphTarget, type WhereFilter } from "../core/graph-builder.js";
import { formatJoinReport } from "../core/join-report.js";
import { compileWhere, parseBindings, parseWhere, referencedDimensions, toUsageError } from "../core/query/query.js";
import { UsageError } from "../core/errors.js";
import { parseQuantumRef } from "./parse-quantum-ref.js";
import type { PlanFlags } from "../cli/run-flags.js";

export interface PlanRequest {
  repoRoot: string;
  pipelineFile: string;
  targets: string[];
  flags: PlanFlags;
}

export interface Plan {
  pipeline: Pipeline;
  graph: QuantumGraph;
  collection: string;
}

export async function planPipeline(req: PlanRequest, repo: Repository, emit: (e: EventBody) => void): Promise<Plan> {
  const { pipeline } = await loadPipeline(req.pipelineFile, { config: req.flags.config, tasks: req.flags.tasks });
  const report = await ingestInputs({ inputs: pipeline.inputs, dimensions: pipeline.dimensions, repo });
  for (const p of report.problems) process.stderr.write(`warning: ${p.file}${p.line ? `:${p.line}` : ""}: ${p.message}\n`);
  emit({ event: "ingest-finished", added: report.added, changed: report.changed, unchanged: report.unchanged, removed: report.removed, errors: report.problems.length });
  const started = Date.now();
  const collection = req.flags.output ?? pipeline.name;
  const graph = buildGraph({ pipeline, repo, where: req.flags.where, bind: req.flags.bind, targets: req.targets });
  const perTask = new Map<string, number>();
  for (const q of graph.quanta) perTask.set(q.task, (perTask.get(q.task) ?? 0) + 1);
  emit({
    event: "graph-built",
    pipeline: pipeline.name,
    quanta: graph.quanta.length,
    datasets: graph.datasets.length,
    durationMs: Date.now() - started,
    tasks: graph.tasks.map((t) => ({ task: t.label, quanta: perTask.get(t.label) ?? 0 })),
  });
  return { pipeline, graph, collection };
}

/** Builds the graph over the repository's raw collection and relations (exit 2 on a graph error). */
function buildGraph(opts: { pipeline: Pipeline; repo: Repository; where?: string; bind: string[]; targets: string[] }): QuantumGraph {
  const { pipeline, repo } = opts;
  const registry = repo.registry;
  const available: AvailableInputs = {
    datasetIds(type) {
      if (!registry.getDatasetType(type)) return undefined;
      const ids = [];
      for (const e of registry.listDatasets({ collection: "raw", type })) ids.push(e.dataId);
      return ids;
    },
    relationRows: (name) => registry.getRelation(name)?.rows,
  };
  let where: WhereFilter | undefined;
  if (opts.where !== undefined && opts.where.trim() !== "") {
    const bind = parseBindings(opts.bind);
    const parsed = parseWhere(opts.where, pipeline.dimensions, bind);
    if (!parsed.ok) throw toUsageError(opts.where, parsed.error);
    where = { predicate: compileWhere(parsed.expr), dimensions: referencedDimensions(parsed.expr), text: opts.where, bind };
  }
  const targets: GraphTarget[] = opts.targets.map((t) => {
    const ref = parseQuantumRef(t, pipeline.dimensions, "dataset");
    return { type: ref.name, dataId: ref.dataId };
  });
  const built = buildQuantumGraph({ pipeline, available, where, targets });
  if (!built.ok) throw new UsageError(built.error.message, built.error.hint);
  if (built.graph.quanta.length === 0) {
    throw new UsageError(`the plan is empty: nothing to do\n${formatJoinReport(built.report)}`, "check --where and the pipeline's inputs ('quanta datasets' lists what is ingested)");
  }
  return built.graph;
}
