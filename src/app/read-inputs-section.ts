/**
 * A small reader of just the `parameters:`, `dimensions:` and `inputs:` sections of a pipeline file,
 * for `quanta ingest` until the full loader (load-pipeline.ts) is wired in.
 *
 *   dimensions: { visit: int, band: string }
 *   inputs:
 *     raw:      { path: "data/raw/{band}/visit{visit}.npy", storage: ndarray, prerequisite: false }
 *     overlaps: { path: "data/overlaps.csv", relation: [visit, tract] }
 *
 * `${name}` in a path is replaced by the parameter's value; relative paths are resolved against the
 * directory of the pipeline file. Without `storage`, it follows the extension: `.npy` ndarray,
 * `.json` json, `.txt` text, anything else bytes.
 */
import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parse } from "yaml";
import type { DimensionType, DimensionUniverse } from "../core/dimensions.js";
import { DIMENSION_TYPES } from "../core/dimensions.js";
import { UsageError, didYouMean } from "../core/errors.js";
import type { InputSpec } from "../core/pipeline.js";
import type { StorageClass } from "../core/storage-class.js";
import { STORAGE_CLASSES } from "../core/storage-class.js";

export interface InputsSection {
  dimensions: DimensionUniverse;
  inputs: InputSpec[];
}

export function readInputsSection(file: string): InputsSection {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read pipeline ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message.split("\n")[0]}`);
  }
  const top = asObject(doc, `${file}: expected a mapping at the top level`);
  const parameters = top.parameters === undefined ? {} : asObject(top.parameters, `${file}: 'parameters' must be a mapping`);
  const dimensions = readDimensions(file, top.dimensions);
  const inputsNode = top.inputs === undefined ? {} : asObject(top.inputs, `${file}: 'inputs' must be a mapping`);
  const base = dirname(resolve(file));
  const inputs: InputSpec[] = [];
  for (const [type, raw] of Object.entries(inputsNode)) {
    const where = `${file}: inputs.${type}`;
    const entry = asObject(raw, `${where}: expected { path: ..., storage: ... } or { path: ..., relation: [...] }`);
    if (typeof entry.path !== "string") throw new UsageError(`${where}: 'path' must be a string`);
    const path = resolvePath(base, substitute(entry.path, parameters, where));
    if (entry.relation !== undefined) {
      const dims = readDimensionList(entry.relation, dimensions, `${where}.relation`);
      inputs.push({ kind: "relation", type, path, dimensions: dims });
      continue;
    }
    const fields = [...new Set([...path.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!.trim()))];
    for (const f of fields) checkDimension(f, dimensions, `${where}.path`);
    const storage = entry.storage === undefined ? storageFromExtension(path) : entry.storage;
    if (typeof storage !== "string" || !STORAGE_CLASSES.includes(storage as StorageClass)) {
      throw new UsageError(`${where}.storage: expected one of ${STORAGE_CLASSES.join(", ")}, found '${String(storage)}'`);
    }
    inputs.push({
      kind: "files",
      type,
      path,
      dimensions: fields,
      storage: storage as StorageClass,
      prerequisite: entry.prerequisite === true,
    });
  }
  return { dimensions, inputs };
}

function readDimensions(file: string, node: unknown): DimensionUniverse {
  if (node === undefined) return {};
  const obj = asObject(node, `${file}: 'dimensions' must be a mapping of name to type (int or string)`);
  const out: Record<string, DimensionType> = {};
  for (const [name, type] of Object.entries(obj)) {
    if (!DIMENSION_TYPES.includes(type as DimensionType)) {
      throw new UsageError(`${file}: dimensions.${name}: expected int or string, found '${String(type)}'`);
    }
    out[name] = type as DimensionType;
  }
  return out;
}

function readDimensionList(node: unknown, universe: DimensionUniverse, where: string): string[] {
  if (!Array.isArray(node) || node.some((d) => typeof d !== "string")) {
    throw new UsageError(`${where}: expected a list of dimensions`);
  }
  for (const d of node as string[]) checkDimension(d, universe, where);
  return node as string[];
}

function checkDimension(name: string, universe: DimensionUniverse, where: string): void {
  if (name in universe) return;
  throw new UsageError(`${where}: '${name}' is not a declared dimension`, didYouMean(name, Object.keys(universe)));
}

function substitute(text: string, parameters: Record<string, unknown>, where: string): string {
  return text.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    const value = parameters[name.trim()];
    if (value === undefined) {
      throw new UsageError(`${where}: unknown parameter '\${${name}}'`, didYouMean(name, Object.keys(parameters)));
    }
    return String(value);
  });
}

function resolvePath(base: string, path: string): string {
  return isAbsolute(path) ? path : resolve(base, path);
}

function storageFromExtension(path: string): StorageClass {
  if (path.endsWith(".npy")) return "ndarray";
  if (path.endsWith(".json")) return "json";
  if (path.endsWith(".txt")) return "text";
  return "bytes";
}

function asObject(node: unknown, message: string): Record<string, unknown> {
  if (node === null || typeof node !== "object" || Array.isArray(node)) throw new UsageError(message);
  return node as Record<string, unknown>;
}
