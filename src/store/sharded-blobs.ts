/**
 * A list of blob digests as a stamp keeps it: grouped by shard (a digest's first two characters, the
 * blob store's directory), each group one string of its digests, sorted and joined by newlines. The
 * run stamp of 100,000 chains lists 300,000 blob files; as an array they were 300,000 strings to
 * decode on every no-op, of which a check that trusts the shard directories reads none
 * (BlobStore.filesPresent). As at most 256 strings, a shard's list is split only when its directory
 * must be read.
 */
import type { BlobDigest } from "../core/digest.js";

export type ShardedBlobs = Readonly<Record<string, string>>;

/** `digests` grouped by shard (duplicates kept once). */
export function shardBlobs(digests: Iterable<BlobDigest>): ShardedBlobs {
  // A bucket per shard, found from the two hex digits without making a string of them.
  const buckets: BlobDigest[][] = [];
  for (const d of digests) {
    const shard = hexDigit(d, 0) * 16 + hexDigit(d, 1);
    if (!(shard >= 0 && shard < 256)) throw new Error(`internal error: ${d} is not a blob digest`);
    (buckets[shard] ??= []).push(d);
  }
  const out: Record<string, string> = {};
  for (const bucket of buckets) {
    if (bucket === undefined) continue;
    bucket.sort();
    const unique = bucket.filter((d, i) => i === 0 || d !== bucket[i - 1]);
    out[bucket[0]!.slice(0, 2)] = unique.join("\n");
  }
  return out;
}

/** `blobs` and `more`: only the shards `more` lists blobs in are split and joined again. */
export function addBlobs(blobs: ShardedBlobs, more: Iterable<BlobDigest>): ShardedBlobs {
  const added = shardBlobs(more);
  const out: Record<string, string> = { ...blobs };
  for (const shard of Object.keys(added)) out[shard] = shardBlobs([...blobsInShard(blobs, shard), ...blobsInShard(added, shard)])[shard]!;
  return out;
}

/** `blobs` without `gone`: only the shards `gone` has digests in are split and joined again. */
export function withoutBlobs(blobs: ShardedBlobs, gone: ReadonlySet<BlobDigest>): ShardedBlobs {
  const out: Record<string, string> = { ...blobs };
  for (const shard of new Set([...gone].map((d) => d.slice(0, 2)))) {
    if (out[shard] === undefined) continue;
    const kept = blobsInShard(blobs, shard).filter((d) => !gone.has(d));
    if (kept.length > 0) out[shard] = kept.join("\n");
    else delete out[shard];
  }
  return out;
}

/** The digests `blobs` lists in `shard` (none when it lists none there). */
export function blobsInShard(blobs: ShardedBlobs, shard: string): BlobDigest[] {
  const list = blobs[shard];
  return list === undefined || list === "" ? [] : (list.split("\n") as BlobDigest[]);
}

/** The value of the hex digit at `at` of a digest (lower-case, as digests are written). */
function hexDigit(digest: string, at: number): number {
  const c = digest.charCodeAt(at);
  return c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : Number.NaN;
}
