/**
 * A failed write to the repository: a RepositoryError (exit 3) that stops the command, never a
 * per-file warning. Reading a source file is one input's problem; writing the repository (a blob
 * file, a rename, a sync, a registry commit) is everyone's: a run that went on would build results
 * on a partial set of inputs.
 */
import { statfsSync } from "node:fs";
import { dirname } from "node:path";
import { RepositoryError } from "../core/errors.js";

/** What a user is told to do; the repository keeps what was committed before the failure. */
const WRITE_HINT = "free space on the repository's disk (or make it writable), then run the same command again: work committed so far is kept";

/** The words for errno codes a full or refused disk gives. */
const REASONS: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large (a file size limit was reached)",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
};

/** The RepositoryError for a write to `path` that failed with `err` (passed through if it is one already). */
export function writeFailure(path: string, err: unknown): RepositoryError {
  if (err instanceof RepositoryError) return err;
  // lmdb-js reports a commit that found the disk full as an I/O error: the disk says which it was.
  const reason = isDiskFull(path) ? REASONS.ENOSPC! : describeWriteError(err);
  return new RepositoryError(`cannot write to the repository: ${path}: ${reason}`, WRITE_HINT);
}

/** Whether the file system holding `path` (or its nearest existing parent) has no block left. */
function isDiskFull(path: string): boolean {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      return statfsSync(dir).bavail === 0;
    } catch {
      if (dirname(dir) === dir) return false;
    }
  }
}

/** `err`'s errno code in words, or its message. */
export function describeWriteError(err: unknown): string {
  const e = err as NodeJS.ErrnoException | undefined;
  const code = typeof e?.code === "string" ? e.code : /\b(E[A-Z]{2,})\b/.exec(String(e?.message ?? err))?.[1];
  if (code !== undefined && REASONS[code] !== undefined) return REASONS[code]!;
  if (/no space left/i.test(String(e?.message ?? err))) return REASONS.ENOSPC!;
  return e?.message ?? String(err);
}

/**
 * Whether `err` is a write the file system refused (one of the errno codes above, or "no space left"),
 * as opposed to, say, a missing source file of a copy: for calls that read as well as write.
 */
export function isRefusedWrite(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof e?.code === "string") return REASONS[e.code] !== undefined;
  return /no space left/i.test(String(e?.message ?? err));
}

/** Runs a write to `path`; a failure becomes `writeFailure`. */
export function writingSync<T>(path: string, write: () => T): T {
  try {
    return write();
  } catch (err) {
    throw writeFailure(path, err);
  }
}

/** `writingSync` for asynchronous writes. */
export async function writing<T>(path: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    throw writeFailure(path, await causeOf(err));
  }
}

/**
 * The error behind a failed write. lmdb-js rejects a failed commit with "Commit failed (see
 * commitError for details)", its cause in a promise of its own (`commitError`), which is awaited here
 * for a turn of the event loop (and never left an unhandled rejection).
 */
async function causeOf(err: unknown): Promise<unknown> {
  const pending = (err as { commitError?: unknown } | undefined)?.commitError;
  if (!(pending instanceof Promise)) return err;
  // Not always settled: the failure itself stands for its cause then.
  pending.catch(() => undefined);
  const turn = new Promise((resolve) => setImmediate(resolve));
  try {
    await Promise.race([pending, turn]);
  } catch (cause) {
    return cause;
  }
  return err;
}
