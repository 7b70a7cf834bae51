/**
 * Turns a parsed `--where` expression into a fast predicate over data IDs, and restricts it to the
 * dimensions a dataset has.
 *
 * A query restricts only the dimensions a data ID has. Formally, the expression is first put in
 * negation normal form (NOT pushed down onto the comparisons: `NOT (patch > 4)` becomes `patch <= 4`,
 * `NOT (v IN …)` becomes `v NOT IN …`), and then a comparison on a dimension the data ID lacks counts
 * as true. This equals three-valued (Kleene) logic in which a missing dimension is "unknown" and an
 * unknown result is kept: a data ID is dropped only when no value of its missing dimensions could make
 * the expression true comparison by comparison. So a `(visit)` dataset is filtered by
 * `visit = 1 AND patch = 2` as by `visit = 1`, and `NOT (patch > 4)` keeps it.
 */
import type { DataId, DataIdValue } from "../data-id.js";
import type { ComparisonOperator, InItem, WhereExpr } from "./query-ast.js";

export type DataIdPredicate = (dataId: DataId) => boolean;

const NEGATED: Readonly<Record<ComparisonOperator, ComparisonOperator>> = {
  "=": "!=",
  "!=": "=",
  "<": ">=",
  "<=": ">",
  ">": "<=",
  ">=": "<",
};

/** Integer ranges with at most this many members in total are expanded into the IN list's value set. */
const MAX_EXPANDED_RANGE_MEMBERS = 4096;

const TRUE: WhereExpr = { kind: "and", operands: [] };
const FALSE: WhereExpr = { kind: "or", operands: [] };

/**
 * The expression in negation normal form: no `not` and no `match-all`; nested `and`s and `or`s are
 * flattened; true is `and []` and false is `or []`, and they are folded away inside larger expressions.
 */
export function normalizeWhere(expr: WhereExpr): WhereExpr {
  return normalize(expr, false);
}

function normalize(expr: WhereExpr, negate: boolean): WhereExpr {
  switch (expr.kind) {
    case "match-all":
      return negate ? FALSE : TRUE;
    case "not":
      return normalize(expr.operand, !negate);
    case "compare":
      return negate ? { ...expr, operator: NEGATED[expr.operator] } : expr;
    case "in":
      return negate ? { ...expr, negated: !expr.negated } : expr;
    case "and":
    case "or": {
      const isAnd = (expr.kind === "and") !== negate;
      return combine(isAnd ? "and" : "or", expr.operands.map((e) => normalize(e, negate)));
    }
    default: {
      const unreachable: never = expr;
      throw new Error(`internal error: unknown where expression ${JSON.stringify(unreachable)}`);
    }
  }
}

/** An n-ary and/or of normalized operands, flattened and with constants folded. */
function combine(kind: "and" | "or", operands: readonly WhereExpr[]): WhereExpr {
  const out: WhereExpr[] = [];
  for (const e of operands) {
    if (e.kind === kind) out.push(...e.operands);
    else if ((e.kind === "and" || e.kind === "or") && e.operands.length === 0) {
      // `and []` is true, `or []` is false: the absorbing one decides the whole, the neutral one vanishes.
      return e;
    } else out.push(e);
  }
  if (out.length === 1) return out[0]!;
  return { kind, operands: out };
}

/** The dimensions the expression mentions, sorted and without repeats. */
export function referencedDimensions(expr: WhereExpr): string[] {
  const names = new Set<string>();
  const visit = (e: WhereExpr): void => {
    switch (e.kind) {
      case "match-all":
        return;
      case "not":
        return visit(e.operand);
      case "and":
      case "or":
        for (const o of e.operands) visit(o);
        return;
      case "compare":
      case "in":
        names.add(e.dimension);
        return;
      default: {
        const unreachable: never = e;
        throw new Error(`internal error: unknown where expression ${JSON.stringify(unreachable)}`);
      }
    }
  };
  visit(expr);
  return [...names].sort();
}

/**
 * The normalized expression with every comparison on a dimension outside `dimensions` replaced by
 * true (see the module comment): on data IDs with exactly these dimensions it selects what
 * `compileWhere(expr)` selects. Undefined when nothing is left to test.
 */
export function restrictWhere(expr: WhereExpr, dimensions: readonly string[]): WhereExpr | undefined {
  const kept = new Set(dimensions);
  const restrict = (e: WhereExpr): WhereExpr => {
    switch (e.kind) {
      case "and":
      case "or":
        return combine(e.kind, e.operands.map(restrict));
      case "compare":
      case "in":
        return kept.has(e.dimension) ? e : TRUE;
      case "match-all":
      case "not":
        throw new Error("internal error: restrictWhere expects a normalized expression");
      default: {
        const unreachable: never = e;
        throw new Error(`internal error: unknown where expression ${JSON.stringify(unreachable)}`);
      }
    }
  };
  const out = restrict(normalizeWhere(expr));
  return out.kind === "and" && out.operands.length === 0 ? undefined : out;
}

/**
 * A predicate equivalent to the expression, built from closures once so that each call allocates
 * nothing. A comparison on a dimension the data ID lacks counts as true after normalization (see the
 * module comment).
 */
export function compileWhere(expr: WhereExpr): DataIdPredicate {
  return compileNormalized(normalizeWhere(expr));
}

function compileNormalized(expr: WhereExpr): DataIdPredicate {
  switch (expr.kind) {
    case "and":
      return compileAnd(expr.operands.map(compileNormalized));
    case "or":
      return compileOr(expr.operands.map(compileNormalized));
    case "compare":
      return compileComparison(expr.dimension, expr.operator, expr.value);
    case "in":
      return compileIn(expr.dimension, expr.negated, expr.items);
    case "match-all":
    case "not":
      throw new Error("internal error: compileNormalized expects a normalized expression");
    default: {
      const unreachable: never = expr;
      throw new Error(`internal error: unknown where expression ${JSON.stringify(unreachable)}`);
    }
  }
}

function compileAnd(parts: readonly DataIdPredicate[]): DataIdPredicate {
  switch (parts.length) {
    case 0:
      return () => true;
    case 1:
      return parts[0]!;
    case 2: {
      const [a, b] = parts as [DataIdPredicate, DataIdPredicate];
      return (id) => a(id) && b(id);
    }
    default:
      return (id) => {
        for (let i = 0; i < parts.length; i++) if (!parts[i]!(id)) return false;
        return true;
      };
  }
}

function compileOr(parts: readonly DataIdPredicate[]): DataIdPredicate {
  switch (parts.length) {
    case 0:
      return () => false;
    case 1:
      return parts[0]!;
    case 2: {
      const [a, b] = parts as [DataIdPredicate, DataIdPredicate];
      return (id) => a(id) || b(id);
    }
    default:
      return (id) => {
        for (let i = 0; i < parts.length; i++) if (parts[i]!(id)) return true;
        return false;
      };
  }
}

function compileComparison(dimension: string, operator: ComparisonOperator, value: DataIdValue): DataIdPredicate {
  // Values of one dimension share one type (the parser checked the literal), so `<` on two numbers
  // compares numerically and on two strings by UTF-16 code unit, as compareDataIds does.
  switch (operator) {
    case "=":
      return (id) => {
        const v = id[dimension];
        return v === undefined || v === value;
      };
    case "!=":
      return (id) => {
        const v = id[dimension];
        return v === undefined || v !== value;
      };
    case "<":
      return (id) => {
        const v = id[dimension];
        return v === undefined || v < value;
      };
    case "<=":
      return (id) => {
        const v = id[dimension];
        return v === undefined || v <= value;
      };
    case ">":
      return (id) => {
        const v = id[dimension];
        return v === undefined || v > value;
      };
    case ">=":
      return (id) => {
        const v = id[dimension];
        return v === undefined || v >= value;
      };
    default: {
      const unreachable: never = operator;
      throw new Error(`internal error: unknown comparison operator ${String(unreachable)}`);
    }
  }
}

function compileIn(dimension: string, negated: boolean, items: readonly InItem[]): DataIdPredicate {
  const values = new Set<DataIdValue>();
  const ranges: { start: number; end: number; stride: number }[] = [];
  let expandable = 0;
  for (const item of items) if (item.kind === "range") expandable += Math.floor((item.end - item.start) / item.stride) + 1;
  for (const item of items) {
    switch (item.kind) {
      case "value":
        values.add(item.value);
        break;
      case "range":
        if (expandable <= MAX_EXPANDED_RANGE_MEMBERS) {
          for (let v = item.start; v <= item.end; v += item.stride) values.add(v);
        } else {
          ranges.push(item);
        }
        break;
      default: {
        const unreachable: never = item;
        throw new Error(`internal error: unknown IN item ${JSON.stringify(unreachable)}`);
      }
    }
  }
  const member = negated ? false : true;
  if (ranges.length === 0) {
    return (id) => {
      const v = id[dimension];
      return v === undefined || values.has(v) === member;
    };
  }
  const starts = ranges.map((r) => r.start);
  const ends = ranges.map((r) => r.end);
  const strides = ranges.map((r) => r.stride);
  const count = ranges.length;
  return (id) => {
    const v = id[dimension];
    if (v === undefined) return true;
    if (values.has(v)) return member;
    if (typeof v === "number") {
      for (let i = 0; i < count; i++) {
        if (v >= starts[i]! && v <= ends[i]! && (v - starts[i]!) % strides[i]! === 0) return member;
      }
    }
    return !member;
  };
}
