import { describe, expect, it } from "vitest";
import type { NdArray } from "../../src/core/storage-class.js";
import { decodeNpy, encodeNpy } from "../../src/store/npy.js";

/** The bytes `numpy.save` writes: magic, version 1.0, header length, then the padded header. */
function npyHeader(dict: string): number[] {
  const prefix = [0x93, ..."NUMPY"].map((c) => (typeof c === "number" ? c : c.charCodeAt(0)));
  const total = 128; // every header below fits in two 64-byte blocks, as numpy lays them out
  const headerLength = total - 10;
  const text = dict.padEnd(headerLength - 1, " ") + "\n";
  return [...prefix, 1, 0, headerLength & 0xff, headerLength >> 8, ...[...text].map((c) => c.charCodeAt(0))];
}

function concat(header: number[], body: ArrayBufferView): Uint8Array {
  const bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return new Uint8Array([...header, ...bytes]);
}

describe("npy", () => {
  it("writes np.arange(12, dtype='<f4').reshape(3, 4) byte for byte as numpy.save does", () => {
    const data = Float32Array.from({ length: 12 }, (_, i) => i);
    const bytes = encodeNpy({ dtype: "float32", shape: [3, 4], data });
    // From numpy 2.4: b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }" + spaces + b"\n"
    const expected = concat(npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }"), data);
    expect(bytes.length).toBe(176);
    expect(Buffer.from(bytes).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
    expect(bytes[8]).toBe(0x76); // header length 118, as numpy writes
  });

  it("writes a 1-D uint8 array with numpy's '(3,)' shape and '|u1' descr", () => {
    const data = new Uint8Array([1, 2, 255]);
    const bytes = encodeNpy({ dtype: "uint8", shape: [3], data });
    const expected = concat(npyHeader("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }"), data);
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
    expect(bytes.length).toBe(131);
  });

  it("writes 0-d and empty arrays as numpy does", () => {
    const scalar = encodeNpy({ dtype: "float64", shape: [], data: new Float64Array([3.5]) });
    expect(Buffer.from(scalar).equals(Buffer.from(concat(npyHeader("{'descr': '<f8', 'fortran_order': False, 'shape': (), }"), new Float64Array([3.5]))))).toBe(true);
    const empty = encodeNpy({ dtype: "int32", shape: [2, 0, 3], data: new Int32Array(0) });
    expect(Buffer.from(empty).toString("latin1")).toBe(
      Buffer.from(npyHeader("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 0, 3), }")).toString("latin1"),
    );
  });

  it("pads a header that would end on the 64-byte boundary with a full 64 spaces, like numpy", () => {
    // numpy.save(np.zeros((0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 100))): the dict, 20 growth spaces
    // and the newline make 10 + 118 = 128 bytes, so numpy adds 64 spaces (header length 182).
    const shape = [0, ...Array.from({ length: 12 }, () => 1), 100];
    const bytes = encodeNpy({ dtype: "float64", shape, data: new Float64Array(0) });
    expect(bytes[8]! | (bytes[9]! << 8)).toBe(182);
    expect(bytes.length).toBe(192);
  });

  it("round-trips every supported dtype", () => {
    const arrays: NdArray[] = [
      { dtype: "float32", shape: [2, 3], data: new Float32Array([1.5, -2, 3, 4, 5, Number.NaN]) },
      { dtype: "float64", shape: [3], data: new Float64Array([Math.PI, -0, 1e300]) },
      { dtype: "int32", shape: [2, 2], data: new Int32Array([-1, 2, 2 ** 31 - 1, -(2 ** 31)]) },
      { dtype: "uint8", shape: [4], data: new Uint8Array([0, 1, 128, 255]) },
      { dtype: "int16", shape: [2], data: new Int16Array([-32768, 32767]) },
      { dtype: "uint16", shape: [1, 2], data: new Uint16Array([0, 65535]) },
      { dtype: "int64", shape: [2], data: new BigInt64Array([-(2n ** 63n), 2n ** 62n]) },
      { dtype: "float32", shape: [0], data: new Float32Array(0) },
    ];
    for (const array of arrays) {
      const back = decodeNpy(encodeNpy(array));
      expect(back.dtype).toBe(array.dtype);
      expect(back.shape).toEqual(array.shape);
      expect(back.data.constructor).toBe(array.data.constructor);
      expect(Array.from(back.data as ArrayLike<number | bigint>)).toEqual(Array.from(array.data as ArrayLike<number | bigint>));
    }
  });

  it("decodes from an unaligned view of a larger buffer", () => {
    const bytes = encodeNpy({ dtype: "float64", shape: [2], data: new Float64Array([1, 2]) });
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    expect(Array.from(decodeNpy(shifted.subarray(3)).data as Float64Array)).toEqual([1, 2]);
  });

  it("reads big-endian and Fortran-order files into little-endian C order", () => {
    const header = (dict: string) => npyHeader(dict);
    const be = new Uint8Array([...header("{'descr': '>i2', 'fortran_order': False, 'shape': (2,), }"), 0x01, 0x02, 0xff, 0xfe]);
    expect(Array.from(decodeNpy(be).data as Int16Array)).toEqual([0x0102, -2]);
    // Fortran order: the column-major elements of [[0, 1, 2], [3, 4, 5]] are 0, 3, 1, 4, 2, 5.
    const f = concat(header("{'descr': '<i4', 'fortran_order': True, 'shape': (2, 3), }"), new Int32Array([0, 3, 1, 4, 2, 5]));
    const back = decodeNpy(f);
    expect(back.shape).toEqual([2, 3]);
    expect(Array.from(back.data as Int32Array)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it("names what is wrong with bad arrays and bad files", () => {
    expect(() => encodeNpy({ dtype: "float32", shape: [2, 2], data: new Float32Array(3) })).toThrow(
      "ndarray of shape (2, 2) holds 4 elements, but its data has 3",
    );
    expect(() => encodeNpy({ dtype: "float32", shape: [2], data: new Float64Array(2) })).toThrow(
      "ndarray of dtype float32 needs its data in a Float32Array, got Float64Array",
    );
    expect(() => decodeNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]))).toThrow("not a .npy file (bad magic)");
    const complex = new Uint8Array(npyHeader("{'descr': '<c8', 'fortran_order': False, 'shape': (0,), }"));
    expect(() => decodeNpy(complex)).toThrow("unsupported .npy dtype '<c8'");
    const short = concat(npyHeader("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), new Float32Array(2));
    expect(() => decodeNpy(short)).toThrow(".npy data has 8 bytes, shape (3) of <f4 needs 12");
  });
});
