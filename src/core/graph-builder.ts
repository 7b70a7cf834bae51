/**
 * Preflight: a pipeline, the repository's input datasets and relation rows, and a data query become the
 * whole plan (a `QuantumGraph`) before anything runs.
 *
 * The model: every row the builder handles is a data ID with all the dimensions known along its lineage.
 * Input datasets start with their own data IDs (`raw` at band, visit, detector); a task's quanta are the
 * distinct values of its quantum dimensions in the join of what its inputs provide, with relations joined
 * in to reach dimensions the inputs lack (overlaps links (visit, detector) to (tract, patch)); a quantum
 * keeps every other dimension that takes one value in it (`band` for a visit), and its outputs inherit
 * that row, so a coadd per (tract, patch, band) can gather the warps of its band. `--where` restricts every
 * input, relation and candidate quantum row. See graph-task-planner.ts for one task's steps.
 *
 * Task selection (`tasks`): only the selected tasks get quanta. An input of a selected task that an
 * unselected task produces is read from `available` like any input (the app serves it from the output
 * collection, so it must already exist there; the executor resolves inputs from the input collection and
 * then the output collection); if none exists, building fails and says which task to add.
 */
import { didYouMean } from "./errors.js";
import { assembleGraph } from "./graph-assembly.js";
import { makeGraphError, type GraphError } from "./graph-error.js";
import { pruneGraphToTargets, type GraphTarget } from "./graph-prune.js";
import { GraphSources, type AvailableInputs, type WhereFilter } from "./graph-sources.js";
import { planTaskQuanta } from "./graph-task-planner.js";
import type { JoinReport, TaskReport } from "./join-report.js";
import type { Pipeline, TaskNode } from "./pipeline.js";
import type { QuantumGraph, TaskQuanta } from "./quantum-graph.js";

export type { AvailableInputs, WhereFilter } from "./graph-sources.js";
export type { GraphTarget } from "./graph-prune.js";
export type { GraphError } from "./graph-error.js";

export interface BuildGraphOptions {
  readonly pipeline: Pipeline;
  readonly available: AvailableInputs;
  readonly where?: WhereFilter;
  /** Prune the graph to what these datasets need. */
  readonly targets?: readonly GraphTarget[];
  /** The selected task labels (subsets and `+` already resolved); all tasks when absent. */
  readonly tasks?: readonly string[];
  /** The collection input datasets are read from; default `raw`. */
  readonly inputCollection?: string;
}

export type BuildGraphResult = { ok: true; graph: QuantumGraph; report: JoinReport } | { ok: false; error: GraphError };

export function buildQuantumGraph(opts: BuildGraphOptions): BuildGraphResult {
  const selected = selectTasks(opts.pipeline, opts.tasks);
  if (!selected.ok) return selected;
  const problem = checkOutputs(opts.pipeline);
  if (problem !== undefined) return { ok: false, error: problem };
  const inputCollection = opts.inputCollection ?? "raw";
  const sources = new GraphSources(opts.pipeline, selected.tasks, opts.available, opts.where, inputCollection);
  const taskQuanta: TaskQuanta[] = [];
  const reports: TaskReport[] = [];
  let planned = 0;
  for (const task of selected.tasks) {
    const plan = planTaskQuanta(sources, task, planned);
    if (!plan.ok) return plan;
    taskQuanta.push(plan.quanta);
    planned += plan.quanta.count;
    reports.push(plan.report);
  }
  const query: QuantumGraph["query"] = {
    ...(opts.where?.text === undefined ? {} : { where: opts.where.text }),
    ...(opts.where?.bind === undefined ? {} : { bind: opts.where.bind }),
  };
  const pipeline = restrictPipeline(opts.pipeline, selected.tasks);
  let graph = assembleGraph({ pipeline, tasks: taskQuanta, sources, query });
  const report: JoinReport = {
    ...(opts.where?.text === undefined ? {} : { where: opts.where.text }),
    sources: sources.sourceReports(),
    tasks: reports,
  };
  if (opts.targets !== undefined && opts.targets.length > 0) {
    const pruned = pruneGraphToTargets(graph, opts.targets);
    if (!pruned.ok) return pruned;
    graph = pruned.graph;
  }
  return { ok: true, graph, report };
}

function selectTasks(pipeline: Pipeline, labels: readonly string[] | undefined): { ok: true; tasks: TaskNode[] } | { ok: false; error: GraphError } {
  if (labels === undefined) return { ok: true, tasks: [...pipeline.tasks] };
  const known = pipeline.tasks.map((t) => t.label);
  const unknown = labels.find((l) => !known.includes(l));
  if (unknown !== undefined) {
    return { ok: false, error: makeGraphError("unknown-task", `the pipeline has no task "${unknown}"`, didYouMean(unknown, known)) };
  }
  return { ok: true, tasks: pipeline.tasks.filter((t) => labels.includes(t.label)) };
}

/** Each dataset type has one producing task, and outputs have their task's quantum dimensions. */
function checkOutputs(pipeline: Pipeline): GraphError | undefined {
  const producers = new Map<string, string>();
  for (const task of pipeline.tasks) {
    for (const c of Object.values(task.outputs)) {
      const other = producers.get(c.type);
      if (other !== undefined) {
        return makeGraphError("duplicate-producer", `dataset type "${c.type}" is produced by both task "${other}" and task "${task.label}"`);
      }
      producers.set(c.type, task.label);
      if (!sameDimensions(c.dimensions, task.dimensions)) {
        return makeGraphError(
          "output-dimensions",
          `task "${task.label}" writes "${c.type}" (connection "${c.name}") with dimensions (${c.dimensions.join(", ")}), but its quantum dimensions are (${task.dimensions.join(", ")})`,
          "an output has exactly the dimensions of the task's quanta",
        );
      }
    }
  }
  return undefined;
}

function sameDimensions(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((d) => b.includes(d));
}

/** The pipeline with only the selected tasks; subsets keep only selected labels. */
function restrictPipeline(pipeline: Pipeline, tasks: readonly TaskNode[]): Pipeline {
  const labels = new Set(tasks.map((t) => t.label));
  const subsets = Object.fromEntries(
    Object.entries(pipeline.subsets)
      .map(([name, s]) => [name, { ...s, tasks: s.tasks.filter((t) => labels.has(t)) }] as const)
      .filter(([, s]) => s.tasks.length > 0),
  );
  return { ...pipeline, tasks, subsets };
}
