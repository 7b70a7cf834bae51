/**
 * Reads one pipeline file's text into validated data, keeping its YAML source for positions. Of all the
 * schema's complaints the one earliest in the file is reported (the user fixes it and reruns).
 */
import { describeIssue, describeValue, type DescribedIssue, type SchemaIssue } from "./describe-issue.js";
import { suggestName } from "./suggest-name.js";
import type { PipelineError } from "./pipeline-error.js";
import { PipelineFileSchema, validatePipelineFile, type PipelineFile } from "./pipeline-schema.js";
import { listSchemaKeys } from "./schema-keys.js";
import { STORAGE_CLASSES } from "./storage-class.js";
import { YamlSource, type YamlPath } from "./yaml-source.js";

export interface ParsedPipelineFile {
  readonly source: YamlSource;
  readonly data: PipelineFile;
}

export type PipelineFileParse = { ok: true; file: ParsedPipelineFile } | { ok: false; error: PipelineError };

/** `tasks.isr.timeout`, `imports[0].location`. */
export function formatYamlPath(path: YamlPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? segment : `.${segment}`;
  }
  return out;
}

/**
 * The file's top level without its `x-` keys: a place for the anchors that merge keys use
 * (`x-common: &common {…}`, then `<<: *common` in tasks), as in Compose files; nothing reads them.
 */
function withoutExtensions(raw: unknown): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  return Object.fromEntries(Object.entries(raw).filter(([key]) => !key.startsWith("x-")));
}

/** Parses and validates `text`; `file` is the name shown in messages. */
export function parsePipelineFile(file: string, text: string): PipelineFileParse {
  const parsed = YamlSource.parse(file, text);
  if (!parsed.ok) return parsed;
  const source = parsed.source;
  const raw = source.toJS();
  if (raw === null || raw === undefined) {
    return { ok: false, error: source.errorAt([], "the pipeline file is empty", { hint: "a pipeline needs at least `tasks:`" }) };
  }
  const result = validatePipelineFile(withoutExtensions(raw));
  if (result.success) return { ok: true, file: { source, data: result.data } };
  const described = (result.error.issues as unknown as SchemaIssue[]).flatMap((issue) =>
    describeIssue(issue, {
      root: raw,
      nameOf: formatYamlPath,
      keysAt: (path) => listSchemaKeys(PipelineFileSchema, path)?.keys,
    }).map((d) => reword(d, issue, raw)),
  );
  return { ok: false, error: toError(source, earliest(source, described)) };
}

/** Storage classes and input transfers are named as such, with the nearest one as the hint. */
function reword(described: DescribedIssue, issue: SchemaIssue, raw: unknown): DescribedIssue {
  const last = described.path[described.path.length - 1];
  if (issue.code === "invalid_value" && last === "storage") {
    const found = described.path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[String(k)], raw);
    const name = typeof found === "string" ? found : describeValue(found);
    return {
      ...described,
      summary: `unknown storage class ${JSON.stringify(name)} in ${formatYamlPath(described.path.slice(0, -1))}`,
      hint: suggestName(name, STORAGE_CLASSES) ?? `storage classes: ${STORAGE_CLASSES.join(", ")}`,
    };
  }
  if (issue.code === "invalid_value" && last === "transfer" && described.path[0] === "inputs") {
    const found = described.path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[String(k)], raw);
    const name = typeof found === "string" ? found : describeValue(found);
    return {
      ...described,
      summary: `unknown transfer ${JSON.stringify(name)} in ${formatYamlPath(described.path.slice(0, -1))}`,
      hint:
        suggestName(name, ["reference", "link", "copy"]) ??
        "transfer: reference (the default: files stay where they are), link (hard links in the repository) or copy (a snapshot in the repository)",
    };
  }
  return described;
}

function earliest(source: YamlSource, issues: readonly DescribedIssue[]): DescribedIssue {
  let best = issues[0]!;
  let bestAt = Infinity;
  for (const issue of issues) {
    const span = source.spanOf(issue.path, issue.target);
    const at = span === undefined ? Infinity : span.line * 1e6 + span.column;
    if (at < bestAt) {
      best = issue;
      bestAt = at;
    }
  }
  return best;
}

function toError(source: YamlSource, issue: DescribedIssue): PipelineError {
  return source.errorAt(issue.path, issue.summary, { hint: issue.hint, target: issue.target });
}
