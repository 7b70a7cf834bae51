/**
 * `--json`: every event as one line of JSON on the given stream (stdout), in the order received, and
 * nothing else. The line is `JSON.stringify(event)`, so its shape is exactly `QuantaEvent` (see
 * core/events.ts for the fields and the version rule).
 *
 * Lines are gathered and written in chunks (at 64 KiB, FLUSH_MS after the first line of a chunk, and
 * on close), not one write per event: a no-op run over 100,000 quanta would otherwise spend a fifth of
 * its time in write calls, and a run of commands, which complete one per turn of the event loop,
 * would write once per quantum and wake the reader as often. A consumer reading the stream line by
 * line sees no difference but a delay of at most FLUSH_MS.
 */
import type { Writable } from "node:stream";
import type { QuantaEvent, Reporter } from "../core/events.js";
import { waitForDrain } from "./wait-for-drain.js";

export interface JsonReporterOptions {
  out: Writable | NodeJS.WriteStream;
}

const CHUNK = 64 * 1024;
const FLUSH_MS = 20;

export function createJsonReporter(options: JsonReporterOptions): Reporter {
  const { out } = options;
  let buffer = "";
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (buffer === "") return;
    const text = buffer;
    buffer = "";
    out.write(text);
  };
  return {
    onEvent(event: QuantaEvent) {
      buffer += JSON.stringify(event) + "\n";
      if (buffer.length >= CHUNK) flush();
      else if (timer === undefined) timer = setTimeout(flush, FLUSH_MS);
    },
    async close() {
      flush();
      await waitForDrain(out);
    },
  };
}
