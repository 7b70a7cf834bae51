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

const WORKER_URL = new URL("../app/parallel-stat-worker.js", import.meta.url);

/** What `statSync(path)` says that the walk keeps; undefined for a path that is gone. */
export interface FileStat {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  dev: number;
}

/** The stat of each of `paths`, in their order (undefined where the file is gone). */
export async function statFiles(paths: readonly string[]): Promise<(FileStat | undefined)[]> {
  const threads = paths.length < PARALLEL_STAT_MIN_FILES ? 1 : Math.min(availableParallelism(), 4);
  if (threads === 1) return paths.map(statOne);
  // The threads start while the main thread works through the first share.
  const share = Math.ceil(paths.length / threads);
  const answers = Array.from({ length: threads - 1 }, (_, k) => statOnThread(paths.slice((k + 1) * share, (k + 2) * share)));
  const out = paths.slice(0, share).map(statOne);
  for (const numbers of await Promise.all(answers)) {
    for (let i = 0; i < numbers.length; i += FIELDS) {
      out.push(Number.isNaN(numbers[i]) ? undefined : { size: numbers[i]!, mtimeMs: numbers[i + 1]!, ctimeMs: numbers[i + 2]!, ino: numbers[i + 3]!, dev: numbers[i + 4]! });
    }
  }
  return out;
}

function statOne(path: string): FileStat | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st === undefined ? undefined : { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, dev: st.dev };
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
