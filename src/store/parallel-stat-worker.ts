/**
 * A thread of parallel-stat.ts: stats the paths it is given (following symbolic links) and answers
 * with five numbers per path, in order: size, mtimeMs, ctimeMs, ino, dev (NaN for a path that is gone).
 */
import { parentPort, workerData } from "node:worker_threads";
import { FIELDS, statInto } from "./parallel-stat.js";

const paths = workerData as string[];
const out = new Float64Array(paths.length * FIELDS).fill(Number.NaN);
statInto(out, paths);
parentPort!.postMessage(out, [out.buffer]);
