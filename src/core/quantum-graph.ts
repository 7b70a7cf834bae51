/**
 * The quantum graph: the plan. A bipartite DAG of quanta (one task at one data ID) and datasets.
 *
 * Ids are array indices and are deterministic: quanta are ordered by task (pipeline order) and then by
 * data ID (`compareDataIds`); datasets by dataset type name and then by data ID. Every dataset is either
 * an input (`producer === -1`: ingested or prerequisite, read from the input collection at run time) or
 * produced by exactly one quantum. Inputs of a quantum always have smaller quantum ids as producers, so
 * walking `quanta` in order is a valid execution order.
 *
 * The graph holds no digests: it is a plan over dataset references, resolved against the repository when
 * it runs, so a saved plan stays valid when inputs change content.
 */
import type { DataId } from "./data-id.js";
import type { DimensionUniverse } from "./dimensions.js";
import type { Pipeline, TaskNode } from "./pipeline.js";
import type { StorageClass } from "./storage-class.js";

export interface GraphDataset {
  readonly id: number;
  readonly type: string;
  readonly dataId: DataId;
  /** `encodeDataId(dataId)`. */
  readonly key: string;
  readonly storage: StorageClass;
  /** The producing quantum's id, or -1 for an input dataset. */
  readonly producer: number;
  /** Ids of the quanta that read it, ascending. */
  readonly consumers: readonly number[];
}

export interface GraphQuantum {
  readonly id: number;
  /** The task label. */
  readonly task: string;
  readonly dataId: DataId;
  /** `encodeDataId(dataId)`. */
  readonly key: string;
  /** Per input connection, the dataset ids it reads, in data ID order (one for a non-`multiple` input). */
  readonly inputs: Readonly<Record<string, readonly number[]>>;
  /** Per output connection, the dataset id it writes. */
  readonly outputs: Readonly<Record<string, number>>;
}

export interface QuantumGraph {
  /** The pipeline the plan was built from, restricted to the selected tasks (`tasks` in the same order). */
  readonly pipeline: Pipeline;
  readonly dimensions: DimensionUniverse;
  readonly tasks: readonly TaskNode[];
  readonly datasets: readonly GraphDataset[];
  readonly quanta: readonly GraphQuantum[];
  /** The query the plan was built with, for display. */
  readonly query: { readonly where?: string; readonly bind?: Readonly<Record<string, string>> };
  /** The collection input datasets are read from (default `raw`). */
  readonly inputCollection: string;
}
