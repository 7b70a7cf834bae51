import { encodeDataId, parseDataIdRef, type DataId } from "../core/data-id.js";
import type { DimensionUniverse } from "../core/dimensions.js";
import { UsageError } from "../core/errors.js";

/**
 * Parses `label@visit=12,detector=3` (a quantum) or `type@…` (a dataset) against the universe. A bare
 * `label` or `label@` names the quantum with the empty data ID.
 */
export function parseQuantumRef(text: string, universe: DimensionUniverse, what: "quantum" | "dataset"): { name: string; dataId: DataId; key: string } {
  const name = text.split("@", 1)[0]!;
  if (name === "") throw new UsageError(`expected a ${what} like ${what === "quantum" ? "calibrate" : "calexp"}@visit=12,detector=3, got '${text}'`);
  const parsed = parseDataIdRef(text, universe);
  if (!parsed.ok) throw new UsageError(`${what} '${text}': ${parsed.message} at column ${parsed.column}`);
  return { name, dataId: parsed.dataId, key: encodeDataId(parsed.dataId) };
}
