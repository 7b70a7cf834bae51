/** Item 8 of issue 14: the command template grammar and its shell quoting, checked against /bin/sh. */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { parseCommandTemplate, renderCommandTemplate, type TemplateField } from "../../src/core/command-template.js";

const NASTY = ["a$(echo X)b", "it's", 'q"uo\\te', "`echo Y`", "$HOME", "sp ace", "", "new\nline", "'"];

/** Renders `template` with every field's words given by `words`, runs it in /bin/sh, returns stdout. */
function runRendered(template: string, words: (field: TemplateField) => string[]): string {
  const parsed = parseCommandTemplate(template);
  if (!parsed.ok) throw new Error(parsed.problem.message);
  const rendered = renderCommandTemplate(parsed.parts, (f) => ({ ok: true, words: words(f) }));
  if (!rendered.ok) throw new Error(rendered.error);
  return spawnSync("/bin/sh", ["-c", rendered.text], { encoding: "utf8" }).stdout;
}

describe("14.8 command template quoting", () => {
  it("14.8 outside quotes, every word arrives as one argument, as written", () => {
    const out = runRendered("printf '<%s>' {inputs.all}", () => NASTY);
    expect(out).toBe(NASTY.map((w) => `<${w}>`).join(""));
  });

  it("14.8 inside double or single quotes, the value stays inside them, as written", () => {
    for (const w of NASTY) {
      expect(runRendered('printf "<%s>" "x {dataId.d} y"', () => [w])).toBe(`<x ${w} y>`);
      expect(runRendered("printf '<%s>' 'x {dataId.d} y'", () => [w])).toBe(`<x ${w} y>`);
    }
  });

  it("14.8 shell braces and ${…} are left alone; fields are found after escaped quotes", () => {
    const parsed = parseCommandTemplate("echo ${HOME} {a,b} | awk '{print $1}' \\' {outputs.o}");
    expect(parsed.ok && parsed.parts.filter((p) => p.kind === "field").map((p) => p.kind === "field" && [p.field.text, p.field.quoting])).toEqual([["{outputs.o}", "none"]]);
  });

  it.each([
    ["cat {input.src}", "unknown template field {input.src}: expected {inputs.X}, {inputs.X.list}, {outputs.Y}, {config.Z} or {dataId.D}", "did you mean {inputs.src}?"],
    ["cat {inputs.src > x", "unclosed template field {inputs.src", 'close it with "}": {inputs.src}'],
    ["cat {inputs.}", "template field {inputs.} has an empty name", "write it like {inputs.name}"],
    ["cat {outputs.a.b}", "template field {outputs.a.b} has too many parts", "write it as {outputs.Y}"],
  ])("8 %s is a template error with a hint", (template, message, hint) => {
    const parsed = parseCommandTemplate(template);
    expect(parsed).toMatchObject({ ok: false, problem: { index: 4, message, hint } });
  });
});
