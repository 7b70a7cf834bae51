import type { Writable } from "node:stream";

/**
 * Resolves once the stream has no backlog (everything written so far was handed to the OS), or when it
 * closes or fails: a reporter's `close()` awaits it so the last lines are not lost when the CLI exits.
 */
export function waitForDrain(out: Writable | NodeJS.WriteStream): Promise<void> {
  if (!out.writableNeedDrain || out.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      out.off("drain", done);
      out.off("close", done);
      out.off("error", done);
      resolve();
    };
    out.once("drain", done);
    out.once("close", done);
    out.once("error", done);
  });
}
