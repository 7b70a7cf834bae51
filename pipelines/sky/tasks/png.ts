/**
 * A minimal PNG encoder: 8-bit RGB, no interlace, every scanline with filter 0, one zlib IDAT chunk.
 * Layout: the 8-byte signature, then chunks of (uint32 length, 4-byte type, data, uint32 CRC-32 of type
 * and data), all big-endian: IHDR, IDAT, IEND. The output is deterministic for a given zlib.
 */
import { deflateSync } from "node:zlib";

export interface RgbImage {
  readonly width: number;
  readonly height: number;
  /** Row-major, 3 bytes (red, green, blue) per pixel. */
  readonly rgb: Uint8Array;
}

const SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
const CRC_TABLE = buildCrcTable();

/** Encodes an RGB image as PNG bytes. */
export function encodePng(image: RgbImage): Uint8Array {
  const { width, height, rgb } = image;
  if (rgb.length !== width * height * 3) throw new Error(`expected ${width * height * 3} bytes of RGB, got ${rgb.length}`);
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type RGB, deflate, filter method 0, no interlace
  const rowBytes = width * 3;
  const scanlines = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) scanlines.set(rgb.subarray(y * rowBytes, (y + 1) * rowBytes), y * (rowBytes + 1) + 1);
  const chunks = [
    encodeChunk("IHDR", header),
    encodeChunk("IDAT", deflateSync(scanlines, { level: 9 })),
    encodeChunk("IEND", new Uint8Array(0)),
  ];
  return concatBytes([SIGNATURE, ...chunks]);
}

/** The CRC-32 (ISO 3309, as PNG uses it) of `bytes`. */
export function computeCrc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC_TABLE[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, computeCrc32(out.subarray(4, 8 + data.length)));
  return out;
}

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
