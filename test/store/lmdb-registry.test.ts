import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BlobDigest, QuantumKey } from "../../src/core/digest.js";
import { RepositoryError } from "../../src/core/errors.js";
import { LmdbRegistry, REGISTRY_FORMAT } from "../../src/store/lmdb-registry.js";
import type { DatasetRecord } from "../../src/store/registry.js";
import { makeTempDir, PROJECT_ROOT } from "../helpers/cli.js";
import { open } from "lmdb";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-registry-")));
afterEach(() => cleanup());

const rec = (digest: string): DatasetRecord => ({ digest: digest as BlobDigest, size: 1, storage: "bytes", producer: null });

describe("LmdbRegistry", () => {
  it("refuses a key longer than LMDB allows inside the commit's function, so nothing of it is written", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    try {
      const before = reg.generation();
      await expect(
        reg.commit(() => {
          reg.putDataset("raw", "t", { name: "short" }, rec("0000000000000001-1"));
          reg.putDataset("raw", "t", { name: "x".repeat(3000) }, rec("0000000000000002-1"));
        }),
      ).rejects.toThrow(/registry key is too long \(30\d\d bytes, at most 1978\)/);
      expect(reg.getDataset("raw", "t", "name=short")).toBeUndefined();
      expect(reg.generation()).toBe(before);
    } finally {
      await reg.close();
    }
  });

  it("raises its generation on every commit that changes it but for stamps and file states, and on no other", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    try {
      const g0 = reg.generation();
      await reg.commit(() => reg.putDimensions({ visit: "int" }));
      const g1 = reg.generation();
      expect(g1).toBe(g0 + 1);
      // A new dataset type is a change; the same dimensions and type again, a stamp, or an empty
      // commit are not.
      await reg.commit(() => reg.putDatasetType({ name: "raw", dimensions: ["visit"], storage: "bytes" }));
      const g2 = reg.generation();
      expect(g2).toBe(g1 + 1);
      await reg.commit(() => {
        reg.putDimensions({ visit: "int" });
        reg.putDatasetType({ name: "raw", dimensions: ["visit"], storage: "bytes" });
        reg.putStamp("run\0x", { any: 1 });
        // Ingest's cache of its sources: a touched file rewrites it and nothing else.
        reg.putFileState("/x", { digest: "0000000000000001-1" as BlobDigest, size: 1, mtimeMs: 1 });
        reg.deleteFileState("/y");
      });
      await reg.commit(() => undefined);
      expect(reg.generation()).toBe(g2);
      expect(reg.getStamp("run\0x")).toEqual({ any: 1 });
      // A staged blob is a change, written by the next commit.
      reg.stageBlob("0000000000000001-1" as BlobDigest, new Uint8Array([1]));
      await reg.commit(() => undefined);
      expect(reg.generation()).toBe(g2 + 1);
      for (const write of [
        () => reg.putDataset("raw", "raw", { visit: 1 }, rec("0000000000000001-1")),
        () => reg.deleteDataset("raw", "raw", "visit=1"),
        () => reg.deleteBlob("0000000000000001-1" as BlobDigest),
      ]) {
        const before = reg.generation();
        await reg.commit(write);
        expect(reg.generation()).toBe(before + 1);
      }
    } finally {
      await reg.close();
    }
  });

  it("raises a collection's datasets generation for its datasets and what is shared, not for another collection's run", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    try {
      const raw = () => reg.datasetsGeneration("raw/p");
      await reg.commit(() => reg.putDataset("raw/p", "raw", { visit: 1 }, rec("0000000000000001-1")));
      const g0 = raw();
      expect(g0).toBeGreaterThan(0);
      // A run into another collection: its datasets, quanta, actions, executions, a staged blob, stamps, file states.
      const key = "00000000000000000000000000000001" as QuantumKey;
      reg.stageBlob("0000000000000002-1" as BlobDigest, new Uint8Array([2]));
      await reg.commit(() => {
        reg.putDataset("out", "calexp", { visit: 1 }, rec("0000000000000002-1"));
        reg.putQuantum("out", "t", "visit=1", { status: "succeeded", key, executionId: "e1", time: 5 });
        reg.putExecution({ id: "e1" } as never);
        reg.putStamp("run\0out", { any: 1 });
        reg.putFileState("/x", { digest: "0000000000000001-1" as BlobDigest, size: 1, mtimeMs: 1 });
      });
      await reg.commit(() => reg.deleteDataset("out", "calexp", "visit=1"));
      expect(raw()).toBe(g0);
      expect(reg.datasetsGeneration("out")).toBeGreaterThan(0);
      // A collection whose name is longer than a key may be still has a counter of its own.
      const long = "raw/" + "x".repeat(3000);
      expect(reg.datasetsGeneration(long)).toBe(reg.datasetsGeneration("never written"));
      // Its own datasets, and everything shared, raise it, each by one commit.
      for (const write of [
        () => reg.putDataset("raw/p", "raw", { visit: 2 }, rec("0000000000000001-1")),
        () => reg.deleteDataset("raw/p", "raw", "visit=2"),
        () => reg.putDimensions({ detector: "int" }),
        () => reg.putDatasetType({ name: "raw", dimensions: ["visit"], storage: "bytes" }),
        () => reg.putRelation({ name: "raw/p\0pairs", dimensions: ["visit"], rows: [], digest: "0000000000000003-1" as BlobDigest }),
        () => reg.deleteBlob("0000000000000002-1" as BlobDigest),
        // A file held by reference taken out of the index (its state deleted, by whichever collection).
        () => reg.deleteFileState("/ref"),
      ]) {
        if (write.toString().includes("/ref")) {
          // Put into the index: no change for any collection.
          const before = raw();
          await reg.commit(() => reg.putFileState("/ref", { digest: "0000000000000004-1" as BlobDigest, size: 1, mtimeMs: 1, transfer: "reference" }));
          expect(raw()).toBe(before);
        }
        const before = raw();
        await reg.commit(write);
        expect(raw()).toBeGreaterThan(before);
      }
    } finally {
      await reg.close();
    }
  });

  it("counts a commit by a quanta that kept no datasets generations as a change of what is shared", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    try {
      await reg.commit(() => reg.putDataset("raw/p", "raw", { visit: 1 }, rec("0000000000000001-1")));
      const before = reg.datasetsGeneration("raw/p");
      // An older quanta, of the same registry format, raised the generation alone.
      const env = open({ path: join(dir, "registry"), maxDbs: 16 });
      const meta = env.openDB({ name: "meta" });
      await meta.put("generation", (meta.get("generation") as number) + 1);
      await env.close();
      const reopened = await LmdbRegistry.open({ root: dir, readOnly: false });
      try {
        // Nothing is known until the next commit, which counts it as a shared change.
        expect(reopened.datasetsGeneration("raw/p")).toBeNaN();
        await reopened.commit(() => reopened.putStamp("ingest\0raw/p", { any: 1 }));
        expect(reopened.datasetsGeneration("raw/p")).toBeGreaterThan(before);
        const after = reopened.datasetsGeneration("raw/p");
        await reopened.commit(() => reopened.putStamp("ingest\0raw/p", { any: 2 }));
        expect(reopened.datasetsGeneration("raw/p")).toBe(after);
      } finally {
        await reopened.close();
      }
    } finally {
      await reg.close();
    }
  });

  it("stores and lists datasets in (collection, type, key) order", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    await reg.commit(() => {
      reg.putDataset("raw", "b", { visit: 2 }, rec("0000000000000002-1"));
      reg.putDataset("raw", "a", { visit: 1 }, rec("0000000000000001-1"));
      reg.putDataset("run", "a", { visit: 1 }, rec("0000000000000003-1"));
      reg.putDataset("raw", "ab", { visit: 1 }, rec("0000000000000004-1"));
      reg.putDataset("rawx", "a", { visit: 1 }, rec("0000000000000005-1"));
    });
    const names = (it: Iterable<{ collection: string; type: string; key: string }>) =>
      [...it].map((e) => `${e.collection}/${e.type}@${e.key}`);
    expect(names(reg.listDatasets())).toEqual(["raw/a@visit=1", "raw/ab@visit=1", "raw/b@visit=2", "rawx/a@visit=1", "run/a@visit=1"]);
    expect(names(reg.listDatasets({ collection: "raw" }))).toEqual(["raw/a@visit=1", "raw/ab@visit=1", "raw/b@visit=2"]);
    expect(names(reg.listDatasets({ collection: "raw", type: "a" }))).toEqual(["raw/a@visit=1"]);
    expect(names(reg.listDatasets({ type: "a" }))).toEqual(["raw/a@visit=1", "rawx/a@visit=1", "run/a@visit=1"]);
    expect(reg.listCollections()).toEqual(["raw", "rawx", "run"]);
    expect(reg.getDataset("raw", "b", "visit=2")?.digest).toBe("0000000000000002-1");
    expect([...reg.listDatasets({ collection: "raw", type: "b" })][0]!.dataId).toEqual({ visit: 2 });
    await reg.commit(() => reg.deleteDataset("raw", "b", "visit=2"));
    expect(reg.getDataset("raw", "b", "visit=2")).toBeUndefined();
    await reg.close();
  });

  it("keeps everything across reopening, readable by a read-only handle", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    const key = "00000000000000aa" as QuantumKey;
    await reg.commit(() => {
      reg.putDimensions({ visit: "int", band: "string" });
      reg.putDatasetType({ name: "calexp", dimensions: ["visit"], storage: "ndarray" });
      reg.putFileState("/x/y.npy", { size: 3, mtimeMs: 12.5, digest: "0000000000000001-3" as BlobDigest });
      reg.putRelation({ name: "ov", dimensions: ["visit"], rows: [{ visit: 1 }], digest: "0000000000000009-4" as BlobDigest });
      reg.putAction({
        key,
        manifest: { version: 1, task: "t", codeDigest: "c" as never, config: "{}", inputs: [] },
        outputs: { out: { type: "calexp", digest: "0000000000000007-2" as BlobDigest, size: 2 } },
        noWork: false,
        executionId: "e1",
      });
      reg.putQuantum("run", "t", "visit=1", { status: "succeeded", key, executionId: "e1", time: 5 });
    });
    await reg.close();
    const ro = await LmdbRegistry.open({ root: dir, readOnly: true });
    expect(ro.getDimensions()).toEqual({ band: "string", visit: "int" });
    expect(ro.getDatasetType("calexp")).toEqual({ name: "calexp", dimensions: ["visit"], storage: "ndarray" });
    expect(ro.getFileState("/x/y.npy")).toEqual({ size: 3, mtimeMs: 12.5, digest: "0000000000000001-3" });
    expect(ro.getAction(key)?.outputs.out?.digest).toBe("0000000000000007-2");
    expect([...ro.listQuanta("run")]).toEqual([{ task: "t", dataId: "visit=1", record: { status: "succeeded", key, executionId: "e1", time: 5 } }]);
    expect([...ro.referencedDigests()].sort()).toEqual(["0000000000000007-2", "0000000000000009-4"]);
    await ro.close();
  });

  it("indexes a referenced file under its digest, in the first commit of file states as in later ones, and unindexes the digest it replaces", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    const ref = (digest: string) => ({ digest: digest as BlobDigest, size: 1, mtimeMs: 1, transfer: "reference" as const });
    // Long paths: the reference key is the digest and the path (see registry-key.test.ts for why long).
    const long = "/data/" + "d".repeat(120);
    try {
      // The first commit of file states (none to look up before it).
      await reg.commit(() => {
        reg.putFileState(`${long}/a`, ref("0000000000000001-1"));
        reg.putFileState(`${long}/b`, ref("0000000000000001-1"));
      });
      expect(reg.listReferences("0000000000000001-1" as BlobDigest)).toEqual([`${long}/a`, `${long}/b`]);
      await reg.commit(() => {
        reg.putFileState(`${long}/a`, ref("0000000000000002-1"));
        reg.putFileState(`${long}/c`, ref("0000000000000002-1"));
        reg.deleteFileState(`${long}/b`);
      });
      expect(reg.listReferences("0000000000000001-1" as BlobDigest)).toEqual([]);
      expect(reg.listReferences("0000000000000002-1" as BlobDigest)).toEqual([`${long}/a`, `${long}/c`]);
      // A copy replacing a reference takes it out of the index too.
      await reg.commit(() => reg.putFileState(`${long}/c`, { digest: "0000000000000002-1" as BlobDigest, size: 1, mtimeMs: 1, transfer: "copy" }));
      expect(reg.listReferences("0000000000000002-1" as BlobDigest)).toEqual([`${long}/a`]);
    } finally {
      await reg.close();
    }
  });

  it("a commit that throws writes nothing", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    await expect(
      reg.commit(() => {
        reg.putDataset("raw", "a", { visit: 1 }, rec("0000000000000001-1"));
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect([...reg.listDatasets()]).toEqual([]);
    await reg.close();
  });

  it("refuses a registry of another format with exit code 3", async () => {
    (await LmdbRegistry.open({ root: dir, readOnly: false })).close();
    const env = open({ path: `${dir}/registry`, maxDbs: 16 });
    await env.openDB("meta", { encoding: "msgpack" }).put("format", REGISTRY_FORMAT + 1);
    await env.close();
    const err = await LmdbRegistry.open({ root: dir, readOnly: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RepositoryError);
    expect((err as RepositoryError).exitCode).toBe(3);
    expect((err as Error).message).toBe(`registry format ${REGISTRY_FORMAT + 1} found in ${dir}, ${REGISTRY_FORMAT} expected`);
    expect((err as RepositoryError).hint).toBe(`delete ${dir} and ingest again (the next run recomputes every result), or keep using the version of quanta that wrote it`);
  });

  it("19.6 records when a cached result stopped being a quantum's current one, in the commit that replaced it", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    const [a, b] = ["000000000000000a" as QuantumKey, "000000000000000b" as QuantumKey];
    await reg.commit(() => reg.putQuantum("run", "t", "i=1", { status: "succeeded", key: a, executionId: "e1", time: 1 }));
    expect(reg.lastUses().size).toBe(0);
    // Rebinding the same key changes nothing; another key marks the first as last used now.
    await reg.commit(() => reg.putQuantum("run", "t", "i=1", { status: "succeeded", key: a, executionId: "e1", time: 2 }));
    expect(reg.lastUses().size).toBe(0);
    const before = Date.now();
    const generation = reg.generation();
    await reg.commit(() => reg.putQuantum("run", "t", "i=1", { status: "succeeded", key: b, executionId: "e2", time: 3 }));
    expect(reg.generation()).toBe(generation + 1);
    expect([...reg.lastUses().keys()]).toEqual([a]);
    expect(reg.lastUses().get(a)).toBeGreaterThanOrEqual(before);
    // Removed: b too; deleting a cached result deletes its time.
    await reg.commit(() => reg.deleteQuantum("run", "t", "i=1"));
    expect([...reg.lastUses().keys()].sort()).toEqual([a, b]);
    await reg.commit(() => reg.deleteAction(a));
    expect([...reg.lastUses().keys()]).toEqual([b]);
    await reg.close();
    // A reader does not open the table (a registry written before it may not have it).
    const reader = await LmdbRegistry.open({ root: dir, readOnly: true });
    expect(reader.lastUses().size).toBe(0);
    await reader.close();
  });
});

describe("LmdbRegistry's memory map", () => {
  // A map that fills up is grown by lmdb-js, which keeps the old one mapped, with the pages read
  // through it resident, until the registry is closed: a long run's resident set then held the
  // registry a few times over. A writer maps it once, with room to grow.
  it("is one mapping of the file in a writer, however much the registry grows while open", async () => {
    const script = `
      import { readFileSync } from "node:fs";
      import { LmdbRegistry } from ${JSON.stringify(join(PROJECT_ROOT, "dist/store/lmdb-registry.js"))};
      const reg = await LmdbRegistry.open({ root: process.argv[1], readOnly: false });
      const mb = "x".repeat(1 << 20);
      for (let i = 0; i < 48; i++) await reg.commit(() => reg.putStamp("s" + i, mb + i));
      for (let i = 0; i < 48; i++) if (reg.getStamp("s" + i) !== mb + i) throw new Error("stamp " + i + " read back wrong");
      const maps = readFileSync("/proc/self/maps", "utf8").split("\\n").filter((l) => l.endsWith("/data.mdb"));
      process.stdout.write(String(maps.length));
      await reg.close();
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, dir], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("1");
  });
});
