/**
 * Which quanta share a Slurm job. A cluster (a `clusters:` entry of the pipeline file, or the one
 * `--cluster-by DIMS` makes of every task that has those dimensions) names tasks and dimensions: the
 * quanta of its tasks with equal values of those dimensions have the same cluster key, and run in one
 * job (up to its size), a data ID's chain of tasks depth first. `--cluster-size N` alone makes one
 * cluster of every task grouped by nothing: jobs of at most N quanta, which hold the ready quanta of a
 * wave with the chains that follow them, depth first. Quanta of a task in no cluster run one per job.
 */
import type { DataId } from "./data-id.js";
import type { ClusterDef, Pipeline } from "./pipeline.js";

/** The clustering the command line asks for; it replaces the pipeline file's `clusters:`. */
export interface ClusterFlags {
  by?: readonly string[];
  size?: number;
}

/** Where a quantum's job is: its cluster (the array job's group), and its key within it. */
export interface ClusterSlot {
  /** The cluster's label (`cli` for the command line's); quanta of one label in one wave share an array job. */
  label: string;
  /** Quanta with equal keys may share a job. */
  key: string;
  /** The most quanta in one job. */
  size: number;
}

const FROM_FLAGS = "cli";

export class ClusterPlan {
  private readonly clusterOf = new Map<string, { label: string; def: ClusterDef }>();

  constructor(pipeline: Pick<Pipeline, "tasks" | "clusters">, flags: ClusterFlags = {}) {
    if (flags.by !== undefined && flags.by.length > 0) {
      const def: ClusterDef = { tasks: [], by: flags.by, size: flags.size };
      for (const t of pipeline.tasks) if (flags.by.every((d) => t.dimensions.includes(d))) this.clusterOf.set(t.label, { label: FROM_FLAGS, def });
    } else if (flags.size !== undefined) {
      // One cluster of every task, grouped by nothing: jobs of N quanta, each data ID's chain depth first.
      const def: ClusterDef = { tasks: [], by: [], size: flags.size };
      for (const t of pipeline.tasks) this.clusterOf.set(t.label, { label: FROM_FLAGS, def });
    } else {
      for (const [label, def] of Object.entries(pipeline.clusters ?? {})) for (const task of def.tasks) this.clusterOf.set(task, { label, def });
    }
  }

  /** Whether any task is clustered. */
  get isEmpty(): boolean {
    return this.clusterOf.size === 0;
  }

  /** The cluster slot of a quantum of `task` with `dataId`; undefined when its task is in no cluster. */
  slotOf(task: string, dataId: DataId): ClusterSlot | undefined {
    const c = this.clusterOf.get(task);
    if (c === undefined) return undefined;
    const key = `${c.label}\t${JSON.stringify(c.def.by.map((d) => dataId[d] ?? null))}`;
    return { label: c.label, key, size: c.def.size ?? Number.POSITIVE_INFINITY };
  }
}
