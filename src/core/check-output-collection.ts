import { UsageError } from "./errors.js";
import { LEGACY_INPUT_COLLECTION } from "./input-collection.js";

/**
 * Refuses an output collection a run must not write into: the empty name (or only blanks), a name
 * with control characters, and the input collections (`raw`, `raw/<pipeline>`, anything under
 * `raw/`), which hold what ingest read from files: a run writing there would mix results with inputs
 * and the next ingest would remove them. `origin` says where the name came from, for the message.
 */
export function checkOutputCollection(name: string, origin: "--output" | "the pipeline's name"): void {
  const shown = JSON.stringify(name);
  if (name.trim() === "") {
    throw new UsageError(`${origin} names an empty collection`, "name the output collection, or leave --output out for the pipeline's name");
  }
  if (/[\u0000-\u001f\u007f]/.test(name)) throw new UsageError(`output collection ${shown} holds a control character`, "choose a printable name");
  if (name === LEGACY_INPUT_COLLECTION || name.startsWith(`${LEGACY_INPUT_COLLECTION}/`)) {
    throw new UsageError(
      `output collection ${shown} (${origin}) is an input collection: ${LEGACY_INPUT_COLLECTION} and ${LEGACY_INPUT_COLLECTION}/… hold ingested inputs`,
      origin === "--output" ? "choose another name, or leave --output out for the pipeline's name" : "name another output collection with --output",
    );
  }
}
