import { existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CodeDigest } from "../../src/core/digest.js";
import type { Connection, TaskNode } from "../../src/core/pipeline.js";
import type { StorageClass } from "../../src/core/storage-class.js";
import { checkCommandTemplate, runCommandQuantum, type CommandQuantumOptions } from "../../src/exec/command-runner.js";
import { SandboxPool, type Sandbox } from "../../src/exec/sandbox-pool.js";
import type { ShellSpawner } from "../../src/exec/shell-spawner.js";
import { isDead } from "./process-state.js";
import { startTestSpawners } from "./spawners.js";
import { NO_COMPILER_REASON } from "../helpers/c-compiler.js";

const root = mkdtempSync(join(tmpdir(), "quanta-command-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function connection(name: string, dimensions: string[], opts: { storage?: StorageClass; multiple?: boolean } = {}): Connection {
  return { name, type: name, dimensions, storage: opts.storage ?? "file", multiple: opts.multiple ?? false, minimum: 1, prerequisite: false };
}

function commandTask(command: string, parts: Partial<TaskNode> = {}): TaskNode {
  return {
    label: "cmd",
    kind: "command",
    command,
    dimensions: ["visit"],
    inputs: { src: connection("src", ["visit"]) },
    outputs: { out: connection("out", ["visit"]) },
    config: {},
    codeDigest: "0000000000000000" as CodeDigest,
    ...parts,
  };
}

/** A "pipeline directory" with input files, plus a secret the command must not reach. */
function makeInputs(files: Record<string, string>): string {
  const dir = join(root, `pipeline-${counter++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** A fresh pool (so its root holds only the sandboxes of one test). */
function sandboxPool(): SandboxPool {
  return new SandboxPool(join(root, `sandboxes-${counter++}`));
}

/**
 * Runs a quantum in a sandbox of a fresh pool, and returns the result with that sandbox (not yet
 * released, so a test can look in it).
 */
async function runIn(spawner: ShellSpawner, opts: Omit<CommandQuantumOptions, "sandbox" | "spawners">, pool = sandboxPool()) {
  const sandbox: Sandbox = pool.take(Object.keys(opts.task.inputs));
  const result = await runCommandQuantum({ ...opts, sandbox, spawners: { current: () => spawner } });
  return Object.assign(result, { sandbox: sandbox.path, pool: pool.root });
}

const spawners = await startTestSpawners();
afterAll(() => spawners.close());

describe.each(spawners.list)("runCommandQuantum, commands started by %s", (_, spawner) => {
  // Without a C compiler there is no helper; shell-spawner.test.ts checks it is there when there is one.
  if (spawner === undefined) return void it.skip(NO_COMPILER_REASON ?? "needs the helper");

  it("expands inputs (multiple in data ID order), lists, outputs, config and data ID fields", async () => {
    const dir = makeInputs({ a: "one\n", b: "two\n", c: "ten\n" });
    const task = commandTask(
      "cat {inputs.parts} > {outputs.out}; cat {inputs.parts.list} >> {outputs.out}; echo {config.greeting.word} {dataId.visit} {config.flags} >> {outputs.out}; echo done",
      {
        dimensions: ["visit"],
        inputs: { parts: connection("parts", ["visit", "detector"], { multiple: true, storage: "text" }) },
        outputs: { out: connection("out", ["visit"], { storage: "text" }) },
        config: { greeting: { word: "hello" }, flags: ["-a", "-b"] },
      },
    );
    const result = await runIn(spawner, {
      task,
      dataId: { visit: 7 },
      inputs: {
        parts: [
          { path: join(dir, "c"), dataId: { visit: 7, detector: 10 } },
          { path: join(dir, "a"), dataId: { visit: 7, detector: 1 } },
          { path: join(dir, "b"), dataId: { visit: 7, detector: 2 } },
        ],
      },
    });
    expect(result).toMatchObject({ ok: true, log: "done\n" });
    if (!result.ok) return;
    expect(result.outputs.out).toBe(join(result.sandbox, "outputs/out.txt"));
    expect(readFileSync(result.outputs.out!, "utf8")).toBe(
      [
        "one",
        "two",
        "ten",
        "inputs/parts/detector=1,visit=7.txt",
        "inputs/parts/detector=2,visit=7.txt",
        "inputs/parts/detector=10,visit=7.txt",
        "hello 7 -a -b",
        "",
      ].join("\n"),
    );
  });

  it("runs in a sandbox that holds only the declared inputs", async () => {
    const dir = makeInputs({ "input.c": "int main;\n", "secret.txt": "do not read\n" });
    const task = commandTask(": > {outputs.out}; find . -type f | sort >> {outputs.out}; cat {inputs.src}; cat secret.txt");
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: { src: [{ path: join(dir, "input.c"), dataId: { visit: 1 } }] } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.log).toContain("int main;\n");
    expect(result.log).toMatch(/secret\.txt: No such file or directory/);
    expect(result.log).not.toContain("do not read");
    expect(result.error).toBe("command exited with code 1");
    expect(result.log).toContain("secret.txt");
    // What the command could see: its input (with the input's own extension) and the output it wrote.
    const listing = readFileSync(join(result.sandbox, "outputs", "out"), "utf8");
    expect(listing).toBe("./inputs/src/visit=1.c\n./outputs/out\n");
  });

  it("names an input whose data ID has long values so that the file system takes the name", async () => {
    const dir = makeInputs({ "a.txt": "first\n", "b.txt": "second\n" });
    // Two data IDs of 400 characters that differ only at the end: their names must differ too.
    const id = (last: string) => ({ visit: `${"v".repeat(390)}${last}` });
    const task = commandTask("cat {inputs.src} > {outputs.out}; ls inputs/src >> {outputs.out}", {
      dimensions: [],
      inputs: { src: connection("src", ["visit"], { multiple: true }) },
      outputs: { out: connection("out", []) },
    });
    const result = await runIn(spawner, {
      task,
      dataId: {},
      inputs: { src: [{ path: join(dir, "a.txt"), dataId: id("a") }, { path: join(dir, "b.txt"), dataId: id("b") }] },
    });
    expect(result.ok).toBe(true);
    const [first, second, ...names] = readFileSync(join(result.sandbox, "outputs", "out"), "utf8").trimEnd().split("\n");
    expect([first, second]).toEqual(["first", "second"]);
    expect(names).toHaveLength(2);
    for (const name of names) expect(name).toMatch(/^visit=v{185}-[0-9a-f]{8}\.txt$/);
    expect(names[0]).not.toBe(names[1]);
  });

  it("fails the quantum, naming the template, when a name: template gives a file name longer than file systems take", async () => {
    const dir = makeInputs({ "a.txt": "first\n" });
    const visit = "v".repeat(300);
    const make = (inputName: string | undefined, outputName: string | undefined) =>
      commandTask("cat {inputs.src} > {outputs.out}", {
        inputs: { src: { ...connection("src", ["visit"]), ...(inputName !== undefined && { sandboxName: inputName }) } },
        outputs: { out: { ...connection("out", ["visit"]), ...(outputName !== undefined && { sandboxName: outputName }) } },
      });
    const input = await runIn(spawner, { task: make("in/{visit}.txt", undefined), dataId: { visit }, inputs: { src: [{ path: join(dir, "a.txt"), dataId: { visit } }] } });
    expect(input).toMatchObject({ ok: false, error: `input "src" would be named "${"v".repeat(60)}…" in the sandbox (name: "in/{visit}.txt"), 304 bytes: file systems allow 255; give it a name that uses fewer or shorter fields` });
    const output = await runIn(spawner, { task: make(undefined, "{visit}/out.txt"), dataId: { visit }, inputs: { src: [{ path: join(dir, "a.txt"), dataId: { visit } }] } });
    expect(output).toMatchObject({ ok: false, error: expect.stringMatching(/^output "out" would be named "v{60}…" in the sandbox \(name: "\{visit\}\/out.txt"\), 300 bytes: file systems allow 255;/) });
    // At the limit, the name is taken as it is.
    const fits = "w".repeat(251);
    const atLimit = await runIn(spawner, { task: make("{visit}.txt", undefined), dataId: { visit: fits }, inputs: { src: [{ path: join(dir, "a.txt"), dataId: { visit: fits } }] } });
    expect(atLimit.ok).toBe(true);
    expect(readdirSync(atLimit.sandbox)).toContain(`${fits}.txt`);
  });

  it("writes an input that carries its bytes into the sandbox", async () => {
    const task = commandTask("cat {inputs.src} > {outputs.out}");
    const bytes = new TextEncoder().encode("inline bytes\n");
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: { src: [{ path: "", bytes, dataId: { visit: 1 }, extension: ".txt" }] } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(readFileSync(result.outputs.out!, "utf8")).toBe("inline bytes\n");
    expect(readdirSync(join(result.sandbox, "inputs", "src"))).toEqual(["visit=1.txt"]);
  });

  it("rewrites the file a sandbox kept for an input's bytes, never through a link a command put there", async () => {
    const pool = sandboxPool();
    const bytes = (text: string) => new TextEncoder().encode(text);
    const run = async (command: string, visit: number, text: string) => {
      const sandbox = pool.take(["src"]);
      const task = commandTask(command);
      const result = await runCommandQuantum({ task, dataId: { visit }, inputs: { src: [{ path: "", bytes: bytes(text), dataId: { visit }, extension: ".txt" }] }, sandbox, spawners: { current: () => spawner } });
      const input = join(sandbox.path, "inputs", "src", `visit=${visit}.txt`);
      const st = statSync(input, { throwIfNoEntry: false });
      const out = result.ok ? readFileSync(result.outputs.out!, "utf8") : result.error;
      sandbox.release();
      return { out, ino: st?.ino, listing: readdirSync(join(sandbox.path, "inputs", "src")) };
    };
    const first = await run("cat {inputs.src} > {outputs.out}", 1, "first\n");
    expect(first.out).toBe("first\n");
    // Kept by the emptying, renamed and rewritten for the next quantum: the same inode.
    expect(first.listing).toEqual(["visit=1.txt"]);
    const second = await run("cat {inputs.src} > {outputs.out}", 2, "second, longer\n");
    expect(second).toMatchObject({ out: "second, longer\n", ino: first.ino, listing: ["visit=2.txt"] });

    // A command that writes to its private copy harms nothing; one that puts links in its place gets
    // neither written through.
    const outside = makeInputs({ "precious.txt": "precious\n", "linked.txt": "linked\n" });
    await run(`echo scribble >> {inputs.src}; cp {inputs.src} {outputs.out}`, 3, "third\n");
    expect((await run("cat {inputs.src} > {outputs.out}", 4, "fourth\n")).out).toBe("fourth\n");
    await run(`cat {inputs.src} > {outputs.out}; rm {inputs.src}; ln -s ${join(outside, "precious.txt")} {inputs.src}`, 5, "fifth\n");
    expect((await run("cat {inputs.src} > {outputs.out}", 6, "sixth\n")).out).toBe("sixth\n");
    await run(`cat {inputs.src} > {outputs.out}; rm {inputs.src}; ln ${join(outside, "linked.txt")} {inputs.src}`, 7, "seventh\n");
    expect((await run("cat {inputs.src} > {outputs.out}", 8, "eighth\n")).out).toBe("eighth\n");
    expect(readFileSync(join(outside, "precious.txt"), "utf8")).toBe("precious\n");
    expect(readFileSync(join(outside, "linked.txt"), "utf8")).toBe("linked\n");
  });

  it("leaves no kept file where the next quantum reads its input through a link", async () => {
    const pool = sandboxPool();
    const dir = makeInputs({ blob: "from a blob\n" });
    const first = pool.take(["src"]);
    const inline = { path: "", bytes: new TextEncoder().encode("x\n"), dataId: { visit: 1 } };
    expect((await runCommandQuantum({ task: commandTask("cat {inputs.src} > {outputs.out}"), dataId: { visit: 1 }, inputs: { src: [inline] }, sandbox: first, spawners: { current: () => spawner } })).ok).toBe(true);
    first.release();
    expect(readdirSync(join(first.path, "inputs", "src"))).toEqual(["visit=1"]);
    const second = pool.take(["src"]);
    expect(second.path).toBe(first.path);
    const linked = await runCommandQuantum({ task: commandTask("ls inputs/src > {outputs.out}"), dataId: { visit: 2 }, inputs: { src: [{ path: join(dir, "blob"), dataId: { visit: 2 } }] }, sandbox: second, spawners: { current: () => spawner } });
    expect(linked.ok).toBe(true);
    if (linked.ok) expect(readFileSync(linked.outputs.out!, "utf8")).toBe("visit=2\n");
    second.release();
  });

  it("removes a kept file before linking an input that takes its name, and never writes through what a command left there", async () => {
    const pool = sandboxPool();
    const dir = makeInputs({ blob: "from a blob\n", "victim.txt": "victim\n" });
    const first = pool.take(["src"]);
    const inline = { path: "", bytes: new TextEncoder().encode("inline\n"), dataId: { visit: 1 } };
    // The command puts a hard link to an outside file where its private copy was.
    const scribbler = commandTask(`cat {inputs.src} > {outputs.out}; ln -f ${join(dir, "victim.txt")} {inputs.src}`);
    expect((await runCommandQuantum({ task: scribbler, dataId: { visit: 1 }, inputs: { src: [inline] }, sandbox: first, spawners: { current: () => spawner } })).ok).toBe(true);
    first.release();
    const second = pool.take(["src"]);
    const reader = commandTask("cat {inputs.src} > {outputs.out}");
    const linked = await runCommandQuantum({ task: reader, dataId: { visit: 1 }, inputs: { src: [{ path: join(dir, "blob"), dataId: { visit: 1 } }] }, sandbox: second, spawners: { current: () => spawner } });
    expect(linked.ok).toBe(true);
    if (linked.ok) expect(readFileSync(linked.outputs.out!, "utf8")).toBe("from a blob\n");
    second.release();
    expect(readFileSync(join(dir, "victim.txt"), "utf8")).toBe("victim\n");
  });

  it("takes an output that is a symbolic link to a file as a copy of that file", async () => {
    const task = commandTask('ln -s "$PWD/{inputs.src}" {outputs.out}');
    const bytes = new TextEncoder().encode("linked through\n");
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: { src: [{ path: "", bytes, dataId: { visit: 1 } }] } });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(lstatSync(result.outputs.out!).isFile()).toBe(true);
    expect(readFileSync(result.outputs.out!, "utf8")).toBe("linked through\n");
    expect(result.sizes.out).toBe(15);
  });

  it("fails a command that writes to a linked input, and removes the damaged blob", async () => {
    const dir = makeInputs({ blob: "original\n" });
    const task = commandTask("echo extra >> {inputs.src}; cp {inputs.src} {outputs.out}");
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: { src: [{ path: join(dir, "blob"), dataId: { visit: 1 } }] } });
    expect(result).toMatchObject({ ok: false, error: `the command modified its input ${join(dir, "blob")} (inputs are read-only); the damaged blob was removed` });
    expect(existsSync(join(dir, "blob"))).toBe(false);
  });

  /** A raw file ingested by reference, as a command gets it: with its stat when it was checked. */
  const rawInput = (path: string, held = statSync(path)) => ({ path, dataId: { visit: 1 }, referenced: { ino: held.ino, size: held.size, mtimeMs: held.mtimeMs } });

  it("a raw input read by reference that changed while the command ran: the result is not kept, the file is named and left as it is, whoever wrote it", async () => {
    const dir = makeInputs({ raw: "original\n" });
    const file = join(dir, "raw");
    const expected = { ok: false, inputChanged: [file], error: `the raw input ${file} changed while the command ran (by another process, or by the command, which must not write to its inputs); the result is not kept: the next run's ingest hashes the file again` };
    // Written through the link, and through {inputs.X.paths}.
    for (const command of ["echo extra >> {inputs.src}; cp {inputs.src} {outputs.out}", "xargs sh -c 'echo extra >> \"$0\"' < {inputs.src.paths}; : > {outputs.out}"]) {
      writeFileSync(file, "original\n");
      const result = await runIn(spawner, { task: commandTask(command), dataId: { visit: 1 }, inputs: { src: [rawInput(file)] } });
      expect(result).toMatchObject(expected);
      expect(readFileSync(file, "utf8")).toBe("original\nextra\n");
    }
    // Saved again by a rename, with the same size and mtime (an editor's save): only its inode tells.
    writeFileSync(file, "original\n");
    const save = `cp -p {inputs.src} ${join(dir, "saved")} && mv ${join(dir, "saved")} ${file}; : > {outputs.out}`;
    expect(await runIn(spawner, { task: commandTask(save), dataId: { visit: 1 }, inputs: { src: [rawInput(file)] } })).toMatchObject(expected);
    // A command that did not end by itself says so (its raw input changed too).
    writeFileSync(file, "original\n");
    const late = await runIn(spawner, { task: commandTask("echo extra >> {inputs.src}; sleep 30"), dataId: { visit: 1 }, inputs: { src: [rawInput(file)] }, timeoutMs: 300 });
    expect(late).toMatchObject({ ok: false, error: "timed out after 0.3s", stray: true });
    expect(late).not.toHaveProperty("inputChanged");
  });

  it("a raw input is compared after the command with its stat when it was checked, not when it was linked: a change between the two is caught", async () => {
    const dir = makeInputs({ raw: "original\n" });
    const file = join(dir, "raw");
    const checked = statSync(file);
    writeFileSync(file, "changed after the check, before the link\n");
    const result = await runIn(spawner, { task: commandTask("cp {inputs.src} {outputs.out}"), dataId: { visit: 1 }, inputs: { src: [rawInput(file, checked)] } });
    expect(result).toMatchObject({ ok: false, inputChanged: [file] });
    // Unchanged since its check: the command's result is kept.
    const kept = await runIn(spawner, { task: commandTask("cp {inputs.src} {outputs.out}"), dataId: { visit: 1 }, inputs: { src: [rawInput(file)] } });
    expect(kept.ok).toBe(true);
  });

  it("19.4 a gather named only as {inputs.X.paths} reads its datasets where they are: nothing is placed in its sandbox", async () => {
    const dir = makeInputs({ a: "one\n", b: "two\n", c: "ten\n" });
    const task = commandTask("xargs cat < {inputs.parts.paths} > {outputs.out}; find inputs -type f | sort >> {outputs.out}; cat {inputs.parts.paths} >> {outputs.out}", {
      inputs: { parts: connection("parts", ["visit", "detector"], { multiple: true, storage: "text" }) },
      outputs: { out: connection("out", ["visit"], { storage: "text" }) },
    });
    const result = await runIn(spawner, {
      task,
      dataId: { visit: 7 },
      inputs: {
        parts: [
          { path: join(dir, "c"), dataId: { visit: 7, detector: 10 } },
          { path: join(dir, "a"), dataId: { visit: 7, detector: 1 } },
          { path: join(dir, "b"), dataId: { visit: 7, detector: 2 } },
        ],
      },
    });
    expect(result.ok, result.ok ? "" : result.error).toBe(true);
    if (!result.ok) return;
    // The bytes in data ID order, then the sandbox's only input file (the list), then the list itself.
    expect(readFileSync(result.outputs.out!, "utf8")).toBe(["one", "two", "ten", "inputs/parts.paths", join(dir, "a"), join(dir, "b"), join(dir, "c"), ""].join("\n"));
  });

  it("19.4 a connection named both as {inputs.X} and {inputs.X.paths} is placed, and its .paths file names the datasets' own files", async () => {
    const dir = makeInputs({ a: "one\n" });
    const task = commandTask("cat {inputs.src} > {outputs.out}; cat {inputs.src.paths} >> {outputs.out}");
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: { src: [{ path: join(dir, "a"), dataId: { visit: 1 } }] } });
    expect(result.ok, result.ok ? "" : result.error).toBe(true);
    if (!result.ok) return;
    expect(readFileSync(result.outputs.out!, "utf8")).toBe(`one\n${join(dir, "a")}\n`);
  });

  it("19.4 fails a command that writes to a dataset it reads through {inputs.X.paths}, and removes the damaged blob", async () => {
    const dir = makeInputs({ blob: "original\n" });
    const task = commandTask("xargs sh -c 'echo extra >> \"$0\"' < {inputs.src.paths}; : > {outputs.out}");
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: { src: [{ path: join(dir, "blob"), dataId: { visit: 1 } }] } });
    expect(result).toMatchObject({ ok: false, error: `the command modified its input ${join(dir, "blob")} (inputs are read-only); the damaged blob was removed` });
    expect(existsSync(join(dir, "blob"))).toBe(false);
  });

  it("names a declared output the command did not write", async () => {
    const task = commandTask("echo partial > {outputs.out}", {
      inputs: {},
      outputs: { out: connection("out", ["visit"]), table: connection("table", ["visit"], { storage: "json" }) },
    });
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: {} });
    expect(result).toMatchObject({ ok: false, error: 'declared output "table" (outputs/table.json) was not written by the command', log: "" });
  });

  it("reports the exit code and the log tail, stdout and stderr interleaved", async () => {
    const lines = Array.from({ length: 15 }, (_, i) => `echo line${i + 1}`).join("; ");
    const task = commandTask(`echo one; echo two >&2; echo three; ${lines}; echo failing >&2; exit 3`, { inputs: {} });
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: {} });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.log.startsWith("one\ntwo\nthree\nline1\n")).toBe(true);
    expect(result.log.endsWith("line15\nfailing\n")).toBe(true);
    // The error does not repeat the log: the reporters print the log's tail under it.
    expect(result.error).toBe("command exited with code 3");
  });

  it("reports a command killed by a signal", async () => {
    const task = commandTask("echo dying; kill -TERM $$", { inputs: {} });
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: {} });
    expect(result).toMatchObject({ ok: false, error: "command was killed by SIGTERM", log: "dying\n" });
  });

  it("kills the whole process group on timeout", async () => {
    const pool = sandboxPool();
    const task = commandTask("sleep 30 & echo $! > ../background.pid; echo started; sleep 30", { inputs: {} });
    const started = Date.now();
    // 2 s: time for the shell to start the background process and say so, even on a busy machine.
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: {}, timeoutMs: 2000 }, pool);
    expect(Date.now() - started).toBeLessThan(12_000);
    expect(result).toMatchObject({ ok: false, error: "timed out after 2s", log: "started\n" });
    const pid = Number(readFileSync(join(pool.root, "background.pid"), "utf8"));
    expect(isDead(pid)).toBe(true);
  });

  it("ends processes a finished command left in the background", async () => {
    const pool = sandboxPool();
    const task = commandTask("sleep 30 & echo $! > ../background.pid; echo ok > {outputs.out}", { inputs: {} });
    const started = Date.now();
    const result = await runIn(spawner, { task, dataId: { visit: 1 }, inputs: {} }, pool);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(result.ok).toBe(true);
    expect(isDead(Number(readFileSync(join(pool.root, "background.pid"), "utf8")))).toBe(true);
  });

  it("stops when aborted", async () => {
    const controller = new AbortController();
    const task = commandTask("echo waiting; sleep 30", { inputs: {} });
    const running = runIn(spawner, { task, dataId: { visit: 1 }, inputs: {}, signal: controller.signal });
    controller.abort();
    expect(await running).toMatchObject({ ok: false, error: "cancelled" });
  });

  it("stops a command that is under way when aborted", async () => {
    const pool = sandboxPool();
    const controller = new AbortController();
    const task = commandTask("echo $$ > ../shell.pid; echo waiting; sleep 30", { inputs: {} });
    const running = runIn(spawner, { task, dataId: { visit: 1 }, inputs: {}, signal: controller.signal }, pool);
    const pidFile = join(pool.root, "shell.pid");
    while (!existsSync(pidFile) || readFileSync(pidFile, "utf8") === "") await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    expect(await running).toMatchObject({ ok: false, error: "cancelled" });
    expect(isDead(Number(readFileSync(pidFile, "utf8")))).toBe(true);
  });

  it("names an unknown template field, with a hint", async () => {
    const run = (command: string) => runIn(spawner, { task: commandTask(command, { config: { opt: { level: 2 } } }), dataId: { visit: 1 }, inputs: { src: [] } });
    expect(await run("cat {inputs.scr} > {outputs.out}")).toMatchObject({
      ok: false,
      error: 'unknown template field {inputs.scr}: the task has no input "scr"; did you mean "inputs.src"?',
      log: "",
    });
    expect((await run("echo {outputs.result}")).ok).toBe(false);
    expect(await run("echo {config.opt.levl}")).toMatchObject({
      error: 'unknown template field {config.opt.levl}: no config key "opt.levl"; did you mean {config.opt.level}?',
    });
    expect(await run("echo {dataId.detector}")).toMatchObject({ error: 'unknown template field {dataId.detector}: the quantum has no dimension "detector"' });
    expect(await run("echo {visit}")).toMatchObject({
      error: "unknown template field {visit}: expected {inputs.X}, {inputs.X.list}, {inputs.X.paths}, {outputs.Y}, {config.Z}, {dataId.D} or {resources.R}",
    });
    // Shell syntax is left alone.
    const shell = await run("X=1; echo ${X} | awk '{print $1}' > {outputs.out}");
    expect(shell.ok).toBe(true);
  });
});

describe("runCommandQuantum, a blob with no links to spare", () => {
  const spawner = spawners.list.find(([, s]) => s !== undefined)![1]!;

  /** A blob file linked until the file system refuses (EMLINK); undefined where it never does. */
  function fullBlob(text: string): string | undefined {
    const dir = makeInputs({ blob: text });
    const links = join(dir, "links");
    mkdirSync(links);
    for (let i = 0; i < 70_000; i++) {
      try {
        linkSync(join(dir, "blob"), join(links, String(i)));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EMLINK") return join(dir, "blob");
        throw err;
      }
    }
    return undefined;
  }

  it("links it through a spare copy, checked like the blob", { timeout: 60_000 }, async () => {
    const blob = fullBlob("same bytes\n");
    // ext4, where CI runs, allows 65,000 links; a file system without a limit needs no spare copy.
    if (blob === undefined) return;
    expect(statSync(blob).nlink).toBe(65_000);
    const pool = sandboxPool();
    const parts = (n: number) => Array.from({ length: n }, (_, i) => ({ path: blob, dataId: { visit: 1, detector: i } }));
    const gather = commandTask("cat {inputs.parts} > {outputs.out}", { inputs: { parts: connection("parts", ["visit", "detector"], { multiple: true }) } });
    const ok = await runIn(spawner, { task: gather, dataId: { visit: 1 }, inputs: { parts: parts(3) } }, pool);
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    expect(readFileSync(ok.outputs.out!, "utf8")).toBe("same bytes\n".repeat(3));
    const copies = readdirSync(join(pool.root, "copies"));
    expect(copies).toHaveLength(1);
    expect(statSync(join(pool.root, "copies", copies[0]!)).nlink).toBe(4);

    // A command that writes through the copy fails, and the copy goes; the blob is untouched.
    const writer = commandTask("echo extra >> {inputs.src}; cp {inputs.src} {outputs.out}");
    const bad = await runIn(spawner, { task: writer, dataId: { visit: 2 }, inputs: { src: parts(1) } }, pool);
    expect(bad).toMatchObject({ ok: false, removed: [] });
    if (bad.ok) return;
    expect(bad.error).toMatch(/^the command modified its input .*copies\/0 \(inputs are read-only\)/);
    expect(existsSync(join(pool.root, "copies", "0"))).toBe(false);
    expect(readFileSync(blob, "utf8")).toBe("same bytes\n");

    // The next quantum gets a fresh copy.
    const again = await runIn(spawner, { task: gather, dataId: { visit: 3 }, inputs: { parts: parts(2) } }, pool);
    expect(again.ok).toBe(true);
    expect(readdirSync(join(pool.root, "copies"))).toEqual(["1"]);
  });
});

describe("checkCommandTemplate", () => {
  it("checks a template without running it", () => {
    expect(checkCommandTemplate(commandTask("cc -c {inputs.src} -o {outputs.out} {dataId.visit}"))).toBeUndefined();
    expect(checkCommandTemplate(commandTask("cc {inputs.source}"))).toBe(
      'unknown template field {inputs.source}: the task has no input "source"; did you mean "inputs.src"?',
    );
  });
});
