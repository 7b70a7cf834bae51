/**
 * The grammar of a command task's template, shared by the pipeline loader (which checks every field
 * when the pipeline is loaded, pointing at it in the YAML) and the command runner (which substitutes
 * the values of each quantum).
 *
 * A field is `{scope.name…}` with scope `inputs`, `outputs`, `config`, `dataId` or `resources`:
 *
 *     {inputs.X}  {inputs.X.list}  {inputs.X.paths}  {outputs.Y}  {config.a.b}  {dataId.D}  {resources.cpus}
 *
 * `{inputs.X.list}` is a file of the input's sandbox paths, one per line; `{inputs.X.paths}` a file of
 * the read-only paths of the datasets themselves, one per line, so that a gather of 100,000 datasets
 * needs nothing placed in its sandbox (command-runner.ts).
 *
 * `{` right after `$` (`${HOME}`) is the shell's. Any other `{word}` or `{word.word…}` closed by `}` is
 * a field, and an unknown scope is an error; an unclosed `{inputs.src` (a scope, or a near miss of one,
 * followed by a dot) is an error too. Other braces (`awk '{print $1}'`, `{a,b}`) are left to the shell.
 *
 * Every substituted value is quoted for the shell according to where the field stands in the
 * template, so that no value (a path, a data ID value from a file name, a config string) is ever run
 * as shell code: outside quotes each word becomes a single-quoted word (`'a$(x)'`, a `'` as `'\''`);
 * inside `'…'` the value stays inside those quotes; inside `"…"` the characters `$`, `` ` ``, `"` and
 * `\` are escaped. A value of several words (a `multiple` input, a list in the config) is several
 * quoted words outside quotes, and one string joined by spaces inside quotes.
 *
 * That quoting is only sound where the shell reads the value once: a field inside `$( … )`,
 * `` `…` ``, `$(( … ))`, a comment or a here-document is a template error (shell-context.ts says
 * where each character of the template stands).
 */
import { scanShellContexts, type ShellQuoting } from "./shell-context.js";
import { findNearestName } from "./suggest-name.js";

export const TEMPLATE_SCOPES = ["inputs", "outputs", "config", "dataId", "resources"] as const;
export type TemplateScope = (typeof TEMPLATE_SCOPES)[number];

export type { ShellQuoting } from "./shell-context.js";

export interface TemplateField {
  readonly scope: TemplateScope;
  /** The dotted name after the scope (`src`, `opt.level`); for `{inputs.X.list}`, `X`. */
  readonly name: string;
  /** `{inputs.X.list}` or `{inputs.X.paths}`. */
  readonly list: boolean;
  /** `{inputs.X.paths}`: the list names the datasets' own files. */
  readonly paths: boolean;
  /** The field as written, braces included. */
  readonly text: string;
  /** Offset of the `{` in the template. */
  readonly index: number;
  readonly quoting: ShellQuoting;
}

export type TemplatePart = { kind: "text"; text: string } | { kind: "field"; field: TemplateField };

/** A template that does not follow the grammar: `[index, length]` of the culprit in the template. */
export interface TemplateProblem {
  readonly index: number;
  readonly length: number;
  readonly message: string;
  readonly hint?: string;
}

export type TemplateParse = { ok: true; parts: readonly TemplatePart[] } | { ok: false; problem: TemplateProblem };

export const TEMPLATE_FIELD_KINDS = "{inputs.X}, {inputs.X.list}, {inputs.X.paths}, {outputs.Y}, {config.Z}, {dataId.D} or {resources.R}";

const FIELD_START = /\{([A-Za-z_][A-Za-z0-9_.-]*)/y;

export function parseCommandTemplate(template: string): TemplateParse {
  const parts: TemplatePart[] = [];
  const contexts = scanShellContexts(template);
  let textStart = 0;
  for (let i = 0; i < template.length; i++) {
    const context = contexts[i]!;
    if (template[i] !== "{" || template[i - 1] === "$" || context.kind === "escaped") continue;
    FIELD_START.lastIndex = i;
    const m = FIELD_START.exec(template);
    if (m === null) continue;
    const end = i + m[0].length;
    if (template[end] !== "}") {
      const problem = checkUnclosed(m[1]!, i, m[0].length);
      if (problem !== undefined) return { ok: false, problem };
      continue;
    }
    const text = template.slice(i, end + 1);
    const field = readField(m[1]!, text, i, context.kind === "word" ? context.quoting : "none");
    if (!("scope" in field)) return { ok: false, problem: field };
    if (context.kind === "refused") {
      const hint = context.hint.replace(/\{config\.(name|n)\}/, text);
      return { ok: false, problem: { index: i, length: text.length, message: `template field ${text} ${context.reason}`, hint } };
    }
    if (i > textStart) parts.push({ kind: "text", text: template.slice(textStart, i) });
    parts.push({ kind: "field", field });
    textStart = end + 1;
    i = end;
  }
  if (textStart < template.length) parts.push({ kind: "text", text: template.slice(textStart) });
  return { ok: true, parts };
}

function isScopeLike(head: string): boolean {
  return (TEMPLATE_SCOPES as readonly string[]).includes(head) || findNearestName(head, TEMPLATE_SCOPES) !== undefined;
}

function checkUnclosed(body: string, index: number, length: number): TemplateProblem | undefined {
  const dot = body.indexOf(".");
  if (dot < 0 || !isScopeLike(body.slice(0, dot))) return undefined;
  return { index, length, message: `unclosed template field {${body}`, hint: `close it with "}": {${body.replace(/[.-]+$/, "")}}` };
}

function readField(body: string, text: string, index: number, quoting: ShellQuoting): TemplateField | TemplateProblem {
  const [head, ...rest] = body.split(".");
  const problem = (message: string, hint?: string): TemplateProblem => ({ index, length: text.length, message, hint });
  if (!(TEMPLATE_SCOPES as readonly string[]).includes(head!)) {
    const near = findNearestName(head!, TEMPLATE_SCOPES);
    const hint = near !== undefined && rest.length > 0 ? `did you mean {${[near, ...rest].join(".")}}?` : undefined;
    return problem(`unknown template field ${text}: expected ${TEMPLATE_FIELD_KINDS}`, hint);
  }
  const scope = head as TemplateScope;
  if (rest.length === 0 || rest.some((s) => s === "")) return problem(`template field ${text} has an empty name`, `write it like {${scope}.name}`);
  const paths = scope === "inputs" && rest.length === 2 && rest[1] === "paths";
  const list = paths || (scope === "inputs" && rest.length === 2 && rest[1] === "list");
  if (scope !== "config" && rest.length > 1 && !list) {
    const hint = scope === "inputs" ? `{inputs.X}, {inputs.X.list} or {inputs.X.paths}` : `{${scope}.${scope === "dataId" ? "D" : scope === "resources" ? "R" : "Y"}}`;
    return problem(`template field ${text} has too many parts`, `write it as ${hint}`);
  }
  return { scope, name: list ? rest[0]! : rest.join("."), list, paths, text, index, quoting };
}

/** `value` as words of a config field: a list gives one word per item, anything else one word. */
export function configWords(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((v) => configWord(v));
  return [configWord(value)];
}

function configWord(value: unknown): string {
  if (typeof value === "string") return value;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** The words as shell text for a field that stands where `quoting` says (see the module comment). */
export function quoteShellWords(words: readonly string[], quoting: ShellQuoting): string {
  switch (quoting) {
    case "none":
      return words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(" ");
    case "single":
      return words.join(" ").replaceAll("'", `'\\''`);
    case "double":
      return words.join(" ").replace(/[$`"\\]/g, (c) => `\\${c}`);
    default:
      return assertNever(quoting);
  }
}

/**
 * The template with every field replaced by its quoted words; `resolve` gives a field's words, or an
 * error message (the first one is returned).
 */
export function renderCommandTemplate(
  parts: readonly TemplatePart[],
  resolve: (field: TemplateField) => { ok: true; words: readonly string[] } | { ok: false; error: string },
): { ok: true; text: string } | { ok: false; error: string } {
  let text = "";
  for (const part of parts) {
    if (part.kind === "text") {
      text += part.text;
      continue;
    }
    const value = resolve(part.field);
    if (!value.ok) return value;
    text += quoteShellWords(value.words, part.field.quoting);
  }
  return { ok: true, text };
}

function assertNever(value: never): never {
  throw new Error(`internal error: unexpected ${JSON.stringify(value)}`);
}
