/**
 * What the repository remembers of its latest `quanta run`, so that `why`, `log` and `provenance` work
 * without repeating the pipeline and its flags. Stored as `<repo>/last-run.json` (format 1):
 * `{ "format": 1, "pipeline": <absolute path>, "collection", "dimensions", "flags" }`. A file of another
 * format is ignored (the commands then ask for `--pipeline`).
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
  flags: { where?: string; bind: string[]; tasks?: string; config: string[]; params?: string[]; output?: string };
}

export function readLastRun(repoRoot: string): LastRun | undefined {
  try {
    const parsed = JSON.parse(readFileSync(join(repoRoot, "last-run.json"), "utf8")) as LastRun;
    return parsed.format === 1 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function writeLastRun(repoRoot: string, run: LastRun): void {
  const path = join(repoRoot, "last-run.json");
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
