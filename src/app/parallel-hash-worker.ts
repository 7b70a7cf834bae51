/**
 * A thread of parallel-hash.ts: receives batches of file paths, answers each with the digest and size
 * of every file (read whole, or in chunks when large), or the reason it could not be read.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { loadHasher } from "../store/hasher.js";
import type { HashAnswer } from "./parallel-hash.js";

/** Files this large or larger are hashed in chunks (as the blob store's putFile does). */
const STREAM_THRESHOLD = 8 * 1024 * 1024;
const CHUNK = 1024 * 1024;

const hasher = await loadHasher();
let buffer = Buffer.allocUnsafe(64 * 1024);

function hashOne(path: string): HashAnswer {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    return { error: (err as Error).message };
  }
  try {
    const size = fstatSync(fd).size;
    if (size >= STREAM_THRESHOLD) {
      const stream = hasher.createStream();
      let total = 0;
      if (buffer.length < CHUNK) buffer = Buffer.allocUnsafe(CHUNK);
      for (let n; (n = readSync(fd, buffer, 0, CHUNK, null)) > 0; total += n) stream.update(buffer.subarray(0, n));
      return { digest: stream.digest(), size: total };
    }
    // One byte more than the stat said: a file that grew since is read to its end.
    if (buffer.length < size + 1) buffer = Buffer.allocUnsafe(Math.max(size + 1, buffer.length * 2));
    let read = 0;
    for (let n; (n = readSync(fd, buffer, read, buffer.length - read, null)) > 0; ) {
      read += n;
      if (read === buffer.length) buffer = Buffer.concat([buffer, Buffer.allocUnsafe(buffer.length)]);
    }
    return { digest: hasher.hashBytes(buffer.subarray(0, read)), size: read };
  } catch (err) {
    return { error: (err as Error).message };
  } finally {
    closeSync(fd);
  }
}

parentPort!.on("message", (paths: string[]) => {
  parentPort!.postMessage(paths.map(hashOne));
});
