import { UsageError } from "./errors.js";
import { LEGACY_INPUT_COLLECTION } from "./input-collection.js";

/**
 * The longest output collection name, in UTF-8 bytes. A registry key holds at most 1,978 bytes
 * (store/registry-key.ts) and a collection's name is part of the keys of its datasets, quanta and
 * stamps: refused before a run starts, rather than by the first key that does not fit, which could be
 * a stamp written after every quantum ran.
 */
export const MAX_COLLECTION_BYTES = 512;

/**
 * Refuses an output collection a run must not write into: the empty name (or only blanks), a name
 * with control characters or longer than MAX_COLLECTION_BYTES, and the input collections (`raw`,
 * `raw/<pipeline>`, anything under `raw/`), which hold what ingest read from files: a run writing
 * there would mix results with inputs and the next ingest would remove them. `origin` says where the
 * name came from, for the message.
 */
export function checkOutputCollection(name: string, origin: "--output" | "the pipeline's name"): void {
  const shown = JSON.stringify(name);
  if (name.trim() === "") {
    throw new UsageError(`${origin} names an empty collection`, "name the output collection, or leave --output out for the pipeline's name");
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new UsageError(`output collection ${shown} holds a control character`, "choose a printable name");
  const bytes = Buffer.byteLength(name, "utf8");
  if (bytes > MAX_COLLECTION_BYTES) {
    throw new UsageError(
      `output collection ${shown.length > 80 ? `${shown.slice(0, 60)}…" (${name.length} characters)` : shown} is ${bytes} bytes long, more than ${MAX_COLLECTION_BYTES}`,
      "choose a shorter name: a collection's name is part of every registry key of its datasets, quanta and stamps",
    );
  }
  if (name === LEGACY_INPUT_COLLECTION || name.startsWith(`${LEGACY_INPUT_COLLECTION}/`)) {
    throw new UsageError(
      `output collection ${shown} (${origin}) is an input collection: ${LEGACY_INPUT_COLLECTION} and ${LEGACY_INPUT_COLLECTION}/… hold ingested inputs`,
      origin === "--output" ? "choose another name, or leave --output out for the pipeline's name" : "name another output collection with --output",
    );
  }
}
