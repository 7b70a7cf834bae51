/**
 * A thread of parallel-stat.ts: stats the paths it is given (following symbolic links) and answers
 * with five numbers per path, in order: size, mtimeMs, ctimeMs, ino, dev (NaN for a path that is gone).
 */
import { statSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import { FIELDS } from "./parallel-stat.js";

const paths = workerData as string[];
const out = new Float64Array(paths.length * FIELDS).fill(Number.NaN);
for (let i = 0; i < paths.length; i++) {
  const st = statSync(paths[i]!, { throwIfNoEntry: false });
  if (st === undefined) continue;
  out.set([st.size, st.mtimeMs, st.ctimeMs, st.ino, st.dev], i * FIELDS);
}
parentPort!.postMessage(out, [out.buffer]);
