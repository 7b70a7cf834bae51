/**
 * An executor for the engine's tests that starts no process and no thread: it "runs" a quantum by
 * writing outputs whose bytes follow from the task, its config, the data ID and the input digests (so
 * reruns, early cutoff and the action cache behave as with real tasks), records every run, and fails
 * where a test says (as LSST's tests inject a `fail_condition`).
 *
 * Its work lives in a FakeCluster, which stands for a batch system: work handed over by one executor
 * (one process) and not finished yet can be adopted by the next executor over the same cluster, as a
 * Slurm job outlives the head process that submitted it.
 */
import type { QuantumKey } from "../../src/core/digest.js";
import { encodeDataId } from "../../src/core/data-id.js";
import type { BlobStore } from "../../src/store/blob-store.js";
import { seeded } from "./seeded-random.js";
import type { OutcomeSink, OutputBlob, QuantumExecutor, QuantumJob, QuantumOutcome } from "../../src/exec/quantum-job.js";

export interface FakeExecutorOptions {
  /** Where outputs are written (placement is the store's choice). */
  blobs: BlobStore;
  cluster?: FakeCluster;
  slots?: number;
  queued?: number;
  /** The error of a quantum that fails on this attempt, or undefined when it succeeds. */
  failOn?: (task: string, dataId: string, attempt: number) => string | undefined;
  /** The raw input files found changed under a quantum on this attempt (QuantumOutcome.inputChanged), or undefined. */
  inputChangedOn?: (task: string, dataId: string, attempt: number) => string[] | undefined;
  /** Quanta that find nothing to do. */
  noWorkOn?: (task: string, dataId: string) => boolean;
  /**
   * When work ends: `now` (in `submit`, synchronously, as a task run in process), `shuffled` (later, in an
   * order drawn from `seed`), or `held` (only when the test calls `cluster.release()`).
   */
  ends?: "now" | "shuffled" | "held";
  seed?: number;
  /** The bytes of an output, by default `task/connection@dataId <- config, inputs`. */
  content?: (job: QuantumJob, connection: string) => string;
}

/** One unit of work in the cluster, with the sink its outcome goes to (none while its head is gone). */
interface Work {
  job: QuantumJob;
  sink?: OutcomeSink;
  /** The executor that decides how it ends. */
  owner: FakeExecutor;
}

export class FakeCluster {
  /** `task@dataId#attempt` of every quantum run, in the order they ran. */
  readonly ran: string[] = [];
  /** Keys of earlier work that was cancelled because no later run adopted it. */
  readonly abandoned: QuantumKey[] = [];
  /** Work handed over and not ended, by quantum key. */
  readonly pending = new Map<QuantumKey, Work>();

  /** The head process that handed the work over is gone: outcomes have nowhere to go until adopted. */
  disconnect(): void {
    for (const w of this.pending.values()) w.sink = undefined;
  }

  /** Ends every held piece of work whose outcome has somewhere to go. */
  release(): void {
    for (const [key, w] of [...this.pending]) {
      if (w.sink === undefined) continue;
      this.pending.delete(key);
      w.sink.finished(w.job.quantum, w.owner.runNow(w.job));
    }
  }
}

export class FakeExecutor implements QuantumExecutor {
  readonly kind = "pool" as const;
  readonly slots: number;
  readonly queued: number;
  readonly cluster: FakeCluster;
  private readonly random: () => number;
  /** Outcomes due later (`shuffled`), delivered in a random order on the next turn of the event loop. */
  private due: { quantum: number; sink: OutcomeSink; outcome: () => QuantumOutcome; key: QuantumKey }[] = [];

  constructor(private readonly opts: FakeExecutorOptions) {
    this.slots = opts.slots ?? 2;
    this.queued = opts.queued ?? 0;
    this.cluster = opts.cluster ?? new FakeCluster();
    this.random = seeded(opts.seed ?? 1);
  }

  submit(jobs: readonly QuantumJob[], sink: OutcomeSink): void {
    for (const job of jobs) {
      sink.started(job.quantum);
      switch (this.opts.ends ?? "now") {
        case "now":
          sink.finished(job.quantum, this.runNow(job));
          break;
        case "held":
          this.cluster.pending.set(job.key, { job, sink, owner: this });
          break;
        case "shuffled":
          this.cluster.pending.set(job.key, { job, sink, owner: this });
          this.later({ quantum: job.quantum, sink, key: job.key, outcome: () => this.runNow(job) });
      }
    }
  }

  /** Ends this executor's work of these quanta that has not ended yet, as cancelled. */
  cancel(quanta: readonly number[]): void {
    const which = new Set(quanta);
    for (const [key, w] of [...this.cluster.pending]) {
      if (w.owner !== this || w.sink === undefined || !which.has(w.job.quantum)) continue;
      this.cluster.pending.delete(key);
      w.sink.finished(w.job.quantum, { ok: false, error: "cancelled", log: "", startedAt: Date.now(), finishedAt: Date.now(), cancelled: true });
    }
  }

  stop(): void {
    this.cancel([...this.cluster.pending.values()].map((w) => w.job.quantum));
  }

  unfinished(): ReadonlySet<QuantumKey> {
    return new Set(this.cluster.pending.keys());
  }

  adopt(job: QuantumJob, sink: OutcomeSink): void {
    const work = this.cluster.pending.get(job.key);
    if (work === undefined) throw new Error(`no earlier work of key ${job.key}`);
    // The earlier process's quantum id means nothing here: the outcome goes to this run's.
    work.job = { ...work.job, quantum: job.quantum };
    work.sink = sink;
    work.owner = this;
    sink.started(job.quantum);
  }

  abandon(keys: Iterable<QuantumKey>): void {
    for (const key of keys) {
      this.cluster.pending.delete(key);
      this.cluster.abandoned.push(key);
    }
  }

  async close(): Promise<void> {}

  /** Runs the quantum: records it, then fails it, finds no work, or writes its outputs. */
  runNow(job: QuantumJob): QuantumOutcome {
    const dataId = encodeDataId(job.dataId);
    const startedAt = Date.now();
    this.cluster.ran.push(`${job.task.label}@${dataId}#${job.attempt}`);
    const error = this.opts.failOn?.(job.task.label, dataId, job.attempt);
    if (error !== undefined) return { ok: false, error, log: `${error}\n`, startedAt, finishedAt: Date.now() };
    const changed = this.opts.inputChangedOn?.(job.task.label, dataId, job.attempt);
    if (changed !== undefined) return { ok: false, error: `the raw input ${changed.join(", ")} changed while the command ran`, log: "", startedAt, finishedAt: Date.now(), inputChanged: changed };
    if (this.opts.noWorkOn?.(job.task.label, dataId)) return { ok: true, outputs: {}, noWork: true, log: "", startedAt, finishedAt: Date.now() };
    const outputs: Record<string, OutputBlob> = {};
    for (const connection of Object.keys(job.task.outputs)) {
      const bytes = new TextEncoder().encode((this.opts.content ?? defaultContent)(job, connection));
      outputs[connection] = { digest: this.opts.blobs.putSync(bytes), size: bytes.length };
    }
    return { ok: true, outputs, noWork: false, log: "", startedAt, finishedAt: Date.now(), unsynced: true };
  }

  private later(item: (typeof this.due)[number]): void {
    this.due.push(item);
    if (this.due.length > 1) return;
    setImmediate(() => {
      const due = this.due;
      this.due = [];
      shuffle(due, this.random);
      for (const d of due) {
        const work = this.cluster.pending.get(d.key);
        // Ended by `stop`, or handed to another run meanwhile.
        if (work === undefined || work.sink !== d.sink) continue;
        this.cluster.pending.delete(d.key);
        d.sink.finished(d.quantum, d.outcome());
      }
    });
  }
}

function defaultContent(job: QuantumJob, connection: string): string {
  const inputs = Object.entries(job.inputs).map(([name, i]) => `${name}=${i.items.map((item) => item.digest).join("+")}`);
  return `${job.task.label}/${connection}@${encodeDataId(job.dataId)} <- ${JSON.stringify(job.task.config)} ${inputs.join(" ")}\n`;
}

export { seeded };

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
