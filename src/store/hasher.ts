/**
 * Hashing for the store, behind the core's `Hasher` interface, plus a streaming form for files too
 * large to hold in memory. Digests are 128 bits, as 32 lower-case hex digits: xxhash-wasm has no
 * 128-bit function, so a digest is two xxh64 of the same bytes, with seed 0 then with seed
 * SECOND_SEED, each zero-padded to 16 hex digits and concatenated. A blob digest appends
 * `-<byte length>` (see core/digest.ts). (64 bits were too few for a cache shared by many runs: at
 * 10^9 results a collision, which silently reuses a wrong result, is no longer negligible.)
 *
 * The instance counts what it hashes (`stats`), so callers and benchmarks can prove that an
 * operation read no file contents.
 */
import xxhash from "xxhash-wasm";
import type { BlobDigest, Hasher } from "../core/digest.js";

/** An incremental blob digest: feed chunks in order, then read the digest once. */
export interface BlobHashStream {
  update(bytes: Uint8Array): void;
  digest(): BlobDigest;
}

export interface HashStats {
  /** Calls to hashBytes plus streams finished. */
  calls: number;
  /** Bytes fed to hashBytes and to streams. */
  bytes: number;
}

export interface StoreHasher extends Hasher {
  createStream(): BlobHashStream;
  readonly stats: HashStats;
}

type XxhashApi = Awaited<ReturnType<typeof xxhash>>;

let loading: Promise<StoreHasher> | undefined;

/**
 * The process-wide hasher; the WebAssembly module is compiled once. Shared by every repository and
 * session of the process: its hash functions keep no state between calls, and its `stats` only grow
 * (callers read differences, as verify.ts does).
 */
export function loadHasher(): Promise<StoreHasher> {
  loading ??= xxhash().then((api) => createStoreHasher(api));
  return loading;
}

/**
 * The digest of a long text written in pieces (a listing of 333,334 files, the states of a run): the
 * pieces gather into 64 KiB, each encoded once and fed to a hash stream, so the whole text is never
 * one string. Not the same digest as `hashString` of the joined text.
 */
export function createTextHash(hasher: StoreHasher): { add(text: string): void; digest(): BlobDigest } {
  const stream = hasher.createStream();
  const encoder = new TextEncoder();
  let pending = "";
  return {
    add(text: string): void {
      pending += text;
      if (pending.length >= 65536) {
        stream.update(encoder.encode(pending));
        pending = "";
      }
    },
    digest(): BlobDigest {
      stream.update(encoder.encode(pending));
      return stream.digest();
    },
  };
}

/** The seed of a digest's second half (the first half's is 0); any fixed value other than 0 would do. */
const SECOND_SEED = 0x9e3779b97f4a7c15n;

function toHex16(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}

function createStoreHasher(api: XxhashApi): StoreHasher {
  const stats: HashStats = { calls: 0, bytes: 0 };
  return {
    stats,
    hashString(text: string): string {
      return api.h64ToString(text) + api.h64ToString(text, SECOND_SEED);
    },
    hashBytes(bytes: Uint8Array): BlobDigest {
      stats.calls++;
      stats.bytes += bytes.length;
      return `${toHex16(api.h64Raw(bytes))}${toHex16(api.h64Raw(bytes, SECOND_SEED))}-${bytes.length}` as BlobDigest;
    },
    createStream(): BlobHashStream {
      const first = api.create64();
      const second = api.create64(SECOND_SEED);
      let length = 0;
      let done = false;
      return {
        update(bytes: Uint8Array): void {
          if (done) throw new Error("internal error: hash stream updated after digest()");
          first.update(bytes);
          second.update(bytes);
          length += bytes.length;
        },
        digest(): BlobDigest {
          if (done) throw new Error("internal error: hash stream digested twice");
          done = true;
          stats.calls++;
          stats.bytes += length;
          return `${toHex16(first.digest())}${toHex16(second.digest())}-${length}` as BlobDigest;
        },
      };
    },
  };
}
