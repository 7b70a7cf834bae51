/**
 * A list of blob digests as a stamp keeps it: grouped by shard (a digest's first two characters, the
 * blob store's directory), each group one string of the digests' other characters, sorted and joined
 * by newlines. The run stamp of 100,000 chains lists 300,000 blob files; as an array they were
 * 300,000 strings to decode on every no-op, of which a check that trusts the shard directories reads
 * none (BlobStore.filesPresent). As at most 256 strings, a shard's list is split only when its
 * directory must be read.
 */
import type { BlobDigest } from "../core/digest.js";

export type ShardedBlobs = Readonly<Record<string, string>>;

/** `digests` grouped by shard (duplicates kept once). */
export function shardBlobs(digests: Iterable<BlobDigest>): ShardedBlobs {
  const byShard = new Map<string, Set<string>>();
  for (const d of digests) {
    const shard = d.slice(0, 2);
    let rests = byShard.get(shard);
    if (rests === undefined) byShard.set(shard, (rests = new Set()));
    rests.add(d.slice(2));
  }
  const out: Record<string, string> = {};
  for (const shard of byShard.keys()) out[shard] = [...byShard.get(shard)!].sort().join("\n");
  return out;
}

/** The digests `blobs` lists in `shard` (none when it lists none there). */
export function blobsInShard(blobs: ShardedBlobs, shard: string): BlobDigest[] {
  const rests = blobs[shard];
  if (rests === undefined || rests === "") return [];
  return rests.split("\n").map((rest) => (shard + rest) as BlobDigest);
}
