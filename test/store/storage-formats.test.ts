import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { UsageError } from "../../src/core/errors.js";
import { decodeValue, encodeValue, parseStorageClass } from "../../src/store/storage-formats.js";

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const dir = mkdtempSync(join(tmpdir(), "quanta-formats-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("storage formats", () => {
  it("encodes json canonically: equal objects in any key order give equal bytes", () => {
    const a = encodeValue("json", { b: 1, a: { y: [1, "x", null], x: true } });
    const b = encodeValue("json", { a: { x: true, y: [1, "x", null] }, b: 1 });
    expect(text(a)).toBe('{"a":{"x":true,"y":[1,"x",null]},"b":1}');
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(decodeValue("json", a)).toEqual({ a: { x: true, y: [1, "x", null] }, b: 1 });
  });

  it("rejects json values that JSON cannot hold, naming where", () => {
    expect(() => encodeValue("json", { stats: { mean: Number.NaN } })).toThrow("json value at $.stats.mean is NaN, which JSON cannot hold");
    expect(() => encodeValue("json", [1, 2n])).toThrow("json value at $[1] is a bigint");
    expect(() => encodeValue("json", { a: new Float32Array(2) })).toThrow("json value at $.a is a Float32Array");
  });

  it("round-trips text, bytes and ndarray", () => {
    expect(decodeValue("text", encodeValue("text", "héllo\n"))).toBe("héllo\n");
    expect(Array.from(encodeValue("text", "é"))).toEqual([0xc3, 0xa9]);
    const bytes = new Uint8Array([0, 1, 2, 255]);
    expect(decodeValue("bytes", encodeValue("bytes", bytes))).toEqual(bytes);
    const array = { dtype: "int32" as const, shape: [2], data: new Int32Array([7, -7]) };
    expect(decodeValue("ndarray", encodeValue("ndarray", array))).toEqual(array);
  });

  it("reads a file value from its path and decodes to the path it is given", () => {
    const path = join(dir, "obj.o");
    writeFileSync(path, "object code");
    expect(text(encodeValue("file", path))).toBe("object code");
    expect(decodeValue("file", new Uint8Array(), { path })).toBe(path);
  });

  it("says what a value should have been", () => {
    expect(() => encodeValue("text", 42)).toThrow("a text value must be a string, got number");
    expect(() => encodeValue("bytes", "abc")).toThrow("a bytes value must be a Uint8Array, got string");
  });

  it("rejects an unknown storage class with the nearest name as hint", () => {
    let error: unknown;
    try {
      parseStorageClass("ndaray");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('unknown storage class "ndaray" (expected one of json, text, bytes, ndarray, file)');
    expect((error as UsageError).hint).toBe('did you mean "ndarray"?');
    expect(() => encodeValue("jsno", {})).toThrow('unknown storage class "jsno"');
  });
});
