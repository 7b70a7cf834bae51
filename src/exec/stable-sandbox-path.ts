/**
 * The path a command quantum sees as its working directory: the same from run to run, from one
 * repository to another and from one machine to another, whatever sandbox of whatever pool it runs in.
 * Tools record their working directory in what they write (gcc -g puts it in the debug info as
 * DW_AT_comp_dir), so a sandbox path that changes with each run would make every such output new,
 * and defeat early cutoff and sharing between repositories.
 *
 * The stable path is a symbolic link, `/tmp/quanta-sandbox/<task label>.<data ID as a file name>`, to the
 * sandbox, made for the time the command runs; the command's shell `cd`s to it first, so `$PWD` (which
 * gcc, make and the shells prefer to getcwd() when it names the same directory) is the stable path.
 * `/tmp/quanta-sandbox` is shared by every user, like /tmp (mode 1777: each link can be removed only by
 * its owner). A link of another live run (the same quantum run by two repositories at once), a name too
 * long for a file, or a /tmp that cannot hold the links leaves the command in its sandbox's own path:
 * its outputs are as right, only not reproducible byte for byte.
 */
import { chmodSync, lstatSync, mkdirSync, readlinkSync, statSync, symlinkSync, unlinkSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { encodeDataId, type DataId } from "../core/data-id.js";

/**
 * Where the links live; fixed (not $TMPDIR), so that it is the same for every user and machine.
 * `QUANTA_SANDBOX_LINKS` names another (tests that must not meet other runs of the same quanta).
 */
export const STABLE_SANDBOX_ROOT = process.env.QUANTA_SANDBOX_LINKS ?? "/tmp/quanta-sandbox";

/** A claimed stable path; `release` removes the link once the command has ended. */
export interface StablePath {
  readonly path: string;
  release(): void;
}

/** The stable path of quantum `label`@`dataId`, linked to `sandbox`; undefined when it cannot be had. */
export function claimStablePath(label: string, dataId: DataId, sandboxPath: string, root = STABLE_SANDBOX_ROOT): StablePath | undefined {
  const sandbox = resolve(sandboxPath);
  const name = `${label}.${encodeDataId(dataId).replace(/[^A-Za-z0-9._,=+-]/g, "_")}`;
  if (name.length > 200) return undefined;
  const path = join(root, name);
  try {
    if (!isDirectory(root)) makeSharedRoot(root);
    if (!tryLink(sandbox, path) && !(removeStale(path) && tryLink(sandbox, path))) return undefined;
  } catch {
    return undefined;
  }
  return {
    path,
    release: () => {
      try {
        if (readlinkSync(path) === sandbox) unlinkSync(path);
      } catch {
        // gone already
      }
    },
  };
}

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

function makeSharedRoot(root: string): void {
  try {
    mkdirSync(root);
    chmodSync(root, 0o1777);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
}

/** Makes the link; false if its name is taken. */
function tryLink(target: string, path: string): boolean {
  try {
    symlinkSync(target, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  }
}

/**
 * Removes a link left by a run that ended without removing it (killed): its sandbox is gone, or the
 * process named in its pool's directory (command-host.ts) no longer lives. True if removed.
 */
function removeStale(path: string): boolean {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return true;
  if (!st.isSymbolicLink()) return false;
  const pid = poolProcess(readlinkSync(path));
  const live = statSync(path, { throwIfNoEntry: false }) !== undefined && (pid === undefined || isAlive(pid));
  if (live) return false;
  unlinkSync(path);
  return true;
}

/**
 * The process of this host whose pool holds `sandbox`: its pool's directory is
 * `sandboxes-<host>-<pid>-<thread>-<n>` (a host name may hold dashes); undefined for another host's
 * pool, or a name of another form, whose process cannot be asked.
 */
export function poolProcess(sandbox: string, host = hostname()): number | undefined {
  const m = /\/sandboxes-(.+)-([0-9]+)-[0-9]+-[0-9]+\/[^/]+\/?$/.exec(sandbox);
  return m !== null && m[1] === host ? Number(m[2]) : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
