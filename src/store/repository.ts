/**
 * A repository: the registry, the blob store and the writer lock, opened together.
 *
 * Repository layout, format 1:
 *   <repo>/format      the text `quanta repository 1`; its presence makes a directory a repository
 *   <repo>/registry/   the LMDB registry (lmdb-registry.ts, with its own format number)
 *   <repo>/blobs/      the blob store's files (blob-store.ts; blobs of at most 4 KiB live in the registry)
 *   <repo>/tmp/        blob writes in progress
 *   <repo>/lock        the writer lock, while a writer runs (repository-lock.ts)
 * A `format` file with another number is a RepositoryError (exit 3) naming both numbers. Every open
 * looks at the registry's LMDB file first (registry-file.ts): a damaged one is a RepositoryError
 * ("the registry is damaged", exit 3); an unfinished creation is finished, by readers too.
 *
 * Writers and readers: a writer holds the lock from its open to its close; there is one at a time.
 * Readers take no lock (LMDB lets them read beside a writer in another process) and read one snapshot
 * of the registry, taken when they open it (lmdb-registry.ts). A reader that plans (`status`, `why`,
 * `graph`) may open a repository that does not exist yet (`ifMissing: "empty"`): it reads as empty,
 * and nothing is created.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RepositoryError, UsageError } from "../core/errors.js";
import { BlobStore } from "./blob-store.js";
import type { StoreHasher } from "./hasher.js";
import { loadHasher } from "./hasher.js";
import { LmdbRegistry } from "./lmdb-registry.js";
import { OverlayRegistry } from "./overlay-registry.js";
import { inspectRegistryFile, registryDamagedError, UnfinishedRegistryError } from "./registry-file.js";
import type { Registry } from "./registry.js";
import { RepositoryLock } from "./repository-lock.js";
import { writeFailure, writingSync } from "./write-failure.js";

export const REPOSITORY_FORMAT = 1;
const FORMAT_TEXT = `quanta repository ${REPOSITORY_FORMAT}`;

export interface Repository {
  /** The repository directory, as given. */
  readonly root: string;
  readonly registry: Registry;
  readonly blobs: BlobStore;
  readonly hasher: StoreHasher;
  /** Whether this handle holds the writer lock. */
  readonly writable: boolean;
  /** False for a reader's view of a repository that does not exist yet (`ifMissing: "empty"`). */
  readonly exists: boolean;
  /** Closes the registry and releases the lock. */
  close(): Promise<void>;
}

export interface OpenRepositoryOptions {
  /** Take the writer lock (and open the registry for writing). Readers never lock. */
  write: boolean;
  /** With `write`: create the repository if it does not exist (default true). */
  create?: boolean;
  /** What this writer is, shown to a blocked one (default `quanta`). */
  command?: string;
  /** Make blobs durable before registry commits (default true; `flush()` syncs the file system once). */
  fsync?: boolean;
  /** Receives notes such as a stale lock's takeover (default: stderr). */
  onNote?: (note: string) => void;
  /**
   * A reader's answer to a repository that does not exist yet: a RepositoryError (`error`, the default),
   * or an empty repository (`empty`), read-only, that creates nothing (not even on close).
   */
  ifMissing?: "error" | "empty";
}

/** Opens the repository at `root`. Throws RepositoryError (exit 3) when missing, locked or of another format. */
export async function openRepository(root: string, options: OpenRepositoryOptions): Promise<Repository> {
  const create = options.write && (options.create ?? true);
  checkRootIsDirectory(root);
  const formatPath = join(root, "format");
  if (!existsSync(formatPath)) {
    if (!options.write && options.ifMissing === "empty") return openMissingRepository(root);
    if (!create) {
      throw new RepositoryError(
        `no repository at ${root}`,
        `ingest a pipeline's inputs first ('quanta ingest PIPELINE --repo ${root}'), or point --repo at an existing repository`,
      );
    }
    try {
      mkdirSync(root, { recursive: true });
    } catch (err) {
      // A full disk is the repository's problem (exit 3), like any write into it; a path that cannot be one is the user's.
      if (isDiskProblem(err)) throw writeFailure(root, err);
      throw new UsageError(`cannot create the repository ${root}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, "point --repo at a directory you can write");
    }
  } else {
    checkFormat(root, formatPath);
  }
  const lock = options.write
    ? RepositoryLock.acquire({
        root,
        command: options.command ?? "quanta",
        onNote: options.onNote ?? ((note) => process.stderr.write(note + "\n")),
      })
    : undefined;
  try {
    writingSync(root, () => {
      if (!existsSync(formatPath)) writeFormatFile(formatPath);
      mkdirSync(join(root, "blobs"), { recursive: true });
      mkdirSync(join(root, "tmp"), { recursive: true });
    });
    const hasher = await loadHasher();
    const registry = await openRegistry(root, options);
    const blobs = new BlobStore(root, hasher, { durability: options.fsync === false ? "none" : "deferred", inline: registry, references: registry });
    if (options.write) blobs.prepareShards();
    let closed = false;
    return {
      root,
      registry,
      blobs,
      hasher,
      writable: options.write,
      exists: true,
      async close() {
        if (closed) return;
        closed = true;
        try {
          await blobs.settle();
          await registry.close();
        } finally {
          lock?.releaseSync();
        }
      },
    };
  } catch (err) {
    lock?.releaseSync();
    throw err;
  }
}

/** A repository that does not exist yet, as a reader sees it: no datasets, no records, no blobs. */
async function openMissingRepository(root: string): Promise<Repository> {
  const hasher = await loadHasher();
  const registry = new OverlayRegistry(root);
  const blobs = new BlobStore(root, hasher, { durability: "none", inline: registry, references: registry });
  return { root, registry, blobs, hasher, writable: false, exists: false, close: async () => undefined };
}

/**
 * Opens the registry after a look at its file (registry-file.ts): a damaged one is a RepositoryError
 * (exit 3) before LMDB maps it. A reader that finds the repository's creation unfinished (no LMDB
 * file, an empty one, or no format marker) finishes it as a writer's open would, under the writer
 * lock for that moment, and then reads the empty registry.
 */
async function openRegistry(root: string, options: OpenRepositoryOptions): Promise<LmdbRegistry> {
  const state = inspectRegistryFile(join(root, "registry"));
  if (state.kind === "damaged") throw registryDamagedError(root, state.problem);
  if (options.write) return LmdbRegistry.open({ root, readOnly: false });
  if (state.kind === "sound") {
    try {
      return await LmdbRegistry.open({ root, readOnly: true });
    } catch (err) {
      if (!(err instanceof UnfinishedRegistryError)) throw err;
    }
  }
  const lock = RepositoryLock.acquire({
    root,
    command: "quanta (finishing an interrupted creation)",
    onNote: options.onNote ?? ((note) => process.stderr.write(note + "\n")),
  });
  try {
    await (await LmdbRegistry.open({ root, readOnly: false })).close();
  } finally {
    lock.releaseSync();
  }
  return LmdbRegistry.open({ root, readOnly: true });
}

/** `--repo` naming a file (or anything but a directory) is a usage error, not a missing repository. */
function checkRootIsDirectory(root: string): void {
  const st = statSync(root, { throwIfNoEntry: false });
  if (st === undefined || st.isDirectory()) return;
  throw new UsageError(`the repository ${root} is not a directory`, "point --repo at a repository directory (or at a new path, where quanta creates one)");
}

function checkFormat(root: string, formatPath: string): void {
  const text = readFileSync(formatPath, "utf8").trim();
  if (text === FORMAT_TEXT) return;
  const found = /^quanta repository (\S+)$/.exec(text)?.[1];
  throw new RepositoryError(
    found === undefined
      ? `${formatPath} is not a quanta repository marker`
      : `repository format ${found} found, ${REPOSITORY_FORMAT} expected: delete ${root} or use the version of quanta that wrote it`,
  );
}

function writeFormatFile(formatPath: string): void {
  const temp = `${formatPath}.${process.pid}.tmp`;
  try {
    writeFileSync(temp, FORMAT_TEXT + "\n");
    renameSync(temp, formatPath);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}

/** Errors of a disk that is full or failing, as opposed to a path the user cannot write. */
function isDiskProblem(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOSPC" || code === "EDQUOT" || code === "EIO";
}
