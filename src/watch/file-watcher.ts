/**
 * What `quanta watch` watches, behind a small interface (the loop needs changes, not chokidar), and
 * the real watcher on chokidar.
 *
 * Targets are directories (watched with everything below them: an input template's root) and single
 * files (the pipeline file and its imports, task modules and their local imports, relation files). A
 * target that does not exist yet is watched from its nearest existing ancestor, along the path to it
 * only, so that a `visit7/` made later, or a relation file written later, is seen when it appears.
 */
import { existsSync } from "node:fs";
import { dirname, sep } from "node:path";
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
  private count = 0;

  constructor(private readonly onChange: (change: FileChange) => void) {}

  get watchedCount(): number {
    return this.count;
  }

  /**
   * The new watcher is in place before the old one closes: it reports nothing of what it finds at its
   * start, so a change made while it starts is reported by the old one (twice at worst, harmlessly).
   */
  async watch(targets: WatchTargets): Promise<void> {
    const scope = new WatchScope(targets);
    const watcher = watch(scope.roots(), { ignoreInitial: true, ignored: (path) => !scope.admits(path) });
    watcher.on("all", (event, path) => {
      if (!scope.covers(path)) return;
      if (event === "add") this.onChange({ path, kind: "added" });
      else if (event === "change") this.onChange({ path, kind: "changed" });
      else if (event === "unlink" || event === "unlinkDir") this.onChange({ path, kind: "removed" });
      else if (event === "addDir") this.onChange({ path, kind: "added" });
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
    const old = this.watcher;
    this.watcher = watcher;
    this.count = Object.values(watcher.getWatched()).reduce((n, entries) => n + entries.length, 0);
    await old?.close();
  }

  async close(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = undefined;
    await watcher?.close();
  }
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
