/**
 * `--executor slurm`: runs quanta as Slurm jobs. The scheduler hands quanta over as they become ready
 * (engine.ts decides what runs, as for the local executors); the quanta handed over in one turn of the
 * event loop (a wave of ready quanta) are submitted together, one `sbatch --array` per task (and
 * resources), each array element running one quantum, or one cluster of quanta with the same values
 * of the `--cluster-by` dimensions (up to `clusterSize`). A job runs `slurm-job.js` on its element file
 * and leaves one result record per quantum (slurm-files.ts); it never opens the registry.
 *
 * The head polls: it reads the result records in each batch's directory, then asks `squeue` once for
 * the states of all its jobs; an element that ended (COMPLETED, FAILED, TIMEOUT, OUT_OF_MEMORY,
 * NODE_FAIL, PREEMPTED, CANCELLED, or forgotten) without a record for some of its quanta fails them
 * with Slurm's state and reason, and the tail of the element's output. The poll interval starts short,
 * grows while nothing changes, and drops back when something did.
 *
 * Before an outcome goes to the scheduler, the blobs it names are checked: a blob file must exist with
 * its size; a small output's bytes come in the record and must hash to its digest (they are then kept
 * in the registry, as a worker thread's are).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { QuantumKey } from "../../core/digest.js";
import type { EventBody } from "../../core/events.js";
import type { Repository } from "../../store/repository.js";
import { cancelledOutcome, type FollowOnJob, type OutcomeSink, type OutputBlob, type QuantumExecutor, type QuantumJob, type QuantumOutcome } from "../quantum-job.js";
import type { ClusterFlags } from "../../core/cluster-plan.js";
import { encodeDataId } from "../../core/data-id.js";
import type { TaskNode } from "../../core/pipeline.js";
import { keepReturnedBytes, type JobOutcome } from "../run-quantum-job.js";
import { STOPPED_ERROR } from "../module-workers.js";
import { SlurmClient, isActive, type JobState } from "./slurm-client.js";
import { elementFileName, outputFileName, readResultRecord, resultFileName, SLURM_FILES_FORMAT, type ElementFile, type ElementStep } from "./slurm-files.js";
import { mergeResources, readResources, sbatchArgs, type SbatchResources } from "./sbatch-options.js";
import { jobEntryPath, writeBatchScript } from "./batch-script.js";
import type { BlobDigest } from "../../core/digest.js";
import { followerName, type EarlierWork, type JournalQuantum, type SubmissionJournal } from "./submission-journal.js";

export interface SlurmExecutorOptions {
  repo: Repository;
  /** How many quanta may be handed over (queued or running) at once. */
  slots: number;
  /** The command line's clustering (`--cluster-by`, `--cluster-size`); the scheduler packs the quanta. */
  clustering?: ClusterFlags;
  client?: SlurmClient;
  journal: SubmissionJournal;
  /** Told of each `sbatch` that went through. */
  onSubmitted?: (s: SlurmSubmission) => void;
}

/** An array job submitted: what the `slurm-submitted` event says. */
export type SlurmSubmission = Omit<Extract<EventBody, { event: "slurm-submitted" }>, "event">;

/** A quantum handed over and not ended yet. */
interface Tracked {
  job: QuantumJob;
  sink: OutcomeSink;
  started: boolean;
  element: number;
  /** The quantum number its result record is named by (another run's, for adopted work). */
  recordAs: number;
  /**
   * It followed others in its element: the job computed its key. Its record is used only under the key
   * wanted; without one (the job reused a result, or stopped before it), it is submitted on its own.
   */
  followOn?: true;
}

/** Quanta handed over together, to run as one array element, with the quanta that follow them. */
interface Pending {
  heads: QuantumJob[];
  followOns: readonly FollowOnJob[];
  sink: OutcomeSink;
}

/** Where a follow-on quantum runs, until the scheduler hands it over (or the run ends). */
interface Follower {
  batch: Batch;
  element: number;
  quantum: number;
}

/** One `sbatch --array` call: its directory, its job id once known, and its quanta not ended yet. */
export interface Batch {
  dir: string;
  jobId?: string;
  elements: number;
  outstanding: Map<number, Tracked>;
}

const POLL_MIN_MS = 100;
/**
 * How long quanta handed over wait for more before they are submitted. A job costs far more than the
 * wait (on one busy 2-core host, about a second to start Node.js and load the task modules).
 */
const SUBMIT_WINDOW_MS = 250;
const POLL_MAX_MS = 3000;

export class SlurmExecutor implements QuantumExecutor {
  readonly kind = "slurm" as const;
  readonly slots: number;
  readonly clustering: ClusterFlags;
  private readonly client: SlurmClient;
  private readonly runDir: string;
  private waiting: Pending[] = [];
  /** This session's follow-on quanta not handed over yet, by `followerName`. */
  private readonly followers = new Map<string, Follower>();
  private flushing: Promise<void> | undefined;
  private readonly batches = new Set<Batch>();
  private batchCount = 0;
  private pollTimer: NodeJS.Timeout | undefined;
  private pollMs = POLL_MIN_MS;
  private polling: Promise<void> | undefined;
  /** A batch was added while a poll ran: the next poll comes soon. */
  private pollSoon = false;
  private stopped = false;
  /** Array elements submitted. */
  jobs = 0;

  constructor(private readonly opts: SlurmExecutorOptions) {
    this.slots = opts.slots;
    this.clustering = opts.clustering ?? {};
    this.client = opts.client ?? new SlurmClient();
    this.runDir = opts.journal.runDir;
  }

  get sbatchCalls(): number {
    return this.client.sbatchCalls;
  }

  submit(jobs: readonly QuantumJob[], sink: OutcomeSink, followOns: readonly FollowOnJob[] = []): void {
    if (this.stopped) {
      for (const job of jobs) sink.finished(job.quantum, cancelledOutcome(STOPPED_ERROR));
      return;
    }
    // One handed over to follow in an element already submitted: its record comes from there.
    if (jobs.length === 1 && followOns.length === 0 && this.attachFollower(jobs[0]!, sink)) return;
    this.waiting.push({ heads: [...jobs], followOns, sink });
    // Everything handed over within SUBMIT_WINDOW_MS goes in together: records come in one by one
    // as the quanta of running jobs end, and each makes a few downstream quanta ready.
    if (this.flushing === undefined) this.flushing = new Promise((resolve) => setTimeout(resolve, SUBMIT_WINDOW_MS)).then(() => this.flush());
  }

  isFollowing(task: string, dataId: string): boolean {
    const name = followerName(task, dataId);
    return this.followers.has(name) || this.opts.journal.hasFollower(name);
  }

  /**
   * Follow-on quanta no quantum of the run took (found up to date, or blocked): their elements, if
   * still running, are cancelled, and their batches are done with.
   */
  runEnded(): void {
    const untaken = [...this.followers.values()].map((f) => ({ element: `${f.batch.jobId}_${f.element}`, batch: f.batch }));
    this.followers.clear();
    const earlier = this.opts.journal.untakenFollowers();
    const busy = new Set([...this.batches].flatMap((b) => [...b.outstanding.values()].map((t) => `${b.jobId}_${t.element}`)));
    this.client.cancelNow([...new Set([...untaken.map((u) => u.element), ...earlier.map((u) => u.element)])].filter((e) => !busy.has(e)));
    for (const { batch } of untaken) this.noteIngested(batch);
    for (const dir of new Set(earlier.map((u) => u.dir))) if (![...this.batches].some((b) => b.dir === dir && b.outstanding.size > 0)) this.opts.journal.ingested(dir);
  }

  /** Tracks a quantum that follows others in an element of this session or of a head that died; false when none. */
  private attachFollower(job: QuantumJob, sink: OutcomeSink): boolean {
    if (job.attempt !== 1) return false;
    const name = followerName(job.task.label, encodeDataId(job.dataId));
    const mine = this.followers.get(name);
    this.followers.delete(name);
    let where: Follower | undefined = mine;
    if (where === undefined) {
      const earlier = this.opts.journal.takeFollower(name);
      if (earlier === undefined) return false;
      where = { batch: this.batchOf(earlier), element: earlier.element, quantum: earlier.quantum };
    }
    where.batch.outstanding.set(job.quantum, { job, sink, started: false, element: where.element, recordAs: where.quantum, followOn: true });
    this.batches.add(where.batch);
    this.schedulePoll(POLL_MIN_MS);
    return true;
  }

  /** The batch of earlier work (a head that died), tracked once. */
  private batchOf(earlier: EarlierWork): Batch {
    let batch = [...this.batches].find((b) => b.dir === earlier.dir);
    if (batch === undefined) batch = { dir: earlier.dir, jobId: earlier.jobId, elements: earlier.elements, outstanding: new Map() };
    return batch;
  }

  private async flush(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const wave = this.waiting;
        this.waiting = [];
        // One array job per task of the first quanta of its elements.
        const groups = new Map<string, Pending[]>();
        for (const pending of wave) {
          const label = pending.heads[0]!.task.label;
          let group = groups.get(label);
          if (group === undefined) groups.set(label, (group = []));
          group.push(pending);
        }
        for (const group of groups.values()) {
          if (this.stopped) {
            for (const { heads, sink } of group) for (const job of heads) sink.finished(job.quantum, cancelledOutcome(STOPPED_ERROR));
          } else await this.submitGroup(group);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Submits a wave's elements of one task as one array job. */
  private async submitGroup(elements: Pending[]): Promise<void> {
    const dir = join(this.runDir, `b${this.batchCount++}`);
    const batch: Batch = { dir, elements: elements.length, outstanding: new Map() };
    const journaled: JournalQuantum[] = [];
    const stepTasks: TaskNode[][] = [];
    const quantumIds: Record<string, number[]> = {};
    let quanta = 0;
    try {
      mkdirSync(dir, { recursive: true });
      for (let element = 0; element < elements.length; element++) {
        const { heads, followOns, sink } = elements[element]!;
        const steps = await this.stepsOf(heads, followOns);
        const file: ElementFile = { format: SLURM_FILES_FORMAT, steps };
        writeFileSync(join(dir, elementFileName(element)), JSON.stringify(file));
        for (const job of heads) {
          batch.outstanding.set(job.quantum, { job, sink, started: false, element, recordAs: job.quantum });
          journaled.push({ quantum: job.quantum, key: job.key, attempt: job.attempt, element });
        }
        for (const { job } of followOns) journaled.push({ quantum: job.quantum, key: job.key, attempt: job.attempt, element, follows: followerName(job.task.label, encodeDataId(job.dataId)) });
        stepTasks.push(steps.map((step) => (step.job ?? step.followOn.job).task));
        for (const step of steps) {
          const { task, quantum } = step.job ?? step.followOn.job;
          (quantumIds[task.label] ??= []).push(quantum);
        }
        quanta += steps.length;
      }
      const script = writeBatchScript(dir, jobEntryPath());
      const label = elements[0]!.heads[0]!.task.label;
      const resources = mergeResources(stepTasks.map(elementResources));
      const args = [`--array=0-${elements.length - 1}`, `--job-name=quanta-${label}`, `--output=${join(dir, "out-%a.txt")}`, `--chdir=${dir}`, ...sbatchArgs(resources)];
      this.opts.journal.intend(dir, journaled);
      const calls = this.client.sbatchCalls;
      batch.jobId = await this.client.sbatch(args, script);
      this.opts.journal.submitted(dir, batch.jobId, elements.length);
      this.jobs += elements.length;
      const counts = Object.fromEntries(Object.entries(quantumIds).map(([task, ids]) => [task, ids.length]));
      this.opts.onSubmitted?.({ jobId: batch.jobId, task: label, jobs: elements.length, quanta, sbatchCalls: this.client.sbatchCalls - calls, tasks: counts, quantumIds });
    } catch (err) {
      const heads = elements.flatMap((e) => e.heads.map((job) => ({ job, sink: e.sink })));
      const problem = { message: `could not submit ${heads.length} quanta of task ${elements[0]!.heads[0]!.task.label} to Slurm: ${(err as Error).message}`, hint: "check that Slurm answers (sinfo, SLURM_CONF); the same command submits what is left" };
      const now = Date.now();
      for (const { job, sink } of heads) sink.finished(job.quantum, { ok: false, error: problem.message, log: "", startedAt: now, finishedAt: now, repositoryError: problem });
      return;
    }
    if (this.stopped) {
      this.client.cancelNow([batch.jobId]);
      for (const t of batch.outstanding.values()) t.sink.finished(t.job.quantum, cancelledOutcome(STOPPED_ERROR));
      this.opts.journal.ingested(dir);
      return;
    }
    const released = new Set<Batch>();
    elements.forEach(({ followOns }, element) => {
      for (const { job } of followOns) {
        const name = followerName(job.task.label, encodeDataId(job.dataId));
        const before = this.followers.get(name);
        if (before !== undefined) released.add(before.batch);
        this.followers.set(name, { batch, element, quantum: job.quantum });
      }
    });
    // A follow-on handed over again (a watch's later pass) no longer waits in its earlier batch.
    for (const earlier of released) this.noteIngested(earlier);
    this.batches.add(batch);
    this.schedulePoll(POLL_MIN_MS);
  }

  /** An element's quanta in the order its job runs them, with every input a file a job can read. */
  private async stepsOf(heads: readonly QuantumJob[], followOns: readonly FollowOnJob[]): Promise<ElementStep[]> {
    const steps: ElementStep[] = [];
    const follow = async (afterHeads: number) => {
      for (const f of followOns) {
        if (f.afterHeads !== afterHeads) continue;
        const outputs = f.previous && (await this.withPaths(f.previous.outputs));
        const previous = outputs && { key: f.previous!.key, outputs };
        steps.push({ followOn: { ...f, job: await this.withInputFiles(f.job), previous } });
      }
    };
    await follow(0);
    for (let i = 0; i < heads.length; i++) {
      steps.push({ job: await this.withInputFiles(heads[i]!) });
      await follow(i + 1);
    }
    return steps;
  }

  /**
   * Outputs of an earlier result as files a job can read (those kept in the registry written out);
   * undefined when one is missing: the job then runs the quantum (the head would too).
   */
  private async withPaths(outputs: Record<string, OutputBlob>): Promise<Record<string, OutputBlob & { path: string }> | undefined> {
    const blobs = this.opts.repo.blobs;
    const out: Record<string, OutputBlob & { path: string }> = {};
    for (const name in outputs) {
      const { digest, size } = outputs[name]!;
      const bytes = blobs.inlineBytes(digest);
      if (bytes === undefined && statSync(blobs.pathOf(digest), { throwIfNoEntry: false })?.size !== size) return undefined;
      out[name] = { digest, size, path: resolve(bytes === undefined ? blobs.pathOf(digest) : await blobs.materialize(digest, bytes)) };
    }
    return out;
  }

  /** The job with its registry-kept inputs written out as blob files (a job reads files only). */
  private async withInputFiles(job: QuantumJob): Promise<QuantumJob> {
    const blobs = this.opts.repo.blobs;
    const inputs: QuantumJob["inputs"] = {};
    for (const name in job.inputs) {
      const input = job.inputs[name]!;
      // Absolute paths: a job starts in its batch's directory, maybe on another host.
      // An input made earlier in the element (no digest yet) is filled in by the job.
      const items = await Promise.all(input.items.map(async ({ bytes, ...item }) => (item.digest === "" ? item : { ...item, path: resolve(bytes === undefined ? item.path! : await blobs.materialize(item.digest, bytes)) })));
      inputs[name] = { ...input, items };
    }
    return { ...job, inputs, repoRoot: resolve(job.repoRoot) };
  }

  private schedulePoll(ms: number): void {
    if (this.stopped) return;
    // One poll at a time: the one running schedules the next when it ends.
    if (this.polling !== undefined) {
      this.pollSoon = true;
      return;
    }
    if (this.pollTimer !== undefined) {
      if (ms >= this.pollMs) return;
      clearTimeout(this.pollTimer);
    }
    this.pollMs = ms;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.pollSoon = false;
      const polling = this.poll().then(
        (nextMs) => nextMs,
        () => Math.min(this.pollMs * 2, POLL_MAX_MS),
      );
      this.polling = polling.then(() => undefined);
      void polling.then((nextMs) => {
        this.polling = undefined;
        if (this.batches.size > 0) this.schedulePoll(this.pollSoon ? POLL_MIN_MS : nextMs);
      });
    }, ms);
  }

  /**
   * One round: result records of every batch, then one squeue for all jobs. Only the batches asked
   * about are settled: one submitted while squeue ran is not in its answer (not ended: not asked).
   */
  private async poll(): Promise<number> {
    let changed = false;
    const asked = [...this.batches];
    for (const batch of asked) changed = this.collect(batch) || changed;
    const ids = asked.map((b) => b.jobId!);
    let states: Map<string, JobState>;
    try {
      states = await this.client.states(ids);
    } catch {
      // squeue failed (a busy controller): next round, later
      return Math.min(this.pollMs * 2, POLL_MAX_MS);
    }
    if (this.stopped) return POLL_MAX_MS;
    for (const batch of asked) if (this.batches.has(batch)) changed = this.settle(batch, states) || changed;
    for (const batch of this.batches) if (batch.outstanding.size === 0) this.batches.delete(batch);
    return changed ? POLL_MIN_MS : Math.min(Math.round(this.pollMs * 1.5), POLL_MAX_MS);
  }

  /** Hands over the outcomes of the batch's quanta whose records have come; true when any had. */
  private collect(batch: Batch): boolean {
    if (batch.outstanding.size === 0) return false;
    let names: Set<string>;
    try {
      names = new Set(readdirSync(batch.dir));
    } catch {
      return false;
    }
    let found = false;
    for (const [quantum, t] of batch.outstanding) {
      const name = resultFileName(t.recordAs, t.job.attempt);
      if (!names.has(name)) continue;
      const record = readResultRecord(join(batch.dir, name));
      if (record === undefined) continue;
      batch.outstanding.delete(quantum);
      found = true;
      if (t.followOn && record.key !== t.job.key) this.resubmit(t);
      else this.deliver(t, { ...this.checked(record.outcome, record.bytes), host: record.host, jobId: record.jobId });
    }
    if (found) this.noteIngested(batch);
    return found;
  }

  /** Marks running elements' quanta started; fails the quanta of elements that ended without their records. */
  private settle(batch: Batch, states: Map<string, JobState>): boolean {
    let changed = false;
    const ended = new Map<number, JobState | undefined>();
    for (const t of batch.outstanding.values()) {
      const id = `${batch.jobId}_${t.element}`;
      const state = states.get(id);
      if (state !== undefined && isActive(state.state)) {
        // A follow-on starts when the quanta before it in the element are done, not with the element.
        if (state.state === "RUNNING" && !t.started && !t.followOn) {
          t.started = true;
          t.sink.started(t.job.quantum, { jobId: id });
        }
        continue;
      }
      ended.set(t.element, state);
    }
    if (ended.size === 0) return false;
    // Records written just before the element ended.
    if (this.collect(batch)) changed = true;
    for (const [quantum, t] of batch.outstanding) {
      if (!ended.has(t.element)) continue;
      batch.outstanding.delete(quantum);
      changed = true;
      if (t.followOn) this.resubmit(t);
      else this.deliver(t, this.endedOutcome(batch, t.element, ended.get(t.element)));
    }
    this.noteIngested(batch);
    return changed;
  }

  /** A follow-on quantum its element did not run under the key wanted: submitted on its own. */
  private resubmit(t: Tracked): void {
    this.submit([t.job], t.sink);
  }

  /**
   * Journals a batch as ingested once every outcome was handed over and none of its follow-on quanta
   * waits to be handed over (a head that died would otherwise run them twice).
   */
  private noteIngested(batch: Batch): void {
    if (batch.outstanding.size > 0) return;
    for (const f of this.followers.values()) if (f.batch === batch) return;
    if (this.opts.journal.hasFollowersIn(batch.dir)) return;
    this.opts.journal.ingested(batch.dir);
  }

  private endedOutcome(batch: Batch, element: number, state: JobState | undefined): QuantumOutcome {
    const id = `${batch.jobId}_${element}`;
    const how = state === undefined ? "is no longer known to Slurm" : `ended ${state.state}${state.reason && state.reason !== "None" ? ` (${state.reason})` : ""}`;
    const outPath = join(batch.dir, outputFileName(element));
    const log = readTail(outPath);
    const now = Date.now();
    return { ok: false, error: `Slurm job ${id} ${how} before the quantum reported; its output: ${outPath}`, log, startedAt: now, finishedAt: now, jobId: id };
  }

  /** The outcome a record reports, once the blobs it names are found as it says. */
  private checked(outcome: QuantumOutcome, bytes: [BlobDigest, string][] | undefined): QuantumOutcome {
    if (!outcome.ok) return outcome;
    const blobs = this.opts.repo.blobs;
    const small = new Map((bytes ?? []).map(([d, b]) => [d, new Uint8Array(Buffer.from(b, "base64"))]));
    const problems: string[] = [];
    for (const name in outcome.outputs) {
      const { digest, size } = outcome.outputs[name]!;
      const inline = small.get(digest);
      if (inline !== undefined) {
        if (inline.length !== size || !blobs.isIntact(digest, inline)) problems.push(`${name}: its bytes do not hash to ${digest}`);
        continue;
      }
      const onDisk = statSync(blobs.pathOf(digest), { throwIfNoEntry: false })?.size;
      if (onDisk !== size) problems.push(`${name}: blob ${digest} ${onDisk === undefined ? "is missing" : `holds ${onDisk} bytes, not ${size}`}`);
    }
    if (problems.length > 0) return { ok: false, error: `the job reported outputs the blob store does not hold as reported (${problems.join("; ")})`, log: outcome.log, startedAt: outcome.startedAt, finishedAt: outcome.finishedAt };
    const returned: JobOutcome = { ...outcome, unsynced: undefined, bytes: [...small] };
    return keepReturnedBytes(returned, blobs);
  }

  private deliver(t: Tracked, outcome: QuantumOutcome): void {
    if (!t.started) {
      t.started = true;
      t.sink.started(t.job.quantum, { jobId: outcome.jobId });
    }
    t.sink.finished(t.job.quantum, outcome);
  }

  /**
   * Ends the quanta as cancelled; an element is cancelled (scancel) once none of its quanta is awaited
   * any more: the other quanta of a cluster's element run on, and a cancelled quantum's record is
   * ignored.
   */
  cancel(quanta: readonly number[]): void {
    const wanted = new Set(quanta);
    for (const batch of this.batches) {
      const touched = new Set<number>();
      for (const [quantum, t] of batch.outstanding) {
        if (!wanted.has(quantum)) continue;
        batch.outstanding.delete(quantum);
        touched.add(t.element);
        t.sink.finished(quantum, { ...cancelledOutcome("cancelled"), jobId: `${batch.jobId}_${t.element}` });
      }
      for (const t of batch.outstanding.values()) touched.delete(t.element);
      this.client.cancelNow([...touched].map((e) => `${batch.jobId}_${e}`));
      if (touched.size > 0) this.noteIngested(batch);
    }
  }

  /** Cancels every job of the run (scancel), and ends its quanta as stopped. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    // With the elements that may still run follow-on quanta.
    const followed = [...this.followers.values()].map((f) => f.batch);
    this.followers.clear();
    this.client.cancelNow([...new Set([...this.batches, ...followed].map((b) => b.jobId!))]);
    for (const batch of followed) this.opts.journal.ingested(batch.dir);
    for (const batch of this.batches) {
      for (const t of batch.outstanding.values()) t.sink.finished(t.job.quantum, cancelledOutcome(STOPPED_ERROR));
      batch.outstanding.clear();
      this.opts.journal.ingested(batch.dir);
    }
    this.batches.clear();
    const waiting = this.waiting;
    this.waiting = [];
    for (const { heads, sink } of waiting) for (const job of heads) sink.finished(job.quantum, cancelledOutcome(STOPPED_ERROR));
  }

  unfinished(): ReadonlySet<QuantumKey> {
    return this.opts.journal.unfinishedKeys();
  }

  adopt(job: QuantumJob, sink: OutcomeSink): void {
    const earlier = this.opts.journal.take(job.key);
    if (earlier === undefined) throw new Error(`internal error: no earlier Slurm work of key ${job.key} to adopt`);
    const batch = this.batchOf(earlier);
    this.batches.add(batch);
    batch.outstanding.set(job.quantum, { job: { ...job, attempt: earlier.attempt }, sink, started: false, element: earlier.element, recordAs: earlier.quantum });
    this.schedulePoll(POLL_MIN_MS);
  }

  abandon(keys: Iterable<QuantumKey>): void {
    const ids = this.opts.journal.abandon(keys);
    this.client.cancelNow(ids);
  }

  async close(): Promise<void> {
    await this.flushing;
    await this.polling;
    clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    this.runEnded();
    if (this.batches.size === 0) this.opts.journal.tidy();
  }
}

/**
 * An element's resources: the largest cpus and memory of its quanta's tasks, and the sum of their
 * times (its quanta run one after another).
 */
function elementResources(tasks: readonly TaskNode[]): SbatchResources {
  const each = tasks.map((t) => readResources(t.label, t.resources));
  const times = each.flatMap((r) => (r.timeMinutes === undefined ? [] : [r.timeMinutes]));
  return { ...mergeResources(each), timeMinutes: times.length === 0 ? undefined : times.reduce((a, b) => a + b, 0) };
}

function readTail(path: string, bytes = 4000): string {
  try {
    const text = readFileSync(path, "utf8");
    return text.length > bytes ? text.slice(-bytes) : text;
  } catch {
    return "";
  }
}
