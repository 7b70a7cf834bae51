import { describe, expect, it } from "vitest";
import type { BlobDigest, CodeDigest } from "../../src/core/digest.js";
import { decideQuantum, diffManifests, formatReason } from "../../src/core/explain.js";
import { buildKeyManifest, computeQuantumKey, type KeyInput } from "../../src/core/quantum-key.js";
import { loadHasher } from "../../src/store/hasher.js";

const hasher = await loadHasher();
const d = (s: string) => s as BlobDigest;
const input = (dataId: string, digest: string): KeyInput => ({ connection: "exposure", type: "raw", dataId, digest: d(digest) });
const base = { task: "calibrate", dataId: "detector=1,visit=2", codeDigest: "c0de" as CodeDigest, config: '{"threshold":5}' };

describe("quantum keys", () => {
  it("14.11 are 128 bits wide (32 hex digits)", () => {
    const key = computeQuantumKey(buildKeyManifest({ ...base, inputs: [input("visit=1", "aa-1")] }), hasher);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it("do not depend on the order inputs are listed in", () => {
    const a = buildKeyManifest({ ...base, inputs: [input("visit=1", "aa-1"), input("visit=2", "bb-1")] });
    const b = buildKeyManifest({ ...base, inputs: [input("visit=2", "bb-1"), input("visit=1", "aa-1")] });
    expect(computeQuantumKey(a, hasher)).toBe(computeQuantumKey(b, hasher));
  });

  it("change with the quantum's data ID, code, config and every input digest", () => {
    const key = (over: Partial<typeof base>, inputs = [input("visit=1", "aa-1")]) =>
      computeQuantumKey(buildKeyManifest({ ...base, ...over, inputs }), hasher);
    const k = key({});
    expect(key({ dataId: "detector=2,visit=2" })).not.toBe(k);
    expect(key({ codeDigest: "c0df" as CodeDigest })).not.toBe(k);
    expect(key({ config: '{"threshold":4}' })).not.toBe(k);
    expect(key({}, [input("visit=1", "aa-2")])).not.toBe(k);
    expect(key({}, [])).not.toBe(k);
    expect(key({})).toBe(k);
  });
});

describe("decisions", () => {
  const manifest = buildKeyManifest({ ...base, inputs: [input("visit=1", "aa-1")] });
  const key = computeQuantumKey(manifest, hasher);
  const outputs = { calexp: { type: "calexp", digest: d("ff-10") } };

  it("skip when the action cache has the key and its blobs exist", () => {
    const r = decideQuantum({ key, manifest, memory: { record: { key, status: "succeeded" }, cached: { outputs, noWork: false } }, blobExists: () => true });
    expect(r).toMatchObject({ action: "skip", rebind: false, reasons: [{ kind: "up-to-date" }] });
  });

  it("reuse the cache in a collection that never ran it", () => {
    const r = decideQuantum({ key, manifest, memory: { cached: { outputs, noWork: false } }, blobExists: () => true });
    expect(r).toMatchObject({ action: "skip", rebind: true, reasons: [{ kind: "cached" }] });
  });

  it("run when an output blob is missing, saying which", () => {
    const r = decideQuantum({ key, manifest, memory: { cached: { outputs, noWork: false } }, blobExists: () => false });
    expect(r.action).toBe("run");
    expect(r.reasons.map(formatReason)).toEqual(["output calexp (calexp) blob ff-10 is missing from the blob store"]);
  });

  it("say what changed since the previous run", () => {
    const before = buildKeyManifest({ ...base, config: '{"detection":{"threshold":5}}', inputs: [input("visit=1", "aa-1"), input("visit=3", "cc-1")] });
    const after = buildKeyManifest({ ...base, codeDigest: "c0df" as CodeDigest, config: '{"detection":{"threshold":4}}', inputs: [input("visit=1", "aa-2"), input("visit=4", "dd-1")] });
    expect(diffManifests(before, after).map(formatReason)).toEqual([
      "task code changed: c0de -> c0df",
      "config detection.threshold changed: 5 -> 4",
      "input exposure (raw@visit=1) changed: aa-1 -> aa-2",
      "input exposure gained raw@visit=4 (dd-1)",
      "input exposure lost raw@visit=3 (cc-1)",
    ]);
  });

  it("says which inputs changed whether the two manifests list them in the same order or not", () => {
    const before = buildKeyManifest({ ...base, inputs: [input("visit=1", "aa-1"), input("visit=2", "bb-1"), input("visit=3", "cc-1"), input("visit=6", "ff-1")] });
    const after = buildKeyManifest({ ...base, inputs: [input("visit=1", "aa-2"), input("visit=3", "cc-2"), input("visit=2", "bb-1"), input("visit=5", "ee-1")] });
    expect(diffManifests(before, after).map(formatReason)).toEqual([
      "input exposure (raw@visit=1) changed: aa-1 -> aa-2",
      "input exposure (raw@visit=3) changed: cc-1 -> cc-2",
      "input exposure gained raw@visit=5 (ee-1)",
      "input exposure lost raw@visit=6 (ff-1)",
    ]);
  });

  it("a quantum never run is new", () => {
    const r = decideQuantum({ key, manifest, memory: {}, blobExists: () => true });
    expect(r).toMatchObject({ action: "run", reasons: [{ kind: "new" }] });
  });
});
