/**
 * Writes a file the user named on the command line (`get -o FILE`, `graph -o FILE`): through a
 * temporary file next to it and a rename, so a failed write never leaves half a file under the name.
 * A path that cannot be written (a directory, a missing directory, no permission) is a UsageError
 * (exit 2) that says which and why, never a bare system error.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../core/errors.js";
import { describeWriteError as describeWriteFailure } from "./write-failure.js";

/**
 * `bytes`: the contents, or its parts in order (written one after the other, never joined in memory).
 * `executable`: the file gets mode 0755 (a program `quanta export` writes), else the umask's default.
 */
export function writeOutputFile(path: string, bytes: Uint8Array | readonly Uint8Array[], options: { executable?: boolean } = {}): void {
  let isDirectory: boolean | undefined;
  try {
    isDirectory = statSync(path, { throwIfNoEntry: false })?.isDirectory();
  } catch (err) {
    throw describeWriteError(path, err as NodeJS.ErrnoException);
  }
  if (isDirectory === true) {
    throw new UsageError(`cannot write ${path}: it is a directory`, `name a file, e.g. ${join(path, "out")}`);
  }
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    const fd = openSync(temp, "wx");
    try {
      for (const part of bytes instanceof Uint8Array ? [bytes] : bytes) {
        for (let done = 0; done < part.length; ) done += writeSync(fd, part, done, part.length - done);
      }
    } finally {
      closeSync(fd);
    }
    if (options.executable === true) chmodSync(temp, 0o755);
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // never made
    }
    throw describeWriteError(path, err as NodeJS.ErrnoException);
  }
}

function describeWriteError(path: string, err: NodeJS.ErrnoException): Error {
  const dir = dirname(path);
  switch (err.code) {
    case "ENOENT":
      return new UsageError(`cannot write ${path}: directory ${dir} does not exist`, `create it first (mkdir -p ${dir})`);
    case "ENOTDIR":
      return new UsageError(`cannot write ${path}: a part of ${dir} is not a directory`);
    case "EISDIR":
      return new UsageError(`cannot write ${path}: it is a directory`, `name a file, e.g. ${join(path, "out")}`);
    case "EACCES":
    case "EPERM":
    case "EROFS":
      return new UsageError(`cannot write ${path}: permission denied (${err.code})`);
    case "ENOSPC":
    case "EDQUOT":
      return new UsageError(`cannot write ${path}: no space left on the device (${err.code})`);
    case "ENAMETOOLONG":
      return new UsageError(`cannot write ${path}: the name is too long`);
    case "EIO":
    case "EFBIG":
      return new UsageError(`cannot write ${path}: ${describeWriteFailure(err)} (${err.code})`);
    default:
      return err;
  }
}
