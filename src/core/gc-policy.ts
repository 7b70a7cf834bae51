/**
 * What `quanta gc --keep-age AGE --max-size SIZE` keeps of the action cache: the policy read from its
 * flags, and the choice of entries it leads to (app/gc.ts does the reading and deleting).
 *
 * Results that a collection binds are always kept. Of the other cached results, those used within
 * `keepAgeMs` are candidates (every one when no age is given); with `maxBytes`, candidates are kept
 * from the most recently used on, while the blobs kept so far and theirs fit in `maxBytes`: the first
 * that does not fit ends the choice, so a result is never dropped while an older one is kept.
 */
import { UsageError } from "./errors.js";

export interface GcPolicy {
  /** Keep cached results used less than this long ago. */
  keepAgeMs?: number;
  /** Keep the store's blobs within this many bytes, where results collections bind leave room. */
  maxBytes?: number;
}

const AGE_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** `--keep-age` (a number and a unit of s, m, h or d) and `--max-size` (bytes, or K, M, G, T: powers of 1024). */
export function parseGcPolicy(flags: { keepAge?: string; maxSize?: string }): GcPolicy {
  const policy: GcPolicy = {};
  if (flags.keepAge !== undefined) {
    const m = /^(\d+(?:\.\d+)?)([smhd])$/.exec(flags.keepAge.trim());
    if (!m) throw new UsageError(`--keep-age ${JSON.stringify(flags.keepAge)} is not an age`, "give a number and a unit: s, m, h or d (e.g. --keep-age 7d, --keep-age 12h, --keep-age 0s)");
    policy.keepAgeMs = Number(m[1]) * AGE_UNITS[m[2]!]!;
  }
  if (flags.maxSize !== undefined) {
    const m = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|b)?$/i.exec(flags.maxSize.trim());
    if (!m) {
      throw new UsageError(`--max-size ${JSON.stringify(flags.maxSize)} is not a size`, "give bytes or a number with K, M, G or T (powers of 1024), e.g. --max-size 500M, --max-size 2G");
    }
    policy.maxBytes = Math.floor(Number(m[1]) * SIZE_UNITS[(m[2] ?? "").toLowerCase()]!);
  }
  return policy;
}

/** Whether `policy` limits anything (a bare `quanta gc` keeps every cached result). */
export function limitsCache(policy: GcPolicy): boolean {
  return policy.keepAgeMs !== undefined || policy.maxBytes !== undefined;
}

export interface CacheCandidate<K> {
  key: K;
  /** When it was last used, ms since the epoch. */
  lastUsed: number;
  /** The blobs keeping it keeps (digests with their sizes). */
  blobs: readonly { digest: string; size: number }[];
}

/**
 * The candidates `policy` keeps, given the blobs kept anyway (`kept`, digest → size; extended with
 * the blobs of each candidate kept) at `now`.
 */
export function chooseCachedResults<K>(candidates: readonly CacheCandidate<K>[], policy: GcPolicy, kept: Map<string, number>, now: number): K[] {
  const young = candidates.filter((c) => policy.keepAgeMs === undefined || now - c.lastUsed < policy.keepAgeMs);
  young.sort((a, b) => b.lastUsed - a.lastUsed);
  let bytes = 0;
  for (const size of kept.values()) bytes += size;
  const chosen: K[] = [];
  for (const c of young) {
    const extra = new Map<string, number>();
    for (const b of c.blobs) if (!kept.has(b.digest)) extra.set(b.digest, b.size);
    let more = 0;
    for (const size of extra.values()) more += size;
    if (policy.maxBytes !== undefined && bytes + more > policy.maxBytes) break;
    for (const [digest, size] of extra) kept.set(digest, size);
    bytes += more;
    chosen.push(c.key);
  }
  return chosen;
}
