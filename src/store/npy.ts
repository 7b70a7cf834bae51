/**
 * The `ndarray` storage class: NumPy `.npy` files.
 *
 * Format (NumPy format version 1.0, what `numpy.save` writes for these arrays):
 *
 *   bytes 0-5   magic `\x93NUMPY`
 *   bytes 6-7   format version: major 1, minor 0
 *   bytes 8-9   header length H, uint16 little-endian
 *   10..10+H    header: the Python dict literal
 *               `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, then
 *               spaces (NumPy leaves room for the first axis to grow to 21 digits, then pads
 *               so that 10 + H is a multiple of 64), then `\n`
 *   10+H..      the elements, C order, in the byte order the descr names
 *
 * Encoding always writes version 1.0, little-endian, C order, byte for byte as `numpy.save` does.
 * Decoding also reads versions 2.0 and 3.0 (4-byte header length), big-endian descrs and
 * `fortran_order: True` (transposed into C order); any other dtype is an error naming it.
 */
import type { NdArray, NdDtype } from "../core/storage-class.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const ALIGN = 64;
/** NumPy's `GROWTH_AXIS_MAX_DIGITS`: header room left for the first axis to grow in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

interface DtypeInfo {
  /** The little-endian descr numpy writes. */
  readonly descr: string;
  readonly size: number;
  readonly make: (buffer: ArrayBuffer, length: number) => NdArray["data"];
  readonly arrayType: string;
}

const DTYPES: Record<NdDtype, DtypeInfo> = {
  float32: { descr: "<f4", size: 4, make: (b, n) => new Float32Array(b, 0, n), arrayType: "Float32Array" },
  float64: { descr: "<f8", size: 8, make: (b, n) => new Float64Array(b, 0, n), arrayType: "Float64Array" },
  int32: { descr: "<i4", size: 4, make: (b, n) => new Int32Array(b, 0, n), arrayType: "Int32Array" },
  uint8: { descr: "|u1", size: 1, make: (b, n) => new Uint8Array(b, 0, n), arrayType: "Uint8Array" },
  int16: { descr: "<i2", size: 2, make: (b, n) => new Int16Array(b, 0, n), arrayType: "Int16Array" },
  uint16: { descr: "<u2", size: 2, make: (b, n) => new Uint16Array(b, 0, n), arrayType: "Uint16Array" },
  int64: { descr: "<i8", size: 8, make: (b, n) => new BigInt64Array(b, 0, n), arrayType: "BigInt64Array" },
};

/** descr without its byte-order character (`f4`) → dtype. */
const DTYPE_BY_CODE: Record<string, NdDtype> = {
  f4: "float32",
  f8: "float64",
  i4: "int32",
  u1: "uint8",
  i2: "int16",
  u2: "uint16",
  i8: "int64",
};

/** The `.npy` bytes of an array; equal arrays give equal bytes. Throws on an inconsistent array. */
export function encodeNpy(array: NdArray): Uint8Array {
  const info = DTYPES[array.dtype];
  if (info === undefined) throw new Error(`unsupported ndarray dtype "${array.dtype}" (supported: ${Object.keys(DTYPES).join(", ")})`);
  const shape = array.shape;
  if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`ndarray shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  if (!hasArrayType(array.data, info.arrayType)) {
    throw new Error(`ndarray of dtype ${array.dtype} needs its data in a ${info.arrayType}, got ${array.data?.constructor?.name ?? typeof array.data}`);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  if (array.data.length !== count) {
    throw new Error(`ndarray of shape (${shape.join(", ")}) holds ${count} elements, but its data has ${array.data.length}`);
  }
  const header = encodeHeader(info.descr, shape);
  const out = new Uint8Array(header.length + count * info.size);
  out.set(header, 0);
  const body = new Uint8Array(array.data.buffer, array.data.byteOffset, count * info.size);
  if (isLittleEndian() || info.size === 1) {
    out.set(body, header.length);
  } else {
    const view = new DataView(out.buffer, header.length);
    for (let i = 0; i < body.length; i += info.size) {
      for (let j = 0; j < info.size; j++) view.setUint8(i + j, body[i + info.size - 1 - j]!);
    }
  }
  return out;
}

function hasArrayType(data: unknown, arrayType: string): boolean {
  if (!ArrayBuffer.isView(data)) return false;
  // By name, so arrays made in another realm (a worker, a vm context) qualify; a Buffer is a Uint8Array.
  return data.constructor.name === arrayType || (arrayType === "Uint8Array" && data instanceof Uint8Array);
}

function encodeHeader(descr: string, shape: readonly number[]): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  if (shape.length > 0) dict += " ".repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const prefix = MAGIC.length + 2 + 2;
  const padding = ALIGN - ((prefix + dict.length + 1) % ALIGN);
  // Like numpy, a header that would already end on the boundary gets a full 64 spaces.
  const text = dict + " ".repeat(padding) + "\n";
  if (text.length > 0xffff) throw new Error("ndarray header too long for .npy format 1.0");
  const out = new Uint8Array(prefix + text.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  out[8] = text.length & 0xff;
  out[9] = text.length >> 8;
  for (let i = 0; i < text.length; i++) out[prefix + i] = text.charCodeAt(i);
  return out;
}

/** Reads `.npy` bytes; the array's data is a fresh, aligned copy. Throws with what was wrong. */
export function decodeNpy(bytes: Uint8Array): NdArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error("not a .npy file (bad magic)");
  const major = bytes[6]!;
  let headerStart: number;
  let headerLength: number;
  if (major === 1) {
    headerStart = 10;
    headerLength = bytes[8]! | (bytes[9]! << 8);
  } else if (major === 2 || major === 3) {
    headerStart = 12;
    headerLength = new DataView(bytes.buffer, bytes.byteOffset + 8, 4).getUint32(0, true);
  } else {
    throw new Error(`unsupported .npy format version ${major}.${bytes[7]}`);
  }
  if (headerStart + headerLength > bytes.length) throw new Error(".npy header runs past the end of the file");
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLength));
  const { descr, fortranOrder, shape } = parseHeader(header);
  const byteOrder = descr[0]!;
  const dtype = DTYPE_BY_CODE[descr.slice(1)];
  if (dtype === undefined || !"<>|=".includes(byteOrder)) {
    throw new Error(`unsupported .npy dtype '${descr}' (supported: ${Object.values(DTYPES).map((d) => d.descr).join(", ")})`);
  }
  const info = DTYPES[dtype];
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * info.size) {
    throw new Error(`.npy data has ${bytes.length - dataStart} bytes, shape (${shape.join(", ")}) of ${descr} needs ${count * info.size}`);
  }
  const buffer = new ArrayBuffer(count * info.size);
  const copy = new Uint8Array(buffer);
  copy.set(bytes.subarray(dataStart));
  const swap = info.size > 1 && (byteOrder === ">" ? isLittleEndian() : byteOrder === "<" ? !isLittleEndian() : false);
  if (swap) copy.set(swapBytes(copy, info.size));
  let data = info.make(buffer, count);
  if (fortranOrder && shape.length > 1) data = transposeToC(data, shape);
  return { dtype, shape, data };
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(header: string): NpyHeader {
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`malformed .npy header: ${header.trim()}`);
  }
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => {
      const n = Number(s.replace(/L$/, ""));
      if (!Number.isInteger(n) || n < 0) throw new Error(`malformed .npy shape (${shapeText})`);
      return n;
    });
  return { descr, fortranOrder: fortran === "True", shape };
}

function swapBytes(bytes: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += size) {
    for (let j = 0; j < size; j++) out[i + j] = bytes[i + size - 1 - j]!;
  }
  return out;
}

/** Fortran-order elements → C-order elements of the same shape. */
function transposeToC(data: NdArray["data"], shape: readonly number[]): NdArray["data"] {
  const out = new (data.constructor as new (n: number) => NdArray["data"])(data.length);
  const rank = shape.length;
  const fStrides = new Array<number>(rank);
  let stride = 1;
  for (let k = 0; k < rank; k++) {
    fStrides[k] = stride;
    stride *= shape[k]!;
  }
  const index = new Array<number>(rank).fill(0);
  for (let c = 0; c < data.length; c++) {
    let f = 0;
    for (let k = 0; k < rank; k++) f += index[k]! * fStrides[k]!;
    (out as unknown as unknown[])[c] = (data as unknown as unknown[])[f];
    for (let k = rank - 1; k >= 0; k--) {
      if (++index[k]! < shape[k]!) break;
      index[k] = 0;
    }
  }
  return out;
}

let littleEndian: boolean | undefined;

function isLittleEndian(): boolean {
  littleEndian ??= new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  return littleEndian;
}
