/**
 * Stats many files at once on several threads: the ingest walk's one `stat` per input file is most of
 * what a walk of a large tree costs (the kernel's work and the Stats object Node makes), and it spreads
 * over the cores. The main thread stats its own share while one thread per other core (at most 3)
 * stats the rest; below `PARALLEL_STAT_MIN_FILES` starting a thread costs more than it saves.
 */
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** Numbers per path in an answer: size, mtimeMs, ctimeMs, ino, dev. */
export const FIELDS = 5;
/** Fewer paths than this are stated on the main thread alone. */
export const PARALLEL_STAT_MIN_FILES = 100_000;

const WORKER_URL = new URL("../store/parallel-stat-worker.js", import.meta.url);

/**
 * The stat of each of `paths`, in their order, as `FIELDS` numbers per path (size, mtimeMs, ctimeMs,
 * ino, dev); NaN where the file is gone. Numbers in one array, not an object per file: a walk of
 * 333,334 files would otherwise leave as many objects for the collector.
 */
export async function statFiles(paths: readonly string[]): Promise<Float64Array> {
  const out = new Float64Array(paths.length * FIELDS).fill(Number.NaN);
  const threads = paths.length < PARALLEL_STAT_MIN_FILES ? 1 : Math.min(availableParallelism(), 4);
  // The threads start while the main thread works through the first share.
  const share = Math.ceil(paths.length / threads);
  const answers = Array.from({ length: threads - 1 }, (_, k) => statOnThread(paths.slice((k + 1) * share, (k + 2) * share)));
  statInto(out, paths.slice(0, share));
  const numbers = await Promise.all(answers);
  for (let k = 0; k < numbers.length; k++) out.set(numbers[k]!, (k + 1) * share * FIELDS);
  return out;
}

/** Writes the stat of each of `paths` into `out` (FIELDS numbers per path, from 0); leaves a gone file's NaN. */
export function statInto(out: Float64Array, paths: readonly string[]): void {
  const options = { throwIfNoEntry: false } as const;
  for (let i = 0, at = 0; i < paths.length; i++, at += FIELDS) {
    const st = statSync(paths[i]!, options);
    if (st === undefined) continue;
    // Written one by one: an array of the five per file would be one more object per file to collect.
    out[at] = st.size;
    out[at + 1] = st.mtimeMs;
    out[at + 2] = st.ctimeMs;
    out[at + 3] = st.ino;
    out[at + 4] = st.dev;
  }
}

function statOnThread(paths: string[]): Promise<Float64Array> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: paths });
    worker.once("message", (numbers: Float64Array) => {
      resolve(numbers);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => reject(new Error(`internal error: a stat thread exited (${code}) before it answered`)));
  });
}
