/**
 * The Slurm executor of a run session (`--executor slurm`): its journal of submissions in the
 * repository's `slurm/` directory, opened before anything is submitted, so that a run re-attaches to
 * the jobs a head that died left running (submission-journal.ts).
 */
import { resolve } from "node:path";
import type { EventBody } from "../core/events.js";
import type { Repository } from "../store/repository.js";
import type { QuantumExecutor } from "../exec/quantum-job.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import { UsageError } from "../core/errors.js";
import { suggestName } from "../core/suggest-name.js";
import { readResources } from "../exec/slurm/sbatch-options.js";
import { SlurmExecutor, type SlurmSubmission } from "../exec/slurm/slurm-executor.js";
import { SubmissionJournal } from "../exec/slurm/submission-journal.js";

/** How many quanta the Slurm executor takes at once, unless `-j` says otherwise. */
export const SLURM_SLOTS = 10_000;

export function makeSlurmExecutor(opts: { repo: Repository; jobs?: number; clusterBy?: string[]; clusterSize?: number; emit: (e: EventBody) => void }): SlurmExecutor {
  const runTag = `${Date.now().toString(36)}-${process.pid.toString(36)}`;
  const journal = new SubmissionJournal(resolve(opts.repo.root, "slurm"), runTag);
  const onSubmitted = (s: SlurmSubmission) => opts.emit({ event: "slurm-submitted", ...s });
  return new SlurmExecutor({ repo: opts.repo, slots: opts.jobs ?? SLURM_SLOTS, clustering: { by: opts.clusterBy, size: opts.clusterSize }, journal, onSubmitted });
}

/**
 * Reads every task's `resources:` as sbatch options, and checks `--cluster-by`'s dimensions: a bad
 * value is a usage error (exit 2) before anything is submitted.
 */
export function checkSlurmResources(graph: Pick<QuantumGraph, "tasks" | "dimensions">, clusterBy?: readonly string[]): void {
  for (const task of graph.tasks) readResources(task.label, task.resources);
  for (const dim of clusterBy ?? []) {
    if (!Object.hasOwn(graph.dimensions, dim)) {
      const declared = Object.keys(graph.dimensions);
      throw new UsageError(`--cluster-by names dimension "${dim}", which the pipeline does not declare`, suggestName(dim, declared) ?? `dimensions: ${declared.join(", ")}`);
    }
  }
}

/** `emit`, with the `sbatch` calls and jobs of this run in its `run-finished` (for a Slurm executor). */
export function countingSlurm(emit: (e: EventBody) => void, executor: QuantumExecutor): (e: EventBody) => void {
  if (!(executor instanceof SlurmExecutor)) return emit;
  const calls = executor.sbatchCalls;
  const jobs = executor.jobs;
  return (e) => emit(e.event === "run-finished" ? { ...e, slurm: { sbatchCalls: executor.sbatchCalls - calls, jobs: executor.jobs - jobs } } : e);
}
