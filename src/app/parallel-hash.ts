/**
 * Hashes many files on several threads at once (ingest's first read of a large tree held by
 * reference, where nothing is written): each thread reads and hashes batches of files, so reads wait
 * on the disk and hashes run on every core while the main thread waits. A few threads (the cores, at
 * most 4), started for this call and ended after it; worth it only for many files (ingest.ts asks).
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import type { BlobDigest } from "../core/digest.js";

/** A file's digest and size, or why it could not be read. */
export type HashAnswer = { digest: BlobDigest; size: number } | { error: string };

/** Paths handed to a thread at a time. */
const BATCH = 256;
/** Fewer files than this are hashed on the main thread: starting threads costs more. */
export const PARALLEL_HASH_MIN_FILES = 2048;

const WORKER_URL = new URL("../app/parallel-hash-worker.js", import.meta.url);

/** Whether this process would hash `count` files on several threads. */
export function hashesInParallel(count: number): boolean {
  return count >= PARALLEL_HASH_MIN_FILES && availableParallelism() > 1;
}

/** The answer for each of `paths`, in their order. `onBatch` is called as batches come back (progress, yields). */
export async function hashFilesInParallel(paths: readonly string[], onBatch: (done: number) => void = () => {}): Promise<HashAnswer[]> {
  const answers: HashAnswer[] = new Array(paths.length);
  const threads = Math.min(availableParallelism(), 4, Math.ceil(paths.length / BATCH));
  let next = 0;
  let done = 0;
  const run = (worker: Worker) =>
    new Promise<void>((resolve, reject) => {
      let start = 0;
      const send = () => {
        if (next >= paths.length) {
          resolve();
          return;
        }
        start = next;
        next = Math.min(paths.length, next + BATCH);
        worker.postMessage(paths.slice(start, next));
      };
      worker.on("message", (batch: HashAnswer[]) => {
        for (let i = 0; i < batch.length; i++) answers[start + i] = batch[i]!;
        done += batch.length;
        onBatch(done);
        send();
      });
      worker.once("error", reject);
      worker.once("exit", (code) => (next < paths.length || done < paths.length ? reject(new Error(`internal error: a hashing thread exited (${code})`)) : resolve()));
      send();
    });
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_URL));
  try {
    await Promise.all(workers.map(run));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return answers;
}
