import { describe, expect, it } from "vitest";
import { parsePathTemplate } from "../../src/core/path-template.js";
import { parseRelationText } from "../../src/store/relation-file.js";

const universe = { band: "string", visit: "int", detector: "int", tract: "int" } as const;

function template(text: string) {
  const parsed = parsePathTemplate(text, universe);
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.template;
}

describe("parsePathTemplate", () => {
  it("finds the root to walk and maps relative paths to typed data IDs", () => {
    const t = template("/d/raw/{band}/visit{visit}/det{detector}.npy");
    expect(t.root).toBe("/d/raw");
    expect(t.dimensions).toEqual(["band", "visit", "detector"]);
    expect(t.match("r/visit12/det03.npy")).toEqual({ ok: true, dataId: { band: "r", visit: 12, detector: 3 } });
    expect(t.match("r/visit12/det3.fits")).toMatchObject({ ok: false, reason: "no-match" });
    expect(t.match("r/x/visit12/det3.npy")).toMatchObject({ ok: false, reason: "no-match" });
    expect(t.match("r/visitA/det3.npy")).toEqual({ ok: false, reason: "bad-value", message: "dimension 'visit' is an int, got 'A'" });
  });

  it("handles fields in the file name, repeated fields and fixed paths", () => {
    expect(template("/d/bias-det{detector}.npy").match("bias-det7.npy")).toEqual({ ok: true, dataId: { detector: 7 } });
    const twice = template("/d/v{visit}/v{visit}_{detector}.npy");
    expect(twice.match("v1/v1_2.npy")).toEqual({ ok: true, dataId: { visit: 1, detector: 2 } });
    expect(twice.match("v1/v2_2.npy")).toMatchObject({ ok: false, reason: "bad-value" });
    const fixed = template("/d/calib/flat.npy");
    expect(fixed.root).toBe("/d/calib");
    expect(fixed.match("flat.npy")).toEqual({ ok: true, dataId: {} });
  });

  it("rejects unknown dimensions, adjacent fields and unbalanced braces", () => {
    expect(parsePathTemplate("/d/{viist}.npy", universe)).toEqual({
      ok: false,
      message: "path template '/d/{viist}.npy' names '{viist}', which is not a dimension (known: band, detector, tract, visit)",
    });
    expect(parsePathTemplate("/d/{visit}{detector}.npy", universe)).toEqual({
      ok: false,
      message: "path template '/d/{visit}{detector}.npy' has fields '{visit}{detector}' with nothing between them",
    });
    expect(parsePathTemplate("/d/{visit.npy", universe)).toMatchObject({ ok: false });
  });
});

describe("parseRelationText", () => {
  const spec = (file: string) => ({ file, dimensions: ["visit", "tract"], universe });

  it("reads CSV with a header in any column order, and JSON arrays", () => {
    expect(parseRelationText("tract,visit\n# comment\n10,1\n\n11,\"2\"\n", spec("o.csv"))).toEqual({
      ok: true,
      rows: [{ tract: 10, visit: 1 }, { tract: 11, visit: 2 }],
    });
    expect(parseRelationText('[\n  {"visit": 1, "tract": 10},\n  {"visit": 2, "tract": 11}\n]', spec("o.json"))).toEqual({
      ok: true,
      rows: [{ visit: 1, tract: 10 }, { visit: 2, tract: 11 }],
    });
  });

  it("names file and line of each problem", () => {
    expect(parseRelationText("visit,tract\n1,10\n2\nx,3\n", spec("o.csv"))).toEqual({
      ok: false,
      problems: [
        { file: "o.csv", line: 3, message: "expected 2 fields (visit, tract), found 1" },
        { file: "o.csv", line: 4, message: "dimension 'visit' is an int, got 'x'" },
      ],
    });
    expect(parseRelationText("visit,patch\n", spec("o.csv"))).toEqual({
      ok: false,
      problems: [
        { file: "o.csv", line: 1, message: "'patch' is not one of the relation's dimensions (visit, tract)" },
        { file: "o.csv", line: 1, message: "missing 'tract'" },
      ],
    });
    expect(parseRelationText('[\n  {"visit": 1, "tract": 10},\n  {"visit": "a", "tract": 11}\n]', spec("o.json"))).toEqual({
      ok: false,
      problems: [{ file: "o.json", line: 3, message: "dimension 'visit' is an int, got 'a'" }],
    });
  });
});
