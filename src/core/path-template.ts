/**
 * Path templates of the `inputs:` section: `data/raw/{band}/visit{visit}/det{detector}.npy`.
 *
 * A `{name}` field stands for one dimension's value and matches one or more characters other than `/`;
 * everything else matches itself. A field may appear more than once (all occurrences must agree). Two
 * fields must be separated by at least one literal character, or the split would be ambiguous.
 * Templates use `/` as separator and are absolute once the pipeline loader has resolved them.
 *
 * `root` is the directory part before the first field: the directory that ingest walks.
 */
import type { DataId, DataIdValue } from "./data-id.js";
import type { DimensionUniverse } from "./dimensions.js";

export interface PathTemplate {
  /** The template text. */
  readonly text: string;
  /** The directory to walk: the template's directories before the first field (no trailing `/`). */
  readonly root: string;
  /** The dimensions named by the fields, in order of first appearance. */
  readonly dimensions: readonly string[];
  /** Maps a path relative to `root` to a data ID, or says why it does not fit. */
  match(relativePath: string): PathMatch;
  /**
   * Whether a path relative to `root` is this template with each field written as its value in
   * `dataId` (`visit12` for visit=12, not `visit012`): such paths are a function of their data IDs.
   */
  renders(relativePath: string, dataId: DataId): boolean;
}

export type PathMatch =
  | { ok: true; dataId: DataId }
  | { ok: false; reason: "no-match"; message: string }
  | { ok: false; reason: "bad-value"; message: string };

export type PathTemplateParse = { ok: true; template: PathTemplate } | { ok: false; message: string };

const FIELD = /\{([^{}]*)\}/g;
const INT = /^-?[0-9]+$/;

/** Parses a template and checks its fields against the universe. */
export function parsePathTemplate(text: string, universe: DimensionUniverse): PathTemplateParse {
  const firstField = text.indexOf("{");
  if (firstField < 0) {
    const slash = text.lastIndexOf("/");
    return buildTemplate(text, slash < 0 ? "" : text.slice(0, slash), [], []);
  }
  if (/[{}]/.test(text.replace(FIELD, ""))) {
    return { ok: false, message: `path template '${text}' has an unmatched '{' or '}'` };
  }
  const rootEnd = text.lastIndexOf("/", firstField);
  const root = rootEnd < 0 ? "" : text.slice(0, rootEnd);
  const rest = rootEnd < 0 ? text : text.slice(rootEnd + 1);
  const literals: string[] = [];
  const fields: string[] = [];
  let last = 0;
  for (const m of rest.matchAll(FIELD)) {
    const name = m[1]!.trim();
    if (name === "") return { ok: false, message: `path template '${text}' has an empty field '{}'` };
    if (!(name in universe)) {
      const known = Object.keys(universe).sort().join(", ");
      return {
        ok: false,
        message: `path template '${text}' names '{${name}}', which is not a dimension (known: ${known || "none"})`,
      };
    }
    const literal = rest.slice(last, m.index);
    if (fields.length > 0 && literal === "") {
      return {
        ok: false,
        message: `path template '${text}' has fields '{${fields[fields.length - 1]}}{${name}}' with nothing between them`,
      };
    }
    literals.push(literal);
    fields.push(name);
    last = m.index! + m[0].length;
  }
  literals.push(rest.slice(last));
  return buildTemplate(text, root, literals, fields, universe);
}

function buildTemplate(
  text: string,
  root: string,
  literals: string[],
  fields: string[],
  universe: DimensionUniverse = {},
): PathTemplateParse {
  const fixed = fields.length === 0;
  const pattern = fixed
    ? undefined
    : new RegExp("^" + literals.map(escapeRegExp).join("([^/]+?)") + "$");
  const fixedName = fixed ? (root === "" ? text : text.slice(root.length + 1)) : "";
  const dimensions = [...new Set(fields)];
  const template: PathTemplate = {
    text,
    root,
    dimensions,
    match(relativePath: string): PathMatch {
      if (fixed) {
        return relativePath === fixedName
          ? { ok: true, dataId: {} }
          : { ok: false, reason: "no-match", message: `does not fit the template '${text}'` };
      }
      const m = pattern!.exec(relativePath);
      if (m === null) return { ok: false, reason: "no-match", message: `does not fit the template '${text}'` };
      const dataId: Record<string, DataIdValue> = {};
      for (let i = 0; i < fields.length; i++) {
        const name = fields[i]!;
        const raw = m[i + 1]!;
        let value: DataIdValue = raw;
        if (universe[name] === "int") {
          if (!INT.test(raw)) {
            return { ok: false, reason: "bad-value", message: `dimension '${name}' is an int, got '${raw}'` };
          }
          value = Number(raw);
          if (!Number.isSafeInteger(value)) {
            return { ok: false, reason: "bad-value", message: `dimension '${name}' is an int, '${raw}' is too large` };
          }
        }
        const seen = dataId[name];
        if (seen !== undefined && seen !== value) {
          return {
            ok: false,
            reason: "bad-value",
            message: `dimension '${name}' appears twice with different values ('${String(seen)}' and '${raw}')`,
          };
        }
        dataId[name] = value;
      }
      return { ok: true, dataId };
    },
    renders(relativePath: string, dataId: DataId): boolean {
      if (fixed) return relativePath === fixedName;
      let at = 0;
      for (let i = 0; i < fields.length; i++) {
        const value = String(dataId[fields[i]!]);
        if (!relativePath.startsWith(literals[i]!, at) || !relativePath.startsWith(value, (at += literals[i]!.length))) return false;
        at += value.length;
      }
      const last = literals[fields.length]!;
      return relativePath.length === at + last.length && relativePath.endsWith(last);
    },
  };
  return { ok: true, template };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
