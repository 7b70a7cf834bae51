/**
 * Splits a `--where` expression into tokens. Keywords (AND, OR, NOT, IN) are case-insensitive and
 * reserved; names are `[A-Za-z_][A-Za-z0-9_]*`; strings are single-quoted with `''` for a quote;
 * numbers are `-?[0-9]+` (a fractional part is lexed so that the parser can say it is not an integer);
 * `:name` is a placeholder, while a `:` not followed by a name is the stride separator of a range.
 */
import type { QueryError } from "./query-ast.js";

export type TokenKind =
  | "name"
  | "number"
  | "string"
  | "placeholder"
  | "operator"
  | "and"
  | "or"
  | "not"
  | "in"
  | "open"
  | "close"
  | "comma"
  | "range"
  | "colon"
  | "end";

export interface Token {
  kind: TokenKind;
  /** The token's source text (for `end`, the empty string). */
  text: string;
  /** The decoded value: a string's contents, a placeholder's name, a keyword in upper case; else `text`. */
  value: string;
  /** 0-based offset of the token's first character. */
  start: number;
}

export type TokenizeResult = { ok: true; tokens: Token[] } | { ok: false; error: QueryError };

const KEYWORDS: Readonly<Record<string, TokenKind>> = { AND: "and", OR: "or", NOT: "not", IN: "in" };

const MISTAKES: Readonly<Record<string, string>> = {
  "==": "use '=' to compare",
  "&&": "use AND",
  "||": "use OR",
  "<>": "use '!='",
};

function isNameStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_]/.test(c);
}

function isNamePart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** The tokens of `text`, ending with one `end` token, or the first lexical error. */
export function tokenizeWhere(text: string): TokenizeResult {
  const tokens: Token[] = [];
  let pos = 0;
  const push = (kind: TokenKind, start: number, end: number, value?: string): void => {
    const slice = text.slice(start, end);
    tokens.push({ kind, text: slice, value: value ?? slice, start });
  };
  const fail = (message: string, start: number, length: number, hint?: string): TokenizeResult => ({
    ok: false,
    error: hint === undefined ? { message, column: start + 1, length } : { message, column: start + 1, length, hint },
  });
  while (pos < text.length) {
    const c = text[pos]!;
    const start = pos;
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      pos++;
      continue;
    }
    const pair = text.slice(pos, pos + 2);
    const mistake = MISTAKES[pair];
    if (mistake !== undefined) return fail(`'${pair}' is not an operator`, start, 2, mistake);
    if (isNameStart(c)) {
      while (isNamePart(text[pos])) pos++;
      const word = text.slice(start, pos);
      const keyword = KEYWORDS[word.toUpperCase()];
      if (keyword === undefined) push("name", start, pos);
      else push(keyword, start, pos, word.toUpperCase());
    } else if (isDigit(c) || (c === "-" && isDigit(text[pos + 1]))) {
      pos++;
      while (isDigit(text[pos])) pos++;
      if (text[pos] === "." && isDigit(text[pos + 1])) {
        pos++;
        while (isDigit(text[pos])) pos++;
      }
      push("number", start, pos);
    } else if (c === "'") {
      let value = "";
      pos++;
      for (;;) {
        if (pos >= text.length) return fail("unterminated string", start, text.length - start, "close it with '");
        const d = text[pos]!;
        if (d === "'") {
          if (text[pos + 1] !== "'") break;
          value += "'";
          pos += 2;
        } else {
          value += d;
          pos++;
        }
      }
      pos++;
      push("string", start, pos, value);
    } else if (c === ":") {
      pos++;
      if (isNameStart(text[pos])) {
        while (isNamePart(text[pos])) pos++;
        push("placeholder", start, pos, text.slice(start + 1, pos));
      } else {
        push("colon", start, pos);
      }
    } else if (pair === "!=" || pair === "<=" || pair === ">=") {
      pos += 2;
      push("operator", start, pos);
    } else if (c === "=" || c === "<" || c === ">") {
      pos++;
      push("operator", start, pos);
    } else if (pair === "..") {
      pos += 2;
      push("range", start, pos);
    } else if (c === "(" || c === ")" || c === ",") {
      pos++;
      push(c === "(" ? "open" : c === ")" ? "close" : "comma", start, pos);
    } else if (c === '"') {
      return fail(`unexpected character '"'`, start, 1, "strings are written in single quotes: 'r'");
    } else if (c === "!") {
      return fail("unexpected character '!'", start, 1, "use '!=' or NOT");
    } else {
      return fail(`unexpected character '${c}'`, start, 1);
    }
  }
  tokens.push({ kind: "end", text: "", value: "", start: text.length });
  return { ok: true, tokens };
}
