/**
 * review: the watch re-targets (ChokidarWatcher.watch) after a pass in which the pipeline changed. The
 * old watcher is closed before the new one is in place, and the new one ignores what it finds at its
 * start: a file written meanwhile is reported by neither, and the session's next passes, which ingest
 * only reported paths, never read it.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChokidarWatcher, type FileChange } from "../../src/watch/file-watcher.js";
import { makeTempDir } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
let seen: FileChange[];
let watcher: ChokidarWatcher;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-review-retarget-"));
  mkdirSync(join(dir, "data"), { recursive: true });
  writeFileSync(join(dir, "p.yaml"), "tasks: {}\n");
  seen = [];
  watcher = new ChokidarWatcher((c) => seen.push(c));
});
afterEach(async () => {
  await watcher.close();
  cleanup();
});

describe("review: re-targeting the watcher", () => {
  it("review: a file written while the targets are replaced is reported", async () => {
    const targets = { directories: [join(dir, "data")], files: [join(dir, "p.yaml")] };
    await watcher.watch(targets);
    const replacing = watcher.watch(targets);
    writeFileSync(join(dir, "data", "new.txt"), "1");
    await replacing;
    const deadline = Date.now() + 3_000;
    while (!seen.some((c) => c.path.endsWith("new.txt")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen.map((c) => c.path)).toContain(join(dir, "data", "new.txt"));
  });
});
