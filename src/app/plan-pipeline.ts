/**
 * The first half of `run`, `status`, `why` and `graph`: load the pipeline, ingest changed input files,
 * and build the quantum graph over what the repository holds.
 *
 * A writer (`run`, `graph -o`) ingests for real. A reader (`status`, `why`, `graph`; a repository opened
 * without the writer lock) previews the ingest instead (ingest-preview.ts): the same files are hashed,
 * nothing is written, and the graph is built over the repository as the ingest would leave it.
 */
import { join } from "node:path";
import type { EventBody } from "../core/events.js";
import type { Pipeline } from "../core/pipeline.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import type { Repository } from "../store/repository.js";
import { describeIngest, formatIngestProblem, ingestInputs, type IngestOptions, type IngestReport } from "./ingest.js";
import { previewIngest } from "./ingest-preview.js";
import { loadPipeline, type LoadedPipeline } from "./load-pipeline.js";
import { selectTasks } from "../core/select-tasks.js";
import { buildGraphWithReport, type ListedDigests } from "./build-graph.js";
import type { JoinReport } from "../core/join-report.js";
import { inputCollectionOf } from "../core/input-collection.js";
import { parseParameterFlags } from "../core/parse-parameter-flag.js";
import { checkOutputCollection } from "../core/check-output-collection.js";
import { countTaskQuanta } from "../core/run-tally.js";
import { collectPlanWarnings, formatPlanWarning, type PlanWarning } from "../core/plan-warning.js";

/** The flags that shape a plan: the data query, the task selection, config overrides, the output. */
export interface PlanFlags {
  where?: string;
  bind: string[];
  tasks?: string;
  config: string[];
  /** `--param name=value`: pipeline parameters, over the pipeline file's `parameters:`. */
  params?: string[];
  /** `--force LABELS`: tasks whose quanta run whatever the cache holds (core/forced-tasks.ts). */
  force?: string[];
  output?: string;
}

export interface PlanRequest {
  repoRoot: string;
  pipelineFile: string;
  targets: string[];
  flags: PlanFlags;
}

export interface Plan {
  pipeline: Pipeline;
  /** What the plan was built over (see PreparedPlan.repo). */
  repo: Repository;
  graph: QuantumGraph;
  collection: string;
  report: JoinReport;
  durationMs: number;
  /** The quanta of each task, in pipeline order. */
  taskQuanta: { task: string; quanta: number }[];
  /** What planning dropped without failing; already emitted as `plan-warning` events. */
  warnings: PlanWarning[];
}

/** Loads, ingests and builds; an empty graph is a UsageError that explains itself unless `allowEmpty`. */
export async function planPipeline(req: PlanRequest & { allowEmpty?: boolean; listedDigests?: ListedDigests }, repo: Repository, emit: (e: EventBody) => void): Promise<Plan> {
  const prepared = await preparePlan(req, repo, emit);
  return buildPlan(req, prepared.repo, emit, prepared);
}

/** What a plan starts from: the loaded pipeline, the selected task labels, the output collection. */
export interface PreparedPlan {
  pipeline: Pipeline;
  /**
   * What to plan over: the repository itself once a writer ingested; for a reader, a view of it whose
   * registry holds the inputs as the previewed ingest would leave them.
   */
  repo: Repository;
  tasks?: string[];
  collection: string;
  /** The pipeline as loaded, with the files it was read from (see LoadedPipeline). */
  loaded: LoadedPipeline;
  /** What the ingest (or its preview) found. */
  ingest: IngestReport;
}

/**
 * The first half of planPipeline: loads the pipeline and ingests (a reader: previews) changed input
 * files. A writer ingests with `options.ingest` when given (a run session's: only the changed paths).
 */
export async function preparePlan(
  req: PlanRequest,
  repo: Repository,
  emit: (e: EventBody) => void,
  options: { ingest?: (inputs: IngestOptions) => Promise<IngestReport>; loaded?: LoadedPipeline } = {},
): Promise<PreparedPlan> {
  // A repository that does not exist yet gets no module cache: a reader creates nothing.
  const moduleCacheDir = repo.exists ? join(repo.root, "modules") : undefined;
  const parameters = parseParameterFlags(req.flags.params ?? []);
  const loaded = options.loaded ?? (await loadPipeline(req.pipelineFile, { config: req.flags.config, parameters, moduleCacheDir }));
  const { pipeline } = loaded;
  checkOutputCollection(req.flags.output ?? pipeline.name, req.flags.output === undefined ? "the pipeline's name" : "--output");
  // The whole pipeline goes to the builder with the selected labels, so that it can say which
  // unselected task produces an input that does not exist yet.
  let tasks: string[] | undefined;
  if (req.flags.tasks !== undefined) {
    const selection = selectTasks(pipeline, req.flags.tasks);
    if (!selection.ok) throw selection.error;
    tasks = [...selection.labels];
  }
  const started = performance.now();
  const inputs = { inputs: pipeline.inputs, dimensions: pipeline.dimensions, repo, collection: inputCollectionOf(pipeline.name) };
  const { report: ingest, repo: planned } = repo.writable ? { report: await (options.ingest ?? ingestInputs)(inputs), repo } : await previewIngest(inputs);
  for (const p of ingest.problems) process.stderr.write(formatIngestProblem(p));
  for (const event of describeIngest(ingest, performance.now() - started)) emit(event);
  return { pipeline, repo: planned, tasks, collection: req.flags.output ?? pipeline.name, loaded, ingest };
}

/** The second half of planPipeline: builds the graph over what `repo` (`prepared.repo`) holds. */
export async function buildPlan(
  req: PlanRequest & { allowEmpty?: boolean; listedDigests?: ListedDigests },
  repo: Repository,
  emit: (e: EventBody) => void,
  prepared: PreparedPlan,
): Promise<Plan> {
  const { pipeline, tasks, collection } = prepared;
  const { graph, report, durationMs } = await buildGraphWithReport({
    pipeline,
    repo,
    where: req.flags.where,
    bind: req.flags.bind,
    targets: req.targets,
    collection,
    tasks,
    inputCollection: inputCollectionOf(pipeline.name),
    allowEmpty: req.allowEmpty,
    ...(req.listedDigests === undefined ? {} : { listedDigests: req.listedDigests }),
  });
  const taskQuanta = countTaskQuanta(graph);
  const warnings = collectPlanWarnings(report);
  emitPlanWarnings(warnings, emit);
  emit({
    event: "graph-built",
    pipeline: pipeline.name,
    quanta: graph.quantumCount,
    datasets: graph.datasetCount,
    durationMs: Math.round(durationMs),
    tasks: taskQuanta,
  });
  return { pipeline, repo, graph, collection, report, durationMs, taskQuanta, warnings };
}

/** One `plan-warning` event per warning. */
export function emitPlanWarnings(warnings: readonly PlanWarning[], emit: (e: EventBody) => void): void {
  for (const warning of warnings) emit({ event: "plan-warning", warning, message: formatPlanWarning(warning) });
}
