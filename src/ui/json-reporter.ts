/**
 * `--json`: every event as one line of JSON on the given stream (stdout), in the order received, and
 * nothing else. The line is `JSON.stringify(event)`, so its shape is exactly `QuantaEvent` (see
 * core/events.ts for the fields and the version rule).
 */
import type { Writable } from "node:stream";
import type { QuantaEvent, Reporter } from "../core/events.js";
import { waitForDrain } from "./wait-for-drain.js";

export interface JsonReporterOptions {
  out: Writable | NodeJS.WriteStream;
}

export function createJsonReporter(options: JsonReporterOptions): Reporter {
  const { out } = options;
  return {
    onEvent(event: QuantaEvent) {
      out.write(JSON.stringify(event) + "\n");
    },
    async close() {
      await waitForDrain(out);
    },
  };
}
