/**
 * `quanta watch` started while a task module does not compile: the first pass reports the error, and
 * until the pipeline loads the watch watches the pipeline file's folder (not the repository), so that
 * fixing the task module itself starts a pass.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { QUANTA_BIN } from "../helpers/cli.js";
import { parseEventLine } from "../helpers/event-schema.js";
import { makeChainFixture } from "./chain-fixture.js";

let fx: ReturnType<typeof makeChainFixture>;
let child: ChildProcess | undefined;
beforeEach(() => (fx = makeChainFixture(2)));
afterEach(() => {
  if (child && child.exitCode === null) child.kill("SIGKILL");
  fx.cleanup();
});

async function until(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

describe("16 a watch started with a broken task module", () => {
  it("16 runs once the task module is fixed", async () => {
    const double = join(fx.dir, "tasks", "double.ts");
    const source = readFileSync(double, "utf8");
    writeFileSync(double, source + "\nexport const broken = ;\n");
    const events: QuantaEvent[] = [];
    child = spawn(process.execPath, [QUANTA_BIN, "watch", "chain.yaml", "--repo", "repo", "--json", "--debounce", "50", "-j", "1"], { cwd: fx.dir, stdio: ["ignore", "pipe", "pipe"] });
    let buffered = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop()!;
      for (const line of lines) if (line.trim() !== "") events.push(parseEventLine(line));
    });
    expect(await until(() => events.some((e) => e.event === "watch-waiting"), 30_000)).toBe(true);
    expect(events.some((e) => e.event === "watch-error")).toBe(true);

    writeFileSync(double, source);
    const ran = await until(() => events.some((e) => e.event === "run-finished"), 10_000);
    expect(ran, JSON.stringify(events.map((e) => e.event))).toBe(true);
  }, 60_000);
});
