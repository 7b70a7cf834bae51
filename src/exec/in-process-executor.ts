/**
 * `-j 1`: runs quanta one at a time. Commands are started from the CLI's thread; a TypeScript task's
 * quanta run on one worker thread (module-workers.ts), so that a task that calls `process.exit()` or
 * runs out of memory fails its quantum instead of ending the CLI, and a timeout or an interrupt can
 * stop its code. (Debuggers attach to worker threads too.)
 */
import type { BlobStore } from "../store/blob-store.js";
import type { QuantumExecutor, QuantumJob, QuantumOutcome } from "./quantum-job.js";
import { runQuantumJobNow } from "./run-quantum-job.js";
import { closeSandboxPools } from "./sandbox-pool.js";
import { ModuleWorkers } from "./module-workers.js";

export class InProcessExecutor implements QuantumExecutor {
  readonly kind = "in-process" as const;
  readonly slots = 1;
  private readonly workers: ModuleWorkers;
  /** Aborted by `stop`: a running command is killed. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly blobs: BlobStore,
    repoRoot: string,
  ) {
    this.workers = new ModuleWorkers(1, { repoRoot, durability: blobs.durability });
  }

  execute(job: QuantumJob, started: () => void): QuantumOutcome | Promise<QuantumOutcome> {
    started();
    if (job.task.kind === "module") return this.workers.run(job);
    return runQuantumJobNow(job, this.blobs, { signal: this.stopping.signal });
  }

  stop(): void {
    this.stopping.abort();
    this.workers.stop();
  }

  async close(): Promise<void> {
    await this.workers.close();
    closeSandboxPools();
  }
}
