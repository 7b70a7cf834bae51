/**
 * Runs a quantum graph against a repository: walks it with the GraphWalker, skips what is up to date,
 * hands the rest to an executor, and records every outcome.
 *
 * Order of effects for a quantum that runs: its outputs are written to the blob store (and made durable)
 * by the job; only then is one registry transaction committed with the action cache entry, the
 * collection's quantum record, the output dataset bindings and the execution's provenance. A crash
 * before that commit leaves unreferenced blobs (gc removes them) and no record: the next run redoes
 * that quantum and nothing else. Commits are issued in completion order and LMDB applies them in order,
 * so a downstream record is never durable without its upstream one.
 *
 * A job that meets a repository problem (a blob or sandbox file that cannot be written: a full disk)
 * stops the run: no quantum starts any more, the running ones are stopped, what finished is
 * committed, and `runGraph` throws the RepositoryError (exit 3). That quantum is not recorded as
 * failed: it is not its fault, and the same command runs it once the problem is fixed.
 */
import { hostname } from "node:os";
import { resolve } from "node:path";
import { addBlobs, shardBlobs, type ShardedBlobs } from "../store/sharded-blobs.js";
import { QUANTA_VERSION } from "./version.js";
import type { BlobDigest, QuantumKey } from "../core/digest.js";
import type { EventBody, QuantumRef, RunCounts, TaskCounts } from "../core/events.js";
import { countTaskQuanta, RunTally } from "../core/run-tally.js";
import { GraphWalker } from "../core/graph-walker.js";
import { formatReason, type Reason } from "../core/explain.js";
import type { GraphQuantum, QuantumGraph } from "../core/quantum-graph.js";
import type { KeyManifest } from "../core/quantum-key.js";
import type { ActionRecord, ExecutionRecord, QuantumRecord, Registry } from "../store/registry.js";
import type { Repository } from "../store/repository.js";
import type { OutcomeSink, QuantumExecutor, QuantumJob, QuantumOutcome } from "./quantum-job.js";
import { QuantumResolver, type CachedResult } from "../core/quantum-resolver.js";
import { viewOf } from "../store/repository-view.js";
import { JobBuilder } from "./job-builder.js";
import { CommitBatcher } from "./commit-batcher.js";
import { RepositoryError } from "../core/errors.js";
import { quarantineBlobs } from "../store/quarantine-blobs.js";
import { ClusterPlan } from "../core/cluster-plan.js";
import { ClusterPacker } from "./cluster-packer.js";

export interface RunOptions {
  graph: QuantumGraph;
  repo: Repository;
  collection: string;
  executor: QuantumExecutor;
  emit: (event: EventBody) => void;
  /** Retry a failed quantum up to this many more times. */
  retries: number;
  /** Stop starting quanta after the first failure. */
  failFast: boolean;
  /** Shuffles each batch of ready quanta (tests use it to expose missing edges). */
  order?: (ready: number[]) => number[];
  /**
   * Aborted by an interrupt (its `reason`: the signal's name): no quantum starts any more, the running
   * ones are stopped (`QuantumExecutor.stop`) and not recorded, what finished is committed, and the
   * run ends with exit code 130, its `run-finished` event saying what was stopped.
   */
  interrupt?: AbortSignal;
  /**
   * The graph is the whole pipeline (no query, task selection or target narrowed it) and some of its
   * quanta may have lost their inputs: quanta this pipeline recorded in the collection that the graph
   * no longer has are removed with their outputs, and the stamp named `marker` is cleared in the same
   * commit.
   */
  prune?: { marker: string };
  /**
   * Where a watch mode says that input datasets of the graph (ids) changed again while the run is in
   * hand: the quanta that read them, and everything downstream of those, are superseded. A running one
   * is cancelled (its outputs discarded), one not started never starts; none of them is recorded, and
   * `run-finished` counts them as `superseded`. The rest of the run goes on.
   */
  supersede?: {
    listen(onChanged: (datasets: readonly number[]) => void): () => void;
    /**
     * The run is a watch's pass: a quantum whose raw input files changed while it ran
     * (QuantumOutcome.inputChanged) is superseded, as a reported change makes it, unless one of them
     * changed under a command in the pass before too (`changedBefore`: a command that writes to its
     * own input), which fails it as any other run does. The files are in the result either way
     * (RunResult.changedUnder): the watch runs the next pass for them, seen by its watcher or not.
     */
    pass?: { changedBefore: ReadonlySet<string> };
  };
  /**
   * The previous run over this same graph settled every quantum (ran or up to date) and left the
   * repository as `states` says; since then, only the input datasets `changedInputs` changed (a
   * watch's pass). A quantum whose inputs all hold the digests they held then is up to date without
   * being resolved: counted per task with `task-up-to-date`, as the run stamp's tasks are.
   */
  since?: {
    states: DatasetStates;
    changedInputs: ReadonlySet<number>;
    /**
     * When the graph was built again since (inputs came or went): per quantum, 1 when it reads the same
     * datasets as in the previous run's graph; any other quantum is decided.
     */
    sameInputs?: Uint8Array;
    /**
     * The blob files of the outputs of `states`, as the run stamp lists them (it may list more, such as
     * the old outputs of quanta that ran since; temp outputs dropped are not in it): the run's list is
     * this one with the files of the outputs that changed since added, not one made again from every
     * output.
     */
    fileBlobs?: ShardedBlobs;
  };
  /** `--force`: the labels of tasks whose quanta run whatever the cache holds. */
  force?: ReadonlySet<string>;
  /** Quanta that run whatever the cache holds: a dropped temp output of theirs is needed (core/temp-outputs.ts). */
  needed?: ReadonlyMap<number, Reason>;
}

/** Per dataset of a graph: its digest, or null when it is absent (RunResult.states). */
export type DatasetStates = readonly (BlobDigest | null)[];

export interface RunResult {
  counts: RunCounts;
  tasks: TaskCounts[];
  exitCode: number;
  durationMs: number;
  /** The outputs' blobs kept in files (not in the registry), for the run stamp; it may list more (RunOptions.since). */
  fileBlobs: ShardedBlobs;
  /** How many quanta were superseded (RunOptions.supersede): the run is not complete without them. */
  superseded: number;
  /** Raw input files that changed while a quantum read them (QuantumOutcome.inputChanged), by what became of it. */
  changedUnder: ChangedUnder;
  /** Every dataset's digest at the end, when every quantum ran or was up to date (see RunOptions.since). */
  states?: DatasetStates;
  /** The first few quanta started, each with the reasons it had to run (what a watch shows between passes). */
  why: { task: string; dataId: string; reasons: string[] }[];
  /**
   * How many corrupt blobs the run set aside in quarantine/. The executor's worker threads may still
   * list them as present (their own listings): a session starts the next run on a fresh executor.
   */
  setAside: number;
}

export interface ChangedUnder {
  /** Its quantum was superseded (RunOptions.supersede.pass). */
  superseded: string[];
  /** Its quantum failed. */
  failed: string[];
}

const PACKAGES: Record<string, string> = { quanta: QUANTA_VERSION, node: process.version };
const HOST = hostname();

let executionCounter = 0;
/**
 * Execution ids are this process's start time (fixed-width base 36, so they sort by time), its pid,
 * and a counter: each run appends to the end of the registry's `executions` table instead of
 * scattering its records over every page of it (a key that began with the quantum key did, and each
 * commit then rewrote most of the table).
 */
const RUN_TAG = `${Date.now().toString(36).padStart(9, "0")}-${process.pid.toString(36)}`;

/** The longest the scheduler keeps the event loop's turn (see `yieldTurn`). */
const TURN_MS = 10;

/** The exit code of an interrupted run (128 + SIGINT, as src/app/interrupts.ts). */
const INTERRUPTED_EXIT_CODE = 130;

/** How many quanta started RunResult.why names. */
const WHY_KEPT = 3;

/** How many of the slowest quanta `run-finished` names. */
const SLOWEST_KEPT = 5;

/** A job that ran (or tried to), with what it needs to be recorded. */
interface Completion {
  id: number;
  job: QuantumJob;
  key: QuantumKey;
  manifest: KeyManifest;
  reasons: Reason[];
  outcome: QuantumOutcome;
}

export async function runGraph(opts: RunOptions): Promise<RunResult> {
  return new GraphRun(opts).run();
}

class GraphRun {
  private readonly walker: GraphWalker;
  private readonly resolver: QuantumResolver;
  private readonly jobs: JobBuilder;
  /** The counts; it emits the quantum events that settle quanta, and `task-finished` after them. */
  private readonly tally: RunTally;
  private readonly batcher: CommitBatcher;
  private completions: Completion[] = [];
  private readonly slowest: (QuantumRef & { durationMs: number })[] = [];
  private wake: (() => void) | undefined;
  private inFlight = 0;
  private stopping = false;
  /** The quanta started and not completed yet. */
  private readonly running = new Set<number>();
  /** Set by an interrupt: the signal's name, and the quanta it stopped while they ran. */
  private interrupted: { signal: string; stopped: QuantumRef[] } | undefined;
  private readonly started = Date.now();

  constructor(private readonly opts: RunOptions) {
    this.walker = new GraphWalker(opts.graph, { order: opts.order });
    this.earlier = new Set(opts.executor.unfinished());
    this.resolver = new QuantumResolver(opts.graph, viewOf(opts.repo), opts.collection, { forced: opts.force, needed: opts.needed, pointReads: opts.since !== undefined });
    this.jobs = new JobBuilder(opts.graph, opts.repo);
    const clustering = opts.executor.clustering;
    const plan = clustering === undefined ? undefined : new ClusterPlan(opts.graph.pipeline, clustering);
    const executor = opts.executor;
    if (plan !== undefined && !plan.isEmpty) this.packer = new ClusterPacker(opts.graph, this.resolver, this.jobs, plan, (task, dataId) => executor.isFollowing?.(task, dataId) === true);
    this.batcher = new CommitBatcher(opts.repo.registry, () => opts.repo.blobs.flushAsync(), () => this.wake?.());
    this.tally = new RunTally(countTaskQuanta(opts.graph).map((t) => ({ task: t.task, total: t.quanta })), opts.emit);
  }

  async run(): Promise<RunResult> {
    const { graph, executor, collection } = this.opts;
    this.opts.emit({
      event: "run-started",
      pipeline: graph.pipeline.name,
      collection,
      repository: resolve(this.opts.repo.root),
      executor: executor.kind,
      workers: executor.slots,
      tasks: this.tally.totals,
    });
    this.registerDatasetTypes();
    this.tally.finishEmptyTasks();
    const onInterrupt = () => this.interrupt(String(this.opts.interrupt!.reason ?? "interrupt"));
    if (this.opts.interrupt?.aborted) onInterrupt();
    else this.opts.interrupt?.addEventListener("abort", onInterrupt, { once: true });
    const unlisten = this.opts.supersede?.listen((datasets) => this.supersede(datasets));
    while (!this.walker.isFinished && !((this.interrupted || this.repositoryError || this.commitFailed) && this.inFlight === 0)) {
      this.dispatchReady();
      if (this.walker.isFinished) break;
      if (this.completions.length === 0) await this.waitForCompletion();
      const completions = this.completions;
      this.completions = [];
      for (const done of completions) this.complete(done);
      if (this.batcher.failed) this.stopOnCommitFailure();
      else this.batcher.maybeCommit();
      if (Date.now() - this.turnStarted >= TURN_MS) await this.yieldTurn();
    }
    clearTimeout(this.dueTimer);
    this.opts.interrupt?.removeEventListener("abort", onInterrupt);
    unlisten?.();
    for (const [task, quanta] of this.untouchedByTask) this.tally.settle({ event: "task-up-to-date", task, quanta });
    // Earlier work that no quantum of this run wanted (its inputs changed since) is cancelled.
    if (this.earlier.size > 0) this.opts.executor.abandon(this.earlier);
    this.opts.executor.runEnded?.();
    if (this.opts.prune && !this.interrupted && this.repositoryError === undefined && !this.commitFailed) this.removed = this.removeGoneQuanta(this.opts.prune.marker);
    await this.commitUnlessStoppedBy(this.repositoryError);
    return this.finish();
  }

  /**
   * Lets the event loop turn; the scheduler does every few milliseconds. Quanta run in this thread
   * complete without the event loop, which would otherwise not turn until the run ends: lmdb-js
   * commits the writes of a turn when it ends, and the reporter writes its lines then.
   */
  private async yieldTurn(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.turnStarted = Date.now();
  }

  private turnStarted = Date.now();

  /** Records the dataset types the tasks write, so the repository can list and fetch them. */
  private registerDatasetTypes(): void {
    this.batcher.add((registry) => {
      for (const t of this.opts.graph.tasks) {
        for (const c of Object.values(t.outputs)) {
          const known = registry.getDatasetType(c.type);
          const executable = c.executable === true;
          if (known?.storage !== c.storage || known.dimensions.join() !== c.dimensions.join() || (known.executable === true) !== executable) {
            registry.putDatasetType({ name: c.type, dimensions: [...c.dimensions], storage: c.storage, ...(executable ? { executable } : {}) });
          }
        }
      }
    });
  }

  /**
   * Waits for a job to complete, or for the pending batch of results to be due for its commit. One
   * timer serves many waits (short quanta complete hundreds of times before a batch is due); it is
   * set again only for a due time earlier than the one it is set for.
   */
  private async waitForCompletion(): Promise<void> {
    // A commit that failed while the loop was not waiting (its wake found no one): act on it first.
    if (this.batcher.failed && !this.commitFailed) return;
    const due = this.batcher.dueInMs();
    if (due !== undefined && (this.dueTimer === undefined || Date.now() + due < this.dueAt)) {
      clearTimeout(this.dueTimer);
      this.dueAt = Date.now() + due;
      this.dueTimer = setTimeout(() => {
        this.dueTimer = undefined;
        this.wake?.();
      }, due);
    }
    await new Promise<void>((resolve) => (this.wake = resolve));
    this.wake = undefined;
  }

  private dueTimer: NodeJS.Timeout | undefined;
  private dueAt = 0;

  /** Decides ready quanta and starts what must run; quanta of clusters are handed over together. */
  private dispatchReady(): void {
    this.decideReady();
    if (this.clustered.length === 0) return;
    const jobs = this.clustered;
    this.clustered = [];
    this.packer!.handOver(jobs, (heads, followOns) => this.opts.executor.submit(heads, this.sink, followOns));
  }

  /** With an executor that runs clusters of quanta in one job: how they are packed. */
  private readonly packer: ClusterPacker | undefined;
  /** The quanta started this turn, for the packer. */
  private clustered: QuantumJob[] = [];

  /** Decides ready quanta in order; skips what is up to date; starts the rest while slots are free. */
  private decideReady(): void {
    const { executor } = this.opts;
    // Quanta taken in advance would start as soon as a slot is free, before a failure is known: none
    // under --fail-fast, which starts nothing after the first failure.
    const limit = executor.slots + (this.opts.failFast ? 0 : (executor.queued ?? 0));
    while (!this.stopping && this.inFlight < limit) {
      const id = this.walker.takeOne();
      if (id < 0) return;
      if (this.superseded.has(id)) {
        this.settleSuperseded(id);
        continue;
      }
      if (this.untouched(id)) continue;
      const q = this.opts.graph.quantum(id);
      const r = this.resolver.resolve(id);
      switch (r.kind) {
        case "maybe":
          throw new Error(`internal error: quantum ${q.task}@${q.key} has pending inputs in a real run`);
        case "missing-input":
          this.recordFailure(id, q, r.error);
          break;
        case "no-work":
          // Nothing to do (an upstream quantum produced nothing): counted and reported as a quantum
          // that ran and found no work, without starting it.
          this.resolver.setAbsent(q.id);
          this.forgetEarlierResult(q);
          this.tally.settle({ event: "quantum-finished", ...this.ref(id), durationMs: 0, noWork: true });
          this.walker.finish(id);
          break;
        case "skip":
          this.skip(id, q, r.decision.key, r.decision.rebind, r.cached);
          break;
        case "run":
          this.start(this.jobs.build(id, r.decision.key, r.reads, (d) => this.resolver.digestOf(d)), { key: r.decision.key, manifest: r.manifest, reasons: r.decision.reasons });
          break;
        default: {
          const never: never = r;
          throw new Error(`internal error: ${JSON.stringify(never)}`);
        }
      }
    }
  }

  /**
   * A quantum with no work because an upstream one produced nothing leaves no outputs: what an earlier
   * run recorded of it in this collection (its record, the outputs it bound) goes, in the run's next
   * commit, so that the collection holds what a run in a fresh repository would (a `get` of the old
   * output, a gather over the collection). Nothing is written when nothing is recorded: a run that
   * changes nothing writes nothing. Should its inputs come back, the action cache answers it again.
   */
  private forgetEarlierResult(q: GraphQuantum): void {
    const { graph, collection } = this.opts;
    const registry = this.opts.repo.registry;
    const recorded = registry.getQuantum(collection, q.task, q.key) !== undefined;
    const bound = Object.values(q.outputs).filter((d) => registry.getDataset(collection, graph.typeOf(d), graph.datasetKey(d)) !== undefined);
    if (!recorded && bound.length === 0) return;
    this.batcher.add((r) => {
      if (recorded) r.deleteQuantum(collection, q.task, q.key);
      for (const d of bound) r.deleteDataset(collection, graph.typeOf(d), graph.datasetKey(d));
    });
  }

  private skip(id: number, q: GraphQuantum, key: QuantumKey, rebind: boolean, cached: CachedResult): void {
    if (cached.noWork) this.resolver.setAbsent(q.id);
    else this.resolver.setOutputs(q.id, cached.outputs);
    if (rebind) {
      this.batcher.add((registry) => {
        const status = cached.noWork ? "no-work" : "succeeded";
        registry.putQuantum(this.opts.collection, q.task, q.key, { status, key, executionId: cached.executionId, time: Date.now(), outputs: cached.outputs, pipeline: this.opts.graph.pipeline.name });
        this.bindOutputs(registry, q, key, cached.outputs);
      });
    }
    this.tally.settle({ event: "quantum-up-to-date", quantum: id, task: q.task, dataId: q.key });
    this.walker.finish(id);
  }

  /** Hands a job to the executor (or adopts the earlier process's work of the same key, which still runs). */
  private start(job: QuantumJob, why: Pick<Completion, "key" | "manifest" | "reasons">): void {
    this.inFlight++;
    if (job.attempt === 1 && this.why.length < WHY_KEPT) {
      const q = this.opts.graph.quantum(job.quantum);
      this.why.push({ task: q.task, dataId: q.key, reasons: why.reasons.map(formatReason) });
    }
    this.submitted.set(job.quantum, { id: job.quantum, job, key: why.key, manifest: why.manifest, reasons: why.reasons });
    if (job.attempt === 1 && this.earlier.delete(job.key)) this.opts.executor.adopt(job, this.sink);
    else if (this.packer !== undefined) this.clustered.push(job);
    else this.opts.executor.submit([job], this.sink);
  }

  private readonly why: RunResult["why"] = [];

  /** The quanta handed to the executor, until their outcome comes back. */
  private readonly submitted = new Map<number, Omit<Completion, "outcome">>();

  /** Work an earlier process handed to the executor and that still runs, by key, until adopted. */
  private readonly earlier: Set<QuantumKey>;

  /** Where the executor reports: a quantum that ran is completed by the scheduler's next step. */
  private readonly sink: OutcomeSink = {
    started: (id, where) => {
      this.running.add(id);
      const q = this.opts.graph.quantum(id);
      this.opts.emit({ event: "quantum-started", quantum: id, task: q.task, dataId: q.key, attempt: this.submitted.get(id)!.job.attempt, ...jobIdOf(where ?? {}) });
    },
    finished: (id, outcome) => {
      const done = this.submitted.get(id);
      if (done === undefined) throw new Error(`internal error: an outcome for quantum ${id}, which was not handed over`);
      this.submitted.delete(id);
      this.completed({ ...done, outcome });
    },
  };

  /**
   * Commits what finished. After a job's repository error, that error is the run's, even when this
   * commit fails too (the same full disk): the next run redoes what was not committed.
   */
  private async commitUnlessStoppedBy(repositoryError: RepositoryError | undefined): Promise<void> {
    try {
      await this.batcher.commit();
      // Once every record of the run is committed: a quantum that read a corrupt blob (a command checks
      // only its input's size) may have been recorded after the one that found it, even in the same batch.
      if (repositoryError === undefined) await quarantineBlobs(this.opts.repo, this.quarantined);
      await this.opts.repo.registry.flush();
    } catch (err) {
      if (repositoryError === undefined) throw err;
    }
    if (repositoryError !== undefined) throw repositoryError;
  }

  /**
   * A job met a repository problem (a write that failed): it is not the quantum's, so the quantum is
   * not recorded; nothing starts any more, the running quanta are stopped, and the run ends with it.
   */
  private stopOnRepositoryError(problem: { message: string; hint?: string }): void {
    if (this.repositoryError !== undefined) return;
    this.repositoryError = new RepositoryError(problem.message, problem.hint);
    this.stopping = true;
    this.opts.executor.stop();
  }

  private repositoryError: RepositoryError | undefined;

  /**
   * A commit of results failed (the batcher holds its error, which the last commit throws): nothing
   * more starts, the running quanta are stopped, and what they return is not recorded.
   */
  private stopOnCommitFailure(): void {
    if (this.commitFailed) return;
    this.commitFailed = true;
    this.stopping = true;
    this.opts.executor.stop();
  }

  private commitFailed = false;

  /** Stops starting quanta and stops the running ones; the loop ends once they have all come back. */
  private interrupt(signal: string): void {
    if (this.interrupted) return;
    this.interrupted = { signal, stopped: [] };
    this.stopping = true;
    this.opts.executor.stop();
    this.wake?.();
  }

  private completed(done: Completion): void {
    this.completions.push(done);
    this.wake?.();
  }

  private complete(completion: Completion): void {
    let done = completion;
    const { id, job, outcome } = done;
    this.inFlight--;
    const wasRunning = this.running.delete(id);
    if (this.commitFailed) return; // nothing more can be recorded
    const q = this.opts.graph.quantum(id);
    if (!outcome.ok && outcome.repositoryError !== undefined) this.stopOnRepositoryError(outcome.repositoryError);
    // Stopped with the run (below), or failing as it came: not recorded.
    if (!outcome.ok && this.repositoryError !== undefined) return;
    if (!outcome.ok && this.interrupted) {
      // Stopped by the interrupt (or failing as it came): not recorded, so the next run starts it
      // again. One taken in advance that had not started yet counts among those not started.
      if (wasRunning) this.interrupted.stopped.push(this.ref(id));
      return;
    }
    // Superseded (an input changed again, as the watcher reported): not recorded, left to the next pass.
    if (!outcome.ok && (outcome.cancelled || outcome.inputChanged !== undefined) && this.superseded.has(id)) {
      this.settleSuperseded(id);
      return;
    }
    // A raw input changed while it ran, not reported yet: left to the next pass, or failed (below).
    if (!outcome.ok && outcome.inputChanged !== undefined && this.leftToNextPass(id, outcome, outcome.inputChanged)) return;
    // Cancelled, not by the run (an interrupt is above): failed for this run, but not recorded, so the
    // next run starts it again; not retried, since whoever cancelled it did not want it run.
    if (!outcome.ok && outcome.cancelled) {
      this.failed(id, q, { event: "quantum-failed", ...this.ref(id), attempt: job.attempt, error: outcome.error, logTail: tail(outcome.log), durationMs: outcome.finishedAt - outcome.startedAt, startedAt: outcome.startedAt, ...jobIdOf(outcome) });
      return;
    }
    // A corrupt input is set aside at once; a retry would read it again, so there is none.
    if (!outcome.ok && outcome.corrupt !== undefined) this.quarantine(outcome.corrupt);
    else if (!outcome.ok && job.attempt <= this.opts.retries && !this.stopping && outcome.inputChanged === undefined) {
      this.opts.emit({ event: "quantum-retrying", ...this.ref(id), attempt: job.attempt + 1, error: outcome.error });
      this.start({ ...job, attempt: job.attempt + 1 }, { key: done.key, manifest: done.manifest, reasons: done.reasons });
      return;
    }
    // A command that named the inputs it read (a depfile) is recorded under the key of those alone.
    if (outcome.ok && outcome.discovered !== undefined) done = { ...done, ...this.resolver.narrowDiscovered(done.manifest, outcome.discovered) };
    this.record(done);
    const durationMs = outcome.finishedAt - outcome.startedAt;
    if (outcome.ok) {
      if (outcome.noWork) this.resolver.setAbsent(q.id);
      else this.resolver.setOutputs(q.id, outcome.outputs);
      this.noteDuration(id, durationMs);
      this.tally.settle({ event: "quantum-finished", quantum: id, task: q.task, dataId: q.key, durationMs, noWork: outcome.noWork, peakRssBytes: outcome.peakRssBytes, startedAt: outcome.startedAt, ...jobIdOf(outcome) });
      this.walker.finish(id);
    } else {
      this.failed(id, q, { event: "quantum-failed", ...this.ref(id), attempt: job.attempt, error: outcome.error, logTail: tail(outcome.log), durationMs, startedAt: outcome.startedAt, ...jobIdOf(outcome) });
    }
  }

  /**
   * Notes corrupt blobs, set aside when the run ends (quarantine-blobs.ts): every cached result computed
   * from them is dropped, then they are moved to quarantine/. Their producers rerun in the next run
   * (their outputs are missing), or ingest copies their source files in again, and so do the quanta
   * that had read them.
   */
  private quarantine(digests: readonly BlobDigest[]): void {
    for (const d of digests) this.quarantined.add(d);
  }

  private readonly quarantined = new Set<BlobDigest>();

  /** Records a quantum that could not even start (an input is missing from the repository). */
  private recordFailure(id: number, q: GraphQuantum, error: string): void {
    this.failed(id, q, { event: "quantum-failed", ...this.ref(id), attempt: 1, error, logTail: [], durationMs: 0 });
  }

  /** Reports the failure, then blocks what depends on it (and, under --fail-fast, all that is left). */
  private failed(id: number, q: GraphQuantum, failure: Extract<EventBody, { event: "quantum-failed" }>): void {
    this.resolver.setAbsent(q.id);
    this.tally.settle(failure);
    const blocked = this.walker.fail(id);
    const by = this.ref(id);
    for (const b of blocked) this.block(b, by);
    if (this.opts.failFast && !this.stopping) {
      this.stopping = true;
      for (const b of this.walker.blockRemaining()) this.block(b, by);
    }
  }

  private block(id: number, by: QuantumRef): void {
    const q = this.opts.graph.quantum(id);
    this.resolver.setAbsent(q.id);
    this.tally.settle({ event: "quantum-blocked", ...this.ref(id), blockedBy: by });
  }

  /**
   * One transaction: the action cache entry, this collection's record, the outputs, the provenance.
   * The records are built now, so the pending batch holds only them (not the job, whose input bytes
   * would otherwise live on until the commit).
   */
  private record(done: Completion): void {
    const { job, key, manifest, outcome, reasons } = done;
    const q = this.opts.graph.quantum(job.quantum);
    const executionId = `${RUN_TAG}-${(executionCounter++).toString(36).padStart(6, "0")}`;
    const status = !outcome.ok ? "failed" : outcome.noWork ? "no-work" : "succeeded";
    const outputs = outcome.ok ? outcome.outputs : {};
    const typed: Record<string, { type: string; digest: BlobDigest; size: number }> = {};
    for (const name in outputs) {
      const blob = outputs[name]!;
      typed[name] = { type: this.opts.graph.typeOf(q.outputs[name]!), digest: blob.digest, size: blob.size };
    }
    const action: ActionRecord | undefined = outcome.ok ? { key, manifest, outputs: typed, noWork: outcome.noWork, executionId } : undefined;
    const quantum: QuantumRecord = { status, key, executionId, time: outcome.finishedAt, pipeline: this.opts.graph.pipeline.name };
    if (outcome.ok) quantum.outputs = typed;
    const execution: ExecutionRecord = {
      id: executionId,
      collection: this.opts.collection,
      task: q.task,
      dataId: q.key,
      key,
      status,
      attempt: job.attempt,
      error: outcome.ok ? undefined : outcome.error,
      log: outcome.log,
      inputs: manifest.inputs,
      outputs: executionOutputs(typed, q.key),
      config: job.task.config,
      codeDigest: job.task.codeDigest,
      packages: PACKAGES,
      host: outcome.host ?? HOST,
      startedAt: outcome.startedAt,
      finishedAt: outcome.finishedAt,
      durationMs: outcome.finishedAt - outcome.startedAt,
      peakRssBytes: outcome.peakRssBytes,
      reasons,
    };
    this.batcher.add((registry) => {
      if (action !== undefined) {
        registry.putAction(action);
        this.bindOutputs(registry, q, key, typed);
      }
      registry.putQuantum(this.opts.collection, q.task, q.key, quantum);
      registry.putExecution(execution);
    }, { newBlobs: outcome.ok && outcome.unsynced === true });
  }

  private bindOutputs(registry: Registry, q: GraphQuantum, key: QuantumKey, outputs: Record<string, { type: string; digest: BlobDigest; size: number }>): void {
    for (const name in q.outputs) {
      const ds = this.opts.graph.dataset(q.outputs[name]!);
      const out = outputs[name];
      if (out) registry.putDataset(this.opts.collection, ds.type, ds.dataId, { digest: out.digest, size: out.size, storage: ds.storage, producer: key });
      else registry.deleteDataset(this.opts.collection, ds.type, ds.key);
    }
  }

  private ref(id: number): QuantumRef {
    return { quantum: id, task: this.opts.graph.taskOf(id), dataId: this.opts.graph.quantumKey(id) };
  }

  /** Keeps the five slowest quanta so far (most quanta are faster than all five: one comparison). */
  private noteDuration(id: number, durationMs: number): void {
    const slowest = this.slowest;
    if (slowest.length === SLOWEST_KEPT && durationMs <= slowest[SLOWEST_KEPT - 1]!.durationMs) return;
    slowest.push({ ...this.ref(id), durationMs });
    slowest.sort((a, b) => b.durationMs - a.durationMs);
    if (slowest.length > SLOWEST_KEPT) slowest.length = SLOWEST_KEPT;
  }

  /** Quanta removed by `removeGoneQuanta`. */
  private removed = 0;

  /**
   * Removes from the collection the quanta this pipeline recorded that the graph no longer has (an
   * input was deleted, a task renamed), and the outputs they bound (unless another quantum has bound
   * them since). Their blobs stay for `gc`.
   */
  private removeGoneQuanta(marker: string): number {
    const { graph, collection, repo } = this.opts;
    const present = new Set<string>();
    for (let q = 0; q < graph.quantumCount; q++) present.add(graph.quantumName(q));
    const gone = [...repo.registry.listQuanta(collection)].filter((q) => q.record.pipeline === graph.pipeline.name && !present.has(`${q.task}@${q.dataId}`));
    this.batcher.add((registry) => {
      registry.putStamp(marker, false);
      for (const q of gone) {
        for (const out of Object.values(q.record.outputs ?? {})) {
          if (registry.getDataset(collection, out.type, q.dataId)?.producer === q.record.key) registry.deleteDataset(collection, out.type, q.dataId);
        }
        registry.deleteQuantum(collection, q.task, q.dataId);
      }
    });
    return gone.length;
  }

  private finish(): RunResult {
    const counts = this.tally.counts();
    const tasks = this.tally.tasks();
    const exitCode = this.interrupted ? INTERRUPTED_EXIT_CODE : counts.failed + counts.blocked > 0 ? 1 : 0;
    const durationMs = Date.now() - this.started;
    const slowest = this.slowest;
    const { graph, collection } = this.opts;
    const interrupted = this.interrupted && { ...this.interrupted, notStarted: this.countNotStarted() };
    const removed = this.removed > 0 ? { removed: this.removed } : undefined;
    const superseded = this.supersededCount > 0 ? { superseded: this.supersededCount } : undefined;
    this.opts.emit({ event: "run-finished", pipeline: graph.pipeline.name, collection, counts, durationMs, tasks, slowest, exitCode, ...(interrupted && { interrupted }), ...removed, ...superseded });
    const inFile = (d: BlobDigest) => !this.opts.repo.blobs.inRegistry(d);
    const since = this.opts.since;
    const fileBlobs = since?.fileBlobs !== undefined ? addBlobs(since.fileBlobs, this.resolver.outputDigests(inFile, since.states)) : shardBlobs(this.resolver.outputDigests(inFile));
    const complete = exitCode === 0 && this.supersededCount === 0 && this.quarantined.size === 0 && counts.failed + counts.blocked === 0;
    const states = complete ? this.resolver.datasetStates() : undefined;
    return { counts, tasks, exitCode, durationMs, fileBlobs, setAside: this.quarantined.size, superseded: this.supersededCount, changedUnder: this.changedUnder, why: this.why, ...(states && { states }) };
  }

  private countNotStarted(): number {
    return this.opts.graph.quantumCount - this.tally.settled - (this.interrupted?.stopped.length ?? 0) - this.supersededCount;
  }

  /**
   * Input datasets changed again: the quanta that read them and their descendants are superseded. The
   * ones handed to the executor are cancelled (a quantum that finishes before the cancel arrives is
   * recorded as usual: it ran on the inputs it read); the others are passed over when they are ready.
   */
  private supersede(datasets: readonly number[]): void {
    const { graph } = this.opts;
    this.supersedeQuanta(datasets.flatMap((d) => (d < graph.datasetCount ? [...graph.consumersOf(d)] : [])));
  }

  /** These quanta and their descendants are superseded (see `supersede`). */
  private supersedeQuanta(quanta: readonly number[]): void {
    const { graph } = this.opts;
    const stack = [...quanta];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (this.superseded.has(id)) continue;
      this.superseded.add(id);
      for (const out of graph.outputIds(id)) stack.push(...graph.consumersOf(out));
    }
    const handed = [...this.submitted.keys()].filter((id) => this.superseded.has(id));
    if (handed.length > 0) this.opts.executor.cancel(handed);
  }

  /**
   * A quantum whose raw input `files` changed while it ran, in a watch's pass (RunOptions.supersede):
   * superseded with its descendants, unless a file changed under a command in the pass before too.
   * False when it fails instead (in any other run too), its error saying so.
   */
  private leftToNextPass(id: number, outcome: { error: string }, files: readonly string[]): boolean {
    const pass = this.opts.supersede?.pass;
    const again = pass !== undefined && files.some((f) => pass.changedBefore.has(f));
    if (pass === undefined || again) {
      this.changedUnder.failed.push(...files);
      if (again) outcome.error += "; it changed while the command ran in the pass before too: does the command write to it?";
      return false;
    }
    this.changedUnder.superseded.push(...files);
    this.supersedeQuanta([id]);
    this.settleSuperseded(id);
    return true;
  }

  private readonly changedUnder: ChangedUnder = { superseded: [], failed: [] };

  /** A superseded quantum leaves the walk unrecorded and unsettled (its task does not finish in this run). */
  private settleSuperseded(id: number): void {
    this.supersededCount++;
    this.walker.finish(id);
  }

  /**
   * A quantum the changes since the previous run cannot reach (RunOptions.since): its outputs are what
   * that run left; it is counted, and reported per task when the walk ends.
   */
  private untouched(id: number): boolean {
    const since = this.opts.since;
    if (since === undefined) return false;
    const { graph } = this.opts;
    if (since.sameInputs !== undefined && since.sameInputs[id] !== 1) return false;
    // Read from the graph's columns: no quantum object is made for the many quanta this answers.
    const t = graph.taskQuantaOf(id);
    const i = id - t.first;
    for (const lists of t.inputs.values()) {
      for (let k = lists.offsets[i]!; k < lists.offsets[i + 1]!; k++) {
        const d = lists.ids[k]!;
        if (graph.producerOf(d) < 0 ? since.changedInputs.has(d) : this.resolver.stateOf(d) !== since.states[d]) return false;
      }
    }
    this.resolver.restoreOutputs(id, since.states);
    this.untouchedByTask.set(t.task.label, (this.untouchedByTask.get(t.task.label) ?? 0) + 1);
    this.walker.finish(id);
    return true;
  }

  private readonly untouchedByTask = new Map<string, number>();

  /** The quanta superseded (see `supersede`), decided or not yet. */
  private readonly superseded = new Set<number>();
  private supersededCount = 0;
}

function executionOutputs(typed: Record<string, { type: string; digest: BlobDigest; size: number }>, dataId: string): ExecutionRecord["outputs"] {
  const out: ExecutionRecord["outputs"] = [];
  for (const connection in typed) {
    const o = typed[connection]!;
    out.push({ connection, type: o.type, dataId, digest: o.digest, size: o.size });
  }
  return out;
}

function tail(log: string, lines = 10): string[] {
  const all = log.split("\n");
  while (all.length > 0 && all[all.length - 1] === "") all.pop();
  return all.slice(-lines);
}

/** The `jobId` field of a quantum event: the batch job the quantum ran in, when it ran in one. */
function jobIdOf(where: { jobId?: string }): { jobId?: string } {
  return where.jobId === undefined || where.jobId === "" ? {} : { jobId: where.jobId };
}
