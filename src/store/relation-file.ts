/**
 * Relation files of the `inputs:` section: rows of dimension values that belong together, e.g. which
 * (visit, detector) overlap which (tract, patch).
 *
 * Two formats, chosen by extension:
 * - `.json`: an array of objects, one per row, each with exactly the relation's dimensions as keys;
 * - anything else: CSV with a header row naming the relation's dimensions (in any order), then one row
 *   per line; fields may be double-quoted (`""` for a quote); blank lines and lines starting with `#`
 *   are skipped.
 * Values are checked against the dimension types (`int` must be an integer). Every problem is reported
 * as `file:line: message`; a file with any problem yields no rows.
 */
import { readFile } from "node:fs/promises";
import { LineCounter, isMap, isScalar, isSeq, parseDocument } from "yaml";
import type { DataId, DataIdValue } from "../core/data-id.js";
import type { DimensionUniverse } from "../core/dimensions.js";

export interface RelationFileSpec {
  /** The file, as it should be named in messages. */
  file: string;
  /** The relation's dimensions. */
  dimensions: readonly string[];
  universe: DimensionUniverse;
}

export interface RelationProblem {
  file: string;
  line: number;
  message: string;
}

export type RelationParse = { ok: true; rows: DataId[] } | { ok: false; problems: RelationProblem[] };

/** Reads and parses a relation file; the bytes are returned too (ingest stores them as a blob). */
export async function readRelationFile(spec: RelationFileSpec): Promise<{ bytes: Buffer; result: RelationParse }> {
  const bytes = await readFile(spec.file);
  return { bytes, result: parseRelationText(bytes.toString("utf8"), spec) };
}

export function parseRelationText(text: string, spec: RelationFileSpec): RelationParse {
  return spec.file.toLowerCase().endsWith(".json") ? parseJsonRows(text, spec) : parseCsvRows(text, spec);
}

function parseCsvRows(text: string, spec: RelationFileSpec): RelationParse {
  const problems: RelationProblem[] = [];
  const problem = (line: number, message: string) => problems.push({ file: spec.file, line, message });
  const lines = text.split(/\r?\n/);
  let header: string[] | undefined;
  let headerLine = 0;
  const rows: DataId[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === "" || line.startsWith("#")) continue;
    const fields = splitCsvLine(line);
    if (fields === undefined) {
      problem(i + 1, "unterminated quoted field");
      continue;
    }
    if (header === undefined) {
      header = fields.map((f) => f.trim());
      headerLine = i + 1;
      checkColumns(header, spec, (message) => problem(headerLine, message));
      if (problems.length > 0) return { ok: false, problems };
      continue;
    }
    if (fields.length !== header.length) {
      problem(i + 1, `expected ${header.length} fields (${header.join(", ")}), found ${fields.length}`);
      continue;
    }
    const row: Record<string, DataIdValue> = {};
    for (let c = 0; c < header.length; c++) {
      const value = convertValue(header[c]!, fields[c]!.trim(), spec.universe);
      if (typeof value === "object") problem(i + 1, value.message);
      else row[header[c]!] = value;
    }
    rows.push(row);
  }
  if (header === undefined) problem(1, `no header row (expected the columns ${spec.dimensions.join(", ")})`);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rows };
}

function parseJsonRows(text: string, spec: RelationFileSpec): RelationParse {
  const problems: RelationProblem[] = [];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? 1 : lineCounter.linePos(offset).line);
  const problem = (offset: number | undefined, message: string) =>
    problems.push({ file: spec.file, line: lineOf(offset), message });
  if (doc.errors.length > 0) {
    problem(doc.errors[0]!.pos[0], `not valid JSON: ${doc.errors[0]!.message.split("\n")[0]}`);
    return { ok: false, problems };
  }
  if (!isSeq(doc.contents)) {
    problem(doc.contents?.range?.[0], "expected an array of objects, one per row");
    return { ok: false, problems };
  }
  const rows: DataId[] = [];
  for (const item of doc.contents.items) {
    const at = (item as { range?: [number, number, number] }).range?.[0];
    if (!isMap(item)) {
      problem(at, "expected an object with the relation's dimensions as keys");
      continue;
    }
    const row: Record<string, DataIdValue> = {};
    const keys: string[] = [];
    for (const pair of item.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      keys.push(key);
      const raw = isScalar(pair.value) ? pair.value.value : undefined;
      const keyAt = isScalar(pair.key) ? pair.key.range?.[0] : at;
      if (typeof raw !== "string" && typeof raw !== "number") {
        problem(keyAt, `'${key}' must be a number or a string`);
        continue;
      }
      const value = convertValue(key, String(raw), spec.universe);
      if (typeof value === "object") problem(keyAt, value.message);
      else row[key] = value;
    }
    checkColumns(keys, spec, (message) => problem(at, message));
    rows.push(row);
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rows };
}

function checkColumns(columns: string[], spec: RelationFileSpec, report: (message: string) => void): void {
  const expected = new Set(spec.dimensions);
  const seen = new Set<string>();
  for (const c of columns) {
    if (!expected.has(c)) report(`'${c}' is not one of the relation's dimensions (${spec.dimensions.join(", ")})`);
    else if (seen.has(c)) report(`'${c}' is given twice`);
    seen.add(c);
  }
  const missing = spec.dimensions.filter((d) => !seen.has(d));
  if (missing.length > 0) report(`missing ${missing.map((m) => `'${m}'`).join(", ")}`);
}

function convertValue(name: string, raw: string, universe: DimensionUniverse): DataIdValue | { message: string } {
  if (universe[name] === "int") {
    if (!/^-?[0-9]+$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      return { message: `dimension '${name}' is an int, got '${raw}'` };
    }
    return Number(raw);
  }
  return raw;
}

/** Splits one CSV line; undefined when a quoted field is not closed. */
function splitCsvLine(line: string): string[] | undefined {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i];
        i++;
      }
      const comma = line.indexOf(",", i);
      out.push(value + (comma < 0 ? line.slice(i) : line.slice(i, comma)));
      if (comma < 0) return out;
      i = comma + 1;
    } else {
      const comma = line.indexOf(",", i);
      if (comma < 0) {
        out.push(line.slice(i));
        return out;
      }
      out.push(line.slice(i, comma));
      i = comma + 1;
    }
  }
}
