/**
 * Branded identifiers, so that a blob digest, a quantum key and a code digest cannot be mixed up.
 *
 * Encodings (all lower-case hex, fixed width where stated):
 * - `BlobDigest`: `<xxh64 of the bytes, 16 hex>-<byte length, decimal>`, e.g. `9a0364b9e99bb480-1024`.
 *   The blob lives at `blobs/<first 2 hex>/<the rest of the digest>` in the repository.
 * - `CodeDigest`: 16 hex, the xxh64 of a task's code identity (see task loading).
 * - `QuantumKey`: 16 hex, the xxh64 of the canonical key manifest (see quantum-key.ts).
 */
export type BlobDigest = string & { readonly __brand: "BlobDigest" };
export type CodeDigest = string & { readonly __brand: "CodeDigest" };
export type QuantumKey = string & { readonly __brand: "QuantumKey" };

/** Pure hashing functions, injected into the core (the implementation uses xxhash-wasm). */
export interface Hasher {
  /** xxh64 of the UTF-8 bytes of `text`, as 16 hex digits. */
  hashString(text: string): string;
  /** The blob digest of `bytes` (xxh64 plus length). */
  hashBytes(bytes: Uint8Array): BlobDigest;
}

const BLOB_DIGEST = /^[0-9a-f]{16}-[0-9]+$/;

export function isBlobDigest(text: string): text is BlobDigest {
  return BLOB_DIGEST.test(text);
}

/** The size in bytes recorded in a blob digest. */
export function blobDigestSize(digest: BlobDigest): number {
  return Number(digest.slice(17));
}
