/**
 * The watch re-targets (ChokidarWatcher.watch) after a pass in which the pipeline changed. A file
 * written meanwhile is reported (perhaps twice), and the next pass reads it: by the old watcher, which
 * goes on reporting for a second after the new one is ready (closed at once, it dropped a change it
 * had seen and not reported yet: CI lost this file once), or by the new one, which reports what it
 * finds at its start that the old one did not know of.
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

describe("16 re-targeting the watcher", () => {
  it("16 a file written while the targets are replaced is reported", async () => {
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
