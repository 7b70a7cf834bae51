/**
 * The `-j` slots of command quanta, seen from the one seam through which exec/ runs a command in a
 * slot (`runShell`, reached through `runCommandQuantum` with a launch and a spawner source), and
 * measured by the commands themselves: each writes when it started and ended (`date +%s%N`), or its
 * shell's pid. With the quanta-spawn helper the slots pass from one command to the next inside the
 * helper (helper-shell-spawner.ts); nothing here may tell the difference but the timings.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CodeDigest } from "../../src/core/digest.js";
import type { TaskNode } from "../../src/core/pipeline.js";
import { CommandHost, type SpawnerSource } from "../../src/exec/command-host.js";
import { runCommandQuantum, type CommandQuantumResult } from "../../src/exec/command-runner.js";
import { HelperShellSpawner } from "../../src/exec/helper-shell-spawner.js";
import { LaunchSlots } from "../../src/exec/launch-slots.js";
import { SandboxPool } from "../../src/exec/sandbox-pool.js";
import { hasCompiler, startTestSpawners } from "./spawners.js";
import { describeWithCompiler, NO_COMPILER_REASON } from "../helpers/c-compiler.js";

const root = mkdtempSync(join(tmpdir(), "quanta-slots-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function commandTask(command: string): TaskNode {
  return {
    label: "cmd",
    kind: "command",
    command,
    dimensions: ["visit"],
    inputs: {},
    outputs: { out: { name: "out", type: "out", dimensions: ["visit"], storage: "file", multiple: false, minimum: 1, prerequisite: false } },
    config: {},
    codeDigest: "0000000000000000" as CodeDigest,
  };
}

/** Starts `count` command quanta at once, each in a sandbox of its own, all holding `slots`. */
function runQuanta(opts: { command: string; count: number; first?: number; slots: LaunchSlots; spawners: SpawnerSource; onStart: () => void }): Promise<CommandQuantumResult>[] {
  const pool = new SandboxPool(join(root, `sandboxes-${counter++}`));
  const task = commandTask(opts.command);
  return Array.from({ length: opts.count }, (_, i) => (opts.first ?? 0) + i).map((visit) =>
    runCommandQuantum({ task, dataId: { visit }, inputs: {}, sandbox: pool.take([]), spawners: opts.spawners, launch: { slots: opts.slots, started: opts.onStart } }),
  );
}

/** The most runs inside their [start, end] at once, from the `start NS` / `end NS` lines of each trace file. */
function mostAtOnce(traceDir: string): number {
  const events: [bigint, number][] = [];
  for (const name of readdirSync(traceDir)) {
    for (const line of readFileSync(join(traceDir, name), "utf8").trim().split("\n")) {
      const [what, ns] = line.split(" ");
      events.push([BigInt(ns!), what === "start" ? 1 : -1]);
    }
  }
  // An end and a start at the same nanosecond: the end first.
  events.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
  let inside = 0;
  let most = 0;
  for (const [, step] of events) most = Math.max(most, (inside += step));
  return most;
}

function traceLines(traceDir: string, visit: number): string[] {
  return readFileSync(join(traceDir, String(visit)), "utf8").trim().split("\n").map((line) => line.split(" ")[0]!);
}

async function waitForLines(path: string, count: number): Promise<string[]> {
  for (;;) {
    const lines = existsSync(path) ? readFileSync(path, "utf8").trim().split("\n").filter(Boolean) : [];
    if (lines.length >= count) return lines;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const spawners = await startTestSpawners();
afterAll(() => spawners.close());

describe.each(spawners.list)("15.6 -j slots of command quanta started by %s", (_, spawner) => {
  if (spawner === undefined) return void it.skip(NO_COMPILER_REASON ?? "needs the helper");

  it("with 2 slots and 6 quanta: at most 2 commands at once, each started exactly once, every slot given back", async () => {
    const traceDir = join(root, `trace-${counter++}`);
    mkdirSync(traceDir);
    const slots = new LaunchSlots(2);
    let started = 0;
    const command = `echo "start $(date +%s%N)" >> ${traceDir}/{dataId.visit}; sleep 0.05; echo "end $(date +%s%N)" >> ${traceDir}/{dataId.visit}; echo {dataId.visit} > {outputs.out}`;
    const results = await Promise.all(runQuanta({ command, count: 6, slots, spawners: { current: () => spawner }, onStart: () => started++ }));
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true, true, true]);
    for (let visit = 0; visit < 6; visit++) expect(traceLines(traceDir, visit)).toEqual(["start", "end"]);
    expect(mostAtOnce(traceDir)).toBeLessThanOrEqual(2);
    expect(started).toBe(6);
    expect([slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, false]);
  });
});

describeWithCompiler("15.6 a helper killed while quanta wait for slots", () => {
  it("fails only the commands it had in hand (running or queued there); the others start once each, on Node's spawn", async () => {
    const host = new CommandHost(join(root, `host-${counter++}`), undefined);
    const helper = await host.current();
    expect(helper).toBeInstanceOf(HelperShellSpawner);
    const pids = join(root, `pids-${counter++}`);
    const killed = join(root, `killed-${counter++}`);
    const slots = new LaunchSlots(2);
    let started = 0;
    // Each writes "visit pid"; the two that start first stay until the helper is killed.
    const command = `echo {dataId.visit} $$ >> ${pids}; while [ ! -e ${killed} ]; do sleep 0.01; done; echo {dataId.visit} > {outputs.out}`;
    const onStart = () => started++;
    // Visits 0 and 1 take the slots, 2 and 3 wait queued in the helper; then another quantum (a
    // TypeScript one, say) waits, so 4 and 5 wait here, behind it.
    const inHelper = runQuanta({ command, count: 4, slots, spawners: host, onStart });
    // The two run at once: either may write its line first.
    expect((await waitForLines(pids, 2)).map((line) => line.split(" ")[0]).sort()).toEqual(["0", "1"]);
    let otherHasSlot = false;
    slots.wait(() => (otherHasSlot = true));
    const here = runQuanta({ command, count: 2, first: 4, slots, spawners: host, onStart });
    await new Promise((resolve) => setImmediate(resolve)); // 4 and 5 take their places in line
    writeFileSync(killed, "");
    process.kill((helper as HelperShellSpawner).pid!, "SIGKILL");
    const gone = "cannot run /bin/sh: the quanta-spawn helper was killed by SIGKILL";
    expect((await Promise.all(inHelper)).map((r) => (r.ok ? "ok" : r.error))).toEqual([gone, gone, gone, gone]);
    expect(otherHasSlot).toBe(true);
    expect((await Promise.all(here)).map((r) => r.ok)).toEqual([true, true]);
    slots.give(); // the other quantum ends
    // Visits 2 and 3 never ran; 4 and 5 ran once each.
    const ran = readFileSync(pids, "utf8").trim().split("\n").map((line) => line.split(" ")[0]);
    expect(ran.sort()).toEqual(["0", "1", "4", "5"]);
    expect(started).toBe(4);
    expect((await host.current()).kind).toBe("node");
    expect([slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, false]);
    await host.close();
  });
});
