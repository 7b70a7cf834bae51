/**
 * Raw input files ingested by reference (`transfer: reference`, the default): their bytes stay in the
 * file where the user keeps it, and the registry keeps the file's digest with its stat (size, mtime,
 * ctime, inode, device) in its file state, indexed under the digest (`Registry.listReferences`). No
 * blob holds them.
 *
 * A reader that reads the bytes (`quanta get`, `export`, `verify`, a TypeScript task's input) hashes
 * them and gives them out only when they are the digest's; a reader that does not read them (a
 * command's input, placed in its sandbox as a symbolic link; a `file` input) compares the stat first
 * and hashes only when it differs. A file that changed, or is gone, is a clear error naming it, never
 * other bytes: the next run's ingest hashes the changed file again and binds its new digest.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { BlobDigest } from "../core/digest.js";
import { RepositoryError } from "../core/errors.js";
import type { StoreHasher } from "./hasher.js";
import type { FileState, Registry } from "./registry.js";

/** The part of the registry that knows the referenced files. */
export type ReferenceIndex = Pick<Registry, "listReferences" | "getFileState">;

/** A referenced file's path and the state it was hashed in. */
export interface ReferencedFile {
  path: string;
  state: FileState;
}

/** What a check of a referenced file found. */
export type ReferenceStatus = "ok" | "missing" | "changed";

export class ReferencedInputs {
  constructor(
    private readonly index: ReferenceIndex,
    private readonly hasher: StoreHasher,
    /** The repository directory: a file state's `relPath` is relative to it. */
    private readonly repoRoot: string,
  ) {}

  /**
   * The files of `digest` as a reader finds them: at their path, or, when nothing is there, at their
   * place relative to the repository (a project folder moved with its repository and its data).
   */
  locate(digest: BlobDigest): ReferencedFile[] {
    return this.filesOf(digest).map((f) => {
      if (f.state.relPath === undefined || existsSync(f.path)) return f;
      const moved = resolve(this.repoRoot, f.state.relPath);
      return existsSync(moved) ? { path: moved, state: f.state } : f;
    });
  }

  /** The files ingested by reference whose state names `digest` (their stat is not looked at). */
  filesOf(digest: BlobDigest): ReferencedFile[] {
    const out: ReferencedFile[] = [];
    for (const path of this.index.listReferences(digest)) {
      const state = this.index.getFileState(path);
      if (state?.transfer === "reference" && state.digest === digest) out.push({ path, state });
    }
    return out;
  }

  /** Whether some file ingested by reference holds `digest` (as last hashed). */
  has(digest: BlobDigest): boolean {
    return this.filesOf(digest).length > 0;
  }

  /**
   * The bytes of `digest` from a file ingested by reference, read and hashed; undefined when no file
   * references it. A file gone or changed since it was hashed is a RepositoryError naming it.
   */
  readSync(digest: BlobDigest): Uint8Array | undefined {
    const files = this.locate(digest);
    if (files.length === 0) return undefined;
    let problem: { path: string; status: Exclude<ReferenceStatus, "ok">; reason?: string } | undefined;
    for (const { path } of files) {
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(path);
      } catch (err) {
        problem ??= { path, status: "missing", reason: (err as NodeJS.ErrnoException).code };
        continue;
      }
      if (this.hasher.hashBytes(bytes) === digest) return bytes;
      problem = { path, status: "changed" };
    }
    throw referenceError(problem!.path, problem!.status, digest, problem!.reason);
  }

  /** Hashes the referenced files of `digest` again: "ok" with the first that holds it, else what the first one is. */
  check(digest: BlobDigest): { status: ReferenceStatus; path: string } | undefined {
    try {
      if (this.readSync(digest) === undefined) return undefined;
      return { status: "ok", path: this.locate(digest)[0]!.path };
    } catch (err) {
      const found = (err as ReferenceFailure).reference;
      if (found === undefined) throw err;
      return found;
    }
  }
}

type ReferenceFailure = RepositoryError & { reference?: { status: Exclude<ReferenceStatus, "ok">; path: string } };

/**
 * The error of a reader that found a referenced input file changed or gone (exit 3), with what to do.
 * `reason`: an errno code other than ENOENT, for a file that is there but cannot be read.
 */
export function referenceError(path: string, status: Exclude<ReferenceStatus, "ok">, digest: BlobDigest, reason?: string): RepositoryError {
  const error: ReferenceFailure =
    status === "changed"
      ? new RepositoryError(
          `input file ${path} changed since it was ingested (as blob ${digest})`,
          "run the pipeline again: its ingest hashes the file again and reruns what reads it (or 'quanta ingest PIPELINE')",
        )
      : new RepositoryError(
          `input file ${path}, ingested by reference (as blob ${digest}), ${reason === undefined || reason === "ENOENT" ? "is missing" : `cannot be read (${reason})`}`,
          "put the file back, or run the pipeline again: its ingest drops the datasets of files that are gone",
        );
  error.reference = { status, path };
  return error;
}

/** The error of a quantum whose raw input `files` changed while its command (or TypeScript task) ran. */
export function changedWhileReadError(files: readonly string[], reader: "command" | "task"): string {
  return `the raw input ${files.join(", ")} changed while the ${reader} ran (by another process, or by the ${reader}, which must not write to its inputs); the result is not kept: the next run's ingest hashes the file again`;
}

/** The stat of a file a reader found to hold its digest: the reader's check after reading compares with it. */
export interface HeldStat {
  ino: number;
  size: number;
  mtimeMs: number;
}

/**
 * Whether the file at `path` holds `digest`: its stat as the state says (free), else its bytes hashed;
 * with the stat taken before, when it does (`held`).
 */
export function referencedFileHolds(path: string, state: Pick<FileState, "size" | "mtimeMs" | "ctimeMs" | "ino" | "dev">, digest: BlobDigest, hasher: StoreHasher): { status: ReferenceStatus; held?: HeldStat } {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return { status: "missing" };
  const held = { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
  if (state.mtimeMs !== -1 && st.size === state.size && st.mtimeMs === state.mtimeMs && st.ctimeMs === state.ctimeMs && st.ino === state.ino && st.dev === state.dev) return { status: "ok", held };
  try {
    return hashFileSync(path, hasher) === digest ? { status: "ok", held } : { status: "changed" };
  } catch {
    return { status: "missing" };
  }
}

/** The digest of a file's bytes, hashed in chunks (a raw file may be larger than memory). */
function hashFileSync(path: string, hasher: StoreHasher): BlobDigest {
  const stream = hasher.createStream();
  const chunk = Buffer.allocUnsafe(1024 * 1024);
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) stream.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return stream.digest();
}
