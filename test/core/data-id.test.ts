import { describe, expect, it } from "vitest";
import {
  compareDataIds,
  encodeDataId,
  formatDataIdValue,
  parseDataId,
  projectDataId,
  type DataId,
} from "../../src/core/data-id.js";
import type { DimensionUniverse } from "../../src/core/dimensions.js";

const UNIVERSE: DimensionUniverse = { visit: "int", detector: "int", band: "string", name: "string" };

describe("encodeDataId", () => {
  it("sorts dimensions by name, so key order does not matter", () => {
    const a = encodeDataId({ visit: 12, detector: 3, band: "r" });
    const b = encodeDataId({ band: "r", visit: 12, detector: 3 });
    const c = encodeDataId({ detector: 3, band: "r", visit: 12 });
    expect(a).toBe("band=r,detector=3,visit=12");
    expect(b).toBe(a);
    expect(c).toBe(a);
  });

  it("encodes the empty data ID as the empty string and one dimension without a comma", () => {
    expect(encodeDataId({})).toBe("");
    expect(encodeDataId({ visit: -4 })).toBe("visit=-4");
  });

  it.each([
    ["r", "r"],
    ["HSC-R2", "HSC-R2"],
    ["a.b+c-d_e", "a.b+c-d_e"],
    ["_x", "_x"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", "'it''s'"],
    ["'", "''''"],
    ["12", "'12'"],
    ["-x", "'-x'"],
    ["a,b=c", "'a,b=c'"],
    ["é", "'é'"],
    ["tab\there", "'tab\there'"],
  ])("quotes the string %j as %s", (value, encoded) => {
    expect(formatDataIdValue(value)).toBe(encoded);
    expect(encodeDataId({ name: value })).toBe(`name=${encoded}`);
  });

  it("prints integers in decimal", () => {
    expect(formatDataIdValue(0)).toBe("0");
    expect(formatDataIdValue(-17)).toBe("-17");
    expect(formatDataIdValue(123456789)).toBe("123456789");
  });
});

describe("parseDataId", () => {
  it("reads integers, bare and quoted strings, and surrounding spaces", () => {
    expect(parseDataId("visit=12,detector=3", UNIVERSE)).toEqual({ ok: true, dataId: { visit: 12, detector: 3 } });
    expect(parseDataId("visit = -12 , band = r", UNIVERSE)).toEqual({ ok: true, dataId: { visit: -12, band: "r" } });
    expect(parseDataId("band='it''s',name='a b'", UNIVERSE)).toEqual({ ok: true, dataId: { band: "it's", name: "a b" } });
    expect(parseDataId("name=''", UNIVERSE)).toEqual({ ok: true, dataId: { name: "" } });
    expect(parseDataId("", UNIVERSE)).toEqual({ ok: true, dataId: {} });
    expect(parseDataId("   ", UNIVERSE)).toEqual({ ok: true, dataId: {} });
    expect(parseDataId("band = 'r' , visit=2", UNIVERSE)).toEqual({ ok: true, dataId: { band: "r", visit: 2 } });
  });

  it.each([
    ["visit", "expected 'name=value', got 'visit'", 1],
    ["visit=1,detector", "expected 'name=value', got 'detector'", 9],
    ["visit=1,", "expected 'name=value' after ','", 9],
    ["band = 'r' ,visit=99999999999999999999", "dimension 'visit' is an int, got '99999999999999999999'", 19],
    ["vist=1", "unknown dimension 'vist' (did you mean \"visit\"?)", 1],
    ["visit=1,visit=2", "dimension 'visit' given twice", 9],
    ["visit=x", "dimension 'visit' is an int, got 'x'", 7],
    ["detector=3,visit=1.5", "dimension 'visit' is an int, got '1.5'", 18],
    ["visit='1'", "dimension 'visit' is an int, got the string '1'", 7],
    ["band='a", "unterminated string", 6],
    ["visit=1,band='a'b", "expected ',' after the value of 'band'", 17],
  ])("rejects %s: %s at column %i", (text, message, column) => {
    expect(parseDataId(text, UNIVERSE)).toEqual({ ok: false, message, column });
  });
});

describe("compareDataIds", () => {
  it("orders integers numerically, not as text", () => {
    expect(compareDataIds({ visit: 2 }, { visit: 10 })).toBeLessThan(0);
    expect(compareDataIds({ visit: 10 }, { visit: 2 })).toBeGreaterThan(0);
    expect(compareDataIds({ visit: -3 }, { visit: 1 })).toBeLessThan(0);
  });

  it("orders strings lexicographically and compares dimensions in name order", () => {
    expect(compareDataIds({ band: "g" }, { band: "r" })).toBeLessThan(0);
    // band sorts before visit, so band decides although visit says otherwise.
    expect(compareDataIds({ visit: 1, band: "r" }, { visit: 0, band: "g" })).toBeGreaterThan(0);
    expect(compareDataIds({ visit: 1, detector: 9 }, { visit: 1, detector: 10 })).toBeLessThan(0);
  });

  it("is zero for equal data IDs in any key order, and puts a missing dimension first", () => {
    expect(compareDataIds({ visit: 1, detector: 2 }, { detector: 2, visit: 1 })).toBe(0);
    expect(compareDataIds({ visit: 1 }, { visit: 1, detector: 0 })).toBeLessThan(0);
    expect(compareDataIds({ visit: 1, detector: 0 }, { visit: 1 })).toBeGreaterThan(0);
  });

  it("sorts a list into a total order that agrees with itself both ways", () => {
    const ids: DataId[] = [
      { visit: 10, detector: 1 },
      { visit: 2, detector: 3 },
      { visit: 2, detector: 1 },
      { visit: 2 },
      { visit: 10, detector: 0 },
    ];
    const sorted = [...ids].sort(compareDataIds).map(encodeDataId);
    expect(sorted).toEqual(["visit=2", "detector=0,visit=10", "detector=1,visit=2", "detector=1,visit=10", "detector=3,visit=2"]);
    for (const a of ids) {
      for (const b of ids) expect(Math.sign(compareDataIds(a, b)) + Math.sign(compareDataIds(b, a))).toBe(0);
    }
  });
});

describe("projectDataId", () => {
  it("keeps only the named dimensions", () => {
    expect(projectDataId({ visit: 1, detector: 2, band: "r" }, ["visit", "band"])).toEqual({ visit: 1, band: "r" });
    expect(encodeDataId(projectDataId({ visit: 1, detector: 2 }, []))).toBe("");
  });

  it("treats a missing dimension as a broken invariant", () => {
    expect(() => projectDataId({ visit: 1 }, ["detector"])).toThrow("internal error: data ID visit=1 has no dimension detector");
  });
});

describe("round trip", () => {
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

  it("parseDataId(encodeDataId(x)) equals x for odd strings and signed integers", () => {
    const random = makeRandom(7);
    const alphabet = ["a", "Z", "_", "0", "9", "-", "+", ".", " ", "'", "''", ",", "=", "é", "\t"];
    const randomString = (): string => {
      let s = "";
      const length = random(6);
      for (let i = 0; i < length; i++) s += alphabet[random(alphabet.length)];
      return s;
    };
    for (let n = 0; n < 500; n++) {
      const id: Record<string, number | string> = {};
      if (random(2)) id["visit"] = random(2_000_001) - 1_000_000;
      if (random(2)) id["detector"] = random(200);
      if (random(2)) id["band"] = randomString();
      if (random(2)) id["name"] = randomString();
      const encoded = encodeDataId(id);
      const parsed = parseDataId(encoded, UNIVERSE);
      expect(parsed, encoded).toEqual({ ok: true, dataId: id });
      if (parsed.ok) expect(encodeDataId(parsed.dataId)).toBe(encoded);
    }
  });
});
