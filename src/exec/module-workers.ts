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
 * At most `size` jobs run at once (the caller's launch slots see to it).
 */
import { Worker } from "node:worker_threads";
import type { BlobDurability } from "../store/blob-store.js";
import type { QuantumJob, QuantumOutcome } from "./quantum-job.js";
import { raceTimeout } from "./race-timeout.js";

interface ModuleWorker {
  readonly worker: Worker;
  busy: boolean;
  /** Ends the quantum it runs (the first outcome wins). */
  settle?: (outcome: QuantumOutcome) => void;
  /** Terminated, or ended by itself: never used again. */
  gone: boolean;
}

/** From dist/exec/ or, in the CLI's bundle, dist/bundle/. */
const WORKER_URL = new URL("../exec/pool-worker.js", import.meta.url);

/** The error of a quantum whose worker thread was terminated by an interrupt. */
export const STOPPED_ERROR = "stopped by an interrupt";

export class ModuleWorkers {
  private readonly workers: ModuleWorker[] = [];

  constructor(
    private readonly size: number,
    private readonly workerData: { repoRoot: string; durability: BlobDurability },
  ) {}

  /** Runs a module job on an idle worker thread; its outcome is a failure when the thread ends. */
  run(job: QuantumJob): Promise<QuantumOutcome> {
    const mw = this.idleWorker();
    mw.busy = true;
    const run = new Promise<QuantumOutcome>((resolve) => {
      mw.settle = (outcome) => {
        mw.settle = undefined;
        mw.busy = false;
        resolve(outcome);
      };
      mw.worker.postMessage(job);
    });
    if (job.task.timeoutMs === undefined) return run;
    return raceTimeout(run, job.task.timeoutMs, () => {
      mw.settle = undefined;
      this.retire(mw);
    });
  }

  /** Terminates the threads that run a quantum: each of those quanta fails with STOPPED_ERROR. */
  stop(): void {
    for (const mw of [...this.workers]) {
      if (!mw.busy) continue;
      this.fail(mw, STOPPED_ERROR, "");
      this.retire(mw);
    }
  }

  async close(): Promise<void> {
    const all = this.workers.splice(0);
    await Promise.all(all.map((mw) => mw.worker.terminate()));
  }

  private idleWorker(): ModuleWorker {
    const idle = this.workers.find((w) => !w.busy);
    if (idle) return idle;
    if (this.workers.length >= this.size) throw new Error("internal error: more module jobs than worker threads");
    const mw = this.start();
    this.workers.push(mw);
    return mw;
  }

  private start(): ModuleWorker {
    const worker = new Worker(WORKER_URL, { workerData: this.workerData });
    const mw: ModuleWorker = { worker, busy: false, gone: false };
    worker.on("message", (outcome: QuantumOutcome) => mw.settle?.(outcome));
    worker.on("error", (err: Error & { code?: string }) => {
      if (err.code === "ERR_WORKER_OUT_OF_MEMORY") {
        this.fail(mw, `ran out of memory: the task's worker thread reached its heap limit (${heapLimitNote()})`, "");
      } else {
        this.fail(mw, `worker thread crashed: ${err.message}`, err.stack ?? String(err));
      }
      this.retire(mw);
    });
    worker.on("exit", (code) => {
      this.fail(mw, `worker thread exited with code ${code} during the quantum (a task must not call process.exit(); return or throw instead)`, "");
      this.retire(mw);
    });
    return mw;
  }

  /** Fails the quantum the worker runs, if any. */
  private fail(mw: ModuleWorker, error: string, log: string): void {
    const now = Date.now();
    mw.settle?.({ ok: false, error, log, startedAt: now, finishedAt: now });
  }

  /** Takes a worker out of service (a fresh one is started when needed) and terminates it. */
  private retire(mw: ModuleWorker): void {
    if (mw.gone) return;
    mw.gone = true;
    mw.busy = false;
    const i = this.workers.indexOf(mw);
    if (i >= 0) this.workers.splice(i, 1);
    void mw.worker.terminate();
  }
}

/** Where a worker thread's heap limit comes from, for the out-of-memory message. */
function heapLimitNote(): string {
  const flag = /--max-old-space-size[= ](\d+)/.exec(`${process.execArgv.join(" ")} ${process.env.NODE_OPTIONS ?? ""}`);
  return flag ? `--max-old-space-size=${flag[1]}` : "Node's default; raise it with NODE_OPTIONS=--max-old-space-size=MB";
}
