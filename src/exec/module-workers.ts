/**
 * The worker threads that run the quanta of TypeScript tasks (pool-worker.ts), for the local pool and
 * the in-process executor alike: a task's code never runs in the CLI's own thread, so whatever it does
 * to its thread ends there. Workers are started on demand, reused, and replaced when one ends:
 *
 * - a task that calls `process.exit()` ends only its worker thread (in a worker, that is what it does):
 *   the quantum fails with "worker thread exited with code N during the quantum";
 * - a task that runs out of memory ends its worker with ERR_WORKER_OUT_OF_MEMORY (the heap limit is
 *   the thread's: `--max-old-space-size` in NODE_OPTIONS sets it), not the CLI: the quantum fails with
 *   "ran out of memory";
 * - an uncaught error thrown outside of `run` (a timer's callback) crashes the worker: the quantum it
 *   was running fails with that error;
 * - a timeout or an interrupt (`stop`) terminates the worker.
 *
 * A worker may be handed several jobs at once (`depth`): it runs them one after another, in order, while
 * the scheduler records the outcomes of earlier ones, so that neither thread waits for the other on a
 * stream of short quanta. Jobs and outcomes travel in batches (the jobs handed over in one turn of the
 * event loop; the outcomes of the jobs a worker ran while more were waiting), since a message costs
 * both threads more than a short quantum does. A job counts as started (and its timeout runs) once the jobs before it on its
 * worker have ended; when a worker ends, the job it was running fails and the ones waiting behind it go
 * to a fresh worker, never having started.
 */
import { Worker } from "node:worker_threads";
import type { BlobDurability } from "../store/blob-store.js";
import type { TaskNode } from "../core/pipeline.js";
import type { QuantumJob } from "./quantum-job.js";
import type { JobOutcome } from "./run-quantum-job.js";

interface Pending {
  readonly job: QuantumJob;
  readonly resolve: (outcome: JobOutcome) => void;
  readonly started?: () => void;
  startedAt?: number;
  timer?: NodeJS.Timeout;
}

interface ModuleWorker {
  readonly worker: Worker;
  /** The tasks this worker was sent (each once: a job names its task by number). */
  readonly tasksSent: WeakSet<TaskNode>;
  /** Jobs handed over in this turn of the event loop, sent together at its end. */
  outbox: WorkerMessage[];
  /** The job it runs first, then the ones it was handed in advance, in order. */
  readonly queue: Pending[];
  /** Terminated, or ended by itself: never used again. */
  gone: boolean;
  /** How many jobs the worker has started, written by the worker before each (one Int32). */
  readonly progress: Int32Array;
  /** How many of its outcomes have come back. */
  settled: number;
}

/** From dist/exec/ or, in the CLI's bundle, dist/bundle/. */
const WORKER_URL = new URL("../exec/pool-worker.js", import.meta.url);

/** What a worker thread posts when the timed job at the head of its queue starts to run. */
export const CLOCK_STARTS = "clock-starts";

/** The error of a quantum whose worker thread was terminated by an interrupt. */
export const STOPPED_ERROR = "stopped by an interrupt";

/**
 * What a worker thread is sent for each job: the job without its task, which is sent once per worker
 * (a task's description is large next to a short quantum's job, and cloning it each time cost the
 * scheduler's thread more than the quanta themselves).
 */
export interface WorkerMessage {
  job: Omit<QuantumJob, "task">;
  taskId: number;
  task?: TaskNode;
}

/** What a worker thread is started with. */
export interface PoolWorkerData {
  repoRoot: string;
  durability: BlobDurability;
  /** The worker's count of the jobs it has started (see ModuleWorker.progress). */
  progress: Int32Array;
}

export class ModuleWorkers {
  private readonly workers: ModuleWorker[] = [];
  private readonly taskIds = new WeakMap<TaskNode, number>();
  private lastTaskId = 0;

  /**
   * At most `size` threads; each is handed at most `depth` jobs at once (more are refused: the caller
   * keeps no more than size × depth in flight).
   */
  constructor(
    private readonly size: number,
    private readonly workerData: { repoRoot: string; durability: BlobDurability },
    private readonly depth = 1,
  ) {}

  /**
   * Runs a module job on a worker thread, after the jobs that thread was handed before; `started` is
   * called when it starts. Its outcome is a failure when the thread ends while it runs.
   */
  run(job: QuantumJob, started?: () => void): Promise<JobOutcome> {
    const mw = this.workerWithRoom();
    return new Promise<JobOutcome>((resolve) => this.hand(mw, { job, resolve, started }));
  }

  /** Terminates the threads that run a quantum: each of their quanta, running or waiting, fails with STOPPED_ERROR. */
  stop(): void {
    for (const mw of [...this.workers]) {
      if (mw.queue.length === 0) continue;
      for (const p of this.retire(mw)) settle(p, failure(STOPPED_ERROR, "", p.startedAt));
    }
  }

  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((mw) => mw.worker.terminate()));
  }

  private workerWithRoom(): ModuleWorker {
    let best: ModuleWorker | undefined;
    for (const mw of this.workers) if (!best || mw.queue.length < best.queue.length) best = mw;
    if (best && (best.queue.length === 0 || this.workers.length >= this.size) && best.queue.length < this.depth) return best;
    if (this.workers.length >= this.size) throw new Error("internal error: more module jobs than worker threads can take");
    const mw = this.start();
    this.workers.push(mw);
    return mw;
  }

  private hand(mw: ModuleWorker, p: Pending): void {
    mw.queue.push(p);
    const { task, ...rest } = p.job;
    const message: WorkerMessage = { job: { ...rest, inputs: ownBuffers(rest.inputs) }, taskId: this.taskId(task) };
    if (!mw.tasksSent.has(task)) {
      mw.tasksSent.add(task);
      message.task = task;
    }
    mw.outbox.push(message);
    if (mw.outbox.length === 1) queueMicrotask(() => this.send(mw));
    if (mw.queue.length === 1) this.begin(mw);
  }

  private send(mw: ModuleWorker): void {
    if (mw.gone || mw.outbox.length === 0) return;
    mw.worker.postMessage(mw.outbox);
    mw.outbox = [];
  }

  /** A number for the task, the same for as long as this object describes it. */
  private taskId(task: TaskNode): number {
    let id = this.taskIds.get(task);
    if (id === undefined) this.taskIds.set(task, (id = ++this.lastTaskId));
    return id;
  }

  /**
   * The job at the head of the worker's queue starts: its `started`. A timed job's clock starts when
   * the worker says it runs it (`CLOCK_STARTS`), after a fresh thread has started and loaded its module.
   */
  private begin(mw: ModuleWorker): void {
    const p = mw.queue[0];
    if (!p) return;
    p.startedAt = Date.now();
    p.started?.();
  }

  private startClock(mw: ModuleWorker): void {
    const p = mw.queue[0];
    const timeoutMs = p?.job.task.timeoutMs;
    if (p === undefined || timeoutMs === undefined) return;
    p.startedAt = Date.now();
    p.timer = setTimeout(() => {
      if (mw.queue[0] !== p) return;
      const seconds = Math.round(timeoutMs / 100) / 10;
      this.end(mw, failure(`timed out after ${seconds}s`, "", p.startedAt), p);
    }, timeoutMs);
  }

  private start(): ModuleWorker {
    const progress = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(WORKER_URL, { workerData: { ...this.workerData, progress } satisfies PoolWorkerData });
    const mw: ModuleWorker = { worker, tasksSent: new WeakSet(), outbox: [], queue: [], gone: false, progress, settled: 0 };
    worker.on("message", (outcomes: JobOutcome[] | typeof CLOCK_STARTS) => {
      if (outcomes === CLOCK_STARTS) return this.startClock(mw);
      for (const outcome of outcomes) {
        const p = mw.queue.shift();
        if (!p) return;
        mw.settled++;
        settle(p, outcome);
        this.begin(mw);
      }
    });
    worker.on("error", (err: Error & { code?: string }) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") {
        this.end(mw, failure(`ran out of memory: the task's worker thread reached its heap limit (${heapLimitNote()})`, ""));
      } else {
        this.end(mw, failure(`worker thread crashed: ${err.message}`, err.stack ?? String(err)));
      }
    });
    worker.on("exit", (code) => {
      this.end(mw, failure(`worker thread exited with code ${code} during the quantum (a task must not call process.exit(); return or throw instead)`, ""));
    });
    return mw;
  }

  /**
   * The worker ends (or is ended) while it runs a job: that job (`culprit`, else the one its progress
   * counter names, else the first) fails with `outcome`, the worker is terminated, and the others go to a
   * fresh worker: those waiting, and those that ended but whose outcomes had not been sent yet (they run
   * again; their outputs are content-addressed, so nothing differs).
   */
  private end(mw: ModuleWorker, outcome: JobOutcome, culprit?: Pending): void {
    if (mw.gone) return;
    const running = Atomics.load(mw.progress, 0) - mw.settled - 1;
    const jobs = this.retire(mw);
    let failed = culprit ? jobs.indexOf(culprit) : running;
    if (failed < 0 || failed >= jobs.length) failed = 0;
    const again = jobs.filter((_, i) => i !== failed);
    const p = jobs[failed];
    if (p) settle(p, { ...outcome, startedAt: p.startedAt ?? outcome.startedAt });
    if (again.length === 0) return;
    const next = this.start();
    this.workers.push(next);
    for (const q of again) this.hand(next, q);
  }

  /** Takes a worker out of service and terminates it; hands back the jobs it held. */
  private retire(mw: ModuleWorker): Pending[] {
    if (mw.gone) return [];
    mw.gone = true;
    const i = this.workers.indexOf(mw);
    if (i >= 0) this.workers.splice(i, 1);
    void mw.worker.terminate();
    return mw.queue.splice(0);
  }
}

/**
 * The inputs with each one's bytes in a buffer of its own: a structured clone copies a typed array's
 * whole buffer, and a small Buffer is a view into Node's shared 8 KiB pool (measured: cloning those
 * views took a third of the scheduler's thread on a stream of short quanta).
 */
function ownBuffers(inputs: QuantumJob["inputs"]): QuantumJob["inputs"] {
  const own: QuantumJob["inputs"] = {};
  for (const name in inputs) {
    const input = inputs[name]!;
    own[name] = { ...input, items: input.items.map((item) => (item.bytes && item.bytes.byteLength !== item.bytes.buffer.byteLength ? { ...item, bytes: new Uint8Array(item.bytes) } : item)) };
  }
  return own;
}

function settle(p: Pending, outcome: JobOutcome): void {
  if (p.timer) clearTimeout(p.timer);
  p.resolve(outcome);
}

function failure(error: string, log: string, startedAt = Date.now()): JobOutcome {
  return { ok: false, error, log, startedAt, finishedAt: Date.now() };
}

/** Where a worker thread's heap limit comes from, for the out-of-memory message. */
function heapLimitNote(): string {
  const flag = /--max-old-space-size[= ](\d+)/.exec(`${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`);
  return flag ? `--max-old-space-size=${flag[1]}` : "Node's default; raise it with NODE_OPTIONS=--max-old-space-size=MB";
}
