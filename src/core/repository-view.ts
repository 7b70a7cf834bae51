/**
 * What deciding a quantum needs to know of a repository, read-only: the quantum records of a
 * collection, the action cache, failed executions, the digests of datasets, and whether a blob is
 * present. The store implements it over one registry snapshot (store/repository-view.ts); a reader
 * that hashed changed inputs without committing them lays their digests over it; tests implement it
 * with plain maps.
 */
import type { BlobDigest, CodeDigest, Hasher, QuantumKey } from "./digest.js";
import type { KeyInput, KeyManifest } from "./quantum-key.js";

export type QuantumStatusRecord = "succeeded" | "failed" | "no-work";

export interface OutputDigests {
  [connection: string]: { type: string; digest: BlobDigest; size: number };
}

/** This collection's latest record of one quantum. */
export interface RememberedQuantum {
  status: QuantumStatusRecord;
  key: QuantumKey;
  executionId: string;
  /** The outputs bound for it (absent on failures). */
  outputs?: OutputDigests;
}

/** The action cache's entry for a key: what the quantum produced, whatever collection it ran for. */
export interface RememberedAction {
  manifest: KeyManifest;
  outputs: OutputDigests;
  noWork: boolean;
  executionId: string;
}

/** What a failed execution ran with, and why it failed. */
export interface RememberedExecution {
  codeDigest: CodeDigest;
  config: unknown;
  inputs: KeyInput[];
  error?: string;
}

export interface RepositoryView {
  readonly hasher: Hasher;
  /** Every quantum record of `task` in `collection`, by canonical data ID. */
  quantumRecords(collection: string, task: string): Iterable<{ dataId: string; record: RememberedQuantum }>;
  action(key: QuantumKey): RememberedAction | undefined;
  execution(id: string): RememberedExecution | undefined;
  /** Every dataset of `type` in `collection`, by canonical data ID. */
  datasetDigests(collection: string, type: string): Iterable<{ key: string; digest: BlobDigest }>;
  blobExists(digest: BlobDigest): boolean;
  /** One quantum record, when the view can read one alone (see QuantumResolver's `pointReads`). */
  quantumRecord?(collection: string, task: string, dataId: string): RememberedQuantum | undefined;
  /** One dataset's digest, when the view can read one alone. */
  datasetDigest?(collection: string, type: string, key: string): BlobDigest | undefined;
}
