/**
 * The ingest walk's stat of many files on several threads (store/parallel-stat.ts) says exactly what a
 * `statSync` per file says, in the same order, including for a file that is gone and a symbolic link
 * (followed). Real threads, real files; imported from dist/ (the threads start dist/store/parallel-stat-worker.js).
 */
import { mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

type StatModule = typeof import("../../src/store/parallel-stat.js");
const { statFiles, FIELDS, PARALLEL_STAT_MIN_FILES } = (await import(pathToFileURL(join(PROJECT_ROOT, "dist", "store", "parallel-stat.js")).href)) as StatModule;

const temp = makeTempDir("quanta-parallel-stat-");
afterAll(() => temp.cleanup());

it("states thousands of files on threads as statSync does, file by file", async () => {
  const dir = join(temp.dir, "many");
  mkdirSync(dir);
  const paths: string[] = [];
  const n = PARALLEL_STAT_MIN_FILES + 1000;
  for (let i = 0; i < n; i++) {
    const path = join(dir, `${i}.txt`);
    writeFileSync(path, "x".repeat(i % 97));
    paths.push(path);
  }
  symlinkSync(paths[5]!, join(dir, "link"));
  // A gone file in the main thread's share and in a thread's share.
  paths.splice(3, 0, join(dir, "gone-early"));
  paths.push(join(dir, "link"), join(dir, "gone-late"));

  const stats = await statFiles(paths);
  expect(stats.length).toBe(paths.length * FIELDS);
  for (let i = 0; i < paths.length; i++) {
    const st = statSync(paths[i]!, { throwIfNoEntry: false });
    const got = [...stats.subarray(i * FIELDS, (i + 1) * FIELDS)];
    if (st === undefined) expect(got, paths[i]).toEqual([NaN, NaN, NaN, NaN, NaN]);
    else expect(got, paths[i]).toEqual([st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev]);
  }
  expect(stats[(paths.length - 2) * FIELDS]).toBe(5); // the link's target, 5 % 97 bytes
});
