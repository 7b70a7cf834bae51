/**
 * What `quanta watch` watches, behind a small interface (the loop needs changes, not chokidar), and
 * the real watcher on chokidar.
 *
 * Targets are directories (watched with everything below them: an input template's root) and single
 * files (the pipeline file and its imports, task modules and their local imports, relation files). A
 * target that does not exist yet is watched from its nearest existing ancestor, along the path to it
 * only, so that a `visit7/` made later, or a relation file written later, is seen when it appears. So
 * is a target that stops existing (`rm -r data/`, `mv chain.yaml elsewhere/`): chokidar stops watching
 * a path it started from once that path is removed, and nothing would see it made again.
 */
import { existsSync, statSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { watch, type FSWatcher } from "chokidar";

export type FileChangeKind = "added" | "changed" | "removed";

export interface FileChange {
  path: string;
  kind: FileChangeKind;
}

export interface WatchTargets {
  /** Watched with everything below them (absolute). */
  directories: readonly string[];
  /** Watched alone (absolute). */
  files: readonly string[];
  /** Never watched, even inside a directory target (the repository, which every pass writes). */
  excluded?: readonly string[];
}

export interface FileWatcher {
  /** Watches these targets from now on (instead of those given before); resolves once in place. */
  watch(targets: WatchTargets): Promise<void>;
  /** How many files and directories are watched. */
  readonly watchedCount: number;
  close(): Promise<void>;
}

/** A FileWatcher on chokidar; `onChange` hears every change, one at a time, as chokidar reports it. */
export class ChokidarWatcher implements FileWatcher {
  private watcher: FSWatcher | undefined;
  private scope: WatchScope | undefined;
  private count = 0;
  /** Watchers replaced and not closed yet (see `watch`). */
  private readonly retired = new Set<Retired>();
  /** The targets of the watcher in place, watched again from where they now start when one of its roots goes. */
  private targets: WatchTargets | undefined;
  /** Replacements of the watcher, one after the other: the driver's and those after a root went. */
  private turn: Promise<void> = Promise.resolve();
  /** A replacement after a root went is waiting its turn: further roots that go need no other. */
  private rerootPending = false;
  private closed = false;

  constructor(private readonly onChange: (change: FileChange) => void) {}

  get watchedCount(): number {
    return this.count;
  }

  /**
   * Watches `targets` from now on. A watcher already in place stays until the new one is ready, and
   * RETIRE_GRACE_MS more, reporting what the new one covers too: chokidar reports a change some
   * file-system calls after it happened, so a watcher closed at once would drop a change it had seen
   * and not yet reported. The new watcher reports nothing of what it finds at its start but the files
   * and directories the old one covered and did not know of: made while it started, and perhaps never
   * reported by the old one. A change may then be reported twice, which costs a pass nothing.
   */
  watch(targets: WatchTargets): Promise<void> {
    return this.inTurn(() => this.replace(targets));
  }

  /** Runs `go` once the replacement in hand, if any, is in place. */
  private inTurn(go: () => Promise<void>): Promise<void> {
    const mine = this.turn.then(go);
    this.turn = mine.catch(() => undefined);
    return mine;
  }

  /**
   * A path the watcher in place started from was removed: the same targets are watched again, now from
   * the nearest ancestor that exists, as a target missing at the start is. The removal itself has been
   * reported; what is made there afterwards is reported by the new watcher, or, made while it starts,
   * found by it and unknown to the old one (see `watch`).
   */
  private reroot(): void {
    if (this.rerootPending) return;
    this.rerootPending = true;
    // A watcher that fails to start leaves the one in place; the driver's next `watch` tries again.
    this.inTurn(async () => {
      this.rerootPending = false;
      if (!this.closed && this.targets !== undefined) await this.replace(this.targets);
    }).catch(() => undefined);
  }

  private async replace(targets: WatchTargets): Promise<void> {
    if (this.closed) return;
    const scope = new WatchScope(targets);
    const old = this.watcher === undefined ? undefined : { watcher: this.watcher, scope: this.scope! };
    // Replacing: what it finds at its start is kept until it is ready, to be compared with what the old one knew.
    let found: string[] | undefined = old === undefined ? undefined : [];
    const roots = new Set(scope.roots());
    const watcher = watch([...roots], { ignoreInitial: old === undefined, ignored: (path) => !scope.admits(path) });
    // Replaced, it reports only what the watcher that replaced it covers too.
    const covers = (path: string) => scope.covers(path) && (!this.replaced.has(watcher) || this.scope!.covers(path));
    watcher.on("all", (event, path) => {
      if ((event === "unlink" || event === "unlinkDir") && roots.has(path) && !this.replaced.has(watcher)) this.reroot();
      if (!covers(path)) return;
      if (found !== undefined && (event === "add" || event === "addDir")) found.push(path);
      else if (event === "add" || event === "addDir") this.report({ path, kind: "added" }, covers);
      else if (event === "change") this.report({ path, kind: "changed" }, covers);
      else if (event === "unlink" || event === "unlinkDir") this.onChange({ path, kind: "removed" });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        watcher.once("ready", resolve);
        watcher.once("error", reject);
      });
    } catch (err) {
      await watcher.close();
      throw err;
    }
    if (old !== undefined) {
      const known = watchedPaths(old.watcher);
      for (const path of found!) if (old.scope.covers(path) && !known.has(path)) this.report({ path, kind: "added" }, covers);
      found = undefined;
      this.retire(old.watcher);
    }
    this.watcher = watcher;
    this.scope = scope;
    this.targets = targets;
    this.count = Object.values(watcher.getWatched()).reduce((n, entries) => n + entries.length, 0);
  }

  /** Closes a replaced watcher RETIRE_GRACE_MS from now (at once on `close`). */
  private retire(watcher: FSWatcher): void {
    const retired: Retired = { watcher, timer: setTimeout(() => void this.closeRetired(retired), RETIRE_GRACE_MS).unref() };
    this.retired.add(retired);
    this.replaced.add(watcher);
  }

  private readonly replaced = new WeakSet<FSWatcher>();

  private closeRetired(retired: Retired): Promise<void> {
    clearTimeout(retired.timer);
    // Nothing to do about a watcher that fails to close; the timer's call has no one to tell.
    retired.closing ??= retired.watcher
      .close()
      .catch(() => undefined)
      .finally(() => this.retired.delete(retired));
    return retired.closing;
  }

  /**
   * Reports a file or folder added or changed, and looks at a file again once CHANGE_THROTTLE_MS have
   * passed. chokidar reports a path's changes at most once in that time (and drops the file system's
   * events of it within 5 ms of each other): a write that follows a reported one that soon is never
   * reported. A pass that follows at once (changes were pending when the last ended) may already have
   * read the file between the two, and would keep its results of the first write, silently. So a file
   * whose mtime or inode (taken before the report) is no longer the same then is reported changed
   * again, if the watcher still covers it. A second report before its pass starts costs nothing; one
   * during or after a pass makes the quanta that read the file run again, which is what a real write
   * needs.
   */
  private report(change: FileChange, covers: (path: string) => boolean): void {
    const { path } = change;
    const before = stampOf(path);
    this.onChange(change);
    if (before === undefined) return;
    clearTimeout(this.lookingAgain.get(path));
    const timer = setTimeout(() => {
      this.lookingAgain.delete(path);
      const now = stampOf(path);
      if (!this.closed && now !== undefined && now !== before && covers(path)) this.report({ path, kind: "changed" }, covers);
    }, CHANGE_THROTTLE_MS + 25).unref();
    this.lookingAgain.set(path, timer);
  }

  /** Per path, its look again to come (`report`). */
  private readonly lookingAgain = new Map<string, NodeJS.Timeout>();

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.lookingAgain.values()) clearTimeout(timer);
    this.lookingAgain.clear();
    await this.turn;
    const watcher = this.watcher;
    this.watcher = undefined;
    await Promise.all([watcher?.close(), ...[...this.retired].map((r) => this.closeRetired(r))]);
  }
}

/** A watcher replaced by another, still reporting for a while. */
interface Retired {
  watcher: FSWatcher;
  timer: NodeJS.Timeout;
  closing?: Promise<void>;
}

/** How long after reporting a file's change chokidar drops any further change of it (its `_throttle("change", path, 50)`). */
const CHANGE_THROTTLE_MS = 50;

/**
 * A file's mtime and inode as one string, to compare; undefined when it is gone (or not a file). Not
 * its size: chokidar may report a write as its truncation (`writeFile` opens with O_TRUNC, then
 * writes), and the size then moves with no second write (the mtime may too, on a kernel whose
 * timestamps are fine: a pass more, never a change lost).
 */
export function stampOf(path: string): string | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    return st?.isFile() ? `${st.mtimeMs} ${st.ino}` : undefined;
  } catch {
    return undefined;
  }
}

/** How long a replaced watcher goes on reporting (see `ChokidarWatcher.watch`). */
const RETIRE_GRACE_MS = 1000;

/** Every path a chokidar watcher knows of, absolute. */
function watchedPaths(watcher: FSWatcher): Set<string> {
  const out = new Set<string>();
  for (const [dir, entries] of Object.entries(watcher.getWatched())) {
    out.add(dir);
    for (const entry of entries) out.add(join(dir, entry));
  }
  return out;
}

/** Which paths a set of targets covers, and where to start watching them from. */
export class WatchScope {
  private readonly directories: string[];
  private readonly files: Set<string>;
  private readonly excluded: readonly string[];
  /** Every proper ancestor of a target: watched only as the way to it. */
  private readonly ancestors = new Set<string>();

  constructor(targets: WatchTargets) {
    this.directories = [...new Set(targets.directories)];
    this.files = new Set(targets.files);
    this.excluded = targets.excluded ?? [];
    for (const t of [...this.directories, ...this.files]) {
      for (let d = dirname(t); !this.ancestors.has(d); d = dirname(d)) {
        this.ancestors.add(d);
        if (dirname(d) === d) break;
      }
    }
  }

  /** Where chokidar starts: each target, or its nearest existing ancestor when it does not exist yet. */
  roots(): string[] {
    const out = new Set<string>();
    for (const t of [...this.directories, ...this.files]) out.add(nearestExisting(t));
    return [...out];
  }

  /** A target, or inside a directory target: what changes are reported for. */
  covers(path: string): boolean {
    if (this.excluded.some((d) => isWithin(path, d))) return false;
    return this.files.has(path) || this.directories.some((d) => isWithin(path, d));
  }

  /** Covered, or on the way to a target: what chokidar is let descend into. */
  admits(path: string): boolean {
    return this.ancestors.has(path) || this.covers(path);
  }
}

/** `path` is `dir` or below it. */
function isWithin(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}
