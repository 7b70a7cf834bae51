/** Item 8 of issue 14: the command template grammar and its shell quoting, checked against /bin/sh. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    ["cat {input.src}", "unknown template field {input.src}: expected {inputs.X}, {inputs.X.list}, {inputs.X.paths}, {outputs.Y}, {config.Z}, {dataId.D} or {resources.R}", "did you mean {inputs.src}?"],
    ["cat {inputs.src > x", "unclosed template field {inputs.src", 'close it with "}": {inputs.src}'],
    ["cat {inputs.}", "template field {inputs.} has an empty name", "write it like {inputs.name}"],
    ["cat {outputs.a.b}", "template field {outputs.a.b} has too many parts", "write it as {outputs.Y}"],
  ])("8 %s is a template error with a hint", (template, message, hint) => {
    const parsed = parseCommandTemplate(template);
    expect(parsed).toMatchObject({ ok: false, problem: { index: 4, message, hint } });
  });
});

/** Values that try to run `touch PWNED` from wherever they are put. */
const HOSTILE = ["$(touch PWNED)", "`touch PWNED`", "x; touch PWNED", "'; touch PWNED; '", '"; touch PWNED; "', ") ; touch PWNED ; (", "a\ntouch PWNED\n", "\\", "$((x[$(touch PWNED)]))"];

describe("14.8 a field the shell would parse again is refused", () => {
  it.each([
    ['echo "$(echo {config.x})"', "a command substitution $( … )", "v={config.x}"],
    ["echo $(printf %s {config.x})", "a command substitution $( … )", "v={config.x}"],
    ['echo "`cat {inputs.raw}`"', "a command substitution `…`", "v={inputs.raw}"],
    ["echo `printf %s {config.x}`", "a command substitution `…`", "v={config.x}"],
    ['echo "$((1 + {config.n}))"', "an arithmetic expansion $(( … ))", "awk -v n={config.n}"],
    ["echo $((1 + {config.n}))", "an arithmetic expansion $(( … ))", "awk -v n={config.n}"],
    ['echo "$[1 + {config.n}]"', "an arithmetic expansion $[ … ]", "awk -v n={config.n}"],
    ["(( n = {config.n} )); echo $n", "an arithmetic command (( … ))", "awk -v n={config.n}"],
    ["echo \"$(echo '$(echo {config.x})')\"", "a command substitution $( … )", "v={config.x}"],
    ["echo $(ls \"$(dirname {outputs.o})\")", "a command substitution $( … )", "v={outputs.o}"],
    ['echo "$(case a in a) echo hi;; esac)" {config.x}', "inside or after a command substitution $( … ) whose end", "v={config.x}"],
    ["echo $(echo a # )\n) {config.x}", "inside or after a command substitution $( … ) whose end", "v={config.x}"],
    ['echo "$(echo ${x%)})" {config.x}', "inside or after a command substitution $( … ) whose end", "v={config.x}"],
    ['echo "${X:-"{config.x}"}"', 'a ${ … } within "…" that holds quotes', 'v={config.x}; … "${X:-$v}"'],
    ['cat <<EOF > o\nsay {config.x}\nEOF\necho "${X:-"a"}"', "inside a here-document", "printf '%s\\n' {config.x}"],
    ["echo hi # {config.x}", "inside a shell comment", "move it out of the comment"],
    ["cat <<EOF > o\nsay {config.x}\nEOF", "inside a here-document", "printf '%s\\n' {config.x}"],
    ["echo $'a\\'' {config.x}", "a $'…' string", "'…'"],
    ["echo $'{config.x}'", "a $'…' string", "'…'"],
  ])("14.8 %j is refused with the field's place and a hint", (template, reason, hint) => {
    const parsed = parseCommandTemplate(template);
    const field = /\{(config|inputs|outputs)\.\w+\}/.exec(template)!;
    expect(parsed).toMatchObject({ ok: false, problem: { index: field.index, length: field[0].length } });
    if (parsed.ok) return;
    expect(parsed.problem.message).toContain(`template field ${field[0]} `);
    expect(parsed.problem.message).toContain(reason);
    expect(parsed.problem.hint).toContain(hint);
  });

  it.each([
    "x=$(date); printf '<%s>' {config.x}",
    'x="$(echo ")")"; printf "<%s>" "{config.x}"',
    "x=`echo \\$HOME`; printf '<%s>' '{config.x}'",
    "echo $((1 + 2)) >/dev/null; printf '<%s>' {config.x}",
    ": a # it's a comment\nprintf '<%s>' {config.x}",
    'x="$(basename "${HOME}")"; printf "<%s>" "{config.x}"',
    "x=$'\\t'; printf '<%s>' {config.x}",
    "printf '<%s>' \"${UNSET_VAR:-{config.x}}\"",
    'x="${TMPDIR:-$HOME}/${X:-a}"; printf "<%s>" "{config.x}"',
    "n=$(( (1 + 2) * 3 )); ( (true) ); printf '<%s>' {config.x}",
  ])("14.8 %j keeps the field, and no hostile value runs", (template) => {
    const dir = mkdtempSync(join(tmpdir(), "quanta-template-"));
    try {
      for (const w of HOSTILE) {
        const parsed = parseCommandTemplate(template);
        if (!parsed.ok) throw new Error(parsed.problem.message);
        const rendered = renderCommandTemplate(parsed.parts, () => ({ ok: true, words: [w] }));
        if (!rendered.ok) throw new Error(rendered.error);
        const out = spawnSync("/bin/sh", ["-c", rendered.text], { cwd: dir, encoding: "utf8" });
        expect(out.stdout, rendered.text).toBe(`<${w}>`);
        expect(existsSync(join(dir, "PWNED")), rendered.text).toBe(false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
