/**
 * Storage classes: how a dataset's in-memory value becomes the bytes of its blob, and back.
 *
 * | class     | value          | bytes                                                          |
 * |-----------|----------------|----------------------------------------------------------------|
 * | `json`    | any JSON value | canonical JSON: keys sorted, no whitespace, UTF-8              |
 * | `text`    | string         | UTF-8                                                          |
 * | `bytes`   | Uint8Array     | as is                                                          |
 * | `ndarray` | NdArray        | NumPy `.npy` v1.0, byte for byte as `numpy.save` (see npy.ts)  |
 * | `file`    | a path         | the file's bytes; decoding needs the path of a file holding them |
 *
 * Equal values give equal bytes, so a rerun that computes the same result keeps its digest (early
 * cutoff). Encoding a value that does not fit its class throws an Error whose message says why.
 */
import { readFileSync } from "node:fs";
import { didYouMean, UsageError } from "../core/errors.js";
import { STORAGE_CLASSES, type NdArray, type StorageClass } from "../core/storage-class.js";
import { decodeNpy, encodeNpy } from "./npy.js";

const UTF8 = new TextEncoder();
/** Not fatal: malformed UTF-8 becomes U+FFFD, as for any text file read by a tool. */
const TEXT = new TextDecoder("utf-8", { fatal: false });

/** The storage class named `name`, or a UsageError with the nearest valid name as hint. */
export function parseStorageClass(name: string): StorageClass {
  if ((STORAGE_CLASSES as readonly string[]).includes(name)) return name as StorageClass;
  throw new UsageError(
    `unknown storage class "${name}" (expected one of ${STORAGE_CLASSES.join(", ")})`,
    didYouMean(name, STORAGE_CLASSES),
  );
}

/** The blob bytes of `value`. For `file`, `value` is the path of the file to read. */
export function encodeValue(storage: StorageClass | string, value: unknown): Uint8Array {
  const cls = parseStorageClass(storage);
  switch (cls) {
    case "json":
      return UTF8.encode(encodeCanonicalJson(value));
    case "text":
      if (typeof value !== "string") throw new Error(`a text value must be a string, got ${describeType(value)}`);
      return UTF8.encode(value);
    case "bytes":
      if (!(value instanceof Uint8Array)) throw new Error(`a bytes value must be a Uint8Array, got ${describeType(value)}`);
      return value;
    case "ndarray":
      if (typeof value !== "object" || value === null) throw new Error(`an ndarray value must be an NdArray, got ${describeType(value)}`);
      return encodeNpy(value as NdArray);
    case "file":
      if (typeof value !== "string") throw new Error(`a file value must be a path, got ${describeType(value)}`);
      return readFileSync(value);
    default:
      return assertNever(cls);
  }
}

export interface DecodeOptions {
  /** `file` only: the path of a (read-only) file holding the bytes; it is the decoded value. */
  readonly path?: string;
}

/** The in-memory value of a blob's bytes. Throws an Error saying what is wrong with malformed bytes. */
export function decodeValue(storage: StorageClass | string, bytes: Uint8Array, options: DecodeOptions = {}): unknown {
  const cls = parseStorageClass(storage);
  switch (cls) {
    case "json":
      return JSON.parse(TEXT.decode(bytes));
    case "text":
      return TEXT.decode(bytes);
    case "bytes":
      return bytes;
    case "ndarray":
      return decodeNpy(bytes);
    case "file":
      if (options.path === undefined) throw new Error("internal error: a file value is a path; decodeValue needs options.path");
      return options.path;
    default:
      return assertNever(cls);
  }
}

/**
 * JSON with object keys sorted and no whitespace. Values JSON cannot hold faithfully (NaN, ±Infinity,
 * bigint, functions, symbols) are errors naming where they are, rather than silently becoming null.
 */
export function encodeCanonicalJson(value: unknown): string {
  return writeJson(value, "$");
}

function writeJson(value: unknown, where: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "number":
      if (!Number.isFinite(value)) throw new Error(`json value at ${where} is ${value}, which JSON cannot hold`);
      return JSON.stringify(value);
    case "object":
      break;
    default:
      throw new Error(`json value at ${where} is a ${typeof value}, which JSON cannot hold`);
  }
  const withJson = value as { toJSON?: () => unknown };
  if (typeof withJson.toJSON === "function") return writeJson(withJson.toJSON(), where);
  if (Array.isArray(value)) {
    return "[" + value.map((item, i) => (item === undefined ? "null" : writeJson(item, `${where}[${i}]`))).join(",") + "]";
  }
  if (ArrayBuffer.isView(value)) {
    throw new Error(`json value at ${where} is a ${value.constructor.name}; use Array.from() or the ndarray storage class`);
  }
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(obj).sort()) {
    const member = obj[key];
    if (member === undefined) continue;
    parts.push(JSON.stringify(key) + ":" + writeJson(member, `${where}.${key}`));
  }
  return "{" + parts.join(",") + "}";
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}

function assertNever(value: never): never {
  throw new Error(`internal error: unhandled storage class ${String(value)}`);
}
