/**
 * The writer lock: at most one process writes a repository at a time. Readers never lock.
 *
 * Lock file format 1, `<repo>/lock`, JSON on one line:
 *   {"format":1,"pid":1234,"host":"node7","startedAt":1700000000000,"command":"quanta run","token":"…"}
 * It is created atomically (open with O_EXCL); its presence means "locked". A lock file that does not
 * parse, or has another format, is reported as held by an unknown process: the user deletes it.
 *
 * A lock whose process is gone (same host, `kill(pid, 0)` fails with ESRCH) is stale and taken over:
 * it is first renamed aside (only one contender can rename it) and checked to still be the stale one.
 * A lock held from another host cannot be checked and is always respected.
 * The lock is released by `release()` and, as a last resort, when the process exits normally.
 */
import { randomBytes } from "node:crypto";
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { RepositoryError } from "../core/errors.js";

export const LOCK_FORMAT = 1;

export interface LockInfo {
  format: number;
  pid: number;
  host: string;
  startedAt: number;
  command: string;
  token: string;
}

export interface AcquireLockOptions {
  /** The repository directory. */
  root: string;
  /** What the holder is doing, shown to a blocked writer (e.g. `quanta run`). */
  command: string;
  /** Called with a one-line note when a stale lock is taken over. */
  onNote?: (note: string) => void;
}

export class RepositoryLock {
  private released = false;
  private readonly onExit = () => this.releaseSync();

  private constructor(
    readonly path: string,
    readonly info: LockInfo,
  ) {
    process.once("exit", this.onExit);
  }

  /** Takes the writer lock of the repository, or throws RepositoryError (exit 3) naming the holder. */
  static acquire(options: AcquireLockOptions): RepositoryLock {
    const path = join(options.root, "lock");
    const info: LockInfo = {
      format: LOCK_FORMAT,
      pid: process.pid,
      host: hostname(),
      startedAt: Date.now(),
      command: options.command,
      token: randomBytes(8).toString("hex"),
    };
    // Two rounds at most: the first may find a stale lock and take it over.
    for (let round = 0; round < 2; round++) {
      if (tryCreate(path, info)) return new RepositoryLock(path, info);
      const holder = readLock(path);
      if (holder === "gone") continue;
      if (holder === "unreadable" || !isStale(holder)) throw lockedError(options.root, holder);
      if (takeOverStale(path, holder)) {
        options.onNote?.(
          `note: took over the lock of ${options.root} left by pid ${holder.pid} (${holder.command}, started ${formatTime(holder.startedAt)}), which no longer runs`,
        );
      }
    }
    const holder = readLock(path);
    throw lockedError(options.root, holder === "gone" ? "unreadable" : holder);
  }

  /** Releases the lock (idempotent). Only removes the file if it is still ours. */
  releaseSync(): void {
    if (this.released) return;
    this.released = true;
    process.removeListener("exit", this.onExit);
    const holder = readLock(this.path);
    if (typeof holder === "object" && holder.token === this.info.token) {
      try {
        unlinkSync(this.path);
      } catch {
        // already gone
      }
    }
  }
}

function tryCreate(path: string, info: LockInfo): boolean {
  let fd: number;
  try {
    fd = openSync(path, "wx");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
  try {
    writeSync(fd, JSON.stringify(info) + "\n");
  } finally {
    closeSync(fd);
  }
  return true;
}

function readLock(path: string): LockInfo | "gone" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LockInfo>;
    if (parsed.format !== LOCK_FORMAT || typeof parsed.pid !== "number" || typeof parsed.token !== "string") {
      return "unreadable";
    }
    return parsed as LockInfo;
  } catch {
    // A writer between open and write, or a foreign file: not ours to judge.
    return "unreadable";
  }
}

function isStale(holder: LockInfo): boolean {
  if (holder.host !== hostname()) return false;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Moves the stale lock aside. Only one contender's rename succeeds; if what it moved is no longer
 * the stale lock (another process took over in between), it is put back.
 */
function takeOverStale(path: string, stale: LockInfo): boolean {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw err;
  }
  const moved = readLock(aside);
  if (typeof moved === "object" && moved.token === stale.token) {
    unlinkSync(aside);
    return true;
  }
  try {
    linkSync(aside, path);
  } catch {
    // someone created a fresh lock meanwhile; theirs wins and the moved one is lost with its holder
  }
  unlinkSync(aside);
  return false;
}

function lockedError(root: string, holder: LockInfo | "unreadable"): RepositoryError {
  if (holder === "unreadable") {
    return new RepositoryError(
      `repository ${root} is locked (the lock file ${join(root, "lock")} does not say by whom)`,
      `if no quanta process is writing to it, delete ${join(root, "lock")}`,
    );
  }
  const where = holder.host === hostname() ? "" : ` on ${holder.host}`;
  return new RepositoryError(
    `repository ${root} is locked by pid ${holder.pid}${where} (${holder.command}, started ${formatTime(holder.startedAt)})`,
    "wait for it to finish; datasets, get, log, provenance and verify read without the lock",
  );
}

function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}
