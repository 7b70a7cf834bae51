/**
 * Data IDs: mappings from dimension names to values, e.g. `{visit: 12, detector: 3}`.
 *
 * Canonical encoding (used in registry keys, graph ids, and printed everywhere):
 * the dimensions sorted by name, each as `name=value`, joined by `,`; the empty data ID is ``.
 * Integers print in decimal. A string prints bare when it matches `[A-Za-z_][A-Za-z0-9_.+-]*`,
 * otherwise in single quotes with `'` doubled. Since each dimension has one type, the encoding is
 * unambiguous, and equal data IDs (in any key order) encode to equal strings.
 */
import type { DimensionUniverse } from "./dimensions.js";
import { didYouMean } from "./errors.js";

export type DataIdValue = number | string;
export type DataId = Readonly<Record<string, DataIdValue>>;

const BARE_STRING = /^[A-Za-z_][A-Za-z0-9_.+-]*$/;

export function formatDataIdValue(value: DataIdValue): string {
  if (typeof value === "number") return String(value);
  return BARE_STRING.test(value) ? value : `'${value.replace(/'/g, "''")}'`;
}

/** The canonical encoding of a data ID (see the module comment). */
export function encodeDataId(dataId: DataId): string {
  const names = Object.keys(dataId);
  if (names.length === 0) return "";
  if (names.length === 1) return `${names[0]}=${formatDataIdValue(dataId[names[0]!]!)}`;
  names.sort();
  let out = "";
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (i > 0) out += ",";
    out += name + "=" + formatDataIdValue(dataId[name]!);
  }
  return out;
}

/** The data ID restricted to `dimensions` (which must all be present). */
export function projectDataId(dataId: DataId, dimensions: readonly string[]): DataId {
  const out: Record<string, DataIdValue> = {};
  for (const d of dimensions) {
    const v = dataId[d];
    if (v === undefined) throw new Error(`internal error: data ID ${encodeDataId(dataId)} has no dimension ${d}`);
    out[d] = v;
  }
  return out;
}

/** Orders data IDs by their canonical encoding's fields: integers numerically, strings lexicographically. */
export function compareDataIds(a: DataId, b: DataId): number {
  const names = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const n of names) {
    const x = a[n];
    const y = b[n];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (typeof x === "number" && typeof y === "number") return x - y;
    return String(x) < String(y) ? -1 : 1;
  }
  return 0;
}

export type DataIdParse = { ok: true; dataId: DataId } | { ok: false; message: string; column: number };

/**
 * Parses `visit=12,detector=3` (or `band='r'`) against the universe: unknown dimensions, repeated
 * dimensions and values that do not fit their type are errors with a 1-based column.
 */
export function parseDataId(text: string, universe: DimensionUniverse): DataIdParse {
  const out: Record<string, DataIdValue> = {};
  if (text.trim() === "") return { ok: true, dataId: out };
  let pos = 0;
  const fail = (message: string, at: number): DataIdParse => ({ ok: false, message, column: at + 1 });
  const skipSpaces = (at: number): number => {
    while (at < text.length && (text[at] === " " || text[at] === "\t")) at++;
    return at;
  };
  for (;;) {
    pos = skipSpaces(pos);
    const eq = text.indexOf("=", pos);
    if (eq < 0) return fail(`expected 'name=value', got '${text.slice(pos)}'`, pos);
    const name = text.slice(pos, eq).trim();
    if (!(name in universe)) {
      const hint = didYouMean(name, Object.keys(universe));
      const known = Object.keys(universe).sort().join(", ");
      return fail(`unknown dimension '${name}' (${hint ?? `known: ${known || "none"}`})`, pos);
    }
    if (name in out) return fail(`dimension '${name}' given twice`, pos);
    const valueStart = skipSpaces(eq + 1);
    const value = readValue(text, valueStart);
    if (!value.ok) return fail(value.message, valueStart);
    pos = skipSpaces(value.end);
    if (universe[name] === "int") {
      if (value.quoted) return fail(`dimension '${name}' is an int, got the string '${value.raw}'`, valueStart);
      if (!/^-?[0-9]+$/.test(value.raw) || !Number.isSafeInteger(Number(value.raw))) {
        return fail(`dimension '${name}' is an int, got '${value.raw}'`, valueStart);
      }
      out[name] = Number(value.raw);
    } else {
      out[name] = value.raw;
    }
    if (pos >= text.length) break;
    if (text[pos] !== ",") return fail(`expected ',' after the value of '${name}'`, pos);
    pos++;
    if (skipSpaces(pos) >= text.length) return fail("expected 'name=value' after ','", pos);
  }
  return { ok: true, dataId: out };
}

export type DataIdRefParse = { ok: true; name: string; dataId: DataId } | { ok: false; message: string; column: number };

/**
 * Splits `name@visit=12,detector=3` (a dataset, a quantum or a target) and parses its data ID; a bare
 * `name` or `name@` has the empty data ID. Error columns count from the start of `text`.
 */
export function parseDataIdRef(text: string, universe: DimensionUniverse): DataIdRefParse {
  const at = text.indexOf("@");
  const name = at < 0 ? text : text.slice(0, at);
  const parsed = parseDataId(at < 0 ? "" : text.slice(at + 1), universe);
  if (!parsed.ok) return { ok: false, message: parsed.message, column: parsed.column + at + 1 };
  return { ok: true, name, dataId: parsed.dataId };
}

type ValueRead = { ok: true; raw: string; quoted: boolean; end: number } | { ok: false; message: string };

/** Reads a bare value (up to the next comma) or a single-quoted one ('' is a quote) at `start`. */
function readValue(text: string, start: number): ValueRead {
  if (text[start] !== "'") {
    const comma = text.indexOf(",", start);
    const end = comma < 0 ? text.length : comma;
    return { ok: true, raw: text.slice(start, end).trim(), quoted: false, end };
  }
  let raw = "";
  let i = start + 1;
  for (;;) {
    if (i >= text.length) return { ok: false, message: "unterminated string" };
    if (text[i] === "'") {
      if (text[i + 1] !== "'") return { ok: true, raw, quoted: true, end: i + 1 };
      raw += "'";
      i += 2;
      continue;
    }
    raw += text[i];
    i++;
  }
}
