/**
 * Parses and type-checks a `--where` expression against a dimension universe.
 *
 * Grammar (keywords case-insensitive; precedence OR < AND < NOT < comparison):
 *
 *     where      := (or)?                           empty or blank text matches everything
 *     or         := and ("OR" and)*
 *     and        := not ("AND" not)*
 *     not        := "NOT" not | "(" or ")" | comparison
 *     comparison := name op value | value op name | name ("NOT")? "IN" "(" item ("," item)* ")"
 *     op         := "=" | "!=" | "<" | "<=" | ">" | ">="
 *     item       := value | int ".." int (":" int)?  inclusive range with a positive stride; int dimensions only
 *     value      := 'string' | integer | :placeholder
 *
 * A placeholder takes its text from `bind` and is read as its dimension's type. Strings compare
 * lexicographically (by UTF-16 code unit, as data IDs sort) and integers numerically.
 */
import { didYouMean } from "../errors.js";
import type { DataIdValue } from "../data-id.js";
import type { DimensionType, DimensionUniverse } from "../dimensions.js";
import type { ComparisonOperator, InItem, QueryError, WhereExpr, WhereParse } from "./query-ast.js";
import { tokenizeWhere, type Token } from "./query-lexer.js";

/** Thrown inside the parser only; `parseWhere` turns it into an error value. */
class QueryFailure {
  constructor(readonly error: QueryError) {}
}

const FLIPPED: Readonly<Record<ComparisonOperator, ComparisonOperator>> = {
  "=": "=",
  "!=": "!=",
  "<": ">",
  "<=": ">=",
  ">": "<",
  ">=": "<=",
};

const INTEGER = /^-?[0-9]+$/;

/**
 * Parses `text` into a type-checked expression, or returns the first error with its column.
 * Blank text parses to `match-all`.
 */
export function parseWhere(
  text: string,
  universe: DimensionUniverse,
  bind: Readonly<Record<string, string>> = {},
): WhereParse {
  const lexed = tokenizeWhere(text);
  if (!lexed.ok) return { ok: false, error: lexed.error };
  if (lexed.tokens.length === 1) return { ok: true, expr: { kind: "match-all" } };
  try {
    const parser = new WhereParser(lexed.tokens, universe, bind);
    return { ok: true, expr: parser.parseAll() };
  } catch (e) {
    if (e instanceof QueryFailure) return { ok: false, error: e.error };
    throw e;
  }
}

/**
 * The first error of `text` that no pipeline's dimensions could take away: its syntax, a placeholder
 * not in `bind`, a number that is no integer. A name stands for a dimension of any type here, so that
 * what depends on the dimensions (unknown names, types) is left to `parseWhere`. A command checks
 * this before it reads the pipeline: a watch refuses such a `--where` before it starts.
 */
export function checkWhereSyntax(text: string, bind: Readonly<Record<string, string>> = {}): QueryError | undefined {
  // Blank as `compileWhereFlag` (build-graph.ts) takes it, Unicode spaces too: no filter.
  if (text.trim() === "") return undefined;
  const lexed = tokenizeWhere(text);
  if (!lexed.ok) return lexed.error;
  if (lexed.tokens.length === 1) return undefined;
  try {
    new WhereParser(lexed.tokens, undefined, bind).parseAll();
    return undefined;
  } catch (e) {
    if (e instanceof QueryFailure) return e.error;
    throw e;
  }
}

function describeToken(token: Token): string {
  return token.kind === "end" ? "the end of the expression" : `'${token.text}'`;
}

function quoteString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

class WhereParser {
  private pos = 0;

  constructor(
    private readonly tokens: readonly Token[],
    /** Undefined for a check of the syntax alone (`checkWhereSyntax`): any name is a dimension of unknown type. */
    private readonly universe: DimensionUniverse | undefined,
    private readonly bind: Readonly<Record<string, string>>,
  ) {}

  parseAll(): WhereExpr {
    const expr = this.parseOr();
    const token = this.peek();
    switch (token.kind) {
      case "end":
        return expr;
      case "close":
        return this.fail(token, "unmatched ')'");
      case "range":
        return this.fail(token, "unexpected '..' outside an IN list", "ranges go in an IN list: visit IN (1..10)");
      default:
        return this.fail(token, `unexpected ${describeToken(token)} after a complete condition`, "join conditions with AND or OR");
    }
  }

  private parseOr(): WhereExpr {
    const first = this.parseAnd();
    if (this.peek().kind !== "or") return first;
    const operands = [first];
    while (this.peek().kind === "or") {
      this.pos++;
      operands.push(this.parseAnd());
    }
    return { kind: "or", operands };
  }

  private parseAnd(): WhereExpr {
    const first = this.parseNot();
    if (this.peek().kind !== "and") return first;
    const operands = [first];
    while (this.peek().kind === "and") {
      this.pos++;
      operands.push(this.parseNot());
    }
    return { kind: "and", operands };
  }

  private parseNot(): WhereExpr {
    const token = this.peek();
    if (token.kind === "not") {
      this.pos++;
      return { kind: "not", operand: this.parseNot() };
    }
    if (token.kind === "open") {
      this.pos++;
      const inner = this.parseOr();
      const close = this.peek();
      if (close.kind !== "close") return this.fail(close, `expected ')' to close the '(' at column ${token.start + 1}`);
      this.pos++;
      return inner;
    }
    return this.parseComparison();
  }

  private parseComparison(): WhereExpr {
    const left = this.peek();
    switch (left.kind) {
      case "name":
        this.pos++;
        return this.parseAfterDimension(left);
      case "number":
      case "string":
      case "placeholder":
        this.pos++;
        return this.parseAfterLiteral(left);
      default:
        return this.fail(left, this.expectedAfter("a comparison"));
    }
  }

  /** `name op value` or `name [NOT] IN (...)`, with `name` consumed. */
  private parseAfterDimension(nameToken: Token): WhereExpr {
    const dimension = this.resolveDimension(nameToken);
    const token = this.peek();
    if (token.kind === "operator") {
      this.pos++;
      const valueToken = this.peek();
      this.pos++;
      const value = this.resolveValue(valueToken, dimension, token.text);
      return { kind: "compare", dimension, operator: token.text as ComparisonOperator, value };
    }
    if (token.kind === "in") {
      this.pos++;
      return this.parseInList(dimension, false);
    }
    if (token.kind === "not" && this.tokens[this.pos + 1]?.kind === "in") {
      this.pos += 2;
      return this.parseInList(dimension, true);
    }
    return this.fail(token, `expected an operator (= != < <= > >= IN NOT IN) after '${nameToken.text}'`);
  }

  /** `value op name`, with `value` consumed; turned around into `name op' value`. */
  private parseAfterLiteral(literal: Token): WhereExpr {
    const token = this.peek();
    if (token.kind === "in" || token.kind === "not") {
      return this.fail(literal, "expected a dimension before IN", `write it as: dimension IN (${literal.text})`);
    }
    if (token.kind !== "operator") return this.fail(token, `expected an operator (= != < <= > >=) after '${literal.text}'`);
    this.pos++;
    const nameToken = this.peek();
    if (nameToken.kind !== "name") {
      return this.fail(literal, "a comparison needs a dimension on one side", `for example: visit ${token.text} ${literal.text}`);
    }
    this.pos++;
    const dimension = this.resolveDimension(nameToken);
    const value = this.resolveValue(literal, dimension, token.text);
    return { kind: "compare", dimension, operator: FLIPPED[token.text as ComparisonOperator], value };
  }

  /** `( item, ... )`, with `[NOT] IN` consumed. */
  private parseInList(dimension: string, negated: boolean): WhereExpr {
    const keyword = negated ? "NOT IN" : "IN";
    const open = this.peek();
    if (open.kind !== "open") return this.fail(open, `expected '(' after '${keyword}'`, `for example: ${dimension} ${keyword} (1, 2)`);
    this.pos++;
    const items: InItem[] = [];
    let after = `${keyword} (`;
    for (;;) {
      items.push(this.parseInItem(dimension, after));
      const next = this.peek();
      if (next.kind === "close") break;
      if (next.kind !== "comma") {
        return this.fail(next, `expected ',' or ')' in the IN list opened at column ${open.start + 1}`);
      }
      this.pos++;
      after = ",";
    }
    this.pos++;
    return { kind: "in", dimension, negated, items };
  }

  private parseInItem(dimension: string, after: string): InItem {
    const first = this.peek();
    if (first.kind === "close" || first.kind === "comma" || first.kind === "end") {
      return this.fail(first, `expected a value after '${after}'`);
    }
    this.pos++;
    if (this.peek().kind !== "range") return { kind: "value", value: this.resolveValue(first, dimension, after) };
    const rangeToken = this.peek();
    if (this.typeOf(dimension) === "string") {
      return this.fail(rangeToken, `ranges need an int dimension, but '${dimension}' is a string`);
    }
    this.pos++;
    const start = this.resolveValue(first, dimension, after) as number;
    const endToken = this.peek();
    this.pos++;
    const end = this.resolveValue(endToken, dimension, "..") as number;
    let stride = 1;
    if (this.peek().kind === "colon") {
      this.pos++;
      const strideToken = this.peek();
      this.pos++;
      stride = this.resolveValue(strideToken, dimension, ":") as number;
      if (stride < 1) return this.fail(strideToken, `a range's stride must be positive, got ${stride}`);
    }
    // Only in a check of the syntax alone (strings or placeholders as ends): left to the full parse, which knows the type.
    if (typeof start !== "number" || typeof end !== "number") return { kind: "range", start: 0, end: 0, stride: 1 };
    if (end < start) {
      return this.fail(first, `the range ${start}..${end} is empty: its end is below its start`, `write ${end}..${start}`);
    }
    return { kind: "range", start, end, stride };
  }

  private resolveDimension(token: Token): string {
    const name = token.text;
    if (this.universe === undefined || Object.hasOwn(this.universe, name)) return name;
    const known = Object.keys(this.universe);
    const hint = didYouMean(name, known) ?? (known.length === 0 ? "no dimensions are declared" : `known dimensions: ${known.sort().join(", ")}`);
    return this.fail(token, `unknown dimension '${name}'`, hint);
  }

  /** Undefined in a check of the syntax alone. */
  private typeOf(dimension: string): DimensionType | undefined {
    return this.universe?.[dimension];
  }

  /** The value of a literal or placeholder token, checked against the dimension's type. */
  private resolveValue(token: Token, dimension: string, after: string): DataIdValue {
    const type = this.typeOf(dimension);
    switch (token.kind) {
      case "number":
        return this.resolveNumber(token, dimension, type);
      case "string":
        if (type === "int") {
          const hint = INTEGER.test(token.value) ? `remove the quotes: ${token.value}` : undefined;
          return this.fail(token, `cannot compare int dimension '${dimension}' with the string ${quoteString(token.value)}`, hint);
        }
        return token.value;
      case "placeholder":
        return this.resolvePlaceholder(token, dimension, type);
      case "name": {
        if (this.universe === undefined) return this.fail(token, `expected a value after '${after}'`, `strings are quoted: ${quoteString(token.text)}`);
        if (Object.hasOwn(this.universe, token.text)) {
          return this.fail(token, `cannot compare dimension '${dimension}' with dimension '${token.text}'`, "compare a dimension with a value");
        }
        const hint = type === "string" ? `strings are quoted: ${quoteString(token.text)}` : undefined;
        return this.fail(token, `expected a value after '${after}'`, hint);
      }
      case "operator":
      case "and":
      case "or":
      case "not":
      case "in":
      case "open":
      case "close":
      case "comma":
      case "range":
      case "colon":
      case "end":
        return this.fail(token, `expected a value after '${after}'`);
      default: {
        const unreachable: never = token.kind;
        throw new Error(`internal error: unknown token kind ${String(unreachable)}`);
      }
    }
  }

  private resolveNumber(token: Token, dimension: string, type: DimensionType | undefined): number {
    if (!INTEGER.test(token.text)) return this.fail(token, `'${token.text}' is not an integer`);
    if (type === "string") {
      return this.fail(token, `cannot compare string dimension '${dimension}' with the integer ${token.text}`, `quote it: '${token.text}'`);
    }
    const value = Number(token.text);
    if (!Number.isSafeInteger(value)) return this.fail(token, `the integer ${token.text} is too large`);
    return value;
  }

  private resolvePlaceholder(token: Token, dimension: string, type: DimensionType | undefined): DataIdValue {
    const name = token.value;
    if (!Object.hasOwn(this.bind, name)) {
      return this.fail(token, `placeholder ':${name}' is not bound`, `pass --bind ${name}=VALUE`);
    }
    const raw = this.bind[name]!;
    if (type !== "int") return raw;
    const value = Number(raw.trim());
    if (!INTEGER.test(raw.trim()) || !Number.isSafeInteger(value)) {
      return this.fail(token, `placeholder ':${name}' is bound to '${raw}', which is not an integer (dimension '${dimension}' is an int)`);
    }
    return value;
  }

  private expectedAfter(what: string): string {
    const previous = this.tokens[this.pos - 1];
    if (previous === undefined) return `expected ${what}`;
    const keyword = previous.kind === "and" || previous.kind === "or" || previous.kind === "not";
    return `expected ${what} after '${keyword ? previous.value : previous.text}'`;
  }

  private peek(): Token {
    return this.tokens[this.pos] ?? this.tokens[this.tokens.length - 1]!;
  }

  private fail(token: Token, message: string, hint?: string): never {
    const length = Math.max(1, token.text.length);
    const error: QueryError = hint === undefined ? { message, column: token.start + 1, length } : { message, column: token.start + 1, length, hint };
    throw new QueryFailure(error);
  }
}
