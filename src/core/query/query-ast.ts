/**
 * The `--where` language's syntax tree, after type checking: every dimension in it exists in the
 * universe, every value has its dimension's type, placeholders are already replaced by their bound
 * values, and `literal op dimension` is turned around into `dimension op' literal`.
 *
 * `and`/`or` are n-ary; an `and` with no operands is true and an `or` with no operands is false
 * (`match-all` is what an empty query parses to).
 */
import type { DataIdValue } from "../data-id.js";

export type ComparisonOperator = "=" | "!=" | "<" | "<=" | ">" | ">=";

export const COMPARISON_OPERATORS: readonly ComparisonOperator[] = ["=", "!=", "<", "<=", ">", ">="];

/** One entry of an `IN (...)` list: a value, or an inclusive int range `start..end:stride` (stride ≥ 1, end ≥ start). */
export type InItem =
  | { kind: "value"; value: DataIdValue }
  | { kind: "range"; start: number; end: number; stride: number };

export type WhereExpr =
  | { kind: "match-all" }
  | { kind: "and"; operands: readonly WhereExpr[] }
  | { kind: "or"; operands: readonly WhereExpr[] }
  | { kind: "not"; operand: WhereExpr }
  | { kind: "compare"; dimension: string; operator: ComparisonOperator; value: DataIdValue }
  | { kind: "in"; dimension: string; negated: boolean; items: readonly InItem[] };

/**
 * A user's mistake in a `--where` expression. `column` is 1-based and points at the offending token
 * (one past the last character when the expression ended too soon); `length` is that token's length,
 * for underlining (1 when absent).
 */
export interface QueryError {
  message: string;
  column: number;
  length?: number;
  hint?: string;
}

export type WhereParse = { ok: true; expr: WhereExpr } | { ok: false; error: QueryError };
