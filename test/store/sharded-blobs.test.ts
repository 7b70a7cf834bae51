import { describe, expect, it } from "vitest";
import type { BlobDigest } from "../../src/core/digest.js";
import { addBlobs, blobsInShard, shardBlobs, withoutBlobs, type ShardedBlobs } from "../../src/store/sharded-blobs.js";

const digest = (i: number) => `${(i * 2654435761 >>> 0).toString(16).padStart(8, "0")}${"0".repeat(24)}-${i}` as BlobDigest;
const all = (b: ShardedBlobs) => Object.keys(b).flatMap((shard) => blobsInShard(b, shard)).sort();

describe("sharded blob lists", () => {
  it("adding and removing digests gives the list made from scratch", () => {
    const first = Array.from({ length: 2000 }, (_, i) => digest(i));
    const more = [digest(5), ...Array.from({ length: 300 }, (_, i) => digest(5000 + i))];
    const added = addBlobs(shardBlobs(first), more);
    expect(added).toEqual(shardBlobs([...first, ...more]));
    const gone = new Set([digest(1), digest(5000), ...[...first, ...more].filter((d) => d.startsWith("ab"))]);
    const removed = withoutBlobs(added, gone);
    expect(removed).toEqual(shardBlobs([...first, ...more].filter((d) => !gone.has(d))));
    expect(Object.keys(removed).includes("ab")).toBe(false);
    expect(all(withoutBlobs(addBlobs({}, more), new Set(more)))).toEqual([]);
  });
});
