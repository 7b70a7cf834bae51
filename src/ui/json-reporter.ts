/**
 * `--json`: every event as one line of JSON on the given stream (stdout), in the order received, and
 * nothing else. The line is `JSON.stringify(event)`, so its shape is exactly `QuantaEvent` (see
 * core/events.ts for the fields and the version rule). Every line any command prints under `--json` is
 * made by `formatJsonLine`: by this reporter for runs and `status`, by `printJsonEvents` for the
 * commands that print a few lines when they are done.
 *
 * Lines are gathered and written in chunks (at 64 KiB, FLUSH_MS after the first line of a chunk, and
 * on close), not one write per event: a no-op run over 100,000 quanta would otherwise spend a fifth of
 * its time in write calls, and a run of commands, which complete one per turn of the event loop,
 * would write once per quantum and wake the reader as often. A consumer reading the stream line by
 * line sees no difference but a delay of at most FLUSH_MS.
 */
import type { Writable } from "node:stream";
import { stampEvent, type EventBody, type QuantaEvent, type Reporter } from "../core/events.js";
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
      buffer += formatJsonLine(event);
      if (buffer.length >= CHUNK) flush();
      else if (timer === undefined) timer = setTimeout(flush, FLUSH_MS);
    },
    async close() {
      flush();
      await waitForDrain(out);
    },
  };
}

/** One event as its `--json` line. */
export function formatJsonLine(event: QuantaEvent): string {
  return JSON.stringify(event) + "\n";
}

/** Prints events as `--json` lines through `out`, stamped with the current time, in chunks of CHUNK. */
export function printJsonEvents(out: (text: string) => void, bodies: Iterable<EventBody>): void {
  const time = Date.now();
  let text = "";
  for (const body of bodies) {
    text += formatJsonLine(stampEvent(body, time));
    if (text.length >= CHUNK) (out(text), (text = ""));
  }
  if (text !== "") out(text);
}
