/**
 * Where each character of a command template stands for the shell (`/bin/sh -c`), as far as quoting a
 * value put there goes. The command template (command-template.ts) quotes a substituted value for the
 * quotes around it; that is only sound where the shell reads the value once, as a word:
 *
 * - outside quotes, inside `'…'` or `"…"` at the top level: a `word` context, quoted for those quotes;
 * - inside a command substitution `$( … )` or `` `…` `` or an arithmetic expansion `$(( … ))` (or
 *   bash's `$[ … ]` and `(( … ))`), the shell parses the text again (a fresh quoting state inside
 *   `$( … )`, backslashes removed first inside `` `…` ``, `'…'` is no quote at all in bash's
 *   arithmetic): `refused`;
 * - inside a comment (`# …`, where a newline in the value would end the comment) or a here-document
 *   body (where `$( … )` in the value runs, and a line equal to the delimiter ends it): `refused`.
 *
 * The scan never guesses in the unsafe direction. The end of a `` `…` `` is exact (the next unescaped
 * backquote). The end of a `$( … )` is found by counting parentheses with a fresh quoting state; when
 * its text holds something that can hide a `)` from that count (`case`, a comment, `<<`, `[[`, a
 * `${…}` with quotes or parentheses, a bash `$'…'` string), the substitution is taken to run to the
 * end of the template. A here-document body is taken to run from the line after `<<` to the end. A
 * field inside a bash `$'…'` string is refused too (bash reads its backslashes as escapes), and so is
 * every field after one that bash and dash would end in different places (`$'\''`).
 * `${…}` at the top level is left as it was (its word is quoted for the quotes around it), except
 * that a `${…}` inside `"…"` holding quotes, a backslash or a substitution (`"${X:-"…"}"`, where the
 * inner `"…"` is a fresh quoting state) makes every field from there on refused.
 */

/** Where a field stands in the shell text around it. */
export type ShellQuoting = "none" | "single" | "double";

export type ShellContext =
  | { readonly kind: "word"; readonly quoting: ShellQuoting }
  /** Right after a backslash: a literal character, never the start of a field. */
  | { readonly kind: "escaped" }
  /** A field here is an error: `reason` completes "template field {…} …". */
  | { readonly kind: "refused"; readonly reason: string; readonly hint: string };

const WORD: Readonly<Record<ShellQuoting, ShellContext>> = {
  none: { kind: "word", quoting: "none" },
  single: { kind: "word", quoting: "single" },
  double: { kind: "word", quoting: "double" },
};
const ESCAPED: ShellContext = { kind: "escaped" };
const REPARSED_HINT = 'pass it as an argument or an environment variable instead: v={config.name}; … "$(echo "$v")"';
const ARITHMETIC_HINT = "pass it as an argument to a program that reads it as a number: awk -v n={config.n} 'BEGIN { print n + 1 }'";
const COMMENT: ShellContext = {
  kind: "refused",
  reason: "is inside a shell comment, which a newline in its value would end (running the rest)",
  hint: "move it out of the comment",
};
const BASH_STRING: ShellContext = {
  kind: "refused",
  reason: "is inside (or after) a $'…' string, where bash reads a backslash in the value as an escape and dash reads it as text",
  hint: "write the string in '…' or \"…\" instead",
};
const QUOTED_PARAMETER: ShellContext = {
  kind: "refused",
  reason: 'is inside or after a ${ … } within "…" that holds quotes, a backslash or a substitution, which shells read in different ways',
  hint: 'assign the value to a shell variable first: v={config.name}; … "${X:-$v}"',
};
const HERE_DOCUMENT: ShellContext = {
  kind: "refused",
  reason: "is inside a here-document (after <<), where the shell expands $( … ) in its value and a line of it can end the document",
  hint: "write the text with printf instead: printf '%s\\n' {config.name} > file",
};

/** One context per character of `command`. */
export function scanShellContexts(command: string): ShellContext[] {
  const out: ShellContext[] = new Array<ShellContext>(command.length);
  let quoting: ShellQuoting = "none";
  let bodyFrom = command.length;
  let rest: { from: number; context: ShellContext } | undefined;
  let i = 0;
  while (i < command.length && rest === undefined) {
    const c = command[i]!;
    out[i] = WORD[quoting];
    if (quoting === "single") {
      if (c === "'") quoting = "none";
      i++;
      continue;
    }
    const reparsed = scanReparsed(command, i, quoting);
    if (reparsed !== undefined) {
      out.fill(reparsed.context, i, reparsed.end);
      i = reparsed.end;
      continue;
    }
    if (c === "\\") {
      if (i + 1 < command.length) out[i + 1] = ESCAPED;
      i += 2;
      continue;
    }
    if (quoting === "double") {
      if (c === '"') quoting = "none";
      else if (command.startsWith("${", i) && !isPlainParameter(command, i + 2)) rest = { from: i, context: QUOTED_PARAMETER };
    } else if (c === '"') quoting = "double";
    else if (c === "'" && command[i - 1] === "$") {
      const end = findBashStringEnd(command, i + 1);
      out.fill(BASH_STRING, i, end);
      if (end === undefined) rest = { from: i - 1, context: BASH_STRING };
      i = end ?? command.length;
      continue;
    } else if (c === "'") quoting = "single";
    else if (c === "#" && isWordStart(command, i)) {
      const end = lineEnd(command, i);
      out.fill(COMMENT, i, end);
      i = end;
      continue;
    } else if (c === "<" && command[i + 1] === "<") bodyFrom = Math.min(bodyFrom, lineEnd(command, i) + 1);
    i++;
  }
  if (rest !== undefined) out.fill(rest.context, rest.from);
  return out.fill(HERE_DOCUMENT, bodyFrom);
}

/**
 * A `$( … )`, `$(( … ))`, `` `…` ``, or bash's `$[ … ]` or `(( … ))` starting at `i`: its end (the end
 * of `command` when unsure) and context.
 */
function scanReparsed(command: string, i: number, quoting: ShellQuoting): { end: number; context: ShellContext } | undefined {
  if (command[i] === "`") {
    const end = findBackquoteEnd(command, i + 1);
    return { end: end ?? command.length, context: reparsed("a command substitution `…`", end !== undefined, REPARSED_HINT) };
  }
  if (command.startsWith("$[", i)) {
    const close = command.indexOf("]", i + 2);
    const end = close < 0 || /[['"\\`$({]/.test(command.slice(i + 2, close)) ? undefined : close + 1;
    return { end: end ?? command.length, context: reparsed("an arithmetic expansion $[ … ]", end !== undefined, ARITHMETIC_HINT) };
  }
  if (quoting === "none" && command.startsWith("((", i) && isWordStart(command, i)) {
    const end = findSubstitutionEnd(command, i + 1);
    return { end: end ?? command.length, context: reparsed("an arithmetic command (( … ))", end !== undefined, ARITHMETIC_HINT) };
  }
  if (!command.startsWith("$(", i)) return undefined;
  const end = findSubstitutionEnd(command, i + 2);
  const arithmetic = command[i + 2] === "(";
  const what = arithmetic ? "an arithmetic expansion $(( … ))" : "a command substitution $( … )";
  return { end: end ?? command.length, context: reparsed(what, end !== undefined, arithmetic ? ARITHMETIC_HINT : REPARSED_HINT) };
}

function reparsed(what: string, certain: boolean, hint: string): ShellContext {
  const reason = certain
    ? `is inside ${what}, whose text the shell parses again, so its value could run as code`
    : `is inside or after ${what} whose end quanta cannot find for sure (it uses case, #, <<, [[, \${…} or $'…'); the shell may parse the value again as code`;
  return { kind: "refused", reason, hint };
}

/**
 * The index just past the `)` closing a `$(` whose text starts at `from`, read with a fresh quoting
 * state; undefined when unclosed or when the text holds something that can hide a `)` (module comment).
 */
function findSubstitutionEnd(s: string, from: number): number | undefined {
  let quoting: ShellQuoting = "none";
  let depth = 0;
  for (let i = from; i < s.length; i++) {
    const c = s[i]!;
    if (quoting === "single") {
      if (c === "'") quoting = "none";
      continue;
    }
    const nested = findNestedEnd(s, i);
    if (nested !== undefined) {
      if (nested === null) return undefined;
      i = nested - 1;
    } else if (c === "\\") i++;
    else if (quoting === "double") {
      if (c === '"') quoting = "none";
    } else if (c === '"') quoting = "double";
    else if (c === "'") {
      if (s[i - 1] === "$") return undefined;
      quoting = "single";
    } else if ((c === "#" && isWordStart(s, i)) || s.startsWith("<<", i) || s.startsWith("[[", i) || isWordAt(s, i, "case")) return undefined;
    else if (c === "(") depth++;
    else if (c === ")") {
      if (depth === 0) return i + 1;
      depth--;
    }
  }
  return undefined;
}

/** A nested `$(`, `` ` `` or `${` at `i`: the index past its end, null when unsure, undefined when none. */
function findNestedEnd(s: string, i: number): number | null | undefined {
  if (s[i] === "`") return findBackquoteEnd(s, i + 1) ?? null;
  if (s[i] !== "$") return undefined;
  if (s[i + 1] === "(") return findSubstitutionEnd(s, i + 2) ?? null;
  if (s[i + 1] !== "{") return undefined;
  const close = s.indexOf("}", i + 2);
  if (close < 0 || /[(){}'"\\`$]/.test(s.slice(i + 2, close))) return null;
  return close + 1;
}

/** The index just past the backquote closing a `` ` `` whose text starts at `from` (the next unescaped one). */
function findBackquoteEnd(s: string, from: number): number | undefined {
  for (let i = from; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === "`") return i + 1;
  }
  return undefined;
}

/**
 * The index past a `$'…'` string whose text starts at `from`: bash ends it at the first `'` not escaped by
 * a backslash, dash (which has no such strings) at the first `'`; undefined when those differ.
 */
function findBashStringEnd(s: string, from: number): number | undefined {
  const end = s.indexOf("'", from);
  return end < 0 || s[end - 1] === "\\" ? undefined : end + 1;
}

/**
 * Whether the `${…}` whose text starts at `from` ends at the first `}` and holds no quote, backslash or
 * substitution: inside `"…"`, shells differ on how such a `${…}` nests quotes.
 */
function isPlainParameter(s: string, from: number): boolean {
  const close = s.indexOf("}", from);
  return close >= 0 && !/["'`\\]|\$[([{]/.test(s.slice(from, close));
}

/** Whether a word starts at `i`: the start of the text, or after a blank or an operator character. */
function isWordStart(s: string, i: number): boolean {
  return i === 0 || /[\s;&|()<>]/.test(s[i - 1]!);
}

function isWordAt(s: string, i: number, word: string): boolean {
  return s.startsWith(word, i) && !/\w/.test(s[i - 1] ?? "") && !/\w/.test(s[i + word.length] ?? "");
}

function lineEnd(s: string, i: number): number {
  const end = s.indexOf("\n", i);
  return end < 0 ? s.length : end;
}
