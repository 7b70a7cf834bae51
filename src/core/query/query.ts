/**
 * The `--where` query language (docs/pipeline-file.md, "The data query"): parse and type-check
 * against the dimension universe, compile to a predicate over data IDs, restrict to a dataset's
 * dimensions, and print errors.
 */
export type { ComparisonOperator, InItem, QueryError, WhereExpr, WhereParse } from "./query-ast.js";
export { COMPARISON_OPERATORS } from "./query-ast.js";
export { checkWhereSyntax, parseWhere } from "./query-parser.js";
export { compileWhere, normalizeWhere, referencedDimensions, restrictWhere, type DataIdPredicate } from "./query-compiler.js";
export { formatQueryError, formatQueryErrorLine, formatWhere, toUsageError } from "./query-format.js";
export { parseBindings } from "./parse-bindings.js";
export { tokenizeWhere, type Token, type TokenKind } from "./query-lexer.js";
