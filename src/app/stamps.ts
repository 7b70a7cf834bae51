/**
 * Stamps: how a run (or an ingest) that changes nothing finishes in milliseconds instead of walking
 * every quantum (or looking up every file).
 *
 * A stamp records what a complete piece of work saw, and the registry generation it left behind (a
 * number every commit that changes the registry raises; see Registry.generation). If the next one
 * sees the same things at the same generation, nothing it depends on can have changed, and it may
 * take the previous answer:
 *
 * - The run stamp (`run\0<collection>`), written after a run in which no quantum failed or was
 *   blocked. It holds a fingerprint of everything the plan and the quantum keys are made of besides
 *   the registry: the resolved pipeline (each task's code digest, effective config, connections), the
 *   query, the bindings, the task selection, the targets and the output collection. A run whose
 *   fingerprint and generation match, and whose output blobs kept in files all still exist (the ones
 *   kept in the registry cannot vanish without a commit), is up to date as a whole: every quantum key
 *   would come out the same, with its outputs present. It reports per-task counts, not per-quantum
 *   events; `quanta status --list` lists them.
 * - The ingest stamp (`ingest\0<collection>`): a hash of the input specs and of every matched file's
 *   (path, data ID, size, mtime). When the walk finds the same list at the same generation, every file
 *   is unchanged and no file state or dataset needs reading. It is not written while a file is racily
 *   new (modified within the timestamp granularity), so such a file is hashed again next time.
 *
 * Stamps are a cache: a miss costs only the full walk, and a stale hit cannot happen, because any
 * write to the registry changes the generation, but for stamps and file states. (A file state changes
 * only with a file's size or mtime, which the ingest stamp's listing holds; runs never read them.)
 */
import { canonicalJson } from "../core/canonical-json.js";
import type { BlobDigest, Hasher } from "../core/digest.js";
import type { Pipeline } from "../core/pipeline.js";
import { KEY_VERSION } from "../core/quantum-key.js";
import type { Repository } from "../store/repository.js";

const STAMP_VERSION = 1;

export interface RunStamp {
  v: number;
  fingerprint: string;
  generation: number;
  quanta: number;
  datasets: number;
  tasks: { task: string; quanta: number }[];
  /** Output blobs kept in files: each must still exist for the stamp to hold. */
  fileBlobs: BlobDigest[];
}

export interface IngestStamp {
  v: number;
  listing: string;
  generation: number;
  fileBlobs: BlobDigest[];
}

/** What a run's plan is made of besides the registry's contents. */
export interface RunIdentity {
  pipeline: Pipeline;
  collection: string;
  where?: string;
  bind: readonly string[];
  tasks?: readonly string[];
  targets: readonly string[];
}

export function runFingerprint(hasher: Hasher, id: RunIdentity): string {
  const { pipeline } = id;
  return hasher.hashString(
    canonicalJson({
      v: STAMP_VERSION,
      key: KEY_VERSION,
      pipeline: { name: pipeline.name, file: pipeline.file, dimensions: pipeline.dimensions, inputs: pipeline.inputs, tasks: pipeline.tasks },
      collection: id.collection,
      where: id.where ?? null,
      bind: id.bind,
      tasks: id.tasks ?? null,
      targets: id.targets,
    }),
  );
}

const runStampName = (collection: string) => `run\0${collection}`;
const ingestStampName = (collection: string) => `ingest\0${collection}`;

/** Whether a stamp of this version still holds: nothing written since, its blob files all there. */
function holds(repo: Repository, stamp: { v: number; generation: number; fileBlobs: BlobDigest[] }): boolean {
  return stamp.v === STAMP_VERSION && stamp.generation === repo.registry.generation() && stamp.fileBlobs.every((d) => repo.blobs.exists(d));
}

/** The run stamp of `collection` if it answers a run with this fingerprint now. */
export function upToDateStamp(repo: Repository, collection: string, fingerprint: string): RunStamp | undefined {
  const stamp = repo.registry.getStamp(runStampName(collection)) as RunStamp | undefined;
  return stamp?.fingerprint === fingerprint && holds(repo, stamp) ? stamp : undefined;
}

export async function writeRunStamp(repo: Repository, collection: string, stamp: Omit<RunStamp, "v" | "generation">): Promise<void> {
  await repo.registry.commit(() => {
    repo.registry.putStamp(runStampName(collection), { v: STAMP_VERSION, ...stamp, generation: repo.registry.generation() });
  });
}

/** Whether the ingest stamp of `collection` says a walk that found `listing` changes nothing. */
export function ingestUnchanged(repo: Repository, collection: string, listing: string): boolean {
  const stamp = repo.registry.getStamp(ingestStampName(collection)) as IngestStamp | undefined;
  return stamp?.listing === listing && holds(repo, stamp);
}

export async function writeIngestStamp(repo: Repository, collection: string, listing: string, fileBlobs: BlobDigest[]): Promise<void> {
  await repo.registry.commit(() => {
    repo.registry.putStamp(ingestStampName(collection), { v: STAMP_VERSION, listing, fileBlobs, generation: repo.registry.generation() });
  });
}
