/**
 * `-j 1`: runs quanta one at a time. Commands are started from the CLI's thread; a TypeScript task's
 * quanta run on one worker thread (module-workers.ts), so that a task that calls `process.exit()` or
 * runs out of memory fails its quantum instead of ending the CLI, and a timeout or an interrupt can
 * stop its code. (Debuggers attach to worker threads too.)
 *
 * Quanta run in the order they are handed over. The worker thread is handed up to QUEUED module jobs in
 * advance and runs them one after another while the CLI's thread records the ones before: a stream of
 * short TypeScript quanta never waits for a message's round trip. A command waits until every job
 * handed over before it has ended, and the jobs after it wait for it.
 */
import { join } from "node:path";
import type { QuantumKey } from "../core/digest.js";
import type { BlobStore } from "../store/blob-store.js";
import { cancelledOutcome, NO_EARLIER_WORK, type OutcomeSink, type QuantumExecutor, type QuantumJob, type QuantumOutcome } from "./quantum-job.js";
import { keepReturnedBytes, runQuantumJobNow } from "./run-quantum-job.js";
import { CommandHost } from "./command-host.js";
import { ModuleWorkers, STOPPED_ERROR } from "./module-workers.js";
import { JobCancels } from "./job-cancels.js";

/** Module jobs handed to the worker thread in advance of the one it runs. */
const QUEUED = 64;

export class InProcessExecutor implements QuantumExecutor {
  readonly kind = "in-process" as const;
  readonly slots = 1;
  readonly queued = QUEUED;
  private readonly workers: ModuleWorkers;
  private readonly host: CommandHost;
  /** One abort signal per quantum handed over: a running command is killed, quanta still waiting never start. */
  private readonly cancels = new JobCancels();
  /** Settles when every job handed over so far has ended (undefined: none is running). */
  private allDone: Promise<unknown> | undefined;
  /** Settles when every job before the current run of module jobs has ended (undefined: nothing to wait for). */
  private beforeModules: Promise<unknown> | undefined;
  private lastWasModule = false;

  constructor(
    private readonly blobs: BlobStore,
    repoRoot: string,
  ) {
    this.workers = new ModuleWorkers(1, { repoRoot, durability: blobs.durability }, 1 + QUEUED);
    this.host = new CommandHost(join(repoRoot, "tmp"));
  }

  submit(jobs: readonly QuantumJob[], sink: OutcomeSink): void {
    this.cancels.deliverEach(jobs, sink, (job, signal, started) => this.run(job, signal, started));
  }

  private run(job: QuantumJob, signal: AbortSignal, started: () => void): QuantumOutcome | Promise<QuantumOutcome> {
    if (job.task.kind === "module") {
      if (!this.lastWasModule) this.waitBeforeModules(this.allDone);
      this.lastWasModule = true;
      const gate = this.beforeModules;
      const onWorker = () => this.workers.run(job, started).then((o) => keepReturnedBytes(o, this.blobs));
      return this.track(gate ? gate.then(() => this.unlessCancelled(signal, onWorker)) : onWorker());
    }
    this.lastWasModule = false;
    const gate = this.allDone;
    const now = () => {
      started();
      return runQuantumJobNow(job, this.blobs, { signal, host: this.host });
    };
    if (!gate) {
      const outcome = now();
      return outcome instanceof Promise ? this.track(outcome) : outcome;
    }
    return this.track(gate.then(() => this.unlessCancelled(signal, now)));
  }

  cancel(quanta: readonly number[]): void {
    for (const q of quanta) this.cancels.cancel(q, "cancelled");
  }

  stop(): void {
    this.cancels.cancelAll(STOPPED_ERROR);
    this.workers.stop();
  }

  unfinished(): ReadonlySet<QuantumKey> {
    return NO_EARLIER_WORK;
  }

  adopt(job: QuantumJob): void {
    throw new Error(`internal error: the in-process executor has no earlier work to adopt (quantum ${job.quantum})`);
  }

  abandon(): void {}

  async close(): Promise<void> {
    await Promise.all([this.workers.close(), this.host.close()]);
  }

  /** Remembers a job that has not ended: the next command waits for it. */
  private track(run: Promise<QuantumOutcome>): Promise<QuantumOutcome> {
    const done = Promise.all([this.allDone, run.catch(() => undefined)]);
    this.allDone = done;
    void done.then(() => {
      if (this.allDone === done) this.allDone = undefined;
    });
    return run;
  }

  /** Module jobs wait for `gate` (until it settles: then they go to the worker at once, together). */
  private waitBeforeModules(gate: Promise<unknown> | undefined): void {
    this.beforeModules = gate;
    void gate?.then(() => {
      if (this.beforeModules === gate) this.beforeModules = undefined;
    });
  }

  /** Starts a job that waited for others, unless it was cancelled meanwhile. */
  private unlessCancelled(signal: AbortSignal, go: () => QuantumOutcome | Promise<QuantumOutcome>): QuantumOutcome | Promise<QuantumOutcome> {
    return signal.aborted ? cancelledOutcome(String(signal.reason)) : go();
  }
}
