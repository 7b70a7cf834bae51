/**
 * Hashing for the store: xxh64 (xxhash-wasm, seed 0) behind the core's `Hasher` interface, plus a
 * streaming form for files too large to hold in memory. Digests are lower-case, zero-padded hex; a
 * blob digest appends `-<byte length>` (see core/digest.ts).
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

/** The process-wide hasher; the WebAssembly module is compiled once. */
export function loadHasher(): Promise<StoreHasher> {
  loading ??= xxhash().then((api) => createStoreHasher(api));
  return loading;
}

function toHex16(value: bigint): string {
  return value.toString(16).padStart(16, "0");
}

function createStoreHasher(api: XxhashApi): StoreHasher {
  const stats: HashStats = { calls: 0, bytes: 0 };
  return {
    stats,
    hashString(text: string): string {
      return api.h64ToString(text);
    },
    hashBytes(bytes: Uint8Array): BlobDigest {
      stats.calls++;
      stats.bytes += bytes.length;
      return `${toHex16(api.h64Raw(bytes))}-${bytes.length}` as BlobDigest;
    },
    createStream(): BlobHashStream {
      const state = api.create64();
      let length = 0;
      let done = false;
      return {
        update(bytes: Uint8Array): void {
          if (done) throw new Error("internal error: hash stream updated after digest()");
          state.update(bytes);
          length += bytes.length;
        },
        digest(): BlobDigest {
          if (done) throw new Error("internal error: hash stream digested twice");
          done = true;
          stats.calls++;
          stats.bytes += length;
          return `${toHex16(state.digest())}-${length}` as BlobDigest;
        },
      };
    },
  };
}
