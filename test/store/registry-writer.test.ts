import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";

// The writer starts a worker thread from its compiled module: test the built code.
const dist = (path: string) => join(PROJECT_ROOT, "dist", path);
const { LmdbRegistry } = (await import(dist("store/lmdb-registry.js"))) as typeof import("../../src/store/lmdb-registry.js");
const { RegistryWriter, recordWrites } = (await import(dist("store/registry-writer.js"))) as typeof import("../../src/store/registry-writer.js");
const { CommitBatcher } = (await import(dist("exec/commit-batcher.js"))) as typeof import("../../src/exec/commit-batcher.js");
type RegistryWrite = import("../../src/store/registry.js").RegistryWrite;
type BlobDigest = import("../../src/core/digest.js").BlobDigest;

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-writer-")));
afterEach(() => cleanup());

const digest = (n: number) => `${n.toString(16).padStart(16, "0")}-3` as BlobDigest;

describe("RegistryWriter", () => {
  it("applies recorded writes and staged blobs on its thread, in one transaction; this thread then reads them", async () => {
    const registry = await LmdbRegistry.open({ root: dir, readOnly: false });
    const writer = new RegistryWriter(registry);
    try {
      const writes: RegistryWrite[] = [];
      const recorder = recordWrites(registry, writes);
      recorder.putDataset("c", "t", { item: 1 }, { digest: digest(1), size: 3, storage: "bytes", producer: null });
      recorder.putFileState("/in/1", { digest: digest(1), size: 3, mtimeMs: 5 });
      registry.stageBlob(digest(1), new Uint8Array([1, 2, 3]));
      // Recorded, not made: nothing is visible before the commit.
      expect(writes.map((w) => w[0])).toEqual(["putDataset", "putFileState"]);
      expect(registry.getDataset("c", "t", "item=1")).toBeUndefined();
      const before = registry.generation();
      await writer.commit(writes);
      expect(registry.getDataset("c", "t", "item=1")).toMatchObject({ digest: digest(1) });
      expect(registry.getFileState("/in/1")).toEqual({ digest: digest(1), size: 3, mtimeMs: 5 });
      expect([...registry.getBlob(digest(1))!]).toEqual([1, 2, 3]);
      expect(registry.stagedBlobEntries()).toEqual([]);
      expect(registry.generation()).toBe(before + 1);
    } finally {
      await writer.close();
      await registry.close();
    }
  });

  it("a failed commit rejects, and commits nothing of it", async () => {
    const registry = await LmdbRegistry.open({ root: dir, readOnly: false });
    const writer = new RegistryWriter(registry);
    try {
      const writes = [
        ["putDataset", "c", "t", { item: 1 }, { digest: digest(1), size: 3, storage: "bytes", producer: null }],
        // Throws on the writer's thread, in the middle of the transaction (no data ID to encode).
        ["putDataset", "c", "t", null, { digest: digest(2), size: 3, storage: "bytes", producer: null }],
      ] as unknown as RegistryWrite[];
      await expect(writer.commit(writes)).rejects.toThrow(/registry commit failed/);
      expect(registry.getDataset("c", "t", "item=1")).toBeUndefined();
    } finally {
      await writer.close();
      await registry.close();
    }
  });

  it("the commit batcher sends large batches to the writer and small ones through this thread", async () => {
    const registry = await LmdbRegistry.open({ root: dir, readOnly: false });
    let writers = 0;
    const batcher = new CommitBatcher(registry, async () => undefined, { maxItems: 100_000, maxDelayMs: 100_000 }, () => {
      writers++;
      return new RegistryWriter(registry);
    });
    try {
      batcher.add((r) => r.putFileState("/small", { digest: digest(1), size: 3, mtimeMs: 1 }));
      await batcher.commit();
      expect(writers).toBe(0);
      for (let i = 0; i < 1000; i++) batcher.add((r) => r.putFileState(`/big/${i}`, { digest: digest(i), size: 3, mtimeMs: i }));
      await batcher.commit();
      expect(writers).toBe(1);
      expect(registry.getFileState("/small")).toBeDefined();
      expect(registry.getFileState("/big/999")).toEqual({ digest: digest(999), size: 3, mtimeMs: 999 });
    } finally {
      await batcher.close();
      await registry.close();
    }
  });
});
