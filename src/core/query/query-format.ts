/**
 * Printing `--where` expressions and their errors.
 *
 * An error prints as one line, `--where: <message> at column <n>` (the CLI prefixes `error: `), and
 * for display also as that line followed by the expression and a caret line under the offending
 * token; the hint is not part of either, so that the CLI can print it once as `hint: …`.
 */
import type { DataIdValue } from "../data-id.js";
import { UsageError } from "../errors.js";
import type { InItem, QueryError, WhereExpr } from "./query-ast.js";

/** `--where: <message> at column <n>`. */
export function formatQueryErrorLine(error: QueryError): string {
  return `--where: ${error.message} at column ${error.column}`;
}

/**
 * Three lines: the error line, the expression indented by two spaces, and `^~~` under the offending
 * token (tabs in the expression are kept in the padding so that the caret lines up).
 */
export function formatQueryError(source: string, error: QueryError): string {
  const offset = Math.max(0, Math.min(error.column - 1, source.length));
  let pad = "";
  for (let i = 0; i < offset; i++) pad += source[i] === "\t" ? "\t" : " ";
  const length = Math.max(1, error.length ?? 1);
  const caret = "^" + "~".repeat(length - 1);
  const shown = source.replace(/[\r\n]/g, " ");
  return `${formatQueryErrorLine(error)}\n  ${shown}\n  ${pad}${caret}`;
}

/** The error as the CLI reports it: exit code 2, the caret display as message, and its hint. */
export function toUsageError(source: string, error: QueryError): UsageError {
  return new UsageError(formatQueryError(source, error), error.hint);
}

function formatValue(value: DataIdValue): string {
  return typeof value === "number" ? String(value) : `'${value.replace(/'/g, "''")}'`;
}

function formatItem(item: InItem): string {
  switch (item.kind) {
    case "value":
      return formatValue(item.value);
    case "range":
      return item.stride === 1 ? `${item.start}..${item.end}` : `${item.start}..${item.end}:${item.stride}`;
    default: {
      const unreachable: never = item;
      throw new Error(`internal error: unknown IN item ${JSON.stringify(unreachable)}`);
    }
  }
}

/** Binding strength, for deciding where parentheses are needed: OR < AND < NOT < comparison. */
function precedenceOf(expr: WhereExpr): number {
  switch (expr.kind) {
    case "or":
      return expr.operands.length === 0 ? 4 : 1;
    case "and":
      return expr.operands.length === 0 ? 4 : 2;
    case "not":
      return 3;
    case "compare":
    case "in":
    case "match-all":
      return 4;
    default: {
      const unreachable: never = expr;
      throw new Error(`internal error: unknown where expression ${JSON.stringify(unreachable)}`);
    }
  }
}

/**
 * The expression as canonical `--where` text (keywords in upper case, strings always quoted, minimal
 * parentheses), which parses back to an equivalent tree. `match-all` prints as the empty string; the
 * constants of a normalized expression (`and []`, `or []`) print as TRUE and FALSE, for display only.
 */
export function formatWhere(expr: WhereExpr): string {
  const wrap = (e: WhereExpr, min: number): string => {
    const text = formatWhere(e);
    return precedenceOf(e) < min ? `(${text})` : text;
  };
  switch (expr.kind) {
    case "match-all":
      return "";
    case "or":
      return expr.operands.length === 0 ? "FALSE" : expr.operands.map((e) => wrap(e, 2)).join(" OR ");
    case "and":
      return expr.operands.length === 0 ? "TRUE" : expr.operands.map((e) => wrap(e, 3)).join(" AND ");
    case "not":
      return `NOT ${wrap(expr.operand, 3)}`;
    case "compare":
      return `${expr.dimension} ${expr.operator} ${formatValue(expr.value)}`;
    case "in":
      return `${expr.dimension} ${expr.negated ? "NOT IN" : "IN"} (${expr.items.map(formatItem).join(", ")})`;
    default: {
      const unreachable: never = expr;
      throw new Error(`internal error: unknown where expression ${JSON.stringify(unreachable)}`);
    }
  }
}
