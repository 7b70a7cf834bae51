/**
 * Sandbox directories for command quanta, kept and reused. Making and removing directories is the
 * dearest thing a quantum does to the file system (on ext4, 80-300 us of system time for each mkdir and
 * rmdir, against about 10 us for a link or a readdir), so a sandbox is emptied after its quantum and
 * handed to the next quantum whose task has the same input connections.
 *
 * On disk: `<repo>/tmp/sandboxes-<host>-<pid>-<thread>-<n>/` is a pool, and each numbered directory in it a
 * sandbox, holding `outputs/` and, when the task has inputs, `inputs/<connection>/` for each
 * (command-runner.ts says what goes in them); `copies/` holds the pool's spare copies of blobs (see
 * `spareCopy`). Emptying reads each of those directories and removes whatever is in them,
 * the command's stray files included; a sandbox that cannot be emptied (its command removed one of its
 * directories, say) is removed rather than reused. A pool's directory goes when the executor closes
 * (a sandbox still in use goes when it is released) and at the latest when the process exits; a
 * process killed outright leaves it behind, as it would a sandbox in use. A directory or copy that
 * cannot be made (a full disk) is a RepositoryError (write-failure.ts): the run stops with exit 3.
 */
import { copyFileSync, lstatSync, mkdirSync, readdirSync, rmSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";
import { isRefusedWrite, writeFailure, writingSync } from "../store/write-failure.js";

export class SandboxPool {
  /** Idle sandboxes, by their input connections (`inputsKey`). */
  private readonly idle = new Map<string, Sandbox[]>();
  private made = 0;
  /** Sandboxes taken and not yet released. */
  private out = 0;
  private hasRoot = false;
  private closed = false;

  /** `root` is made when the first sandbox is; each pool needs a root of its own. */
  constructor(readonly root: string) {}

  /** A sandbox, empty, with `outputs/` and `inputs/<name>/` for each of `inputNames`. */
  take(inputNames: readonly string[]): Sandbox {
    if (this.closed) throw new Error("internal error: a sandbox taken from a closed pool");
    this.out++;
    const key = inputsKey(inputNames);
    const reused = this.idle.get(key)?.pop();
    if (reused !== undefined) return reused;
    const path = join(this.root, String(this.made++));
    try {
      if (!this.hasRoot) this.makeRoot();
      mkdirSync(path);
      mkdirSync(join(path, "outputs"));
      if (inputNames.length > 0) mkdirSync(join(path, "inputs"));
      for (const name of inputNames) mkdirSync(join(path, "inputs", name));
    } catch (err) {
      this.out--;
      removeQuietly(path);
      throw writeFailure(path, err);
    }
    return new Sandbox(path, [...inputNames], key, this);
  }

  /**
   * A private copy of the blob file `blob`, made in the pool's directory, for a sandbox to link when
   * the blob itself has as many links as the file system allows (EMLINK: 65,000 on ext4, reached when
   * a gather reads the same bytes from many datasets). Each copy serves until it too is full; `full`
   * is the copy that just refused a link. Copies go with the pool's directory.
   */
  spareCopy(blob: string, full?: string): string {
    const known = this.copies.get(blob);
    if (known !== undefined && known !== full) return known;
    if (!this.hasRoot) this.makeRoot();
    const dir = join(this.root, "copies");
    if (this.copiesMade === 0) writingSync(dir, () => mkdirSync(dir, { recursive: true }));
    const copy = join(dir, String(this.copiesMade++));
    try {
      copyFileSync(blob, copy);
    } catch (err) {
      removeQuietly(copy);
      throw isRefusedWrite(err) ? writeFailure(copy, err) : err;
    }
    this.copies.set(blob, copy);
    return copy;
  }

  /** Forgets a copy made by `spareCopy` (a command wrote to it, and it was removed). */
  forgetCopy(copy: string): void {
    for (const [blob, known] of this.copies) if (known === copy) this.copies.delete(blob);
  }

  /** The spare copy in use for each blob path. */
  private readonly copies = new Map<string, string>();
  private copiesMade = 0;

  private makeRoot(): void {
    writingSync(this.root, () => mkdirSync(this.root, { recursive: true }));
    this.hasRoot = true;
    poolsWithRoots.add(this);
  }

  /** Called by `Sandbox.release`: keeps an emptied sandbox for reuse, or removes it. */
  giveBack(sandbox: Sandbox, key: string, emptied: boolean): void {
    this.out--;
    if (emptied && !this.closed) {
      let list = this.idle.get(key);
      if (list === undefined) this.idle.set(key, (list = []));
      list.push(sandbox);
      return;
    }
    removeQuietly(sandbox.path);
    if (this.closed && this.out === 0) this.removeRoot();
  }

  /** Removes the idle sandboxes, and the others as they come back; the pool can no longer be used. */
  close(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const sandbox of list) removeQuietly(sandbox.path);
    this.idle.clear();
    if (this.out === 0) this.removeRoot();
  }

  /** Removes the pool's directory with whatever is in it (sandboxes still out included). */
  removeRoot(): void {
    if (this.hasRoot) removeQuietly(this.root);
    this.hasRoot = false;
    this.copies.clear();
    this.copiesMade = 0;
    poolsWithRoots.delete(this);
  }
}

export class Sandbox {
  constructor(
    /** The command's working directory. */
    readonly path: string,
    private readonly inputNames: readonly string[],
    private readonly key: string,
    readonly pool: SandboxPool,
  ) {}

  /**
   * Empties the sandbox and gives it back to its pool; one that cannot be emptied is removed, and so
   * is one released with `reuse: false` (its command may still be running: the spawner died under it).
   * Call it once the outputs have been taken: they go too.
   */
  release(options: { reuse: boolean } = { reuse: true }): void {
    this.pool.giveBack(this, this.key, options.reuse && this.empty());
  }

  /**
   * The file a quantum wrote an input's bytes into (not a link to a blob: a private copy), left in
   * `inputs/<input>/` by the emptying for the next quantum to write its bytes into: rewriting a file
   * allocates no inode, which costs up to a millisecond on a busy ext4. Taken once; see `keepSpare`.
   */
  takeSpare(input: string): string | undefined {
    const spare = this.spares.get(input);
    this.spares.delete(input);
    return spare;
  }

  /** Names the private input file (`takeSpare`) the emptying is to leave in place. */
  keepSpare(input: string, path: string): void {
    this.spares.set(input, path);
  }

  private readonly spares = new Map<string, string>();

  /**
   * The sandbox's own directory and `inputs/` as last found holding nothing but their subdirectories
   * (see `emptyUnlessUnchanged`).
   */
  private readonly clean = new Map<string, DirectoryState>();

  /**
   * Reads `outputs/` and each `inputs/<name>/`, and unlinks each file found (but a spare input file);
   * the sandbox's own directory and `inputs/` only when they changed since they were last found clean.
   */
  private empty(): boolean {
    try {
      const hasInputs = this.inputNames.length > 0;
      if (!this.emptyUnlessUnchanged(this.path, hasInputs ? TOP_WITH_INPUTS : TOP_WITHOUT_INPUTS)) return false;
      emptyDirectory(join(this.path, "outputs"));
      if (!hasInputs) return true;
      const inputs = join(this.path, "inputs");
      if (!this.emptyUnlessUnchanged(inputs, new Set(this.inputNames))) return false;
      for (const name of this.inputNames) {
        const spare = this.spares.get(name);
        emptyDirectory(join(inputs, name), undefined, spare === undefined ? undefined : basename(spare));
      }
      return true;
    } catch {
      return false; // the command removed or replaced one of the directories
    }
  }

  /**
   * `emptyDirectory(dir, keep)` for a directory that quanta leave alone (only the command may put
   * something there, and a gather's `.list` file goes in `inputs/`): skipped, for one stat in place of
   * five system calls, when the directory has the same inode and change time as when it was last found
   * holding only `keep`. Adding, removing or renaming an entry sets a directory's change time to the
   * clock's time, and nothing can set it back; a change time less than RACY_DIRECTORY_MS old when it is
   * recorded is not trusted, since a coarse clock could give a change made right after it the same time.
   */
  private emptyUnlessUnchanged(dir: string, keep: ReadonlySet<string>): boolean {
    const before = lstatSync(dir, { bigint: true });
    if (!before.isDirectory()) return false;
    const known = this.clean.get(dir);
    if (known !== undefined && known.ino === before.ino && known.ctimeNs === before.ctimeNs) return true;
    this.clean.delete(dir);
    if (!emptyDirectory(dir, keep)) return false;
    const after = lstatSync(dir, { bigint: true });
    if (after.isDirectory() && after.ctimeMs < BigInt(Date.now() - RACY_DIRECTORY_MS)) {
      this.clean.set(dir, { ino: after.ino, ctimeNs: after.ctimeNs });
    }
    return true;
  }
}

interface DirectoryState {
  ino: bigint;
  ctimeNs: bigint;
}

/** How old a directory's change time must be for an unchanged one to be trusted (see `emptyUnlessUnchanged`). */
const RACY_DIRECTORY_MS = 1000;

const TOP_WITH_INPUTS: ReadonlySet<string> = new Set(["inputs", "outputs"]);
const TOP_WITHOUT_INPUTS: ReadonlySet<string> = new Set(["outputs"]);

/**
 * Removes everything in `dir` but the directories named in `keep` and the file `keepFile`; false if one
 * of those directories is missing or is not a directory (a command replaced it by a symbolic link, say:
 * emptying it would follow the link out of the sandbox). The kept file is checked when it is reused.
 */
function emptyDirectory(dir: string, keep?: ReadonlySet<string>, keepFile?: string): boolean {
  let kept = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const name = entry.name;
    if (name === keepFile && entry.isFile()) continue;
    if (keep?.has(name)) {
      if (!entry.isDirectory()) return false;
      kept++;
      continue;
    }
    const path = join(dir, name);
    try {
      unlinkSync(path);
    } catch {
      rmSync(path, { recursive: true, force: true }); // a directory the command made
    }
  }
  return keep === undefined || kept === keep.size;
}

/**
 * Removes a directory tree; a failure (a command made part of it unreadable, say) leaves it where it
 * is, in the repository's tmp/, rather than failing the quantum that is done with it.
 */
function removeQuietly(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // left behind
  }
}

function inputsKey(inputNames: readonly string[]): string {
  return [...inputNames].sort().join("/");
}

/**
 * The pools whose directory exists, removed at the latest when the process exits. Process-wide by
 * nature (the `exit` handler): each pool belongs to its executor's CommandHost, and leaves this set when
 * it is closed, so only a process that exits without closing its executors finds pools here.
 */
const poolsWithRoots = new Set<SandboxPool>();

process.once("exit", () => {
  for (const pool of poolsWithRoots) pool.removeRoot();
});
