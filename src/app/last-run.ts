/**
 * What the repository remembers of its latest `quanta run`, so that `why`, `log` and `provenance` work
 * without repeating the pipeline and its flags. Stored as `<repo>/last-run.json` (format 1):
 * `{ "format": 1, "pipeline": <absolute path>, "collection", "dimensions", "flags", "collections" }`,
 * where `collections` holds the same fields (`pipeline`, `dimensions`, `flags`) for the latest run into
 * each collection, so that a name asked about in a collection is read with that collection's pipeline
 * and dimensions, not the latest run's (absent in files of older versions). A file of another format is
 * ignored (the commands then ask for `--pipeline`).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DimensionUniverse } from "../core/dimensions.js";
import { writingSync } from "../store/write-failure.js";

export interface LastRun {
  format: 1;
  pipeline: string;
  collection: string;
  dimensions: DimensionUniverse;
  flags: RunFlags;
  collections?: Record<string, CollectionRun>;
}

type RunFlags = { where?: string; bind: string[]; tasks?: string; config: string[]; params?: string[]; output?: string };

/** The latest run into one collection. */
export interface CollectionRun {
  pipeline: string;
  collection: string;
  dimensions: DimensionUniverse;
  flags: RunFlags;
}

/**
 * The latest run into `collection`, or the latest run of all when `collection` is undefined; undefined
 * when none is recorded.
 */
export function readCollectionRun(repoRoot: string, collection: string | undefined): CollectionRun | undefined {
  const last = readLastRun(repoRoot);
  if (last === undefined) return undefined;
  if (collection === undefined || collection === last.collection) return last;
  const entry = last.collections?.[collection];
  return entry === undefined ? undefined : { ...entry, collection };
}

export function readLastRun(repoRoot: string): LastRun | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(repoRoot, "last-run.json"), "utf8")) as LastRun;
    return parsed.format === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function writeLastRun(repoRoot: string, latest: Omit<LastRun, "collections">): void {
  const path = join(repoRoot, "last-run.json");
  const { pipeline, collection, dimensions, flags } = latest;
  const collections = { ...readLastRun(repoRoot)?.collections, [collection]: { pipeline, collection, dimensions, flags } };
  const run: LastRun = { ...latest, collections };
  writingSync(path, () => {
    try {
      writeFileSync(path + ".tmp", JSON.stringify(run, null, 2) + "\n");
      renameSync(path + ".tmp", path);
    } catch (err) {
      rmSync(path + ".tmp", { force: true });
      throw err;
    }
  });
}

/**
 * The dimensions to read a name in a collection with: those of the pipeline that last wrote it, over
 * every dimension the repository has recorded (their types agree repository-wide).
 */
export function dimensionsOf(registry: { getDimensions(): DimensionUniverse }, run: CollectionRun | undefined): DimensionUniverse {
  return { ...registry.getDimensions(), ...run?.dimensions };
}
