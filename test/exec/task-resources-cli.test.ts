/**
 * A command task's `resources.cpus` takes that many of the local pool's `-j` slots (and its command reads
 * the number as {resources.cpus}); `env:` and `path:` set the command's environment. Through the real CLI.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { LaunchSlots } from "../../src/exec/launch-slots.js";
import { makeTempDir, runCli } from "../helpers/cli.js";

const temp = makeTempDir("quanta-task-resources-");
afterAll(() => temp.cleanup());
let counter = 0;

function makeProject(lines: string[]): string {
  const dir = join(temp.dir, `p${counter++}`);
  mkdirSync(join(dir, "tools"), { recursive: true });
  for (let i = 1; i <= 4; i++) writeFileSync(join(dir, `d${i}.txt`), `${i}\n`);
  writeFileSync(join(dir, "tools", "greet"), '#!/bin/sh\necho "greet: $1"\n');
  chmodSync(join(dir, "tools", "greet"), 0o755);
  writeFileSync(join(dir, "p.yaml"), ["dimensions: { x: int }", 'inputs: { seed: { path: "d{x}.txt", storage: file } }', "tasks:", ...lines].join("\n") + "\n");
  return dir;
}

async function get(dir: string, ref: string): Promise<string> {
  const r = await runCli(["get", ref, "--repo", "repo"], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe("17.8.e task resources and environment", () => {
  it("runs a task with cpus: 2 one quantum at a time under -j 2, and tells it how many cores it holds", async () => {
    // Each quantum holds a lock folder while it works: two at once would find it taken and fail.
    const dir = makeProject([
      "  wide:",
      `    command: "mkdir ${temp.dir}/busy-${counter} || exit 7; sleep 0.2; rmdir ${temp.dir}/busy-${counter}; echo {resources.cpus} > {outputs.o}"`,
      "    dimensions: [x]",
      "    resources: { cpus: 2 }",
      "    inputs: { s: { type: seed, dimensions: [x], storage: file } }",
      "    outputs: { o: { type: out, dimensions: [x], storage: text } }",
    ]);
    const r = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "2"], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("4 ran, 0 up to date, 0 failed");
    expect(await get(dir, "out@x=3")).toBe("2\n");
  });

  it("gives a task more cpus than -j allows all the slots there are", async () => {
    const dir = makeProject([
      "  wide:",
      '    command: "echo {resources.cpus} {resources.memory} > {outputs.o}"',
      "    dimensions: [x]",
      '    resources: { cpus: 16, memory: "2G" }',
      "    inputs: { s: { type: seed, dimensions: [x], storage: file } }",
      "    outputs: { o: { type: out, dimensions: [x], storage: text } }",
    ]);
    const r = await runCli(["run", "p.yaml", "--repo", "repo", "-j", "3"], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await get(dir, "out@x=1")).toBe("3 2G\n");
  });

  it("sets the command's environment from env: (as written) and path:", async () => {
    const dir = makeProject([
      "  hello:",
      '    command: "greet \\"$GREETING\\" > {outputs.o}"',
      "    dimensions: []",
      '    env: { GREETING: "hello $USER", LEVEL: 3 }',
      "    path: [./tools]",
      "    outputs: { o: { type: greeting, dimensions: [], storage: text } }",
    ]);
    const r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: dir });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await get(dir, "greeting@")).toBe("greet: hello $USER\n");
  });

  it("refuses cpus that are not a whole number, a PATH in env:, and an undeclared resource field", async () => {
    const task = (extra: string, command = "echo > {outputs.o}") => [
      "  t:",
      `    command: "${command}"`,
      "    dimensions: []",
      `    ${extra}`,
      "    outputs: { o: { type: o, dimensions: [], storage: text } }",
    ];
    let r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: makeProject(task("resources: { cpus: 1.5 }")) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('task "t": resources.cpus 1.5 is not a whole number of cores');
    r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: makeProject(task("env: { PATH: /opt/bin }")) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('task "t": "PATH" cannot be set by env:');
    expect(r.stderr).toContain("hint: add folders to PATH with path: [./tools/bin]");
    r = await runCli(["run", "p.yaml", "--repo", "repo"], { cwd: makeProject(task("resources: { cpus: 2 }", "echo {resources.mem} > {outputs.o}")) });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('uses {resources.mem}, but the task has no resource "mem"');
  });
});

describe("17.8.e LaunchSlots.takeMany", () => {
  it("gathers slots as others give them back, and gives back what it gathered when aborted", async () => {
    const slots = new LaunchSlots(3);
    expect(slots.tryTake()).toBe(true);
    expect(slots.tryTake()).toBe(true);
    let held = false;
    const gathering = slots.takeMany(3).then((ok) => (held = ok));
    await Promise.resolve();
    expect(held).toBe(false);
    slots.give();
    slots.give();
    expect(await gathering).toBe(true);
    expect(slots.tryTake()).toBe(false);

    const other = new LaunchSlots(2);
    expect(other.tryTake()).toBe(true);
    const abort = new AbortController();
    const waiting = other.takeMany(2, abort.signal);
    await new Promise((resolve) => setImmediate(resolve));
    abort.abort();
    expect(await waiting).toBe(false);
    other.give();
    expect(other.tryTake() && other.tryTake()).toBe(true);
  });
});
