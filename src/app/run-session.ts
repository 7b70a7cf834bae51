/**
 * A run session: what `quanta run` and `quanta exec` keep open while they run, kept open across any
 * number of runs in one process (a watch mode's passes).
 *
 *     const session = await RunSession.open({ repoRoot, exec, output });
 *     await session.run(request);                            // ingest, plan, stamp check, run
 *     await session.run(request, { changedPaths: [file] });  // after an edit: only that file re-read
 *     await session.close();
 *
 * What it keeps, from `open` to `close`:
 * - the repository, with its writer lock held: no other process writes to it meanwhile;
 * - the executor: its worker threads (each with the task modules it imported), its shell spawner (the
 *   quanta-spawn helper) and its pool of sandboxes under the repository's `tmp/`. Made by the first run
 *   that executes a quantum. One that was stopped (an interrupt, a repository error) starts nothing
 *   more, and the worker threads of one whose run set corrupt blobs aside may still list them: such an
 *   executor is closed, and the next run makes a new one;
 * - the reporter (or the caller's event sink).
 *
 * What each run redoes, as a standalone `quanta run` does: load the pipeline (task modules are bundled
 * again and keep their code digests; an edited module gets a new digest, and the workers import the new
 * bundle, never the cached old one), ingest, check the run stamp, build the graph and run it. Ctrl-C
 * stops the run in hand (stopOnInterrupt), not the session.
 *
 * `close` ends the worker threads, the helper and the sandboxes, then releases the repository: nothing
 * the session started outlives it. Nothing of it is global to the process: two sessions (on two
 * repositories) share no pool, spawner or module cache.
 */
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { withoutBlobs } from "../store/sharded-blobs.js";
import type { EventBody, QuantaEvent, Reporter, RunCounts } from "../core/events.js";
import { countTaskQuanta, RunTally } from "../core/run-tally.js";
import { stampEvent } from "../core/events.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import { UsageError } from "../core/errors.js";
import { canonicalJson } from "../core/canonical-json.js";
import type { DatasetStates, RunResult, runGraph } from "../exec/engine.js";
import { tempProducersToRun, type NeededProducers } from "../core/temp-outputs.js";
import { QuantumResolver } from "../core/quantum-resolver.js";
import { viewOf } from "../store/repository-view.js";
import { checkSlurmResources, SLURM_SLOTS } from "./slurm-session.js";
import type { QuantumExecutor } from "../exec/quantum-job.js";
import { openRepository, type Repository } from "../store/repository.js";
import { checkPlannedInputs } from "./planned-inputs.js";
import { createReporter } from "../ui/create-reporter.js";
import { buildPlan, emitPlanWarnings, preparePlan, type PlanRequest } from "./plan-pipeline.js";
import { countDroppedQuanta, type PlanWarning } from "../core/plan-warning.js";
import { inputCollectionOf } from "../core/input-collection.js";
import { unfinishedSlurmBatches } from "../exec/slurm/submission-journal.js";
import { lastRunFingerprint, runFingerprint, stampedFilesPresent, upToDateStamp, vanishedStampName, writeRunStamp, type RunStamp } from "./stamps.js";
import { writeLastRun } from "./last-run.js";
import { runStatesText, sinceStampedRun, stampedGraph } from "./since-stamped-run.js";
import { describePlan, makeRunId, RunJournal } from "../core/run-journal.js";
import { allocateRunId, saveRunRecord } from "./run-records.js";
import { stopOnInterrupt } from "./interrupts.js";
import { ingestInputs, type IngestOptions, type IngestReport } from "./ingest.js";
import { ingestChangedPaths } from "./ingest-changed-paths.js";
import type { LoadedPipeline } from "./load-pipeline.js";
import { changedInputDatasets, inputDatasetsAt } from "./changed-input-datasets.js";
import { carryDatasetStates } from "../core/carry-dataset-states.js";
import { existsSync, statSync } from "node:fs";
import { readForcedTasks } from "../core/forced-tasks.js";
import { checkOutputCollection } from "../core/check-output-collection.js";

export interface ExecFlags {
  jobs?: number;
  retries: number;
  failFast: boolean;
  executor: "local" | "slurm";
  fsync: boolean;
  /** `--cluster-by`: with the Slurm executor, quanta of a task with the same values of these dimensions share a job. */
  clusterBy?: string[];
  /** `--cluster-size`: with the Slurm executor, at most this many quanta in one job. */
  clusterSize?: number;
}

export interface OutputFlags {
  json: boolean;
  quiet: boolean;
  plain: boolean;
}

/** Where a session's events go: a reporter made for these flags (closed with the session), or the caller's sink. */
export type SessionOutput = { output: OutputFlags } | { emit: (event: QuantaEvent) => void };

export type OpenSessionOptions = SessionOutput & {
  repoRoot: string;
  exec: ExecFlags;
  /** The command named by the writer lock while the session holds it (default `quanta run`). */
  command?: string;
};

/** What a run is asked to make: a `PlanRequest` on the session's repository. */
export type RunRequest = Omit<PlanRequest, "repoRoot">;

export interface RunOptions {
  /**
   * The paths that changed since the session's previous run (edited, new or deleted input files and
   * relation files; directories too): only these are looked at by the ingest (ingestChangedPaths), the
   * rest is taken as the previous run left it. Taken only when the previous run of this session
   * ingested the same input specs; otherwise (the first run, an edited `inputs:` section) every root
   * is walked. The caller promises that no other input changed (a file watcher's report). Paths
   * given to a run that failed before its ingest (a pipeline file that does not load) are ingested by
   * the next run.
   */
  changedPaths?: readonly string[];
  /** Where this run's events go instead of the session's reporter (a run a repository server serves). */
  emit?: (event: QuantaEvent) => void;
  /**
   * The run is a watch's pass (engine.ts RunOptions.supersede.pass): files changed again while it
   * runs supersede the quanta that read them (`supersede`), and so does a raw input found changed
   * under a command, unless it is in `changedBefore` (it changed under a command in the pass before
   * too). Any other run is never superseded: it ends as it would standalone.
   */
  pass?: { changedBefore: ReadonlySet<string> };
}

export interface SessionRunResult {
  exitCode: number;
  /** The run's totals (as in `run-finished`); unset when the run stopped before running (an error thrown). */
  counts?: RunCounts;
}

export class RunSession {
  private executor: QuantumExecutor | undefined;
  /** The input specs the last ingest of this session read (undefined: none yet, or it failed). */
  private ingested: string | undefined;
  /** Paths reported changed and not ingested yet (a run that failed before its ingest keeps them for the next). */
  private readonly unread = new Set<string>();
  private running = false;
  private closed = false;

  private constructor(
    private readonly repo: Repository,
    private readonly exec: ExecFlags,
    private readonly emit: (body: EventBody) => void,
    private readonly reporter: Reporter | undefined,
  ) {}

  /** Checks the flags, opens the reporter and the repository (taking the writer lock). */
  static async open(options: OpenSessionOptions): Promise<RunSession> {
    checkExecFlags(options.exec);
    const reporter = "output" in options ? await openReporter(options.output) : undefined;
    const sink = "emit" in options ? options.emit : undefined;
    const emit = reporter !== undefined ? emitterFor(reporter) : (body: EventBody) => sink!(stampEvent(body, Date.now()));
    try {
      const repo = await openRepository(options.repoRoot, { write: true, command: options.command ?? "quanta run", fsync: options.exec.fsync });
      return new RunSession(repo, options.exec, emit, reporter);
    } catch (err) {
      await reporter?.close();
      throw err;
    }
  }

  /** The repository's root directory. */
  get repoRoot(): string {
    return this.repo.root;
  }

  /** Reports an event of the caller's (watch mode's) through the session's reporter. */
  report(event: EventBody): void {
    this.emit(event);
  }

  /**
   * Stops the run in hand as an interrupt does (`reason` takes the signal's place in its
   * `run-finished`): no quantum starts any more, the running ones are stopped, what finished is kept.
   */
  stop(reason: string): void {
    if (!this.running) return;
    this.stopReason = reason;
    this.stopping?.abort(reason);
  }

  /**
   * Files changed again while a run executes its graph (a watch's pass): the quanta that read them, and
   * their descendants, are cancelled or never start, unrecorded; the next run redoes them. Changes of
   * any other kind (a relation, a new folder) are left to the next run. A file whose stat is still the
   * one its last ingest recorded did not change: a second report of a write the pass read (the
   * watcher may report a write twice) supersedes nothing.
   */
  supersede(paths: readonly string[]): void {
    const inHand = this.inHand;
    if (inHand?.pass === undefined) return;
    const datasets = changedInputDatasets(inHand.graph, paths.filter((path) => !this.asIngested(path)));
    if (datasets.length > 0) for (const listener of inHand.listeners) listener(datasets);
  }

  /** Whether the file at `path` has the stat its last ingest recorded (a racily new one never has). */
  private asIngested(path: string): boolean {
    const state = this.repo.registry.getFileState(resolve(path));
    if (state === undefined || state.mtimeMs === -1) return false;
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.size === state.size && st.mtimeMs === state.mtimeMs && st.ctimeMs === state.ctimeMs && st.ino === state.ino && st.dev === state.dev;
  }

  /** The graph being executed, the engine's listener for `supersede`, and whether it is a watch's pass. */
  private inHand: { graph: QuantumGraph; listeners: Set<(datasets: readonly number[]) => void>; pass?: RunOptions["pass"] } | undefined;

  /**
   * What `quanta status` of `req` would say, from memory: every quantum up to date, when the last run
   * of the session was of the same plan, settled every quantum, nothing was reported changed since
   * (a watch that is idle), and its outputs' blob files are all there. Undefined otherwise: the caller
   * works it out as a standalone status does.
   * The events are the plan's warnings, its `graph-built` and the `status`.
   */
  statusFromMemory(req: RunRequest): EventBody[] | undefined {
    const plan = this.lastPlan;
    const built = plan?.built;
    if (this.running || plan === undefined || built?.states === undefined || this.unread.size > 0 || this.changedSincePlan.size > 0) return undefined;
    if (plan.request !== planRequestKey({ ...req, repoRoot: this.repo.root })) return undefined;
    const collection = req.flags.output ?? plan.loaded.pipeline.name;
    // An output's blob file removed meanwhile (by hand: no command can while the watch holds the lock).
    if (!stampedFilesPresent(this.repo, collection)) return undefined;
    const events: EventBody[] = [];
    replayPlan(built, (e) => events.push(e));
    const tasks = built.taskQuanta.map((t) => ({ task: t.task, total: t.quanta, willRun: 0, mayRun: 0, upToDate: t.quanta, blocked: 0 }));
    const counts = { willRun: 0, mayRun: 0, upToDate: built.graph.quantumCount, blocked: 0 };
    events.push({ event: "status", pipeline: built.graph.pipeline.name, collection, repository: resolve(this.repo.root), counts, tasks });
    return events;
  }

  /** The first few quanta the last run started, with their reasons (RunResult.why); empty when none ran. */
  get lastReasons(): RunResult["why"] {
    return this.reasons;
  }

  private reasons: RunResult["why"] = [];

  /** The raw input files the last run found changed under its commands (RunResult.changedUnder). */
  get lastChangedUnder(): RunResult["changedUnder"] {
    return this.changedUnder;
  }

  private changedUnder: RunResult["changedUnder"] = { superseded: [], failed: [] };

  /** Aborted by `stop` while a run executes its graph. */
  private stopping: AbortController | undefined;
  /** Set by `stop` during the run in hand (before its graph runs, too). */
  private stopReason: string | undefined;

  /** One `quanta run`: ingest, plan, check the run stamp, run what is stale. */
  async run(req: RunRequest, options: RunOptions = {}): Promise<SessionRunResult> {
    for (const path of options.changedPaths ?? []) this.unread.add(resolve(path));
    const sink = options.emit;
    const emit = sink === undefined ? this.emit : (body: EventBody) => sink(stampEvent(body, Date.now()));
    return this.counting(emit, (counted) => this.runPipeline({ ...req, repoRoot: this.repo.root }, options, counted));
  }

  /** One `quanta exec`: runs a saved plan (`quanta graph -o`) into `collection` (default: the pipeline's name). */
  async runSavedPlan(opts: { planFile: string; collection?: string }): Promise<SessionRunResult> {
    return this.counting(this.emit, (counted) => this.execPlan(opts, counted));
  }

  /** Ends the executor (worker threads, spawner, sandboxes), then releases the repository and the reporter. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const executor = this.executor;
    this.executor = undefined;
    try {
      await executor?.close();
    } finally {
      try {
        await this.repo.close();
      } finally {
        await this.reporter?.close();
      }
    }
  }

  /** Runs one run at a time, and returns its exit code with the counts of its `run-finished` event. */
  private async counting(sink: (e: EventBody) => void, go: (emit: (e: EventBody) => void) => Promise<number>): Promise<SessionRunResult> {
    if (this.closed) throw new Error("internal error: a run on a closed session");
    if (this.running) throw new Error("internal error: a run on a session that is running one");
    this.running = true;
    this.reasons = [];
    this.changedUnder = { superseded: [], failed: [] };
    this.stopReason = undefined;
    let counts: RunCounts | undefined;
    const journal = (this.journal = new RunJournal(allocateRunId(this.repo.root, makeRunId(Date.now()))));
    const emit = (e: EventBody) => {
      if (e.event === "run-finished") counts = e.counts;
      journal.add(e, Date.now());
      sink(e);
    };
    let thrown = true;
    try {
      const exitCode = await go(emit);
      thrown = false;
      return counts === undefined ? { exitCode } : { exitCode, counts };
    } finally {
      this.running = false;
      this.journal = undefined;
      this.saveJournal(journal, thrown);
    }
  }

  /** The journal of the run in hand (for `quanta report`), saved when the run ends. */
  private journal: RunJournal | undefined;

  /** Saves a run's journal, if it started; after a run that threw, a failure to save is not reported over its error. */
  private saveJournal(journal: RunJournal, afterError: boolean): void {
    const head = journal.toRecordHead();
    if (head === undefined) return;
    try {
      saveRunRecord(this.repo.root, this.repo.registry, head.record, head.quanta);
    } catch (err) {
      if (!afterError) throw err;
    }
  }

  private async runPipeline(req: PlanRequest, options: RunOptions, emit: (e: EventBody) => void): Promise<number> {
    const repo = this.repo;
    const reuse = this.reusablePlan(req, options.changedPaths);
    // Until this run has planned, no plan is the last: one whose ingest committed and then failed leaves none to replay.
    this.lastPlan = undefined;
    const generationBefore = repo.registry.generation();
    const prepared = await preparePlan(req, repo, emit, { ingest: (inputs) => this.ingest(inputs, options.changedPaths !== undefined), loaded: reuse?.loaded });
    const { pipeline, collection } = prepared;
    // Checked before the stamp can answer: a bad value is an error whether or not anything is stale.
    if (this.exec.executor === "slurm") checkSlurmResources(pipeline, this.exec.clusterBy);
    // The graph is set once this run has one: a build that fails leaves none to reuse (inputs came or went).
    const plan: NonNullable<RunSession["lastPlan"]> = (this.lastPlan = { request: reuse?.request ?? planRequestKey(req), loaded: prepared.loaded, files: new Set(prepared.loaded.files) });
    this.changedSincePlan.clear();
    this.journal?.notePlan(describePlan(pipeline.tasks));
    const rememberRun = () =>
      writeLastRun(repo.root, {
        format: 1,
        pipeline: resolve(req.pipelineFile),
        collection,
        dimensions: pipeline.dimensions,
        flags: { where: req.flags.where, bind: req.flags.bind, tasks: req.flags.tasks, config: req.flags.config, params: req.flags.params ?? [], output: collection },
      });
    const identity = { pipeline, collection, where: req.flags.where, bind: req.flags.bind, tasks: prepared.tasks, targets: req.targets };
    const fingerprint = runFingerprint(repo.hasher, identity);
    // A forced run runs quanta the stamp would call up to date: it never takes the stamp's answer.
    const forcing = (req.flags.force ?? []).length > 0;
    // Nor does a Slurm run with submissions of a head that died not ingested yet: it re-attaches to them.
    const reattach = this.exec.executor === "slurm" && unfinishedSlurmBatches(join(repo.root, "slurm")) > 0;
    const stamp = forcing || reattach ? undefined : await upToDateStamp(repo, collection, fingerprint);
    if (stamp !== undefined) {
      plan.built = reuse?.built;
      rememberRun();
      return reportUpToDate({ stamp, pipeline: pipeline.name, collection, repository: resolve(repo.root), executor: makeExecutorInfo(this.exec), emit });
    }
    const sameInputs = prepared.ingest.added === 0 && prepared.ingest.removed === 0 && prepared.ingest.relations.every((r) => r.status === "unchanged");
    const reused = sameInputs ? reuse?.built : undefined;
    // Without a graph in memory, a run after an edit of some inputs takes the last run's, kept beside its stamp.
    const kept = reused !== undefined || reattach ? undefined : await stampedGraph({ repo, collection, fingerprint, generationBefore, ingest: prepared.ingest, pipeline });
    const keptPlan = kept && { graph: kept.graph, warnings: kept.warnings, taskQuanta: countTaskQuanta(kept.graph) };
    const { graph, taskQuanta, warnings } = (plan.built = reused ? replayPlan(reused, emit) : keptPlan ? replayPlan(keptPlan, emit) : await buildPlan(req, repo, emit, prepared));
    // What changed since the last run: known in memory to a watch's passes, else told by the run stamp.
    const since =
      reuse?.built !== undefined
        ? this.changesSince(reuse.built, graph, prepared.ingest.changed)
        : reattach
          ? undefined
          : sinceStampedRun({ repo, graph, collection, fingerprint, generationBefore, ingest: prepared.ingest });
    rememberRun();
    // Only a run of the whole pipeline knows that a quantum it does not have is gone for good; it looks
    // when inputs went, or when the pipeline differs from the last clean run's (a task renamed).
    const whole = req.flags.where === undefined && req.flags.tasks === undefined && req.targets.length === 0;
    const marker = vanishedStampName(inputCollectionOf(pipeline.name));
    const mayBeGone = repo.registry.getStamp(marker) === true || lastRunFingerprint(repo, collection) !== fingerprint;
    const force = readForcedTasks(req.flags.force, graph);
    // Forgotten until this run settles every quantum again: one that stops half way leaves other states.
    plan.built.states = undefined;
    const narrow = { ...(whole && mayBeGone && { prune: { marker } }), ...(force && { force }), ...(since && !force && { since }), ...(options.pass && { pass: options.pass }) };
    const result = await this.execute(graph, collection, countingDropped(emit, warnings), narrow);
    plan.built.states = force ? undefined : result.states;
    if (result.exitCode === 0 && result.superseded === 0) {
      const stamp = {
        fingerprint,
        quanta: graph.quantumCount,
        datasets: graph.datasetCount,
        tasks: taskQuanta,
        fileBlobs: result.fileBlobs,
        ...(warnings.length === 0 ? {} : { warnings }),
      };
      const { encodePlan } = await import("../store/plan-file.js");
      const statesText = result.states === undefined ? undefined : runStatesText(graph, result.states);
      // A graph decoded from the last run's kept plan is kept as those bytes (not written again).
      await writeRunStamp(repo, collection, stamp, { statesText, plan: statesText === undefined ? undefined : (kept?.bytes ?? encodePlan(graph)), planKept: kept !== undefined });
    }
    return result.exitCode;
  }

  private async execPlan(opts: { planFile: string; collection?: string }, emit: (e: EventBody) => void): Promise<number> {
    const loading = performance.now();
    // Loaded here, not with the session: its msgpackr costs every other run about 30 ms to load.
    const { loadSavedPlan } = await import("../store/plan-file.js");
    const { graph, inputDigests } = await loadSavedPlan(opts.planFile);
    const loadMs = Math.round(performance.now() - loading);
    const collection = opts.collection ?? graph.pipeline.name;
    checkOutputCollection(collection, opts.collection === undefined ? "the pipeline's name" : "--output");
    checkPlannedInputs(graph, inputDigests, this.repo.registry, collection);
    this.journal?.notePlan(describePlan(graph.tasks));
    emit({ event: "graph-built", pipeline: graph.pipeline.name, quanta: graph.quantumCount, datasets: graph.datasetCount, durationMs: loadMs, tasks: countTaskQuanta(graph) });
    writeLastRun(this.repo.root, { format: 1, pipeline: graph.pipeline.file, collection, dimensions: graph.dimensions, flags: { bind: [], config: [], output: collection } });
    return (await this.execute(graph, collection, emit)).exitCode;
  }

  /**
   * The last plan of this session while the next run may reuse it: its pipeline while none of the
   * pipeline's files changed, its graph while an ingest also added, removed and re-related no input.
   * Only runs told what changed (a watch's passes) keep it; any other run forgets it.
   */
  private lastPlan: { request: string; loaded: LoadedPipeline; files: ReadonlySet<string>; built?: BuiltPlan } | undefined;
  /** The paths reported changed since `lastPlan` was made (a run that failed before planning keeps them). */
  private readonly changedSincePlan = new Set<string>();

  /** The last plan, when the run of `req` told that `changed` changed may reuse its pipeline. */
  private reusablePlan(req: PlanRequest, changed: readonly string[] | undefined): { request: string; loaded: LoadedPipeline; built?: BuiltPlan } | undefined {
    if (changed === undefined) {
      this.lastPlan = undefined;
      return undefined;
    }
    for (const path of changed) this.changedSincePlan.add(resolve(path));
    const last = this.lastPlan;
    if (last === undefined || last.request !== planRequestKey(req)) return undefined;
    for (const path of this.changedSincePlan) if (last.files.has(path)) return undefined;
    return last;
  }

  /**
   * What changed since the previous run of the same plan (`previous`), when that run settled every
   * quantum and this run's ingest read only the reported paths: the input datasets at those paths (a
   * superset of those whose content changed; none when no content changed, a touch), and, when the
   * graph was built again (inputs came or went), the new inputs and the quanta that read other
   * datasets than before. Undefined when that cannot be told: the run then resolves every quantum.
   */
  private changesSince(previous: BuiltPlan, graph: QuantumGraph, changed: number): RunOptionsSince | undefined {
    const ingest = this.lastIngest;
    if (previous.states === undefined || ingest?.partial !== true) return undefined;
    const carried = previous.graph === graph ? undefined : carryDatasetStates(previous.graph, previous.states, graph);
    const changedInputs = new Set(carried?.newInputs ?? []);
    if (changed > 0) {
      // Every changed content is at one of the paths: a path that names no dataset must be gone (a
      // deleted file, whose quanta are gone or read other inputs now), else nothing can be told.
      const perPath = inputDatasetsAt(graph, ingest.paths);
      for (let i = 0; i < perPath.length; i++) if (perPath[i]!.length === 0 && existsSync(ingest.paths[i]!)) return undefined;
      for (const ids of perPath) for (const id of ids) changedInputs.add(id);
    }
    if (carried === undefined) return { states: previous.states, changedInputs };
    return { states: carried.states, changedInputs, sameInputs: carried.sameInputs };
  }

  /** What the last ingest of this session read: only `paths` (partial), or every root. */
  private lastIngest: { partial: boolean; paths: readonly string[] } | undefined;

  /**
   * The ingest of a run: only the paths reported changed since the last ingest (`unread`) when that
   * ingest was of this session and read the same input specs (the session has held the writer lock
   * since, so the registry is as that ingest and the runs after it left it); every root otherwise.
   */
  private async ingest(inputs: IngestOptions, changesKnown: boolean): Promise<IngestReport> {
    const specs = canonicalJson({ inputs: inputs.inputs, dimensions: inputs.dimensions, collection: inputs.collection ?? null });
    const partial = changesKnown && this.ingested === specs;
    this.ingested = undefined;
    const paths = [...this.unread];
    this.lastIngest = undefined;
    const report = partial ? await ingestChangedPaths({ ...inputs, paths }) : await ingestInputs(inputs);
    this.lastIngest = { partial, paths };
    this.ingested = specs;
    for (const path of paths) this.unread.delete(path);
    return report;
  }

  /** Runs the graph on the session's executor; Ctrl-C or SIGTERM from here on stops this run in order. */
  private async execute(
    graph: QuantumGraph,
    collection: string,
    emit: (e: EventBody) => void,
    narrow: { prune?: { marker: string }; force?: ReadonlySet<string>; since?: RunOptionsSince; pass?: RunOptions["pass"] } = {},
  ): Promise<RunResult> {
    if (this.exec.executor === "slurm") checkSlurmResources(graph, this.exec.clusterBy);
    // Loaded only here: a run the stamps answer never loads the engine and the executors.
    const { runGraph, makeExecutor, countingSlurm, dropTempOutputs } = await import("./session-executor.js");
    const executor = (this.executor ??= makeExecutor(this.exec, this.repo, emit));
    const interrupt = stopOnInterrupt();
    const stopping = (this.stopping = new AbortController());
    interrupt.signal.addEventListener("abort", () => stopping.abort(interrupt.signal.reason), { once: true });
    if (this.stopReason !== undefined) stopping.abort(this.stopReason);
    const inHand = (this.inHand = { graph, listeners: new Set<(datasets: readonly number[]) => void>(), pass: narrow.pass });
    const supersede = {
      listen: (onChanged: (datasets: readonly number[]) => void) => {
        inHand.listeners.add(onChanged);
        return () => inHand.listeners.delete(onChanged);
      },
      pass: narrow.pass,
    };
    let stopped = true;
    // Producers whose dropped temp outputs are needed again run first (core/temp-outputs.ts); the
    // watch's shortcut (`since`) would not decide them.
    const needed = neededTempProducers(graph, this.repo, collection, narrow.force);
    try {
      const result = await runGraph({
        graph,
        repo: this.repo,
        collection,
        executor,
        emit: countingSlurm(emit, executor),
        retries: this.exec.retries,
        failFast: this.exec.failFast,
        interrupt: stopping.signal,
        prune: narrow.prune,
        force: narrow.force,
        since: needed === undefined || needed.size === 0 ? narrow.since : undefined,
        ...(needed !== undefined && needed.size > 0 && { needed }),
        supersede,
      });
      if (result.states !== undefined && needed !== undefined) {
        const dropped = await dropTempOutputs(this.repo, graph, result.states);
        if (dropped.size > 0) result.fileBlobs = withoutBlobs(result.fileBlobs, dropped);
      }
      this.reasons = result.why;
      this.changedUnder = result.changedUnder;
      // A run that set blobs aside leaves worker threads that still list them: start afresh too.
      stopped = stopping.signal.aborted || result.setAside > 0;
      return result;
    } finally {
      interrupt.dispose();
      this.stopping = undefined;
      this.inHand = undefined;
      // A stopped executor (an interrupt; a repository error, thrown) starts nothing more: the next run makes a new one.
      if (stopped) {
        this.executor = undefined;
        await executor.close();
      }
    }
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
  repository: string;
  executor: { kind: "in-process" | "pool" | "slurm"; workers: number };
  emit: (e: EventBody) => void;
}): number {
  const { stamp, pipeline, collection } = opts;
  const warnings = stamp.warnings ?? [];
  const emit = countingDropped(opts.emit, warnings);
  const started = Date.now();
  emitPlanWarnings(warnings, emit);
  emit({ event: "graph-built", pipeline, quanta: stamp.quanta, datasets: stamp.datasets, durationMs: 0, tasks: stamp.tasks });
  const tally = new RunTally(stamp.tasks.map((t) => ({ task: t.task, total: t.quanta })), emit);
  emit({ event: "run-started", pipeline, collection, repository: opts.repository, executor: opts.executor.kind, workers: opts.executor.workers, tasks: tally.totals });
  tally.finishEmptyTasks();
  for (const t of stamp.tasks) if (t.quanta > 0) tally.settle({ event: "task-up-to-date", task: t.task, quanta: t.quanta });
  const counts = tally.counts();
  emit({ event: "run-finished", pipeline, collection, counts, durationMs: Date.now() - started, tasks: tally.tasks(), slowest: [], exitCode: 0 });
  return 0;
}

/** A built graph with what its run needs besides. */
type BuiltPlan = {
  graph: QuantumGraph;
  taskQuanta: { task: string; quanta: number }[];
  warnings: PlanWarning[];
  /** What the last run over the graph left, when it settled every quantum (RunResult.states). */
  states?: DatasetStates;
};

type RunOptionsSince = NonNullable<Parameters<typeof runGraph>[0]["since"]>;

/** A plan reused as it was built: the events its building emitted, again. */
function replayPlan(built: BuiltPlan, emit: (e: EventBody) => void): BuiltPlan {
  const { graph, taskQuanta, warnings } = built;
  emitPlanWarnings(warnings, emit);
  emit({ event: "graph-built", pipeline: graph.pipeline.name, quanta: graph.quantumCount, datasets: graph.datasetCount, durationMs: 0, tasks: taskQuanta });
  return built;
}

function planRequestKey(req: PlanRequest): string {
  return canonicalJson({ repoRoot: req.repoRoot, pipelineFile: resolve(req.pipelineFile), targets: req.targets, flags: req.flags });
}

/** `emit`, with the quanta the plan dropped counted in `run-finished`. */
function countingDropped(emit: (e: EventBody) => void, warnings: readonly PlanWarning[]): (e: EventBody) => void {
  const dropped = countDroppedQuanta(warnings);
  if (dropped === 0) return emit;
  return (e) => emit(e.event === "run-finished" ? { ...e, dropped } : e);
}

function makeExecutorInfo(flags: ExecFlags): { kind: "in-process" | "pool" | "slurm"; workers: number } {
  if (flags.executor === "slurm") return { kind: "slurm", workers: flags.jobs ?? SLURM_SLOTS };
  const jobs = flags.jobs ?? availableParallelism();
  return { kind: jobs === 1 ? "in-process" : "pool", workers: jobs };
}

/** Refuses flags that cannot work before anything is ingested or planned. */
/** `--cluster-by` and `--cluster-size` go with `--executor slurm` only. */
export function checkClusterFlags(flags: Pick<ExecFlags, "executor" | "clusterBy" | "clusterSize"> | undefined): void {
  if (flags?.clusterBy !== undefined && flags.executor !== "slurm") throw new UsageError("--cluster-by groups quanta into Slurm jobs: it needs --executor slurm");
  if (flags?.clusterSize !== undefined && flags.executor !== "slurm") throw new UsageError("--cluster-size packs quanta into Slurm jobs: it needs --executor slurm");
}

function checkExecFlags(flags: ExecFlags): void {
  checkClusterFlags(flags);
  const jobs = flags.jobs ?? availableParallelism();
  if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError(`-j expects a whole number of at least 1, got ${flags.jobs}`);
  if (!Number.isInteger(flags.retries) || flags.retries < 0) throw new UsageError(`--retries expects a whole number, got ${flags.retries}`);
}

export async function openReporter(output: OutputFlags): Promise<Reporter> {
  return createReporter({ json: output.json, quiet: output.quiet, plain: output.plain, stdout: process.stdout, env: process.env });
}

export function emitterFor(reporter: Reporter): (e: EventBody) => void {
  return (body) => reporter.onEvent(stampEvent(body, Date.now()) as QuantaEvent);
}

/** The producers to run first because a dropped temp output of theirs is needed; undefined without temp outputs. */
function neededTempProducers(graph: QuantumGraph, repo: Repository, collection: string, force: ReadonlySet<string> | undefined): NeededProducers | undefined {
  const view = viewOf(repo);
  return tempProducersToRun(graph, (needed) => new QuantumResolver(graph, view, collection, { forced: force, needed }), (d) => view.blobExists(d));
}
