import { EventEmitter } from "node:events";

/** A stand-in for a terminal's stdout: `isTTY`, a size, and everything written kept in `chunks`. */
export class FakeTerminal extends EventEmitter {
  readonly isTTY = true;
  readonly chunks: string[] = [];
  writable = true;

  constructor(
    public columns = 80,
    public rows = 40,
  ) {
    super();
  }

  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    this.chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString());
    const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    callback?.();
    return true;
  }

  get text(): string {
    return this.chunks.join("");
  }

  asStream(): NodeJS.WriteStream {
    return this as unknown as NodeJS.WriteStream;
  }
}
