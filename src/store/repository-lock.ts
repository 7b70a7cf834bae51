/**
 * The writer lock: at most one process writes a repository at a time. Readers never lock.
 *
 * Lock file format 1, `<repo>/lock`, JSON on one line:
 *   {"format":1,"pid":1234,"host":"node7","startedAt":1700000000000,"command":"quanta run","token":"…",
 *    "processStart":"123456"}
 * It is written whole to a temporary file and linked to `lock` (a link fails if `lock` exists), so its
 * presence means "locked" and a contender never sees it half written. `processStart` (optional; where
 * `/proc` exists) is the holder's start time in clock ticks since boot, field 22 of `/proc/<pid>/stat`.
 * A lock file that does not parse, or has another format, is reported as held by an unknown process:
 * the user deletes it.
 *
 * A lock is stale, and taken over with a note, when its process is gone (same host, `kill(pid, 0)`
 * fails with ESRCH), when its pid now belongs to another process (its `processStart` differs), or when
 * the file is empty (a crash or power loss before its bytes reached the disk: the link makes it whole
 * otherwise). It is first renamed aside (only one contender can rename it) and checked to still be the
 * stale one.
 * A lock held from another host cannot be checked and is always respected.
 * A lock that cannot be written (a full disk) is a RepositoryError, "cannot write to the repository:
 * <repo>/lock: …" (write-failure.ts), and its temporary file is removed.
 * The lock is released by `release()` and, as a last resort, when the process exits normally.
 */
import { randomBytes } from "node:crypto";
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { RepositoryError } from "../core/errors.js";
import { writeFailure, writingSync } from "./write-failure.js";

export const LOCK_FORMAT = 1;

export interface LockInfo {
  format: number;
  pid: number;
  host: string;
  startedAt: number;
  command: string;
  token: string;
  processStart?: string;
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
      ...withProcessStart(process.pid),
    };
    // Two rounds at most: the first may find a stale lock and take it over.
    for (let round = 0; round < 2; round++) {
      if (tryCreate(path, info)) return new RepositoryLock(path, info);
      const holder = readLock(path);
      if (holder === "gone") continue;
      if (holder === "empty") {
        if (takeOverStale(path, holder)) options.onNote?.(`note: took over the lock of ${options.root}, an empty file left by a crash`);
        continue;
      }
      const stale = holder === "unreadable" ? undefined : findStaleness(holder);
      if (holder === "unreadable" || stale === undefined) throw lockedError(options.root, holder);
      if (takeOverStale(path, holder)) {
        options.onNote?.(
          `note: took over the lock of ${options.root} left by pid ${holder.pid} (${holder.command}, started ${formatTime(holder.startedAt)}), which ${stale}`,
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

/**
 * Creates the lock file whole (see the module comment); false when a lock exists. A failed write (a
 * full disk) is a RepositoryError naming the lock file, and leaves no temporary file behind.
 */
function tryCreate(path: string, info: LockInfo): boolean {
  const temp = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    writingSync(path, () => {
      const fd = openSync(temp, "wx");
      try {
        writeSync(fd, JSON.stringify(info) + "\n");
      } finally {
        closeSync(fd);
      }
    });
    try {
      linkSync(temp, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw writeFailure(path, err);
    }
  } finally {
    removeIfPresent(temp);
  }
}

function removeIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // never made, or gone
  }
}

function readLock(path: string): LockInfo | "gone" | "empty" | "unreadable" {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw err;
  }
  if (text.trim() === "") return "empty";
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

/** Why the holder's lock is stale (`no longer runs`, …), or undefined when it may still be held. */
function findStaleness(holder: LockInfo): string | undefined {
  if (holder.host !== hostname()) return undefined;
  if (holder.pid === process.pid) return undefined;
  try {
    process.kill(holder.pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH" ? "no longer runs" : undefined;
  }
  const start = readProcessStart(holder.pid);
  if (holder.processStart !== undefined && start !== undefined && start !== holder.processStart) {
    return `no longer runs (pid ${holder.pid} is now another process)`;
  }
  return undefined;
}

function withProcessStart(pid: number): { processStart?: string } {
  const start = readProcessStart(pid);
  return start === undefined ? {} : { processStart: start };
}

/** Field 22 of `/proc/<pid>/stat` (after the command name, which may hold spaces and parentheses). */
function readProcessStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Moves the stale lock aside. Only one contender's rename succeeds; if what it moved is no longer
 * the stale lock (another process took over in between), it is put back.
 */
function takeOverStale(path: string, stale: LockInfo | "empty"): boolean {
  const aside = `${path}.stale-${process.pid}`;
  try {
    renameSync(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw writeFailure(path, err);
  }
  const moved = readLock(aside);
  if (stale === "empty" ? moved === "empty" : typeof moved === "object" && moved.token === stale.token) {
    writingSync(aside, () => unlinkSync(aside));
    return true;
  }
  try {
    linkSync(aside, path);
  } catch {
    // someone created a fresh lock meanwhile; theirs wins and the moved one is lost with its holder
  }
  writingSync(aside, () => unlinkSync(aside));
  return false;
}

function lockedError(root: string, holder: LockInfo | "unreadable" | "empty"): RepositoryError {
  if (holder === "empty") holder = "unreadable";
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
