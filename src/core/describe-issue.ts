/**
 * Turns a zod validation issue into words a user can act on (what was expected, what was found, the
 * nearest valid name), and says whether to point at the key or at the value. Issues are duck-typed so
 * that task config schemas from any zod 4 copy work.
 */
import { suggestName } from "./suggest-name.js";
import type { SpanTarget, YamlPath } from "./yaml-source.js";

/** The fields of a zod 4 issue that we read. */
export interface SchemaIssue {
  readonly code: string;
  readonly path: readonly PropertyKey[];
  readonly message: string;
  readonly expected?: string;
  readonly values?: readonly unknown[];
  readonly keys?: readonly string[];
  readonly errors?: readonly (readonly SchemaIssue[])[];
}

export interface DescribedIssue {
  /** The path of the value (or, for an unknown key, of the key) the issue is about. */
  readonly path: YamlPath;
  readonly target: SpanTarget;
  readonly summary: string;
  readonly hint?: string;
}

export interface DescribeOptions {
  /** The value that was validated, to say what was found. */
  readonly root: unknown;
  /** Names the place of a path in messages, e.g. `tasks.isr.timeout`; "" for the top level of a file. */
  nameOf(path: YamlPath): string;
  /** The keys accepted at the path of an `unrecognized_keys` issue, for the hint. */
  keysAt(path: YamlPath): readonly string[] | undefined;
}

const NOUNS: Readonly<Record<string, string>> = {
  number: "a number",
  int: "an integer",
  string: "a string",
  boolean: "true or false",
  object: "a mapping",
  record: "a mapping",
  map: "a mapping",
  array: "a list",
  tuple: "a list",
  null: "null",
};

function nounOf(expected: string | undefined): string {
  return expected === undefined ? "another value" : (NOUNS[expected] ?? expected);
}

/** How a found value is named in a message: `"abc"`, `12`, `a list`, `an empty value`. */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
}

function valueAt(root: unknown, path: YamlPath): unknown {
  let current = root;
  for (const segment of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, unknown>)[String(segment)];
  }
  return current;
}

function toPath(path: readonly PropertyKey[]): YamlPath {
  return path.map((p) => (typeof p === "number" ? p : String(p)));
}

/** One issue becomes one or more described problems (an unknown-keys issue names each key). */
export function describeIssue(issue: SchemaIssue, options: DescribeOptions): DescribedIssue[] {
  const path = toPath(issue.path);
  const found = valueAt(options.root, path);
  const place = options.nameOf(path) || "the top level";
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = options.keysAt(path) ?? [];
      return (issue.keys ?? []).map((key) => ({
        path: [...path, key],
        target: "key" as const,
        summary: options.nameOf(path) === "" ? `unknown top-level key "${key}"` : `unknown key "${key}" in ${options.nameOf(path)}`,
        hint: suggestName(key, known) ?? (known.length > 0 ? `expected one of: ${known.join(", ")}` : undefined),
      }));
    }
    case "invalid_type": {
      if (found === undefined && path.length > 0) {
        const parent = path.slice(0, -1);
        const key = String(path[path.length - 1]);
        const where = options.nameOf(parent) === "" ? "" : ` in ${options.nameOf(parent)}`;
        return [{ path: parent, target: "key", summary: `missing "${key}"${where} (${nounOf(issue.expected)})` }];
      }
      return [{ path, target: "value", summary: `${place}: expected ${nounOf(issue.expected)}, got ${describeValue(found)}` }];
    }
    case "invalid_value": {
      const values = (issue.values ?? []).map(String);
      const hint = typeof found === "string" ? suggestName(found, values) : undefined;
      return [
        {
          path,
          target: "value",
          summary: `${place}: expected one of ${values.join(", ")}, got ${describeValue(found)}`,
          hint,
        },
      ];
    }
    case "invalid_union": {
      const expected = [...new Set((issue.errors ?? []).map((branch) => nounOf(branch[0]?.expected)))];
      return [{ path, target: "value", summary: `${place}: expected ${expected.join(" or ")}, got ${describeValue(found)}` }];
    }
    default: {
      const message = issue.message.replace(/^Invalid input: /, "").replace(/^./, (c) => c.toLowerCase());
      return [{ path, target: "value", summary: `${place}: ${message}, got ${describeValue(found)}` }];
    }
  }
}
