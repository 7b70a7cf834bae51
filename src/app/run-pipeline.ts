/**
 * `quanta run`, `quanta exec`, `quanta status`: composition of the loader, ingest, the graph builder,
 * the engine and a reporter. `run` = ingest changed inputs + build the graph + execute it; `exec`
 * executes a saved plan; `status` resolves every quantum without running any.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { EventBody, QuantaEvent, Reporter } from "../core/events.js";
import { countTaskQuanta, RunTally } from "../core/run-tally.js";
import { stampEvent } from "../core/events.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import { UsageError } from "../core/errors.js";
import { runGraph, type RunResult } from "../exec/engine.js";
import { InProcessExecutor } from "../exec/in-process-executor.js";
import { PoolExecutor } from "../exec/pool-executor.js";
import type { QuantumExecutor } from "../exec/quantum-job.js";
import { openRepository, type Repository } from "../store/repository.js";
import { loadSavedPlan } from "../store/plan-file.js";
import { checkPlannedInputs } from "./planned-inputs.js";
import { createReporter } from "../ui/create-reporter.js";
import { buildPlan, emitPlanWarnings, preparePlan, type PlanRequest } from "./plan-pipeline.js";
import { countDroppedQuanta, type PlanWarning } from "../core/plan-warning.js";
import { runFingerprint, upToDateStamp, writeRunStamp, type RunStamp } from "./stamps.js";
import { writeLastRun } from "./last-run.js";
import { stopOnInterrupt } from "./interrupts.js";

export interface ExecFlags {
  jobs?: number;
  retries: number;
  failFast: boolean;
  executor: "local" | "slurm";
  fsync: boolean;
}

export interface OutputFlags {
  json: boolean;
  quiet: boolean;
  plain: boolean;
}

export async function runPipeline(req: PlanRequest & { exec: ExecFlags; output: OutputFlags }): Promise<number> {
  checkExecFlags(req.exec);
  const reporter = await openReporter(req.output);
  const emit = emitterFor(reporter);
  const repo = await openRepository(req.repoRoot, { write: true, command: "quanta run", fsync: req.exec.fsync });
  try {
    const prepared = await preparePlan(req, repo, emit);
    const { pipeline, collection } = prepared;
    const rememberRun = () =>
      writeLastRun(req.repoRoot, {
        format: 1,
        pipeline: resolve(req.pipelineFile),
        collection,
        dimensions: pipeline.dimensions,
        flags: { where: req.flags.where, bind: req.flags.bind, tasks: req.flags.tasks, config: req.flags.config, output: collection },
      });
    const identity = { pipeline, collection, where: req.flags.where, bind: req.flags.bind, tasks: prepared.tasks, targets: req.targets };
    const fingerprint = runFingerprint(repo.hasher, identity);
    const stamp = await upToDateStamp(repo, collection, fingerprint);
    if (stamp !== undefined) {
      rememberRun();
      return reportUpToDate({ stamp, pipeline: pipeline.name, collection, executor: makeExecutorInfo(req.exec), emit });
    }
    const { graph, taskQuanta, warnings } = await buildPlan(req, repo, emit, prepared);
    rememberRun();
    const result = await execute({ graph, repo, collection, exec: req.exec, emit: countingDropped(emit, warnings) });
    if (result.exitCode === 0) {
      await writeRunStamp(repo, collection, {
        fingerprint,
        quanta: graph.quanta.length,
        datasets: graph.datasets.length,
        tasks: taskQuanta,
        fileBlobs: result.fileBlobs,
        ...(warnings.length === 0 ? {} : { warnings }),
      });
    }
    return result.exitCode;
  } finally {
    await repo.close();
    await reporter.close();
  }
}

export async function execPlan(opts: { repoRoot: string; planFile: string; collection?: string; exec: ExecFlags; output: OutputFlags }): Promise<number> {
  checkExecFlags(opts.exec);
  const loading = performance.now();
  const { graph, inputDigests } = await loadSavedPlan(opts.planFile);
  const loadMs = Math.round(performance.now() - loading);
  const reporter = await openReporter(opts.output);
  const emit = emitterFor(reporter);
  const repo = await openRepository(opts.repoRoot, { write: true, command: "quanta exec", fsync: opts.exec.fsync });
  try {
    const collection = opts.collection ?? graph.pipeline.name;
    checkPlannedInputs(graph, inputDigests, repo.registry, collection);
    emit({ event: "graph-built", pipeline: graph.pipeline.name, quanta: graph.quanta.length, datasets: graph.datasets.length, durationMs: loadMs, tasks: countTaskQuanta(graph) });
    writeLastRun(opts.repoRoot, { format: 1, pipeline: graph.pipeline.file, collection, dimensions: graph.dimensions, flags: { bind: [], config: [], output: collection } });
    return (await execute({ graph, repo, collection, exec: opts.exec, emit })).exitCode;
  } finally {
    await repo.close();
    await reporter.close();
  }
}

/**
 * A run the run stamp answers (stamps.ts): the events of a run in which every quantum was up to date,
 * per task (`task-up-to-date`) rather than per quantum, without building the graph.
 */
function reportUpToDate(opts: {
  stamp: RunStamp;
  pipeline: string;
  collection: string;
  executor: { kind: "in-process" | "pool"; workers: number };
  emit: (e: EventBody) => void;
}): number {
  const { stamp, pipeline, collection } = opts;
  const warnings = stamp.warnings ?? [];
  const emit = countingDropped(opts.emit, warnings);
  const started = Date.now();
  emitPlanWarnings(warnings, emit);
  emit({ event: "graph-built", pipeline, quanta: stamp.quanta, datasets: stamp.datasets, durationMs: 0, tasks: stamp.tasks });
  const tally = new RunTally(stamp.tasks.map((t) => ({ task: t.task, total: t.quanta })), emit);
  emit({ event: "run-started", pipeline, collection, executor: opts.executor.kind, workers: opts.executor.workers, tasks: tally.totals });
  tally.finishEmptyTasks();
  for (const t of stamp.tasks) if (t.quanta > 0) tally.settle({ event: "task-up-to-date", task: t.task, quanta: t.quanta });
  const counts = tally.counts();
  emit({ event: "run-finished", pipeline, collection, counts, durationMs: Date.now() - started, tasks: tally.tasks(), slowest: [], exitCode: 0 });
  return 0;
}

/** `emit`, with the quanta the plan dropped counted in `run-finished`. */
function countingDropped(emit: (e: EventBody) => void, warnings: readonly PlanWarning[]): (e: EventBody) => void {
  const dropped = countDroppedQuanta(warnings);
  if (dropped === 0) return emit;
  return (e) => emit(e.event === "run-finished" ? { ...e, dropped } : e);
}

function makeExecutorInfo(flags: ExecFlags): { kind: "in-process" | "pool"; workers: number } {
  const jobs = flags.jobs ?? availableParallelism();
  return { kind: jobs === 1 ? "in-process" : "pool", workers: jobs };
}

async function execute(opts: { graph: QuantumGraph; repo: Repository; collection: string; exec: ExecFlags; emit: (e: EventBody) => void }): Promise<RunResult> {
  const executor = makeExecutor(opts.exec, opts.repo);
  // Ctrl-C or SIGTERM from here on stops the run in order; a second one exits at once.
  const interrupt = stopOnInterrupt();
  try {
    const result = await runGraph({
      graph: opts.graph,
      repo: opts.repo,
      collection: opts.collection,
      executor,
      emit: opts.emit,
      retries: opts.exec.retries,
      failFast: opts.exec.failFast,
      interrupt: interrupt.signal,
    });
    return result;
  } finally {
    interrupt.dispose();
    await executor.close();
  }
}

/** Refuses flags that cannot work before anything is ingested or planned. */
function checkExecFlags(flags: ExecFlags): void {
  if (flags.executor === "slurm") {
    throw new UsageError("the Slurm executor is not built yet in this version of quanta", "run locally: leave out --executor, or pass --executor local");
  }
  const jobs = flags.jobs ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`-j expects a whole number of at least 1, got ${flags.jobs}`);
  if (!Number.isInteger(flags.retries) || flags.retries < 0) throw new UsageError(`--retries expects a whole number, got ${flags.retries}`);
}

function makeExecutor(flags: ExecFlags, repo: Repository): QuantumExecutor {
  const jobs = flags.jobs ?? availableParallelism();
  return jobs === 1 ? new InProcessExecutor(repo.blobs, repo.root) : new PoolExecutor(jobs, repo.blobs, repo.root);
}

export async function openReporter(output: OutputFlags): Promise<Reporter> {
  return createReporter({ json: output.json, quiet: output.quiet, plain: output.plain, stdout: process.stdout, env: process.env });
}

export function emitterFor(reporter: Reporter): (e: EventBody) => void {
  return (body) => reporter.onEvent(stampEvent(body, Date.now()) as QuantaEvent);
}
