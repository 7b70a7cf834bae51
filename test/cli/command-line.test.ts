/**
 * 17.6: the command line people expect: `-n/--dry-run` on `run`, `--param name=value`, shell
 * completion, a hint for a mistyped flag, and usage errors (exit 2, no stack trace) for `-j abc` and
 * a directory named as the pipeline.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli } from "../helpers/cli.js";

const PIPELINE = `parameters: { greeting: hello }
dimensions: { doc: int }
inputs:
  text: { path: "data/{doc}.txt", storage: text }
tasks:
  greet:
    command: "echo {config.word} > {outputs.greeting}"
    dimensions: [doc]
    config: { word: "\${greeting}" }
    inputs: { text: { type: text, dimensions: [doc], storage: text } }
    outputs: { greeting: { type: greeting, dimensions: [doc], storage: text } }
`;

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-cli-"));
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "greet.yaml"), PIPELINE);
  for (const i of [1, 2]) writeFileSync(join(dir, "data", `${i}.txt`), `doc ${i}\n`);
});
afterEach(() => cleanup());

describe("17.6 the command line people expect", () => {
  it("17.6 run -n / --dry-run prints what status prints and runs nothing", async () => {
    const status = await runCli(["status", "greet.yaml"], { cwd: dir });
    for (const flag of ["-n", "--dry-run"]) {
      const dry = await runCli(["run", "greet.yaml", flag], { cwd: dir });
      expect(dry.code, dry.stderr).toBe(0);
      expect(dry.stdout).toBe(status.stdout);
      expect(dry.stdout).toContain("2 will run, 0 may run, 0 up to date");
    }
    const real = await runCli(["run", "greet.yaml"], { cwd: dir });
    expect(real.stdout).toContain("2 ran, 0 up to date");
  });

  it("17.6 --param name=value sets a pipeline parameter for run, status and why", async () => {
    expect((await runCli(["run", "greet.yaml"], { cwd: dir })).code).toBe(0);
    expect((await runCli(["get", "greeting@doc=1"], { cwd: dir })).stdout).toBe("hello\n");
    const status = await runCli(["status", "greet.yaml", "--param", "greeting=bye"], { cwd: dir });
    expect(status.stdout).toContain("2 will run, 0 may run, 0 up to date");
    const why = await runCli(["why", "greet@doc=1", "--pipeline", "greet.yaml", "--param", "greeting=bye"], { cwd: dir });
    expect(why.stdout).toContain(`config word changed: "hello" -> "bye"`);
    const run = await runCli(["run", "greet.yaml", "--param", "greeting=bye"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    expect((await runCli(["get", "greeting@doc=1"], { cwd: dir })).stdout).toBe("bye\n");
    const unknown = await runCli(["run", "greet.yaml", "--param", "greting=x"], { cwd: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error: unknown parameter "greting"\nhint: did you mean "greeting"?');
    const malformed = await runCli(["run", "greet.yaml", "--param", "greeting"], { cwd: dir });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('error: --param expects name=value, got "greeting"');
  });

  it("17.6 quanta completion prints a completion script, and completions list the command's flags", async () => {
    const script = await runCli(["completion"], { cwd: dir });
    expect(script.code).toBe(0);
    expect(script.stdout).toContain("quanta --get-yargs-completions");
    const commands = await runCli(["--get-yargs-completions", "st"], { cwd: dir });
    expect(commands.stdout.split("\n")).toEqual(expect.arrayContaining(["status", "run", "why"]));
    const flags = await runCli(["--get-yargs-completions", "run", "--"], { cwd: dir });
    expect(flags.stdout.split("\n")).toEqual(expect.arrayContaining(["--dry-run", "--param", "--config", "--where"]));
  });

  it("17.6 a mistyped flag gets a hint naming the flag meant", async () => {
    const r = await runCli(["run", "greet.yaml", "--confg", "greet.word=x"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("error: Unknown argument: confg\nhint: --confg: did you mean --config?\n");
    const two = await runCli(["datasets", "--colection", "x", "--tpe", "y"], { cwd: dir });
    expect(two.stderr).toContain("hint: --colection: did you mean --collection?; --tpe: did you mean --type?");
  });

  it("17.6 -j abc and a directory as the pipeline are usage errors", async () => {
    const jobs = await runCli(["run", "greet.yaml", "-j", "abc"], { cwd: dir });
    expect(jobs.code).toBe(2);
    expect(jobs.stderr).toBe('error: -j expects a whole number of at least 1, got "abc"\n');
    const folder = await runCli(["run", "."], { cwd: dir });
    expect(folder.code).toBe(2);
    expect(folder.stderr).toBe(`error: ${dir} is a directory, not a pipeline file\nhint: name a pipeline file (YAML) in it: greet.yaml\n`);
  });
});
