/**
 * Registry keys as bytes, so that any key reads back exactly as it was written, at any length.
 *
 * Encoding (registry format 4): a key is a tuple of strings (`[collection, type, dataIdKey]`, or one
 * string such as a dataset type's name, a file path or a digest). Each part is its UTF-8 bytes with two
 * bytes escaped, 0x00 → 0x01 0x01 and 0x01 → 0x01 0x02, and the parts are joined by 0x00. The sub-
 * databases open with lmdb-js's `keyEncoding: "binary"`, so these bytes are the LMDB key itself.
 *
 * Why not strings: lmdb-js's default key encoding (ordered-binary) writes a string of 64 characters
 * or more as raw UTF-8 and reads a 0x00 in it back as an array separator, so a long
 * `collection\0type\0dataId` string came back as an array (and a control character 1–4 in it was read
 * as an escape). Bytes are never interpreted.
 *
 * Order: the escape keeps byte order within a part (0x00 < 0x01 < 0x02 become 01 01 < 01 02 < 02), and
 * the separator 0x00 sorts before every byte of a part, so keys sort as their tuples do, part by part,
 * and `prefixRange([c])` (from `c 00` up to, not including, `c 01`) selects exactly the keys whose
 * first part is `c`. UTF-8 never contains the byte 0xff, and no key starts with it: keys from
 * 0xff on are the registry's own (lmdb-js's shared msgpack structures; see lmdb-registry.ts).
 */

/** LMDB's largest key in bytes (its default build, which lmdb-js uses). */
export const MAX_KEY_BYTES = 1978;

/** The first key that no tuple encodes to: full scans end here. */
export const END_OF_KEYS = Buffer.from([0xff]);

const SEPARATOR = 0x00;
const ESCAPE = 0x01;

/** The LMDB key of a tuple of strings (not checked against MAX_KEY_BYTES; see `isStorableKey`). */
export function encodeRegistryKey(parts: readonly string[]): Buffer {
  // Almost every key has no 0x00 or 0x01 in its parts: then it is their UTF-8 joined by 0x00, in one go.
  let plain = true;
  for (let i = 0; i < parts.length && plain; i++) plain = parts[i]!.indexOf("\0") < 0 && parts[i]!.indexOf("\x01") < 0;
  if (plain) return Buffer.from(parts.length === 1 ? parts[0]! : parts.join("\0"), "utf8");
  const encoded = parts.map((part) => escapePart(Buffer.from(part, "utf8")));
  const out = Buffer.allocUnsafe(encoded.reduce((n, p) => n + p.length, 0) + parts.length - 1);
  let at = 0;
  encoded.forEach((part, i) => {
    if (i > 0) out[at++] = SEPARATOR;
    at += part.copy(out, at);
  });
  return out;
}

/** The tuple of strings `key` encodes; throws `internal error:` on bytes no tuple encodes to. */
export function decodeRegistryKey(key: Uint8Array): string[] {
  const bytes = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (bytes.indexOf(ESCAPE) >= 0) return decodeEscaped(bytes);
  return bytes.toString("utf8").split("\0");
}

function decodeEscaped(key: Buffer): string[] {
  const parts: string[] = [];
  let part: number[] = [];
  for (let i = 0; i < key.length; i++) {
    const byte = key[i]!;
    if (byte === SEPARATOR) {
      parts.push(Buffer.from(part).toString("utf8"));
      part = [];
    } else if (byte === ESCAPE) {
      const next = key[++i];
      if (next !== 0x01 && next !== 0x02) throw new Error(`internal error: malformed registry key ${key.toString("hex")}`);
      part.push(next - 1);
    } else {
      part.push(byte);
    }
  }
  parts.push(Buffer.from(part).toString("utf8"));
  return parts;
}

/** The range of keys whose first parts are `prefix` (end exclusive), for lmdb-js's `getRange`. */
export function prefixRange(prefix: readonly string[]): { start: Buffer; end: Buffer } {
  const head = encodeRegistryKey(prefix);
  return { start: Buffer.concat([head, Buffer.from([SEPARATOR])]), end: Buffer.concat([head, Buffer.from([SEPARATOR + 1])]) };
}

/** The first key after every key whose first part is `first` (to skip to the next collection). */
export function keyAfter(first: string): Buffer {
  return prefixRange([first]).end;
}

/** Whether LMDB can store `key` (at most MAX_KEY_BYTES, and not empty). */
export function isStorableKey(key: Uint8Array): boolean {
  return key.length > 0 && key.length <= MAX_KEY_BYTES;
}

/** `key` as a person reads it: its parts joined by `/`, each cut to `width` characters. */
export function describeRegistryKey(key: Uint8Array, width = 60): string {
  return decodeRegistryKey(key)
    .map((part) => (part.length > width ? part.slice(0, width) + "…" : part))
    .join("/");
}

function escapePart(bytes: Buffer): Buffer {
  if (bytes.indexOf(SEPARATOR) < 0 && bytes.indexOf(ESCAPE) < 0) return bytes;
  const out: number[] = [];
  for (const b of bytes) {
    if (b <= ESCAPE) out.push(ESCAPE, b + 1);
    else out.push(b);
  }
  return Buffer.from(out);
}
