/**
 * 17.3: force and forget. A result that came from an undeclared input (here a file the command reads
 * behind quanta's back) or a changed tool can be replaced for good: `--force TASKS` (narrowed by
 * `--where`, agreed on by `status` and `why`), `quanta forget TASK|QUANTUM…`, and a task's `version:`
 * and `tools:` joining its quanta's keys.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { makeTempDir, runCli, type CliResult } from "../helpers/cli.js";

let dir: string;
let cleanup: () => void;

function pipeline(extra: string): string {
  return `dimensions: { doc: int }
inputs:
  text: { path: "data/{doc}.txt", storage: text }
tasks:
  stamp:
    command: "cat {inputs.text} ${join(dir, "undeclared.txt")} > {outputs.out}"
    dimensions: [doc]
    config: { word: a }
    inputs: { text: { type: text, dimensions: [doc], storage: text } }
    outputs: { out: { type: stamped, dimensions: [doc], storage: text } }
${extra}`;
}

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir("quanta-force-"));
  mkdirSync(join(dir, "data"));
  for (const i of [1, 2]) writeFileSync(join(dir, "data", `${i}.txt`), `doc ${i}\n`);
  writeFileSync(join(dir, "undeclared.txt"), "old\n");
  writeFileSync(join(dir, "p.yaml"), pipeline(""));
});
afterEach(() => cleanup());

const cli = (...args: string[]) => runCli(args, { cwd: dir });

function ran(r: CliResult): number {
  expect(r.code, r.stderr).toBe(0);
  const m = /run finished in \S+: (\d+) ran/.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return Number(m![1]);
}

async function got(dataset: string): Promise<string> {
  const r = await cli("get", dataset);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe("17.3 --force", () => {
  it("17.3 --force TASK --where reruns exactly those quanta; status and why say so; the result stays replaced", async () => {
    expect(ran(await cli("run", "p.yaml"))).toBe(2);
    writeFileSync(join(dir, "undeclared.txt"), "new\n");
    expect(ran(await cli("run", "p.yaml"))).toBe(0);
    const status = await cli("status", "p.yaml", "--force", "stamp", "--where", "doc = 1");
    expect(status.stdout).toContain("1 will run, 0 may run, 0 up to date");
    const why = await cli("why", "stamp@doc=1", "--force", "stamp");
    expect(why.stdout).toBe("stamp@doc=1 will run:\n  - forced (--force)\n");
    expect(ran(await cli("run", "p.yaml", "--force", "stamp", "--where", "doc = 1"))).toBe(1);
    expect(await got("stamped@doc=1")).toBe("doc 1\nnew\n");
    expect(await got("stamped@doc=2")).toBe("doc 2\nold\n");
    // Without --force the replaced result is the one kept: no stale result comes back.
    expect(ran(await cli("run", "p.yaml"))).toBe(0);
    expect(await got("stamped@doc=1")).toBe("doc 1\nnew\n");
    const log = await cli("log", "stamp@doc=1");
    expect(log.stdout).toContain("ran because: forced (--force)");
  });

  it("17.3 --force naming a task the plan does not have is a usage error", async () => {
    const r = await cli("run", "p.yaml", "--force", "stmap");
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --force: the plan has no task "stmap"\nhint: did you mean "stamp"?\n');
  });
});

describe("17.3 quanta forget", () => {
  it("17.3 forget TASK drops every cached result of the task, so going back to a config seen before recomputes it", async () => {
    expect(ran(await cli("run", "p.yaml"))).toBe(2);
    expect(ran(await cli("run", "p.yaml", "--config", "stamp.word=b"))).toBe(2);
    writeFileSync(join(dir, "undeclared.txt"), "new\n");
    // Today's only lever, a dummy config value, brings the stale result back when dropped:
    expect(ran(await cli("run", "p.yaml"))).toBe(0);
    expect(await got("stamped@doc=2")).toBe("doc 2\nold\n");
    const forgot = await cli("forget", "stamp");
    expect(forgot.code, forgot.stderr).toBe(0);
    expect(forgot.stdout).toBe("forgot stamp: 4 cached results, 2 quantum records\n");
    expect((await cli("status", "p.yaml")).stdout).toContain("2 will run, 0 may run, 0 up to date");
    expect(ran(await cli("run", "p.yaml"))).toBe(2);
    expect(await got("stamped@doc=2")).toBe("doc 2\nnew\n");
    expect(ran(await cli("run", "p.yaml", "--config", "stamp.word=b"))).toBe(2);
  });

  it("17.3 forget QUANTUM forgets that quantum only; a name that matches nothing forgets nothing", async () => {
    expect(ran(await cli("run", "p.yaml"))).toBe(2);
    const typo = await cli("forget", "stamp@doc=1", "stmp");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toBe('error: nothing is remembered of stmp; nothing was forgotten\nhint: did you mean "stamp"?\n');
    expect(ran(await cli("run", "p.yaml"))).toBe(0);
    expect((await cli("forget", "stamp@doc=1")).stdout).toBe("forgot stamp@doc=1: 1 cached results, 1 quantum records\n");
    const list = await cli("status", "p.yaml", "--list");
    expect(list.stdout).toContain("will run  stamp@doc=1: never run with these inputs, config and code\n");
    expect(ran(await cli("run", "p.yaml"))).toBe(1);
  });
});

describe("17.3 version: and tools: join the key", () => {
  it("17.3 a task's version: joins its quanta's keys, and why names it", async () => {
    writeFileSync(join(dir, "p.yaml"), pipeline("    version: 1\n"));
    expect(ran(await cli("run", "p.yaml"))).toBe(2);
    expect(ran(await cli("run", "p.yaml"))).toBe(0);
    writeFileSync(join(dir, "p.yaml"), pipeline("    version: 2\n"));
    expect((await cli("why", "stamp@doc=1", "--pipeline", "p.yaml")).stdout).toBe("stamp@doc=1 will run:\n  - version changed: 1 -> 2\n");
    expect(ran(await cli("run", "p.yaml"))).toBe(2);
  });

  it("17.3 the digest of a tools: executable joins the key: editing the tool reruns its quanta", async () => {
    mkdirSync(join(dir, "bin"));
    const tool = join(dir, "bin", "upper");
    writeFileSync(tool, "#!/bin/sh\ntr a-z A-Z\n");
    chmodSync(tool, 0o755);
    const withTool = pipeline("").replace('command: "cat', 'tools: [upper]\n    command: "cat').replace("> {outputs.out}", "| upper > {outputs.out}");
    writeFileSync(join(dir, "p.yaml"), withTool);
    const env = { PATH: `${join(dir, "bin")}:${process.env.PATH}` };
    const run = (...args: string[]) => runCli(args, { cwd: dir, env });
    expect(ran(await run("run", "p.yaml"))).toBe(2);
    expect(ran(await run("run", "p.yaml"))).toBe(0);
    writeFileSync(tool, "#!/bin/sh\ntr a-z A-Z | rev\n");
    const why = await run("why", "stamp@doc=1", "--pipeline", "p.yaml");
    expect(why.stdout).toMatch(/^stamp@doc=1 will run:\n {2}- tool upper changed: [0-9a-f]{32}-\d+ -> [0-9a-f]{32}-\d+\n$/);
    expect(ran(await run("run", "p.yaml"))).toBe(2);
    const missing = await runCli(["run", "p.yaml"], { cwd: dir, env: { PATH: "/usr/bin:/bin" } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: p.yaml:6:13: task "stamp": tool "upper" is not an executable on PATH');
  });
});
