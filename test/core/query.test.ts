import { describe, expect, it } from "vitest";
import type { DataId } from "../../src/core/data-id.js";
import type { DimensionUniverse } from "../../src/core/dimensions.js";
import { QuantaError } from "../../src/core/errors.js";
import {
  checkWhereSyntax,
  compileWhere,
  formatQueryError,
  formatQueryErrorLine,
  formatWhere,
  normalizeWhere,
  parseBindings,
  parseWhere,
  referencedDimensions,
  restrictWhere,
  toUsageError,
  type QueryError,
  type WhereExpr,
} from "../../src/core/query/query.js";

const UNIVERSE: DimensionUniverse = {
  visit: "int",
  detector: "int",
  band: "string",
  patch: "int",
  tract: "int",
  physical_filter: "string",
};

/** Sample data IDs, by letter. F and G lack most dimensions; no sample has `tract`. */
const SAMPLES: Readonly<Record<string, DataId>> = {
  A: { visit: 1, detector: 3, band: "r", patch: 5 },
  B: { visit: 2, detector: 1, band: "g", patch: 2 },
  C: { visit: 5, detector: 3, band: "r", patch: 4 },
  D: { visit: 20, detector: 2, band: "i", patch: 7, physical_filter: "it's" },
  E: { visit: 7, detector: 0, band: "r", patch: -1 },
  F: { visit: 3 },
  G: { band: "z" },
};

function parseOrThrow(text: string, bind?: Record<string, string>): WhereExpr {
  const parsed = parseWhere(text, UNIVERSE, bind);
  if (!parsed.ok) throw new Error(`unexpected error: ${formatQueryErrorLine(parsed.error)}`);
  return parsed.expr;
}

function matchingSamples(expr: WhereExpr): string {
  const predicate = compileWhere(expr);
  return Object.keys(SAMPLES)
    .filter((k) => predicate(SAMPLES[k]!))
    .join("");
}

type GoodCase = [where: string, matches: string, bind?: Record<string, string>];

const GOOD: GoodCase[] = [
  ["", "ABCDEFG"],
  ["   ", "ABCDEFG"],
  ["visit = 5", "CG"],
  ["visit=5", "CG"],
  ["visit != 5", "ABDEFG"],
  ["visit < 5", "ABFG"],
  ["visit <= 5", "ABCFG"],
  ["visit > 5", "DEG"],
  ["visit >= 7", "DEG"],
  ["5 < visit", "DEG"],
  ["7 >= visit", "ABCEFG"],
  ["band = 'r'", "ACEF"],
  ["'r' = band", "ACEF"],
  ["band != 'r'", "BDFG"],
  ["band < 'i'", "BF"],
  ["physical_filter != 'it''s'", "ABCEFG"],
  ["visit in (1, 2) or band = 'z'", "ABFG"],
  ["visit IN (1..10:2, 20)", "ACDEFG"],
  ["visit NOT IN (1..10:2, 20)", "BG"],
  ["visit not in (2)", "ACDEFG"],
  ["visit IN (1..3)", "ABFG"],
  ["visit IN (-5..0, 20)", "DG"],
  ["patch IN (-1)", "EFG"],
  ["patch = -1", "EFG"],
  ["visit IN (0..100000:5)", "CDG"],
  ["visit IN (0..100000:5, 1)", "ACDG"],
  ["visit NOT IN (0..100000:5)", "ABEFG"],
  ["detector = 3 AND band = 'r'", "ACF"],
  ["detector = 3 OR band = 'g'", "ABCFG"],
  ["visit = 1 OR visit = 2 AND detector = 1", "ABG"],
  ["(visit = 1 OR visit = 2) AND detector = 1", "BG"],
  ["NOT visit = 1 AND detector = 3", "CFG"],
  ["NOT (visit = 1 AND detector = 3)", "BCDEFG"],
  ["NOT NOT visit = 1", "AG"],
  ["NOT (patch > 4)", "BCEFG"],
  ["visit IN (1..10:2, 20) AND detector != 3 AND band = 'r' OR NOT (patch > 4)", "BCEFG"],
  ["visit In (5) aNd NoT band = 'r'", "G"],
  ["((visit = 5))", "CG"],
  ["detector >= 0 AND detector <= 2", "BDEFG"],
  ["tract = 1", "ABCDEFG"],
  ["visit = :v", "DG", { v: "20" }],
  ["band = :b", "ACEF", { b: "r" }],
  ["visit IN (:lo..:hi)", "ABG", { lo: "1", hi: "2" }],
  ["visit IN (1..20::s)", "ADG", { s: "19" }],
  ["visit IN (:v, 5)", "BCG", { v: " 2 " }],
];

type BadCase = [where: string, message: string, column: number, hint?: string, bind?: Record<string, string>];

const BAD: BadCase[] = [
  ["visit IN (   )", "expected a value after 'IN ('", 14],
  ["visit IN ()", "expected a value after 'IN ('", 11],
  ["visit NOT IN ()", "expected a value after 'NOT IN ('", 15],
  ["visit IN (1,)", "expected a value after ','", 13],
  ["visit IN 1", "expected '(' after 'IN'", 10, "for example: visit IN (1, 2)"],
  ["visit IN (1 2)", "expected ',' or ')' in the IN list opened at column 10", 13],
  ["visit IN (1, 2", "expected ',' or ')' in the IN list opened at column 10", 15],
  ["()", "expected a comparison after '('", 2],
  ["vist = 1", "unknown dimension 'vist'", 1, 'did you mean "visit"?'],
  ["visit = 1 AND detectr = 2", "unknown dimension 'detectr'", 15, 'did you mean "detector"?'],
  ["xyzzy = 1", "unknown dimension 'xyzzy'", 1, "known dimensions: band, detector, patch, physical_filter, tract, visit"],
  ["visit = 'r'", "cannot compare int dimension 'visit' with the string 'r'", 9],
  ["visit = '12'", "cannot compare int dimension 'visit' with the string '12'", 9, "remove the quotes: 12"],
  ["visit IN ('a')", "cannot compare int dimension 'visit' with the string 'a'", 11],
  ["band = 3", "cannot compare string dimension 'band' with the integer 3", 8, "quote it: '3'"],
  ["3 = band", "cannot compare string dimension 'band' with the integer 3", 1, "quote it: '3'"],
  ["band IN ('a'..'c')", "ranges need an int dimension, but 'band' is a string", 13],
  ["band = 'r", "unterminated string", 8, "close it with '"],
  ["band = 'it''s", "unterminated string", 8, "close it with '"],
  ["visit = 1 2", "unexpected '2' after a complete condition", 11, "join conditions with AND or OR"],
  ["visit = 1 band = 'r'", "unexpected 'band' after a complete condition", 11, "join conditions with AND or OR"],
  ["visit = 1)", "unmatched ')'", 10],
  ["(visit = 1", "expected ')' to close the '(' at column 1", 11],
  ["visit = :v", "placeholder ':v' is not bound", 9, "pass --bind v=VALUE"],
  ["visit IN (1..:hi)", "placeholder ':hi' is not bound", 14, "pass --bind hi=VALUE"],
  [
    "visit = :v",
    "placeholder ':v' is bound to 'abc', which is not an integer (dimension 'visit' is an int)",
    9,
    undefined,
    { v: "abc" },
  ],
  ["visit =", "expected a value after '='", 8],
  ["visit != ", "expected a value after '!='", 10],
  ["visit < > 3", "expected a value after '<'", 9],
  ["visit", "expected an operator (= != < <= > >= IN NOT IN) after 'visit'", 6],
  ["visit = 1 AND", "expected a comparison after 'AND'", 14],
  ["visit = 1 or", "expected a comparison after 'OR'", 13],
  ["NOT", "expected a comparison after 'NOT'", 4],
  ["visit == 1", "'==' is not an operator", 7, "use '=' to compare"],
  ["visit = 1 && band = 'r'", "'&&' is not an operator", 11, "use AND"],
  ["visit = 1.5", "'1.5' is not an integer", 9],
  ["visit IN (10..1)", "the range 10..1 is empty: its end is below its start", 11, "write 1..10"],
  ["visit IN (1..10:0)", "a range's stride must be positive, got 0", 17],
  ["visit = detector", "cannot compare dimension 'visit' with dimension 'detector'", 9, "compare a dimension with a value"],
  ["band = r", "expected a value after '='", 8, "strings are quoted: 'r'"],
  ["1 = 2", "a comparison needs a dimension on one side", 1, "for example: visit = 1"],
  ["1 IN (1)", "expected a dimension before IN", 1, "write it as: dimension IN (1)"],
  ["visit = 1 & detector = 2", "unexpected character '&'", 11],
  ['band = "r"', "unexpected character '\"'", 8, "strings are written in single quotes: 'r'"],
  ["visit ! 3", "unexpected character '!'", 7, "use '!=' or NOT"],
  ["visit = 1..3", "unexpected '..' outside an IN list", 10, "ranges go in an IN list: visit IN (1..10)"],
  ["visit = 99999999999999999999", "the integer 99999999999999999999 is too large", 9],
  ["visit # 3", "unexpected character '#'", 7],
];

describe("parseWhere and compileWhere: good expressions", () => {
  it.each(GOOD)("%s matches samples %s", (where, matches, bind) => {
    expect(matchingSamples(parseOrThrow(where, bind))).toBe(matches);
  });

  it("has a table of at least 40 good and bad expressions together", () => {
    expect(GOOD.length + BAD.length).toBeGreaterThanOrEqual(40);
  });
});

describe("parseWhere: bad expressions", () => {
  it.each(BAD)("%s → %s at column %i", (where, message, column, hint, bind) => {
    const parsed = parseWhere(where, UNIVERSE, bind);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.error.message).toBe(message);
    expect(parsed.error.column).toBe(column);
    expect(parsed.error.hint).toBe(hint);
  });
});

describe("checkWhereSyntax: the errors no pipeline's dimensions could take away", () => {
  /** The bad expressions whose error depends on the dimensions: their names or types. */
  const DIMENSION_DEPENDENT = new Set([
    "vist = 1",
    "visit = 1 AND detectr = 2",
    "xyzzy = 1",
    "visit = 'r'",
    "visit = '12'",
    "visit IN ('a')",
    "band = 3",
    "3 = band",
    "band IN ('a'..'c')",
  ]);

  it("passes a text of spaces alone, Unicode ones too: no filter, as the graph builder takes it", () => {
    for (const blank of ["", "  ", "\t\n", "\f", "\v", "\u00a0", "\u2028", "\ufeff"]) expect(checkWhereSyntax(blank)).toBeUndefined();
  });

  it.each(GOOD)("passes %s", (where, _matches, bind) => {
    expect(checkWhereSyntax(where, bind)).toBeUndefined();
  });

  it.each(BAD)("%s: the full parse's error, unless it depends on the dimensions", (where, message, column, hint, bind) => {
    const error = checkWhereSyntax(where, bind);
    // A placeholder bound to a non-integer is an error for an int dimension only.
    if (DIMENSION_DEPENDENT.has(where) || (bind !== undefined && message.includes("is bound to"))) {
      expect(error).toBeUndefined();
      return;
    }
    expect(error?.column).toBe(column);
    // A dimension on the right: which one is not known here, only that it is no value.
    if (where === "visit = detector") expect(error).toMatchObject({ message: "expected a value after '='", hint: "strings are quoted: 'detector'" });
    else expect({ message: error?.message, hint: error?.hint }).toEqual({ message, hint });
  });
});

describe("parseWhere: trees", () => {
  it("turns `literal op dimension` around", () => {
    expect(parseOrThrow("3 < visit")).toEqual({ kind: "compare", dimension: "visit", operator: ">", value: 3 });
    expect(parseOrThrow("3 >= visit")).toEqual({ kind: "compare", dimension: "visit", operator: "<=", value: 3 });
  });

  it("binds OR loosest, then AND, then NOT", () => {
    const expr = parseOrThrow("NOT visit = 1 AND detector = 2 OR band = 'r'");
    expect(expr).toEqual({
      kind: "or",
      operands: [
        {
          kind: "and",
          operands: [
            { kind: "not", operand: { kind: "compare", dimension: "visit", operator: "=", value: 1 } },
            { kind: "compare", dimension: "detector", operator: "=", value: 2 },
          ],
        },
        { kind: "compare", dimension: "band", operator: "=", value: "r" },
      ],
    });
  });

  it("reads ranges with and without strides, and placeholders per their dimension's type", () => {
    expect(parseOrThrow("visit IN (1..10:2, 20, :x)", { x: "-4" })).toEqual({
      kind: "in",
      dimension: "visit",
      negated: false,
      items: [
        { kind: "range", start: 1, end: 10, stride: 2 },
        { kind: "value", value: 20 },
        { kind: "value", value: -4 },
      ],
    });
    expect(parseOrThrow("band = :x", { x: "-4" })).toEqual({ kind: "compare", dimension: "band", operator: "=", value: "-4" });
  });

  it("parses blank text to match-all", () => {
    expect(parseOrThrow(" \t ")).toEqual({ kind: "match-all" });
  });
});

describe("error display", () => {
  it("formats the one-line message exactly", () => {
    const parsed = parseWhere("visit IN (   )", UNIVERSE);
    if (parsed.ok) throw new Error("expected an error");
    expect(formatQueryErrorLine(parsed.error)).toBe("--where: expected a value after 'IN (' at column 14");
  });

  it("shows the expression with a caret under the offending token", () => {
    const source = "visit = 1 AND detectr = 2";
    const parsed = parseWhere(source, UNIVERSE);
    if (parsed.ok) throw new Error("expected an error");
    expect(formatQueryError(source, parsed.error)).toBe(
      [
        "--where: unknown dimension 'detectr' at column 15",
        "  visit = 1 AND detectr = 2",
        "                ^~~~~~~",
      ].join("\n"),
    );
  });

  it("puts the caret one past the end when the expression stops too soon", () => {
    const source = "visit =";
    const error: QueryError = { message: "expected a value after '='", column: 8 };
    expect(formatQueryError(source, error).split("\n")[2]).toBe("         ^");
  });

  it("keeps tabs in the padding so that the caret lines up", () => {
    const error: QueryError = { message: "m", column: 3, length: 2 };
    expect(formatQueryError("\tx yz", error).split("\n")[2]).toBe("  \t ^~");
  });

  it("converts to a usage error with exit code 2 and the hint", () => {
    const source = "vist = 1";
    const parsed = parseWhere(source, UNIVERSE);
    if (parsed.ok) throw new Error("expected an error");
    const error = toUsageError(source, parsed.error);
    expect(error).toBeInstanceOf(QuantaError);
    expect(error.exitCode).toBe(2);
    expect(error.hint).toBe('did you mean "visit"?');
    expect(error.message.split("\n")[0]).toBe("--where: unknown dimension 'vist' at column 1");
  });
});

describe("parseBindings", () => {
  it("splits at the first '=' and keeps the value as text", () => {
    expect(parseBindings(["visit=12", "band=r", "expr=a=b", "empty="])).toEqual({
      visit: "12",
      band: "r",
      expr: "a=b",
      empty: "",
    });
    expect(parseBindings([])).toEqual({});
  });

  it.each([
    ["visit", "--bind: expected name=value, got 'visit'"],
    ["=3", "--bind: '' is not a placeholder name in '=3'"],
    ["1x=3", "--bind: '1x' is not a placeholder name in '1x=3'"],
  ])("rejects %s", (entry, message) => {
    expect(() => parseBindings([entry])).toThrow(message);
  });

  it("rejects a name bound twice, with exit code 2", () => {
    let caught: unknown;
    try {
      parseBindings(["v=1", "v=2"]);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(QuantaError);
    expect((caught as QuantaError).message).toBe("--bind: 'v' is bound twice");
    expect((caught as QuantaError).exitCode).toBe(2);
  });

  it("feeds parseWhere", () => {
    const bind = parseBindings(["lo=2", "b=r"]);
    expect(matchingSamples(parseOrThrow("visit >= :lo AND band = :b", bind))).toBe("CEF");
  });
});

describe("referencedDimensions, normalizeWhere, restrictWhere, formatWhere", () => {
  const example = "visit IN (1..10:2, 20) AND detector != 3 AND band = 'r' OR NOT (patch > 4)";

  it("lists the dimensions an expression mentions, sorted, once each", () => {
    expect(referencedDimensions(parseOrThrow(example))).toEqual(["band", "detector", "patch", "visit"]);
    expect(referencedDimensions(parseOrThrow("visit = 1 OR visit = 2"))).toEqual(["visit"]);
    expect(referencedDimensions(parseOrThrow(""))).toEqual([]);
  });

  it("pushes NOT down onto the comparisons", () => {
    expect(formatWhere(normalizeWhere(parseOrThrow("NOT (visit = 1 OR NOT band IN ('r') AND patch < 3)")))).toBe(
      "visit != 1 AND (band IN ('r') OR patch >= 3)",
    );
    expect(formatWhere(normalizeWhere(parseOrThrow(example)))).toBe(
      "visit IN (1..10:2, 20) AND detector != 3 AND band = 'r' OR patch <= 4",
    );
  });

  it("prints canonical text that parses back to an equivalent expression", () => {
    const text = formatWhere(parseOrThrow("not (visit=1 or band='it''s') and patch in (1..5, 7) or 3 < tract"));
    expect(text).toBe("NOT (visit = 1 OR band = 'it''s') AND patch IN (1..5, 7) OR tract > 3");
    expect(formatWhere(parseOrThrow(text))).toBe(text);
  });

  it("restricts to the dimensions a dataset has", () => {
    const expr = parseOrThrow(example);
    expect(restrictWhere(expr, ["visit", "detector"])).toBeUndefined();
    expect(formatWhere(restrictWhere(parseOrThrow("visit = 1 AND patch = 2"), ["visit"])!)).toBe("visit = 1");
    expect(restrictWhere(parseOrThrow("visit = 1 AND patch = 2"), ["tract"])).toBeUndefined();
    expect(restrictWhere(parseOrThrow(""), ["visit"])).toBeUndefined();
    expect(formatWhere(restrictWhere(expr, ["visit", "detector", "band", "patch"])!)).toBe(
      "visit IN (1..10:2, 20) AND detector != 3 AND band = 'r' OR patch <= 4",
    );
  });
});

/** A deterministic pseudo-random generator (mulberry32), so that failures reproduce. */
function makeRandom(seed: number): (n: number) => number {
  let a = seed;
  return (n) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

type Kleene = "true" | "false" | "unknown";

/** The reference semantics: three-valued logic, a missing dimension's comparison is unknown. */
function evaluateKleene(expr: WhereExpr, id: DataId): Kleene {
  switch (expr.kind) {
    case "match-all":
      return "true";
    case "not": {
      const v = evaluateKleene(expr.operand, id);
      return v === "unknown" ? v : v === "true" ? "false" : "true";
    }
    case "and": {
      const vs = expr.operands.map((e) => evaluateKleene(e, id));
      return vs.includes("false") ? "false" : vs.includes("unknown") ? "unknown" : "true";
    }
    case "or": {
      const vs = expr.operands.map((e) => evaluateKleene(e, id));
      return vs.includes("true") ? "true" : vs.includes("unknown") ? "unknown" : "false";
    }
    case "compare": {
      const v = id[expr.dimension];
      if (v === undefined) return "unknown";
      const c = v < expr.value ? -1 : v > expr.value ? 1 : 0;
      const ok = { "=": c === 0, "!=": c !== 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0 }[expr.operator];
      return ok ? "true" : "false";
    }
    case "in": {
      const v = id[expr.dimension];
      if (v === undefined) return "unknown";
      const member = expr.items.some((item) =>
        item.kind === "value"
          ? item.value === v
          : typeof v === "number" && v >= item.start && v <= item.end && (v - item.start) % item.stride === 0,
      );
      return member !== expr.negated ? "true" : "false";
    }
  }
}

function generateExpression(random: (n: number) => number, depth: number): string {
  const leaf = (): string => {
    const ops = ["=", "!=", "<", "<=", ">", ">="];
    switch (random(5)) {
      case 0:
        return `visit ${ops[random(6)]} ${random(12) - 2}`;
      case 1:
        return `band ${ops[random(6)]} '${"gri"[random(3)]}'`;
      case 2:
        return `${random(6)} ${ops[random(6)]} detector`;
      case 3:
        return `visit ${random(2) ? "NOT " : ""}IN (${random(4)}..${4 + random(20)}:${1 + random(3)}, ${random(30)})`;
      default:
        return `detector ${random(2) ? "NOT " : ""}IN (${random(6)}, ${random(6)})`;
    }
  };
  if (depth === 0 || random(3) === 0) return leaf();
  switch (random(3)) {
    case 0:
      return `NOT (${generateExpression(random, depth - 1)})`;
    case 1:
      return `(${generateExpression(random, depth - 1)}) AND (${generateExpression(random, depth - 1)})`;
    default:
      return `(${generateExpression(random, depth - 1)}) OR (${generateExpression(random, depth - 1)})`;
  }
}

describe("compileWhere against three-valued logic", () => {
  const random = makeRandom(20240611);
  const ids: DataId[] = [];
  for (let i = 0; i < 60; i++) {
    const id: Record<string, number | string> = {};
    if (random(4) > 0) id["visit"] = random(30) - 2;
    if (random(4) > 0) id["detector"] = random(6);
    if (random(4) > 0) id["band"] = "gri"[random(3)]!;
    ids.push(id);
  }

  it("keeps a data ID exactly when the expression is not false with its missing dimensions unknown", () => {
    let kept = 0;
    let dropped = 0;
    for (let n = 0; n < 300; n++) {
      const text = generateExpression(random, 4);
      const expr = parseOrThrow(text);
      const predicate = compileWhere(expr);
      for (const id of ids) {
        const expected = evaluateKleene(expr, id) !== "false";
        if (predicate(id) !== expected) throw new Error(`${text} on ${JSON.stringify(id)}: expected ${expected}`);
        if (expected) kept++;
        else dropped++;
      }
    }
    // Both outcomes occur often, so the comparison above is not vacuous.
    expect(kept).toBeGreaterThan(1000);
    expect(dropped).toBeGreaterThan(1000);
  });

  it("selects with restrictWhere what it selects with compileWhere on data IDs of those dimensions", () => {
    for (let n = 0; n < 200; n++) {
      const expr = parseOrThrow(generateExpression(random, 4));
      const predicate = compileWhere(expr);
      for (const dims of [["visit"], ["visit", "band"], ["detector", "band"], []]) {
        const restricted = restrictWhere(expr, dims);
        const restrictedPredicate = restricted === undefined ? () => true : compileWhere(restricted);
        for (const id of ids) {
          const projected = Object.fromEntries(dims.filter((d) => d in id).map((d) => [d, id[d]!]));
          if (Object.keys(projected).length !== dims.length) continue;
          expect(restrictedPredicate(projected)).toBe(predicate(projected));
        }
      }
    }
  });

  it("evaluates a million data IDs without trouble", () => {
    const predicate = compileWhere(parseOrThrow("visit IN (1..10:2, 20) AND detector != 3 AND band = 'r' OR NOT (patch > 4)"));
    const id: Record<string, number | string> = { visit: 0, detector: 0, band: "r", patch: 0 };
    let count = 0;
    for (let i = 0; i < 1_000_000; i++) {
      id["visit"] = i % 25;
      id["detector"] = i % 4;
      id["patch"] = i % 9;
      if (predicate(id)) count++;
    }
    // Per 900 consecutive i: patch <= 4 in 5/9 of them; the rest match when visit ∈ {1,3,5,7,9,20} and detector ≠ 3.
    let expected = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const visit = i % 25;
      const patch = i % 9;
      if (patch <= 4 || ([1, 3, 5, 7, 9, 20].includes(visit) && i % 4 !== 3)) expected++;
    }
    expect(count).toBe(expected);
  });
});
