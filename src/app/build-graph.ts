/**
 * Building the quantum graph over a repository: the flags (`--where`, `--bind`, targets, `--tasks`)
 * become the builder's options, the registry becomes its `AvailableInputs`, and its outcomes become
 * exceptions (UsageError, exit 2). Shared by `quanta graph` and the engine's `run`/`status`.
 *
 * Available datasets: a type the pipeline's `inputs:` declares is read from the input collection
 * (`raw/<pipeline name>` when planned by a command, see core/input-collection.ts);
 * any other type (an output of a task left out by `--tasks`, or a prerequisite from elsewhere) from the
 * output collection, then the input collection. Relations are the registry's.
 */
import type { DataId } from "../core/data-id.js";
import { parseDataIdRef } from "../core/data-id.js";
import { UsageError } from "../core/errors.js";
import { buildQuantumGraph, type AvailableInputs, type GraphTarget, type WhereFilter } from "../core/graph-builder.js";
import { explainEmptyTask, type JoinReport } from "../core/join-report.js";
import type { Pipeline } from "../core/pipeline.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import { compileWhere, parseBindings, parseWhere, referencedDimensions, toUsageError } from "../core/query/query.js";
import type { PlanFlags } from "./plan-pipeline.js";
import { relationKeyOf, sourceCollectionOf } from "../core/input-collection.js";
import type { Registry } from "../store/registry.js";
import type { Repository } from "../store/repository.js";

export interface BuildGraphRequest {
  readonly pipeline: Pipeline;
  readonly repo: Repository;
  readonly where?: string;
  /** `--bind name=value` entries. */
  readonly bind?: readonly string[];
  /** Positional targets, `TYPE@DATAID` or `TYPE` (every dataset of the type). */
  readonly targets?: readonly string[];
  /** Selected labels of `pipeline` (already resolved); all its tasks when absent. */
  readonly tasks?: readonly string[];
  /** The output collection: where existing outputs of unselected tasks are found. */
  readonly collection: string;
  /** Default `raw`. */
  readonly inputCollection?: string;
  /** Return an empty graph instead of throwing a UsageError that explains it. */
  readonly allowEmpty?: boolean;
  /**
   * Filled with the digest of every dataset the builder listed, by type and canonical key, so that a saved plan's input digests need no second registry read
   * (planned-inputs.ts).
   */
  readonly listedDigests?: ListedDigests;
}

/** Digests by type, then by canonical key (the listing's own key strings), as the builder read them. */
export type ListedDigests = Map<string, Map<string, string>>;

export interface BuiltGraph {
  readonly graph: QuantumGraph;
  readonly report: JoinReport;
  readonly durationMs: number;
}

/** The graph, or a UsageError (exit 2) that says why it cannot be built or why it is empty. */
export async function buildGraphForPipeline(req: BuildGraphRequest): Promise<QuantumGraph> {
  return (await buildGraphWithReport(req)).graph;
}

/** The graph with its join report and how long building took. */
export async function buildGraphWithReport(req: BuildGraphRequest): Promise<BuiltGraph> {
  const where = compileWhereFlag(req.pipeline, req.where, req.bind ?? []);
  const targets = (req.targets ?? []).map((t) => parseTarget(t, req.pipeline));
  const inputCollection = req.inputCollection ?? "raw";
  const started = performance.now();
  const result = buildQuantumGraph({
    pipeline: req.pipeline,
    available: availableInRepository(req.repo.registry, req.pipeline, inputCollection, req.collection, req.listedDigests),
    ...(where === undefined ? {} : { where }),
    ...(targets.length === 0 ? {} : { targets }),
    ...(req.tasks === undefined ? {} : { tasks: req.tasks }),
    inputCollection,
  });
  if (!result.ok) throw new UsageError(result.error.message, result.error.hint);
  if (result.graph.quantumCount === 0 && !req.allowEmpty) throw emptyGraphError(result.report);
  return { graph: result.graph, report: result.report, durationMs: performance.now() - started };
}

function compileWhereFlag(pipeline: Pipeline, text: string | undefined, bind: readonly string[]): WhereFilter | undefined {
  if (text === undefined || text.trim() === "") return undefined;
  const bindings = parseBindings(bind);
  const parsed = parseWhere(text, pipeline.dimensions, bindings);
  if (!parsed.ok) throw toUsageError(text, parsed.error);
  return {
    predicate: compileWhere(parsed.expr),
    dimensions: referencedDimensions(parsed.expr),
    text,
    ...(Object.keys(bindings).length === 0 ? {} : { bind: bindings }),
  };
}

/** `calexp@visit=12,detector=3`, or a bare type name for all its datasets. */
export function parseTarget(text: string, pipeline: Pipeline): GraphTarget {
  const type = text.split("@", 1)[0]!.trim();
  if (type === "") throw new UsageError(`target '${text}': expected TYPE@DATAID, e.g. calexp@visit=12,detector=3`);
  const parsed = parseDataIdRef(text, pipeline.dimensions);
  if (!parsed.ok) throw new UsageError(`target '${text}': ${parsed.message} (column ${parsed.column})`);
  return { type, dataId: parsed.dataId };
}

function availableInRepository(registry: Registry, pipeline: Pipeline, inputCollection: string, outputCollection: string, digests?: ListedDigests): AvailableInputs {
  const declared = new Set(pipeline.inputs.filter((i) => i.kind === "files").map((i) => i.type));
  const list = (collection: string, type: string): DataId[] => {
    const out: DataId[] = [];
    let byKey = digests?.get(type);
    if (digests !== undefined && byKey === undefined) digests.set(type, (byKey = new Map()));
    for (const entry of registry.listDatasets({ collection, type })) {
      out.push(entry.dataId);
      byKey?.set(entry.key, entry.record.digest);
    }
    return out;
  };
  const outputHas = (type: string) => !registry.listDatasets({ collection: outputCollection, type })[Symbol.iterator]().next().done;
  const where = { ingestedTypes: declared, inputCollection, outputCollection, outputHas };
  return {
    datasetIds(type) {
      const ids = list(sourceCollectionOf(type, where), type);
      return ids.length > 0 || declared.has(type) || registry.getDatasetType(type) !== undefined ? ids : undefined;
    },
    relationRows: (name) => registry.getRelation(relationKeyOf(inputCollection, name))?.rows,
  };
}

function emptyGraphError(report: JoinReport): UsageError {
  const reasons = report.tasks.filter((t) => t.quanta === 0).map((t) => `  ${explainEmptyTask(t, report)}`);
  const noInputs = report.sources.some((s) => s.kind === "dataset" && s.total === 0 && s.producer === undefined);
  return new UsageError(
    `the quantum graph is empty:\n${reasons.join("\n")}`,
    noInputs ? "have the inputs been ingested? ('quanta ingest PIPELINE')" : "'quanta graph PIPELINE --explain' prints every join step",
  );
}

export type GraphDisplay = "summary" | "list" | "dot" | "mermaid" | "explain" | "none";

export interface GraphCommandOptions {
  readonly repoRoot: string;
  readonly pipelineFile: string;
  readonly targets: readonly string[];
  readonly flags: PlanFlags;
  /** Write the plan here (`-o`). */
  readonly save?: string;
  readonly display: GraphDisplay;
  /** Draw quanta and datasets rather than tasks and dataset types. */
  readonly quanta: boolean;
  readonly json: boolean;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

/**
 * `quanta graph`: load the pipeline, build the graph, then save it and/or print it. Returns the exit code.
 *
 * Printing is a reader's work (no lock; changed inputs previewed, as `status` does). Saving (`-o`) is a
 * writer's: it ingests, so that the datasets the saved plan reads, by digest, are in the repository
 * when `quanta exec` runs it.
 */
export async function runGraphCommand(opts: GraphCommandOptions): Promise<number> {
  const { planPipeline } = await import("./plan-pipeline.js");
  const { openRepository } = await import("../store/repository.js");
  const repo = await openRepository(
    opts.repoRoot,
    opts.save === undefined ? { write: false, ifMissing: "empty" } : { write: true, command: "quanta graph -o" },
  );
  let built: BuiltGraph;
  let inputDigests: Map<number, string> | undefined;
  // Saving: the digests the builder lists are kept, for the plan's input digests.
  const listedDigests: ListedDigests | undefined = opts.save === undefined ? undefined : new Map();
  try {
    built = await planPipeline(
      { repoRoot: opts.repoRoot, pipelineFile: opts.pipelineFile, targets: [...opts.targets], flags: opts.flags, allowEmpty: opts.display === "explain", ...(listedDigests === undefined ? {} : { listedDigests }) },
      repo,
      () => undefined,
    );
    if (opts.save !== undefined) {
      const { readInputDigests } = await import("./planned-inputs.js");
      inputDigests = readInputDigests(built.graph, repo.registry, opts.flags.output ?? built.graph.pipeline.name, listedDigests);
      listedDigests?.clear();
    }
  } finally {
    await repo.close();
  }
  if (opts.save !== undefined) {
    const { savePlan } = await import("../store/plan-file.js");
    await savePlan(built.graph, opts.save, (id) => inputDigests?.get(id));
  }
  await printGraph(built, opts);
  return 0;
}

async function printGraph(built: BuiltGraph, opts: GraphCommandOptions): Promise<void> {
  const { graph, report } = built;
  const { collectPlanWarnings, formatPlanWarning } = await import("../core/plan-warning.js");
  const warnings = opts.display === "explain" ? [] : collectPlanWarnings(report);
  if (opts.json) {
    const { printJsonEvents } = await import("../ui/json-reporter.js");
    const { countTaskQuanta } = await import("../core/run-tally.js");
    printJsonEvents(opts.out, [
      ...warnings.map((warning) => ({ event: "plan-warning" as const, warning, message: formatPlanWarning(warning) })),
      {
        event: "graph-built",
        pipeline: graph.pipeline.name,
        quanta: graph.quantumCount,
        datasets: graph.datasetCount,
        durationMs: Math.round(built.durationMs),
        tasks: countTaskQuanta(graph),
      },
    ]);
    return;
  }
  for (const warning of warnings) opts.err(`warning: ${formatPlanWarning(warning)}\n`);
  opts.out(await formatDisplay(built, opts));
  if (opts.save !== undefined) opts.err(`wrote ${opts.save}: ${graph.quantumCount} quanta, ${graph.datasetCount} datasets\n`);
}

async function formatDisplay(built: BuiltGraph, opts: GraphCommandOptions): Promise<string> {
  switch (opts.display) {
    case "summary":
      return (await import("../core/graph-text.js")).formatGraphSummary(built.graph);
    case "list":
      return (await import("../core/graph-text.js")).formatGraphText(built.graph);
    case "dot":
      return (await import("../core/graph-dot.js")).formatGraphDot(built.graph, { quanta: opts.quanta });
    case "mermaid":
      return (await import("../core/graph-mermaid.js")).formatGraphMermaid(built.graph, { quanta: opts.quanta });
    case "explain":
      return (await import("../core/join-report.js")).formatJoinReport(built.report);
    case "none":
      return "";
    default: {
      const never: never = opts.display;
      throw new Error(`internal error: unknown display ${String(never)}`);
    }
  }
}
