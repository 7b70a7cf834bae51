/**
 * The files a Slurm job and the head process exchange, under the repository's `slurm/` directory (on
 * the file system the nodes share):
 *
 *     <repo>/slurm/<run>/b<N>/job.sh          the batch script (an array job: one element per file below)
 *     <repo>/slurm/<run>/b<N>/e<I>.json       element I's job file: the quanta it runs, in order
 *     <repo>/slurm/<run>/b<N>/out-<I>.txt     element I's standard output and error (Slurm's `-o`)
 *     <repo>/slurm/<run>/b<N>/r<Q>.json       the result record of quantum Q (written once it ended)
 *     <repo>/slurm/journal.jsonl               the submissions of every run not yet ingested (submission-journal.ts)
 *
 * Both JSON formats start with `format: 2`; a job runner that reads another format refuses it (the
 * quanta of its element fail with "job file format N, 2 expected": the head and the nodes run
 * different versions of quanta), and the head treats a result record of another format as missing.
 * A follow-on quantum (one that reads what an earlier quantum of the element made) gets its record
 * only when the job ran it, under the key the job computed; the head uses it only if that is the key
 * it computes itself.
 *
 * A job file names inputs by path only: blobs kept in the registry are written out as blob files by
 * the head before it submits (a job never opens LMDB). A result record carries the outcome of one
 * quantum with digests, the bytes of its small outputs (at most 4 KiB each, base64: the head keeps
 * them in its registry), the host it ran on and the Slurm job id. It is written to a temporary name and
 * renamed into place after the quantum's output blobs were synced (a job syncs once for the records of
 * the quanta that ended within a quarter of a second), so a record the head reads is whole and names
 * blobs that are durable.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import type { BlobDigest } from "../../core/digest.js";
import type { FollowOnJob, QuantumJob, QuantumOutcome } from "../quantum-job.js";

export const SLURM_FILES_FORMAT = 2;

/** One quantum of an element: handed over (`job`), or following the ones before it (`followOn`). */
export type ElementStep = { job: QuantumJob; followOn?: undefined } | { job?: undefined; followOn: FollowOnJob };

export interface ElementFile {
  format: number;
  /**
   * The quanta of this element, run in this order (a chain depth first). Inputs are paths (no
   * `bytes`), but for a follow-on's inputs made in the element: the job fills those in.
   */
  steps: ElementStep[];
}

export interface ResultRecord {
  format: number;
  quantum: number;
  key: string;
  attempt: number;
  host: string;
  jobId: string;
  outcome: QuantumOutcome;
  /** Small outputs' bytes, base64, by digest. */
  bytes?: [BlobDigest, string][];
}

export function elementFileName(index: number): string {
  return `e${index}.json`;
}

export function outputFileName(index: number): string {
  return `out-${index}.txt`;
}

export function resultFileName(quantum: number, attempt: number): string {
  return `r${quantum}-${attempt}.json`;
}

/**
 * Writes `text` to `path` through a temporary name on the same host, renamed into place: a reader sees
 * the whole file or none. Not synced: a record lost with its node is a quantum without a record (its
 * element failed), and the blobs a record names were synced before it was written.
 */
export function writeFileWhole(path: string, text: string): void {
  const temp = `${path}.${hostname()}-${process.pid}.tmp`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/** The result record at `path`, or undefined when it is not there (yet) or not of this format. */
export function readResultRecord(path: string): ResultRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const record = JSON.parse(text) as ResultRecord;
    return record.format === SLURM_FILES_FORMAT ? record : undefined;
  } catch {
    return undefined;
  }
}
