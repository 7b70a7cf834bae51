/**
 * Registry commits on a thread of their own. Encoding records into LMDB (msgpack, key encoding, the
 * B-tree writes) costs about 25 µs per quantum, as much as running a trivial task; done on the
 * scheduler's thread it halves the rate of small quanta, while the machine's other core idles. The
 * scheduler instead records its writes as data (`recordWrites`), and this writer's thread applies them
 * to the same LMDB environment in one transaction, all or nothing, exactly as `Registry.commit` would.
 *
 * Staged small blobs travel with the writes and stay readable on the scheduler's thread (from its
 * staging map) until the commit is done; then that thread renews its read snapshot and reads them from
 * LMDB (LmdbRegistry.committedElsewhere). Commits are applied in the order they are sent.
 */
import { Worker } from "node:worker_threads";
import type { BlobDigest } from "../core/digest.js";
import type { LmdbRegistry } from "./lmdb-registry.js";
import { WRITE_METHODS, type Registry, type RegistryWrite, type WriteMethod } from "./registry.js";

const THREAD_URL = new URL("./registry-writer-thread.js", import.meta.url);

/**
 * What the writer's thread is sent: one commit, by structured clone (about 6 µs per quantum's writes
 * on this thread, a quarter of encoding them for LMDB; packing them with msgpack first costs more).
 */
export interface WriterRequest {
  id: number;
  blobs: [BlobDigest, Uint8Array][];
  writes: RegistryWrite[];
}

export type WriterReply = { id: number; ok: true } | { id: number; ok: false; message: string };

export class RegistryWriter {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private nextId = 0;
  /** Whether the thread started (false: it could not, and nothing was sent to it). */
  readonly ready: Promise<boolean>;

  constructor(private readonly registry: LmdbRegistry) {
    this.worker = new Worker(THREAD_URL, { workerData: { root: registry.root } });
    this.ready = new Promise((resolve) => {
      this.worker.once("message", () => resolve(true));
      this.worker.once("error", () => resolve(false));
    });
    this.worker.on("message", (reply: WriterReply | "ready") => {
      if (reply === "ready") return;
      const w = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) w?.resolve();
      else w?.reject(new Error(`registry commit failed: ${reply.message}`));
    });
    this.worker.on("error", (err) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    });
  }

  /** Commits `writes`, and every blob staged on this thread so far, in one transaction. */
  async commit(writes: RegistryWrite[]): Promise<void> {
    if (!(await this.ready)) throw new Error("internal error: the registry writer's thread did not start");
    const blobs = this.registry.stagedBlobEntries();
    const id = this.nextId++;
    const done = new Promise<void>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.worker.postMessage({ id, blobs, writes } satisfies WriterRequest);
    await done;
    this.registry.committedElsewhere(blobs);
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}

/**
 * A view of `registry` whose writes are appended to `into` instead of being made; its reads go to
 * `registry` (and so do not see the recorded writes).
 */
export function recordWrites(registry: Registry, into: RegistryWrite[]): Registry {
  const writes = new Set<string>(WRITE_METHODS);
  return new Proxy(registry, {
    get(target, name, receiver) {
      if (typeof name === "string" && writes.has(name)) {
        return (...args: unknown[]) => void into.push([name as WriteMethod, ...args] as unknown as RegistryWrite);
      }
      const value = Reflect.get(target, name, receiver) as unknown;
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
