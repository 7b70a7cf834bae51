/**
 * Setting corrupt blobs aside (`<repo>/quarantine/<digest>`) together with the cached results computed
 * from them (drop-cached-results.ts), in an order that a crash at any point leaves safe:
 *
 *   1. the copy of a blob kept in the registry is written to quarantine/;
 *   2. one registry commit drops the cached results computed from the blobs, and those registry copies;
 *   3. only then are the blob files moved to quarantine/.
 *
 * A crash before the commit changes nothing: the corrupt blob is still in place, and the next reader
 * that checks it (or `quanta verify`) finds it again. A crash after the commit leaves a corrupt file in
 * place with nothing cached on it: the quanta that had read it run again, find it corrupt and set it
 * aside (as `verify --repair` does). The other order could leave, after a crash, cache entries computed
 * from bad bytes whose blob is gone: its producer reruns and writes the good bytes under the same
 * digest, so those entries, whose keys hash the digest, would be up to date for good.
 *
 * Call it when every record that may have read the blobs is committed: the drop reads the committed
 * registry, not writes still waiting for a commit.
 */
import type { BlobDigest } from "../core/digest.js";
import type { BlobStore } from "./blob-store.js";
import { dropCachedResults, type DroppedResults } from "./drop-cached-results.js";
import type { Registry } from "./registry.js";

export interface QuarantineReport extends DroppedResults {
  /** Corrupt blobs moved (or, kept in the registry, copied) to `<repo>/quarantine/`. */
  quarantined: number;
}

export async function quarantineBlobs(repo: { registry: Registry; blobs: BlobStore }, digests: ReadonlySet<BlobDigest>): Promise<QuarantineReport> {
  const out: QuarantineReport = { quarantined: 0, actions: 0, quanta: 0 };
  if (digests.size === 0) return out;
  const setAside = new Set<BlobDigest>();
  await repo.registry.commit(() => {
    for (const digest of digests) if (repo.blobs.quarantineRegistryCopy(digest)) setAside.add(digest);
    Object.assign(out, dropCachedResults(repo.registry, digests));
  });
  // Only now that the drop is durable (see the module comment).
  for (const digest of digests) if (repo.blobs.quarantineFile(digest)) setAside.add(digest);
  out.quarantined = setAside.size;
  return out;
}
