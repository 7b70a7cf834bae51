/**
 * What a run session checks of `--executor slurm` before it plans: every task's `resources:` and
 * `--cluster-by`. The executor itself is made when a graph runs (session-executor.ts).
 */
import type { QuantumGraph } from "../core/quantum-graph.js";
import { UsageError } from "../core/errors.js";
import { suggestName } from "../core/suggest-name.js";
import { readResources } from "../exec/slurm/sbatch-options.js";

/** How many quanta the Slurm executor takes at once, unless `-j` says otherwise. */
export const SLURM_SLOTS = 10_000;

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
