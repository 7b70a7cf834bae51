import { Writable } from "node:stream";

/** A writable that keeps what is written, for asserting on reporter output. */
export function collectOutput(): { out: Writable; text: () => string; lines: () => string[] } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const text = () => chunks.join("");
  return { out, text, lines: () => text().split("\n").slice(0, -1) };
}
