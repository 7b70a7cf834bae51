/** 16.1: the file watcher on real chokidar and real files: targets that exist, and ones that appear later. */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ChokidarWatcher, type FileChange } from "../../src/watch/file-watcher.js";
import { makeTempDir } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
let seen: FileChange[];
let watcher: ChokidarWatcher;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-watcher-"));
  mkdirSync(join(dir, "data", "visit1"), { recursive: true });
  writeFileSync(join(dir, "p.yaml"), "tasks: {}\n");
  seen = [];
  watcher = new ChokidarWatcher((c) => seen.push(c));
});
afterEach(async () => {
  await watcher.close();
  cleanup();
});

/** Waits until a change of `path` of `kind` has been seen. */
async function sees(path: string, kind: FileChange["kind"]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!seen.some((c) => c.path === path && c.kind === kind)) {
    if (Date.now() > deadline) throw new Error(`no ${kind} of ${path}; saw ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("16.1 the file watcher", () => {
  it("16.1 reports edits, new files in new folders, files that appear later and deletions; nothing outside its targets", async () => {
    const p = (...parts: string[]) => join(dir, ...parts);
    await watcher.watch({ directories: [p("data"), p("later", "visits")], files: [p("p.yaml"), p("rel.csv")] });
    expect(watcher.watchedCount).toBeGreaterThan(0);

    writeFileSync(p("data", "visit1", "a.txt"), "1");
    await sees(p("data", "visit1", "a.txt"), "added");
    writeFileSync(p("p.yaml"), "tasks: { x: 1 }\n");
    await sees(p("p.yaml"), "changed");
    // A folder that did not exist when the watch began, two levels down.
    mkdirSync(p("later", "visits", "visit7"), { recursive: true });
    await sees(p("later", "visits", "visit7"), "added");
    writeFileSync(p("later", "visits", "visit7", "b.txt"), "2");
    await sees(p("later", "visits", "visit7", "b.txt"), "added");
    // A single file that appears later.
    writeFileSync(p("unrelated.txt"), "x");
    writeFileSync(p("rel.csv"), "a,b\n");
    await sees(p("rel.csv"), "added");
    rmSync(p("data", "visit1", "a.txt"));
    await sees(p("data", "visit1", "a.txt"), "removed");
    expect(seen.filter((c) => c.path === p("unrelated.txt") || c.path === p("later"))).toEqual([]);
  });

  it("16.1 reports a write that follows a reported change within chokidar's 50 ms, which chokidar itself drops", async () => {
    const p = (...parts: string[]) => join(dir, ...parts);
    await watcher.watch({ directories: [p("data")], files: [] });
    const file = p("data", "visit1", "a.txt");
    writeFileSync(file, "1");
    await sees(file, "added");
    for (const content of ["two", "three!"]) {
      const reported = seen.length;
      writeFileSync(file, content);
      const deadline = Date.now() + 10_000;
      while (!seen.slice(reported).some((c) => c.path === file && c.kind === "changed")) {
        if (Date.now() > deadline) throw new Error(`no change after ${content}; saw ${JSON.stringify(seen)}`);
        await new Promise((r) => setTimeout(r, 1));
      }
      // 20 ms after the report: within the 50 ms in which chokidar drops a second change of the file.
      await new Promise((r) => setTimeout(r, 20));
      const again = seen.length;
      writeFileSync(file, `${content}, again`);
      const later = Date.now() + 2_000;
      while (!seen.slice(again).some((c) => c.path === file && c.kind === "changed") && Date.now() < later) await new Promise((r) => setTimeout(r, 10));
      expect(seen.slice(again).filter((c) => c.path === file)).toContainEqual({ path: file, kind: "changed" });
    }
  });

  it("16.1 watching new targets replaces the old ones", async () => {
    await watcher.watch({ directories: [join(dir, "data")], files: [] });
    await watcher.watch({ directories: [], files: [join(dir, "p.yaml")] });
    writeFileSync(join(dir, "data", "old.txt"), "1");
    writeFileSync(join(dir, "p.yaml"), "tasks: { y: 1 }\n");
    await sees(join(dir, "p.yaml"), "changed");
    expect(seen.filter((c) => c.path.endsWith("old.txt"))).toEqual([]);
  });
});
