/**
 * Item 8 of issue 14: values substituted into a command template never run as shell code, and a bad
 * template or an unknown `--config` key of a command task fails when the pipeline is loaded.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-template-cli-");
afterAll(() => temp.cleanup());
let counter = 0;

function makeWorkspace(command: string, names: readonly string[]): string {
  const dir = join(temp.dir, `ws-${counter++}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  for (const name of names) writeFileSync(join(dir, "data", `${name}.txt`), `content of ${name}\n`);
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { name: string }",
      'inputs: { raw: { path: "data/{name}.txt", storage: text } }',
      "tasks:",
      "  show:",
      `    command: ${JSON.stringify(command)}`,
      "    dimensions: [name]",
      "    inputs: { src: { type: raw, dimensions: [name], storage: text } }",
      "    outputs: { out: { type: shown, dimensions: [name], storage: text } }",
      "    config: { note: plain, flags: [-a, 'b c'] }",
    ].join("\n") + "\n",
  );
  return dir;
}

describe("14.8 command template values are quoted for the shell", () => {
  it("14.8 a raw file named a$(touch X).txt reaches the command as text, not code", async () => {
    const names = ["a$(touch X)", "it's `touch Y`", 'q"$HOME\\'];
    const command =
      "cat {inputs.src} > {outputs.out}; echo {dataId.name} >> {outputs.out}; echo \"dq {dataId.name}\" >> {outputs.out}; " +
      "echo 'sq {dataId.name}' >> {outputs.out}; printf '<%s>' {config.flags} {config.note} >> {outputs.out}; ls >> {outputs.out}";
    const dir = makeWorkspace(command, names);
    const config = ["--config", "show.note=$(touch Z) it's"];
    const run = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "2", ...config], { cwd: dir });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    for (const name of names) {
      const got = await runCli(["get", `shown@name=${name}`, "--repo", "repo", "--collection", "p"], { cwd: dir });
      expect(got.code, got.stderr).toBe(0);
      // `ls` in the sandbox lists only inputs and outputs: no X, Y or Z was created.
      expect(got.stdout).toBe(
        `content of ${name}\n${name}\ndq ${name}\nsq ${name}\n<-a><b c><$(touch Z) it's>inputs\noutputs\n`,
      );
    }
    for (const made of ["X", "Y", "Z"]) expect(existsSync(join(dir, made))).toBe(false);
  });
});

describe("14.8 command templates are checked when the pipeline is loaded", () => {
  it.each([
    ["{config.cflgs}", "echo {config.cflgs} > {outputs.out}", 'uses {config.cflgs}, but the task has no config key "cflgs"', 'did you mean "flags"?'],
    ["{input.src}", "cat {input.src} > {outputs.out}", "unknown template field {input.src}", "did you mean {inputs.src}?"],
    ["an unclosed {inputs.src", "cat {inputs.src > {outputs.out}", "unclosed template field {inputs.src", 'close it with "}": {inputs.src}'],
  ])("8 %s fails `graph` with exit 2, its place in the file and a hint", async (_, command, message, hint) => {
    const dir = makeWorkspace(command, ["one"]);
    const graph = await runCli(["graph", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(graph.code).toBe(2);
    expect(graph.stderr).toMatch(new RegExp(`^error: p\\.yaml:5:\\d+: the command of task "show"`));
    expect(graph.stderr).toContain(message);
    expect(graph.stderr).toMatch(/\n {5}\| +\^~+\n/);
    expect(graph.stderr).toContain(`hint: ${hint}`);
    expect(graph.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it("14.8 a --config key a command task does not declare is refused with exit 2", async () => {
    const dir = makeWorkspace("cat {inputs.src} > {outputs.out}", ["one"]);
    const run = await runCli(["run", "p.yaml", "--repo", "repo", "--config", "show.nots=1"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: --config show.nots=1: task "show" has no config key "nots"\nhint: did you mean "note"?\n');
  });
});

describe("14.8 a field inside $( … ), `…` or $(( … )) is refused when the pipeline is loaded", () => {
  it.each([
    ["$( … ) in double quotes", 'echo "$(echo {config.note})" > {outputs.out}', "a command substitution $( … )"],
    ["$( … ) unquoted", "echo $(printf %s {config.note}) > {outputs.out}", "a command substitution $( … )"],
    ["`…` in double quotes", 'echo "`echo {config.note}`" > {outputs.out}', "a command substitution `…`"],
    ["`…` unquoted", "echo `printf %s {config.note}` > {outputs.out}", "a command substitution `…`"],
    ["$(( … )) in double quotes", 'echo "$((1 + {config.note}))" > {outputs.out}', "an arithmetic expansion $(( … ))"],
    ["$(( … )) unquoted", "echo $((1 + {config.note})) > {outputs.out}", "an arithmetic expansion $(( … ))"],
  ])("14.8 %s: exit 2 with the field's place, and a hostile --config value creates no file", async (_, command, what) => {
    const dir = makeWorkspace(command, ["one"]);
    const pwned = join(dir, "PWNED");
    for (const note of [`$(touch ${pwned})`, `x\`touch ${pwned}\``, `1 + x[$(touch ${pwned})]`]) {
      const run = await runCli(["run", "p.yaml", "--repo", "repo", "--config", `show.note=${note}`], { cwd: dir });
      expect(run.code, run.stderr + run.stdout).toBe(2);
      expect(run.stderr).toMatch(/^error: p\.yaml:5:\d+: the command of task "show": template field \{config\.note\} is inside /);
      expect(run.stderr).toContain(`${what}, whose text the shell parses again`);
      expect(run.stderr).toMatch(/\n {5}\| +\^~+\n/);
      expect(run.stderr).toContain("hint: pass it as an argument");
      expect(existsSync(pwned)).toBe(false);
    }
  });

  it("14.8 a field in a comment is refused; a field after a comment holding a quote is quoted for where it is", async () => {
    const commented = await runCli(["graph", "p.yaml", "--repo", "repo"], { cwd: makeWorkspace("cat {inputs.src} > {outputs.out} # {config.note}", ["one"]) });
    expect(commented.code).toBe(2);
    expect(commented.stderr).toContain("template field {config.note} is inside a shell comment");
    const dir = makeWorkspace(": a # it's a comment\necho {config.note} > {outputs.out}", ["one"]);
    const pwned = join(dir, "PWNED");
    const run = await runCli(["run", "p.yaml", "--repo", "repo", "--config", `show.note=x; touch ${pwned}`], { cwd: dir });
    expect(run.code, run.stderr + run.stdout).toBe(0);
    const got = await runCli(["get", "shown@name=one", "--repo", "repo", "--collection", "p"], { cwd: dir });
    expect(got.stdout).toBe(`x; touch ${pwned}\n`);
    expect(existsSync(pwned)).toBe(false);
  });
});
