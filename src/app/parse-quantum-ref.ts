import { encodeDataId, parseDataId, type DataId } from "../core/data-id.js";
import type { DimensionUniverse } from "../core/dimensions.js";
import { UsageError } from "../core/errors.js";

/**
 * Parses `label@visit=12,detector=3` (a quantum) or `type@…` (a dataset) against the universe. A bare
 * `label` or `label@` names the quantum with the empty data ID.
 */
export function parseQuantumRef(text: string, universe: DimensionUniverse, what: "quantum" | "dataset"): { name: string; dataId: DataId; key: string } {
  const at = text.indexOf("@");
  const name = at < 0 ? text : text.slice(0, at);
  const idText = at < 0 ? "" : text.slice(at + 1);
  if (name === "") throw new UsageError(`expected a ${what} like ${what === "quantum" ? "calibrate" : "calexp"}@visit=12,detector=3, got '${text}'`);
  const parsed = parseDataId(idText, universe);
  if (!parsed.ok) {
    throw new UsageError(`${what} '${text}': ${parsed.message} at column ${parsed.column + at + 1}`);
  }
  return { name, dataId: parsed.dataId, key: encodeDataId(parsed.dataId) };
}
