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
 *   fingerprint and generation match, and whose listed output blob files all still exist (the ones
 *   kept in the registry cannot vanish without a commit; after a run following an edit the list may
 *   also hold replaced outputs), is up to date as a whole: every quantum key would come out the same,
 *   with its outputs present. It reports per-task counts, not per-quantum events; `quanta status
 *   --list` lists them. Beside it, in the same commit, the states the run ended with
 *   (`rs\0<collection>`) and its graph (`rp\0<collection>`, left as it is when the run took that very
 *   plan: `writeRunStamp`), which a run after an edit of some inputs
 *   takes instead of resolving every quantum and building the graph again (app/since-stamped-run.ts).
 * - The ingest stamp (`ingest\0<collection>`): a hash of the input specs and of every matched file's
 *   input, path, size, mtime, ctime, inode and device (the path and its template give the data ID).
 *   When the walk finds the same list while the collection's datasets are as the stamped ingest left
 *   them (Registry.datasetsGeneration: runs into other collections do not move it), every file is
 *   unchanged and no file state or dataset needs reading. Beside it, in the same commit
 *   (`walk\0<collection>`), the list itself (`WalkListing`): a walk that finds another list reads only
 *   the files whose entry differs, and the ones gone from it (ingest.ts). Neither is written while a
 *   file is racily new (modified within the timestamp granularity), so such a file is hashed again
 *   next time.
 *
 * Stamps are a cache: a miss costs only the full walk, and a stale hit cannot happen: any write to
 * the registry, but for stamps and file states, changes the generation a run stamp holds on, and any
 * write that can change what an ingest stamp's collection holds changes its datasets generation (its
 * datasets, and what is shared: dimensions, dataset types, relations, blobs kept in the registry
 * removed, a file held by reference taken out of the references index by whichever collection). A
 * file state changes otherwise only with a file's size or mtime, which the ingest stamp's listing
 * holds; runs never read them.
 *
 * Blob files are not in the registry: a stamp lists the ones it needs (grouped by shard, a string per
 * shard: store/sharded-blobs.ts), and holds only while they all exist. Checking 300,000 of them would
 * read every shard directory; instead a stamp remembers the ctime of each shard directory found
 * complete (`BlobStore.filesPresent`), and a shard whose directory has not changed since is not read.
 * The first check after a stamp is written reads the shards and writes the stamp again with their
 * ctimes (`refreshed`); later ones stat 256 directories.
 * A stamp written over another keeps the shards the other trusted whose directories have not changed
 * since and in which it lists no blob the other did not (`BlobStore.shardsUnchanged`): after a run
 * that wrote a few blobs, the next check reads those few shards only.
 */
import { QUANTA_VERSION } from "../exec/version.js";
import { canonicalJson } from "../core/canonical-json.js";
import type { Hasher } from "../core/digest.js";
import type { Pipeline } from "../core/pipeline.js";
import type { PlanWarning } from "../core/plan-warning.js";
import { KEY_VERSION } from "../core/quantum-key.js";
import type { Repository } from "../store/repository.js";
import { createTextHash, type StoreHasher } from "../store/hasher.js";
import type { ShardedBlobs } from "../store/sharded-blobs.js";

// 3: `fileBlobs` grouped by shard (store/sharded-blobs.ts), not an array; the run's states beside its
// stamp. 4: the ingest stamp's generation is its collection's (Registry.datasetsGeneration), and the
// walk's list beside it. A stamp of another version is a miss.
const STAMP_VERSION = 4;

export interface RunStamp {
  v: number;
  fingerprint: string;
  generation: number;
  quanta: number;
  datasets: number;
  tasks: { task: string; quanta: number }[];
  /** Output blobs kept in files: each must still exist for the stamp to hold. */
  fileBlobs: ShardedBlobs;
  /** The ctimes of shard directories found to hold their `fileBlobs` (see the module comment). */
  shards?: Record<string, number>;
  /** What the plan dropped (reported again by a run the stamp answers). */
  warnings?: PlanWarning[];
  /**
   * The digest of the states the run ended with, kept beside the stamp (`keptRunStates`): a later
   * run takes them only when they hash the same (app/since-stamped-run.ts).
   */
  states?: string;
  /**
   * The quanta version that built the run's plan kept beside the stamp (`keptRunPlan`), and the plan's
   * digest: a graph built by another version of the builder is built again, not taken.
   */
  plan?: string;
}

export interface IngestStamp {
  v: number;
  listing: string;
  /** The collection's `Registry.datasetsGeneration` when it was written. */
  generation: number;
  fileBlobs: ShardedBlobs;
  shards?: Record<string, number>;
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
// No longer than the run stamp's name: a collection whose run stamp fits a registry key has room for it.
const runStatesName = (collection: string) => `rs\0${collection}`;
const runPlanName = (collection: string) => `rp\0${collection}`;

/** The fingerprint of the last run stamp of `collection` (undefined: none). */
export function lastRunFingerprint(repo: Repository, collection: string): string | undefined {
  return (repo.registry.getStamp(runStampName(collection)) as RunStamp | undefined)?.fingerprint;
}

/**
 * The note that quanta run on the input collection `collection` may have lost their inputs: set by an
 * ingest that removed datasets or changed a relation (in its own commit), cleared by the run of the
 * whole pipeline that removed such quanta (engine.ts, `prune`; in the same commit), so that a run
 * interrupted before, or a crash, leaves it for the next.
 */
export const vanishedStampName = (collection: string) => `vanished\0${collection}`;
/** The files that fit no template, as the last ingest of the collection found them (a sorted list of paths). */
export const misfitsStampName = (collection: string) => `misfits\0${collection}`;
const ingestStampName = (collection: string) => `ingest\0${collection}`;
const walkName = (collection: string) => `walk\0${collection}`;

/**
 * What a complete walk of the input files found, file by file, in walk order: kept beside the ingest
 * stamp whose `listing` is its `digest` (see ingest.ts `describeWalk` for the digest).
 */
export interface WalkListing {
  digest: string;
  /** The dimensions and the file input specs, as canonical JSON: the templates the paths were matched with. */
  specs: string;
  /** Per file, its input type and its path, joined by NUL. */
  files: string[];
  /** Per file, five numbers: its size, mtime, ctime, inode and device. */
  numbers: Float64Array;
}

/** The longest walk list kept, in characters: well under V8's longest string (2^29 - 24). */
const MAX_WALK_CHARS = 2 ** 28;

/** A WalkListing as the registry keeps it: the files joined by NUL (no path or type holds one), the numbers as their bytes. */
interface StoredWalk {
  digest: string;
  specs: string;
  files: string;
  numbers: Uint8Array;
}

type AnyStamp = RunStamp | IngestStamp;

/**
 * Whether a stamp of this version still holds (nothing written since, its blob files all there), and
 * the same stamp with more shards to trust when the check read some that the next check need not.
 */
function holds<S extends AnyStamp>(repo: Repository, stamp: S, generation: number): { holds: boolean; refreshed?: S } {
  if (stamp.v !== STAMP_VERSION || stamp.generation !== generation) return { holds: false };
  const check = repo.blobs.filesPresent(stamp.fileBlobs, stamp.shards);
  if (!check.present) return { holds: false };
  const before = stamp.shards ?? {};
  const gained = Object.keys(check.trusted).some((shard) => before[shard] !== check.trusted[shard]);
  return { holds: true, refreshed: gained ? { ...stamp, shards: check.trusted } : undefined };
}

/**
 * Writes a stamp again with the shards its check found it can trust; not an error if it cannot. A
 * reader (a repository opened without the writer lock) takes the stamp as it is and writes nothing.
 */
async function rewrite(repo: Repository, name: string, stamp: AnyStamp | undefined): Promise<void> {
  if (stamp === undefined || !repo.writable) return;
  try {
    await repo.registry.commit(() => repo.registry.putStamp(name, stamp));
  } catch {
    // The stamp still holds as it was; the next check reads the shards again.
  }
}

/** The run stamp of `collection` if it answers a run with this fingerprint now. */
export async function upToDateStamp(repo: Repository, collection: string, fingerprint: string): Promise<RunStamp | undefined> {
  const stamp = repo.registry.getStamp(runStampName(collection)) as RunStamp | undefined;
  if (stamp?.fingerprint !== fingerprint) return undefined;
  const check = holds(repo, stamp, repo.registry.generation());
  if (!check.holds) return undefined;
  await rewrite(repo, runStampName(collection), check.refreshed);
  return stamp;
}

/**
 * Whether the run stamp of `collection` is of this version and its output blob files are all there:
 * what a watch checks before it answers `status` from memory (RunSession.statusFromMemory), since a
 * blob file can go without a commit.
 */
export function stampedFilesPresent(repo: Repository, collection: string): boolean {
  const stamp = repo.registry.getStamp(runStampName(collection)) as RunStamp | undefined;
  return stamp?.v === STAMP_VERSION && repo.blobs.filesPresent(stamp.fileBlobs, stamp.shards).present;
}

/**
 * The run stamp of `collection` when it tells what the registry held at `generation`: the last run with
 * this fingerprint settled every quantum and nothing was written since, and the output blobs it kept
 * in files are all there. Unlike `upToDateStamp`, the registry may have moved on since `generation`
 * (an ingest of this run): the caller knows what that changed (app/since-stamped-run.ts).
 */
export function runStampAt(repo: Repository, collection: string, fingerprint: string, generation: number): RunStamp | undefined {
  const stamp = repo.registry.getStamp(runStampName(collection)) as RunStamp | undefined;
  if (stamp?.fingerprint !== fingerprint || stamp.v !== STAMP_VERSION || stamp.generation !== generation) return undefined;
  return repo.blobs.filesPresent(stamp.fileBlobs, stamp.shards).present ? stamp : undefined;
}

/**
 * Writes the run stamp, and beside it, in the same commit, `statesText`: the states the run ended with
 * (app/since-stamped-run.ts `runStatesText`), and `plan`: the run's graph as a plan file's bytes
 * (store/plan-file.ts), whose digests the stamp holds (`states`, `plan`). Without them, the stamp has
 * neither, and an empty text and no plan replace the last ones. `planKept`: `plan` is the kept plan,
 * as `keptRunPlan` read it back beside the last stamp; it is not written again (a run after an edit of
 * some inputs runs the last run's graph: several megabytes at 100,000 chains).
 */
export async function writeRunStamp(
  repo: Repository,
  collection: string,
  { fileBlobs: sharded, ...stamp }: Omit<RunStamp, "v" | "generation" | "shards" | "states" | "plan">,
  kept: { statesText?: string; plan?: Uint8Array; planKept?: boolean } = {},
): Promise<void> {
  const { statesText, plan } = kept;
  const name = runStampName(collection);
  const before = repo.registry.getStamp(name) as AnyStamp | undefined;
  const shards = shardsStillTrusted(repo, before, sharded);
  const states = statesText === undefined ? {} : { states: statesTextDigest(repo.hasher, statesText) };
  const planned = plan === undefined ? {} : { plan: planDigest(repo, plan) };
  const samePlan = kept.planKept === true && planned.plan !== undefined && before?.v === STAMP_VERSION && (before as RunStamp).plan === planned.plan;
  await repo.registry.commit(() => {
    repo.registry.putStamp(name, { v: STAMP_VERSION, ...stamp, ...states, ...planned, fileBlobs: sharded, ...shards, generation: repo.registry.generation() });
    repo.registry.putStamp(runStatesName(collection), statesText ?? "");
    if (!samePlan) repo.registry.putStamp(runPlanName(collection), plan ?? null);
  });
}

/** The plan kept beside `stamp`, the run stamp of `collection` (see writeRunStamp), when this quanta built it and it hashes to the stamp's digest. */
export function keptRunPlan(repo: Repository, collection: string, stamp: RunStamp): Uint8Array | undefined {
  const bytes = repo.registry.getStamp(runPlanName(collection));
  if (stamp.plan === undefined || !(bytes instanceof Uint8Array) || planDigest(repo, bytes) !== stamp.plan) return undefined;
  return bytes;
}

/** `RunStamp.plan` for a plan's bytes. */
function planDigest(repo: Repository, bytes: Uint8Array): string {
  return `quanta ${QUANTA_VERSION} ${repo.hasher.hashBytes(bytes)}`;
}

/** The digest of a run's states text, as its stamp holds it (`RunStamp.states`). */
export function statesTextDigest(hasher: StoreHasher, text: string): string {
  const hash = createTextHash(hasher);
  hash.add(text);
  return hash.digest();
}

/** The text of the states the last run stamp of `collection` ended with (see writeRunStamp). */
export function keptRunStates(repo: Repository, collection: string): string | undefined {
  const text = repo.registry.getStamp(runStatesName(collection));
  return typeof text === "string" ? text : undefined;
}

/** Whether the ingest stamp of `collection` says a walk that found `listing` changes nothing. */
export async function ingestUnchanged(repo: Repository, collection: string, listing: string): Promise<boolean> {
  const stamp = repo.registry.getStamp(ingestStampName(collection)) as IngestStamp | undefined;
  if (stamp?.listing !== listing) return false;
  const check = holds(repo, stamp, repo.registry.datasetsGeneration(collection));
  if (!check.holds) return false;
  await rewrite(repo, ingestStampName(collection), check.refreshed);
  return true;
}

/**
 * The walk the ingest stamp of `collection` lists, with the blob files it needs, while the stamp
 * holds: the collection's datasets are as that walk left them. Undefined when it does not, or when
 * the walk matched files against other `specs`.
 */
export function lastWalk(repo: Repository, collection: string, specs: string): { walk: WalkListing; fileBlobs: ShardedBlobs } | undefined {
  const stamp = repo.registry.getStamp(ingestStampName(collection)) as IngestStamp | null | undefined;
  if (typeof stamp !== "object" || stamp === null || !holds(repo, stamp, repo.registry.datasetsGeneration(collection)).holds) return undefined;
  const stored = repo.registry.getStamp(walkName(collection)) as StoredWalk | null | undefined;
  if (typeof stored !== "object" || stored === null || stored.digest !== stamp.listing || stored.specs !== specs || stored.numbers.byteLength % 40 !== 0) return undefined;
  const files = stored.files === "" ? [] : stored.files.split("\0");
  const count = stored.numbers.byteLength / 40;
  if (files.length !== 2 * count) return undefined;
  const entries: string[] = new Array(count);
  for (let i = 0; i < count; i++) entries[i] = `${files[2 * i]}\0${files[2 * i + 1]}`;
  // Copied: the bytes read back need not be aligned for a Float64Array.
  const numbers = new Float64Array(count * 5);
  new Uint8Array(numbers.buffer).set(stored.numbers);
  return { walk: { digest: stored.digest, specs: stored.specs, files: entries, numbers }, fileBlobs: stamp.fileBlobs };
}

/** Writes the ingest stamp of `collection` and, in the same commit, the walk it lists. */
export async function writeIngestStamp(repo: Repository, collection: string, walk: WalkListing, fileBlobs: ShardedBlobs): Promise<void> {
  const name = ingestStampName(collection);
  const shards = shardsStillTrusted(repo, repo.registry.getStamp(name) as AnyStamp | undefined, fileBlobs);
  const numbers = new Uint8Array(walk.numbers.buffer, walk.numbers.byteOffset, walk.numbers.byteLength);
  // A list too long for one string (millions of long paths) is not kept: the next walk that differs reads every file state.
  let length = walk.files.length;
  for (const entry of walk.files) length += entry.length;
  const stored: StoredWalk | null = length > MAX_WALK_CHARS ? null : { digest: walk.digest, specs: walk.specs, files: walk.files.join("\0"), numbers };
  await repo.registry.commit(() => {
    const generation = repo.registry.datasetsGeneration(collection);
    repo.registry.putStamp(name, { v: STAMP_VERSION, listing: walk.digest, fileBlobs, ...shards, generation });
    repo.registry.putStamp(walkName(collection), stored);
  });
}

/** The `shards` field of a stamp listing `fileBlobs` written over the stamp `before`: what it may keep of the other's. */
function shardsStillTrusted(repo: Repository, before: AnyStamp | undefined, fileBlobs: ShardedBlobs): { shards?: Record<string, number> } {
  if (before?.v !== STAMP_VERSION || before.shards === undefined) return {};
  const shards = repo.blobs.shardsUnchanged(before.shards, fileBlobs, before.fileBlobs);
  return Object.keys(shards).length > 0 ? { shards } : {};
}
