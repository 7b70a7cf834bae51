/**
 * The part of a run session that runs a graph: the engine, the executors and the Slurm submission
 * journal. run-session.ts loads it on demand (`await import`), so that a run the stamps answer (a
 * no-op), and `status`, never load or compile it: about a sixth of the code a command loads.
 */
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import type { EventBody } from "../core/events.js";
import type { Repository } from "../store/repository.js";
import type { QuantumExecutor } from "../exec/quantum-job.js";
import { InProcessExecutor } from "../exec/in-process-executor.js";
import { PoolExecutor } from "../exec/pool-executor.js";
import { SlurmExecutor, type SlurmSubmission } from "../exec/slurm/slurm-executor.js";
import { SubmissionJournal } from "../exec/slurm/submission-journal.js";
import { SLURM_SLOTS } from "./slurm-session.js";

export { runGraph } from "../exec/engine.js";
export { dropTempOutputs } from "./drop-temp-outputs.js";

/** The executor `flags` ask for. */
export function makeExecutor(flags: { executor?: string; jobs?: number; clusterBy?: string[]; clusterSize?: number }, repo: Repository, emit: (e: EventBody) => void): QuantumExecutor {
  if (flags.executor === "slurm") return makeSlurmExecutor({ repo, jobs: flags.jobs, clusterBy: flags.clusterBy, clusterSize: flags.clusterSize, emit });
  const jobs = flags.jobs ?? availableParallelism();
  return jobs === 1 ? new InProcessExecutor(repo.blobs, repo.root) : new PoolExecutor(jobs, repo.blobs, repo.root);
}

/**
 * The Slurm executor (`--executor slurm`), with its journal of submissions in the repository's
 * `slurm/` directory, opened before anything is submitted, so that a run re-attaches to the jobs a
 * head that died left running (submission-journal.ts).
 */
function makeSlurmExecutor(opts: { repo: Repository; jobs?: number; clusterBy?: string[]; clusterSize?: number; emit: (e: EventBody) => void }): SlurmExecutor {
  const runTag = `${Date.now().toString(36)}-${process.pid.toString(36)}`;
  const journal = new SubmissionJournal(resolve(opts.repo.root, "slurm"), runTag);
  const onSubmitted = (s: SlurmSubmission) => opts.emit({ event: "slurm-submitted", ...s });
  return new SlurmExecutor({ repo: opts.repo, slots: opts.jobs ?? SLURM_SLOTS, clustering: { by: opts.clusterBy, size: opts.clusterSize }, journal, onSubmitted });
}

/** `emit`, with the `sbatch` calls and jobs of this run in its `run-finished` (for a Slurm executor). */
export function countingSlurm(emit: (e: EventBody) => void, executor: QuantumExecutor): (e: EventBody) => void {
  if (!(executor instanceof SlurmExecutor)) return emit;
  const calls = executor.sbatchCalls;
  const jobs = executor.jobs;
  return (e) => emit(e.event === "run-finished" ? { ...e, slurm: { sbatchCalls: executor.sbatchCalls - calls, jobs: executor.jobs - jobs } } : e);
}
