/**
 * `-j 1`: runs quanta one at a time in the CLI's own thread (for debugging: breakpoints and stack
 * traces work as usual). A module task's timeout can only stop waiting for it, not stop its code.
 */
import type { BlobStore } from "../store/blob-store.js";
import type { QuantumExecutor, QuantumJob, QuantumOutcome } from "./quantum-job.js";
import { runQuantumJobNow } from "./run-quantum-job.js";
import { raceTimeout } from "./race-timeout.js";
import { closeSandboxPools } from "./sandbox-pool.js";

export class InProcessExecutor implements QuantumExecutor {
  readonly kind = "in-process" as const;
  readonly slots = 1;

  constructor(private readonly blobs: BlobStore) {}

  execute(job: QuantumJob, started: () => void): QuantumOutcome | Promise<QuantumOutcome> {
    started();
    const run = runQuantumJobNow(job, this.blobs);
    // A task that ran to its end synchronously cannot have been stopped by a timeout anyway.
    if (!(run instanceof Promise) || job.task.kind !== "module" || job.task.timeoutMs === undefined) return run;
    return raceTimeout(run, job.task.timeoutMs, () => undefined);
  }

  async close(): Promise<void> {
    closeSandboxPools();
  }
}
