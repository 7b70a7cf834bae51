/**
 * Command quanta through the real CLI (`-j 2`: the pool executor, the shared spawner, the sandbox
 * pool), with the helper and with Node's spawn forced by QUANTA_SPAWNER=node.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir, QUANTA_BIN, runCli } from "../helpers/cli.js";
import { isDead } from "./process-state.js";
import { hasCompiler } from "./spawners.js";
import { describeWithCompiler } from "../helpers/c-compiler.js";

const temp = makeTempDir("quanta-command-cli-");
afterAll(() => temp.cleanup());
let counter = 0;

/**
 * Ten quanta of `copy` and one of `hang`, whose command leaves a child in the background, writes its
 * pid, and outlives its 1 s timeout.
 */
function makeWorkspace(): string {
  const dir = join(temp.dir, `ws-${counter++}`);
  mkdirSync(join(dir, "data"), { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(dir, "data", `${i}.txt`), `item ${i}\n`);
  writeFileSync(
    join(dir, "p.yaml"),
    [
      "dimensions: { item: int }",
      'inputs: { raw: { path: "data/{item}.txt", storage: text } }',
      "tasks:",
      "  copy:",
      '    command: "tr a-z A-Z < {inputs.src} > {outputs.out}; echo copied {dataId.item} by $(cat /proc/$PPID/comm)"',
      "    dimensions: [item]",
      "    inputs: { src: { type: raw, dimensions: [item], storage: text } }",
      "    outputs: { out: { type: copied, dimensions: [item], storage: text } }",
      "  hang:",
      `    command: "sleep 60 & echo $! > ${dir}/background.pid; sleep 60; cat {inputs.all.list} > {outputs.out}"`,
      "    dimensions: []",
      "    timeout: 1s",
      "    inputs: { all: { type: copied, dimensions: [item], storage: text, multiple: true } }",
      "    outputs: { out: { type: hung, dimensions: [], storage: text } }",
    ].join("\n") + "\n",
  );
  return dir;
}

describe.each([
  // Without a C compiler there is no helper, and Node's spawn starts them.
  ["the quanta-spawn helper", {}, hasCompiler ? "quanta-spawn" : "node"],
  ["Node's spawn (QUANTA_SPAWNER=node)", { QUANTA_SPAWNER: "node" }, "node"],
])("command quanta started by %s", (_, env: Record<string, string>, parent: string) => {
  it("run, time out with their background child killed, and leave no sandbox behind", async () => {
    const dir = makeWorkspace();
    const run = await runCli(["run", "p.yaml", "--repo", "repo", "--json", "-j", "2"], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(1);
    const events = run.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as { event: string; task?: string; error?: string });
    expect(events.filter((e) => e.event === "quantum-finished" && e.task === "copy")).toHaveLength(10);
    const failed = events.filter((e) => e.event === "quantum-failed");
    expect(failed).toMatchObject([{ task: "hang", error: "timed out after 1s" }]);
    expect(isDead(Number(readFileSync(join(dir, "background.pid"), "utf8")))).toBe(true);
    expect(readdirSync(join(dir, "repo", "tmp"))).toEqual([]);
    const log = await runCli(["log", "copy@item=3", "--repo", "repo"], { cwd: dir });
    expect(log.stdout).toContain(`copied 3 by ${parent}\n`);
  });
});

describeWithCompiler("a Ctrl-C", () => {
  it("ends the CLI, and the helper then ends the commands it was running", async () => {
    const dir = join(temp.dir, `ws-${counter++}`);
    mkdirSync(dir, { recursive: true });
    const pids = join(dir, "pids");
    writeFileSync(
      join(dir, "p.yaml"),
      [
        "tasks:",
        "  wait:",
        `    command: "sleep 60 & echo $PPID $! > ${pids}; wait; echo > {outputs.out}"`,
        "    dimensions: []",
        "    outputs: { out: { type: waited, dimensions: [], storage: text } }",
      ].join("\n") + "\n",
    );
    // Its own process group, as a terminal's foreground job would be.
    const cli = spawn(process.execPath, [QUANTA_BIN, "run", "p.yaml", "--repo", "repo", "--json", "-j", "2"], { cwd: dir, detached: true, stdio: "ignore" });
    const exited = new Promise((resolve) => cli.on("close", resolve));
    while (!existsSync(pids) || !readFileSync(pids, "utf8").endsWith("\n")) await new Promise((resolve) => setImmediate(resolve));
    const [helper, background] = readFileSync(pids, "utf8").trim().split(" ").map(Number);
    process.kill(-cli.pid!, "SIGINT");
    await exited;
    // The helper sees its input end, kills the run, and exits once it has ended.
    while (!isDead(helper!)) await new Promise((resolve) => setImmediate(resolve));
    expect(isDead(background!)).toBe(true);
  });
});
