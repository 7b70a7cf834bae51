import { describe, expect, it } from "vitest";
import { orderTasks } from "../../src/core/order-tasks.js";
import { parseConfigOverride } from "../../src/core/parse-config-override.js";
import { formatSourceError } from "../../src/core/source-error.js";
import { substituteParameters } from "../../src/core/substitute-parameters.js";
import { findNearestName } from "../../src/core/suggest-name.js";
import { parsePipelineFile } from "../../src/core/parse-pipeline-file.js";

describe("formatSourceError", () => {
  const text = "a: 1\n" + "b:\n".repeat(10) + "tasks: { x: { timeout: true } }\n";

  it("quotes the line and underlines the span, with a gutter as wide as the line number", () => {
    expect(formatSourceError({ file: "p.yaml", text, span: { line: 12, column: 24, length: 4 }, message: "bad" })).toBe(
      ["p.yaml:12:24: bad", "   12 | tasks: { x: { timeout: true } }", "      |                        ^~~~"].join("\n"),
    );
  });

  it("stops the underline at the end of the line and keeps tabs", () => {
    const out = formatSourceError({ file: "f", text: "\tkey: value\nnext", span: { line: 1, column: 7, length: 50 }, message: "m" });
    expect(out.split("\n")[2]).toBe("     | \t     ^~~~~");
  });

  it("names only the file without a span", () => {
    expect(formatSourceError({ file: "f.yaml", text: "", message: "empty" })).toBe("f.yaml: empty");
  });
});

describe("orderTasks", () => {
  it("puts producers first and keeps file order among the rest", () => {
    const order = orderTasks([
      { label: "c", after: ["b"] },
      { label: "x", after: [] },
      { label: "b", after: ["a"] },
      { label: "a", after: [] },
    ]);
    expect(order).toEqual({ ok: true, labels: ["x", "a", "b", "c"] });
  });

  it("returns a cycle closed and in data-flow order", () => {
    const order = orderTasks([
      { label: "a", after: ["c"] },
      { label: "b", after: ["a"] },
      { label: "c", after: ["b"] },
      { label: "d", after: ["c"] },
    ]);
    expect(order).toEqual({ ok: false, cycle: ["a", "b", "c", "a"] });
    expect(orderTasks([{ label: "self", after: ["self"] }])).toEqual({ ok: false, cycle: ["self", "self"] });
  });
});

describe("parseConfigOverride", () => {
  const value = (text: string) => {
    const r = parseConfigOverride(text);
    if (!r.ok) throw r.error;
    return r.override;
  };

  it("splits the label from the key path and reads the value as YAML", () => {
    expect(value("calibrate.detection.threshold=3.5")).toEqual({ text: "calibrate.detection.threshold=3.5", label: "calibrate", key: ["detection", "threshold"], value: 3.5 });
    expect(value("a.b=true").value).toBe(true);
    expect(value("a.b=12").value).toBe(12);
    expect(value("a.b=abc").value).toBe("abc");
    expect(value("a.b='12'").value).toBe("12");
    expect(value("a.b=[1, 2]").value).toEqual([1, 2]);
    expect(value("a.b=").value).toBe("");
    expect(value("a.b=x=y").value).toBe("x=y");
  });

  it("says what was expected", () => {
    const missing = parseConfigOverride("calibrate.threshold");
    expect(missing.ok).toBe(false);
    if (!missing.ok) expect(missing.error.message).toBe("--config calibrate.threshold: expected label.key=value, found no '='");
    const noKey = parseConfigOverride("calibrate=3");
    if (noKey.ok) throw new Error("expected an error");
    expect(noKey.error.message).toBe('--config calibrate=3: expected label.key=value, found "calibrate" before \'=\'');
    expect(noKey.error.exitCode).toBe(2);
  });
});

describe("substituteParameters", () => {
  it("keeps types for whole references and writes text inside strings", () => {
    expect(substituteParameters({ a: "${n}", b: "x${n}y", c: ["${s}"], d: "$${n}" }, { n: 3, s: "t" })).toEqual({
      ok: true,
      value: { a: 3, b: "x3y", c: ["t"], d: "${n}" },
    });
  });

  it("fails with the path and the position of an unknown name", () => {
    expect(substituteParameters({ a: { b: "pre ${nope} post" } }, {})).toEqual({ ok: false, name: "nope", path: ["a", "b"], index: 4, length: 7 });
  });
});

describe("findNearestName", () => {
  it("counts a swap of neighbouring letters as one typo", () => {
    expect(findNearestName("gian", ["bias", "gain"])).toBe("gain");
    expect(findNearestName("calibrat", ["calibrate", "coadd"])).toBe("calibrate");
    expect(findNearestName("zzzzzz", ["calibrate", "coadd"])).toBeUndefined();
  });
});

describe("parsePipelineFile", () => {
  it("reports the schema problem earliest in the file", () => {
    const r = parsePipelineFile("p.yaml", "dimensions: { visit: 3 }\nbogus: 1\ntasks: []\n");
    if (r.ok) throw new Error("expected an error");
    expect(r.error.message.split("\n")[0]).toBe("p.yaml:1:22: dimensions.visit: expected one of int, string, got 3");
  });

  it("accepts a complete file", () => {
    const r = parsePipelineFile("p.yaml", "description: d\ntasks: { a: { command: x, dimensions: [], outputs: {} } }\nimports: []\n");
    expect(r.ok).toBe(true);
  });
});
