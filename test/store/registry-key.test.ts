import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { open } from "lmdb";
import type { BlobDigest, QuantumKey } from "../../src/core/digest.js";
import type { DataId } from "../../src/core/data-id.js";
import { encodeDataId } from "../../src/core/data-id.js";
import { RepositoryError, UsageError } from "../../src/core/errors.js";
import { LmdbRegistry, REGISTRY_FORMAT } from "../../src/store/lmdb-registry.js";
import { decodeRegistryKey, encodeRegistryKey, prefixRange } from "../../src/store/registry-key.js";
import type { DatasetRecord } from "../../src/store/registry.js";
import { makeTempDir } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;
beforeEach(() => ({ dir, cleanup } = makeTempDir("quanta-registry-key-")));
afterEach(() => cleanup());

const digest = (n: number) => `${n.toString(16).padStart(32, "0")}-1` as BlobDigest;
const rec = (n: number): DatasetRecord => ({ digest: digest(n), size: 1, storage: "bytes", producer: null });

/** A data ID of six dimensions with 200-character values (and, with `odd`, control and non-ASCII characters). */
function wideDataId(i: number, odd = false): DataId {
  const value = (d: string) => (odd ? `\0\x01\x02\x03\x04é漢${d}${i}` : `${d}${i}`).padEnd(200, odd ? "\0x" : "v");
  return { band: value("r"), detector: value("d"), exposure: value("e"), instrument: value("LSSTCam"), physical_filter: value("f"), visit: i };
}

describe("14.1 long registry keys", () => {
  const collection = "c".repeat(99) + "1";
  const type = "t".repeat(99) + "1";
  const task = "k".repeat(99) + "1";

  it("14.1 keys of 6-dimension data IDs with 200-character values and 100-character names read back exactly", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    const ids = [wideDataId(1), wideDataId(2), wideDataId(3, true)];
    const quantum = { status: "succeeded" as const, key: "ab".repeat(16) as QuantumKey, executionId: "e", time: 1 };
    await reg.commit(() => {
      ids.forEach((id, i) => reg.putDataset(collection, type, id, rec(i)));
      // A collection whose name extends the first, and one that sorts right after its prefix range.
      reg.putDataset(collection + "\0x", type, ids[0]!, rec(7));
      reg.putDataset(collection + "\x01", type, ids[0]!, rec(8));
      ids.forEach((id) => reg.putQuantum(collection, task, encodeDataId(id), quantum));
      reg.putStamp(`run\0${collection}`, { v: 1 });
      reg.putFileState("/" + "p".repeat(300), { size: 1, mtimeMs: 1, digest: digest(1) });
      reg.putDatasetType({ name: type, dimensions: Object.keys(ids[0]!), storage: "bytes" });
    });
    await reg.close();
    const ro = await LmdbRegistry.open({ root: dir, readOnly: true });
    try {
      const listed = [...ro.listDatasets({ collection })];
      expect(listed.map((e) => [e.collection, e.type, e.key, e.record.digest])).toEqual(
        ids.map((id, i) => [collection, type, encodeDataId(id), digest(i)]).sort((a, b) => Buffer.compare(Buffer.from(a[2]!), Buffer.from(b[2]!))),
      );
      expect(listed.map((e) => e.dataId)).toContainEqual(ids[2]);
      expect([...ro.listDatasets({ collection, type })]).toHaveLength(3);
      expect([...ro.listDatasets()]).toHaveLength(5);
      expect(ro.listCollections()).toEqual([collection, collection + "\0x", collection + "\x01"]);
      expect(ro.getDataset(collection, type, encodeDataId(ids[2]!))?.digest).toBe(digest(2));
      expect([...ro.listQuanta(collection)].map((q) => [q.task, q.dataId])).toEqual(
        ids.map((id) => [task, encodeDataId(id)]).sort((a, b) => Buffer.compare(Buffer.from(a[1]!), Buffer.from(b[1]!))),
      );
      expect(ro.getQuantum(collection, task, encodeDataId(ids[0]!))).toEqual(quantum);
      expect(ro.getStamp(`run\0${collection}`)).toEqual({ v: 1 });
      expect(ro.getFileState("/" + "p".repeat(300))?.digest).toBe(digest(1));
      expect(ro.getDatasetType(type)?.dimensions).toHaveLength(6);
      // Listing keys alone first, then records: every range still reads values.
      expect([...ro.listBlobs()]).toEqual([]);
      expect([...ro.referencedDigests()].sort()).toEqual([0, 1, 2, 7, 8].map(digest));
    } finally {
      await ro.close();
    }
  });

  it("14.1 a key longer than LMDB allows is a usage error naming it; looking one up finds nothing", async () => {
    const reg = await LmdbRegistry.open({ root: dir, readOnly: false });
    try {
      const huge = { name: "y".repeat(2500) };
      const err = await reg.commit(() => reg.putQuantum(collection, task, encodeDataId(huge), { status: "failed", key: "0" as QuantumKey, executionId: "e", time: 1 })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UsageError);
      expect((err as UsageError).message).toMatch(/^a registry key is too long \(27\d\d bytes, at most 1978\): c{60}…\/k{60}…\/name=y{55}…$/);
      expect((err as UsageError).hint).toMatch(/use shorter data ID values/);
      expect(reg.getQuantum(collection, task, encodeDataId(huge))).toBeUndefined();
      expect(reg.getDataset(collection, type, encodeDataId(huge))).toBeUndefined();
      expect([...reg.listDatasets({ collection: "z".repeat(3000) })]).toEqual([]);
    } finally {
      await reg.close();
    }
  });

  it("14.1 the key encoding round-trips any tuple and keeps tuple order and prefix ranges", () => {
    const tuples = [["a"], ["a", ""], ["a", "\0"], ["a", "\x01"], ["a", "\x02"], ["a\0"], ["a\x01", "b"], ["ab"], ["é", "漢".repeat(700)]];
    for (const t of tuples) expect(decodeRegistryKey(encodeRegistryKey(t))).toEqual(t);
    const sorted = [...tuples].sort((x, y) => Buffer.compare(encodeRegistryKey(x), encodeRegistryKey(y)));
    expect(sorted).toEqual([["a"], ["a", ""], ["a", "\0"], ["a", "\x01"], ["a", "\x02"], ["a\0"], ["a\x01", "b"], ["ab"], ["é", "漢".repeat(700)]]);
    const { start, end } = prefixRange(["a"]);
    const inside = tuples.filter((t) => Buffer.compare(encodeRegistryKey(t), start) >= 0 && Buffer.compare(encodeRegistryKey(t), end) < 0);
    expect(inside).toEqual([["a", ""], ["a", "\0"], ["a", "\x01"], ["a", "\x02"]]);
  });

  it("14.1 a registry of the previous format (string keys) is refused with exit 3, what was found and what to do", async () => {
    const env = open({ path: `${dir}/registry`, maxDbs: 16 });
    await env.openDB("meta", { encoding: "msgpack" }).put("format", 3);
    await env.openDB("datasets", { encoding: "msgpack" }).put("raw\0t\0visit=1", [{ visit: 1 }, rec(1)]);
    await env.close();
    for (const readOnly of [true, false]) {
      const err = await LmdbRegistry.open({ root: dir, readOnly }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RepositoryError);
      expect((err as RepositoryError).exitCode).toBe(3);
      expect((err as RepositoryError).message).toBe(`registry format 3 found in ${dir}, ${REGISTRY_FORMAT} expected`);
      expect((err as RepositoryError).hint).toMatch(new RegExp(`^delete ${dir} and ingest again .*or keep using the version of quanta that wrote it`));
    }
  });
});
