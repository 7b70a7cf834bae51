/**
 * NumPy `.npy` format version 1.0, little-endian, C order: enough to write the generated exposures and
 * to read them back in tests. Layout: the magic `\x93NUMPY`, version bytes 1 0, a little-endian uint16
 * header length, an ASCII Python dict (`descr`, `fortran_order`, `shape`) padded with spaces and ended
 * by `\n` so that the data starts at a multiple of 64 bytes, then the raw array bytes.
 */

/** @typedef {{ dtype: string, shape: number[], data: ArrayLike<number> & { buffer: ArrayBufferLike, byteOffset: number, byteLength: number } }} NpyArray */

const DESCR_BY_DTYPE = /** @type {Record<string, string>} */ ({
  float32: "<f4", float64: "<f8", int32: "<i4", uint8: "|u1", int16: "<i2", uint16: "<u2",
});
const ARRAY_BY_DESCR = /** @type {Record<string, [string, any]>} */ ({
  "<f4": ["float32", Float32Array], "<f8": ["float64", Float64Array], "<i4": ["int32", Int32Array],
  "|u1": ["uint8", Uint8Array], "<u1": ["uint8", Uint8Array], "<i2": ["int16", Int16Array], "<u2": ["uint16", Uint16Array],
});
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/**
 * Encodes an array as `.npy` bytes.
 * @param {NpyArray} array
 * @returns {Uint8Array}
 */
export function encodeNpy(array) {
  const descr = DESCR_BY_DTYPE[array.dtype];
  if (descr === undefined) throw new Error(`npy: unsupported dtype ${array.dtype}`);
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = MAGIC.length + 2 + 2 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  const out = new Uint8Array(10 + header.length + body.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

/**
 * Decodes `.npy` bytes (version 1.0 or 2.0, little-endian, C order).
 * @param {Uint8Array} bytes
 * @returns {{ dtype: any, shape: number[], data: any }}
 */
export function decodeNpy(bytes) {
  for (let i = 0; i < MAGIC.length; i++) if (bytes[i] !== MAGIC[i]) throw new Error("npy: bad magic");
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1] ?? "";
  if (/'fortran_order':\s*True/.test(header)) throw new Error("npy: Fortran order is not supported");
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? "";
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  const entry = ARRAY_BY_DESCR[descr];
  if (entry === undefined) throw new Error(`npy: unsupported descr ${descr}`);
  const [dtype, ArrayType] = entry;
  const start = headerStart + headerLength;
  const copy = bytes.slice(start); // aligned copy
  return { dtype, shape, data: new ArrayType(copy.buffer, 0, copy.byteLength / ArrayType.BYTES_PER_ELEMENT) };
}
