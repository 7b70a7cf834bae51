/**
 * Branded identifiers, so that a blob digest, a quantum key and a code digest cannot be mixed up.
 *
 * Encodings (all lower-case hex, fixed width where stated). A "128-bit hash" is two xxh64 of the same
 * input, with seed 0 and with a second fixed seed, concatenated (store/hasher.ts: xxhash-wasm offers
 * no 128-bit function); registry format 4 introduced this width, format 3 and older used one xxh64.
 * - `BlobDigest`: `<128-bit hash of the bytes, 32 hex>-<byte length, decimal>`, e.g.
 *   `9a0364b9e99bb4805d1c0e7f3a2b6c48-1024`. The blob lives at
 *   `blobs/<first 2 hex>/<the rest of the digest>` in the repository.
 * - `CodeDigest`: 32 hex, the 128-bit hash of a task's code identity (see task loading).
 * - `QuantumKey`: 32 hex, the 128-bit hash of the canonical key manifest (see quantum-key.ts).
 * Short forms may be shown to people; the full width is what is stored and compared.
 */
export type BlobDigest = string & { readonly __brand: "BlobDigest" };
export type CodeDigest = string & { readonly __brand: "CodeDigest" };
export type QuantumKey = string & { readonly __brand: "QuantumKey" };

/** Pure hashing functions, injected into the core (the implementation uses xxhash-wasm). */
export interface Hasher {
  /** The 128-bit hash of the UTF-8 bytes of `text`, as 32 hex digits. */
  hashString(text: string): string;
  /** The blob digest of `bytes` (its 128-bit hash plus its length). */
  hashBytes(bytes: Uint8Array): BlobDigest;
}

/** Hex digits in a digest, quantum key or code digest. */
export const DIGEST_HEX_DIGITS = 32;

const BLOB_DIGEST = /^[0-9a-f]{32}-[0-9]+$/;

export function isBlobDigest(text: string): text is BlobDigest {
  return BLOB_DIGEST.test(text);
}

/** The size in bytes recorded in a blob digest. */
export function blobDigestSize(digest: BlobDigest): number {
  return Number(digest.slice(DIGEST_HEX_DIGITS + 1));
}
