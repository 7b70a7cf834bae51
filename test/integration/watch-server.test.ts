/**
 * 16.4: a running `quanta watch` serves its repository. `quanta run` from another process is run by the
 * watch between its passes and prints what a standalone run prints; the readers answer as they do
 * standalone; the socket is the owner's only, and gone with the watch; a killed watch's socket and
 * lock are taken over.
 */
import { lstatSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { QuantaEvent } from "../../src/core/events.js";
import { runCli } from "../helpers/cli.js";
import { parseEventLines } from "../helpers/event-schema.js";
import { ran, Watch } from "../helpers/watch-process.js";
import { makeChainFixture } from "./chain-fixture.js";

let fx: ReturnType<typeof makeChainFixture>;
let watch: Watch | undefined;
beforeEach(() => (fx = makeChainFixture(4)));
afterEach(() => {
  if (watch && watch.child.exitCode === null) watch.child.kill("SIGKILL");
  watch = undefined;
  fx.cleanup();
});

/** What a run printed under --json, without its times: event names, quanta and counts. */
function shape(events: QuantaEvent[]): unknown[] {
  const names = events.map((e) => e.event);
  const finished = events.find((e) => e.event === "run-finished") as Extract<QuantaEvent, { event: "run-finished" }> | undefined;
  return [names.filter((n) => !n.startsWith("quantum-")).join(" "), ran(events), finished?.counts, finished?.exitCode];
}

async function cli(args: string[], code = 0): Promise<string> {
  const r = await runCli(args, { cwd: fx.dir });
  expect(r.code, `quanta ${args.join(" ")}: ${r.stderr}`).toBe(code);
  return r.stdout;
}

describe("16.4 the watch serves its repository", () => {
  it("16.4 run, status and why from another process answer as standalone while a watch holds the repository; the socket is private and goes with the watch; a killed watch's is taken over", async () => {
    watch = new Watch(fx.dir, ["-j", "2"]);
    await watch.nextPass();
    const socket = join(fx.dir, "repo", "server.sock");
    expect(lstatSync(socket).isSocket()).toBe(true);
    expect(lstatSync(socket).mode & 0o777).toBe(0o600);

    // A run with another config, asked of the watch: its events come back and print as standalone.
    const request = ["run", "chain.yaml", "--config", "double.factor=3", "--json"];
    const served = parseEventLines(await cli([...request, "--repo", "repo"]));
    const standalone = parseEventLines(await cli([...request, "--repo", "other-repo"]));
    expect(shape(served)).toEqual(shape(standalone));
    expect(ran(served)).toHaveLength(9);
    // The served run went through the watch's own session: it is up to date now, and the watch is still up.
    expect(shape(parseEventLines(await cli([...request, "--repo", "repo"])))).toEqual(shape(parseEventLines(await cli([...request, "--repo", "other-repo"]))));
    expect(watch.child.exitCode).toBeNull();

    // A run's error (a task that does not exist) is the standalone one, with its exit code.
    const bad = await runCli(["run", "chain.yaml", "--tasks", "dubble", "--repo", "repo"], { cwd: fx.dir });
    const badAlone = await runCli(["run", "chain.yaml", "--tasks", "dubble", "--repo", "other-repo"], { cwd: fx.dir });
    expect([bad.code, bad.stderr.replace(/^quanta: the watch.*\n/m, "")]).toEqual([badAlone.code, badAlone.stderr]);
    expect(bad.code).toBe(2);

    // The watch's own passes go on after serving.
    writeFileSync(join(fx.dir, "data", "raw-1.txt"), "12\n");
    expect(ran(await watch.nextPass())).toEqual(["double@item=1", "parity@item=1"]);

    // `status` of the watch's own plan while it is idle: from its memory (no ingest, no planning).
    const own = ["status", "chain.yaml", "--repo", "repo"];
    const fromMemory = await cli(own);
    expect(fromMemory).toMatch(/9 up to date/);
    expect(parseEventLines(await cli([...own, "--json"])).map((e) => e.event)).toEqual(["graph-built", "status"]);

    // The readers: as standalone (they take no lock).
    const status = ["status", "chain.yaml", "--config", "double.factor=5"];
    const why = ["why", "total", "--pipeline", "chain.yaml", "--config", "double.factor=5"];
    const whileWatching = [await cli([...status, "--repo", "repo"]), await cli([...why, "--repo", "repo"])];
    expect(whileWatching[0]).toContain("will run");
    expect(await cli(["get", "report", "--repo", "repo", "--collection", "chain"])).toMatch(/\d/);

    // SIGTERM: the socket and the lock go with the watch; the readers print what they printed.
    watch.child.kill("SIGTERM");
    expect(await watch.exit()).toBe(0);
    expect(existsSync(socket)).toBe(false);
    expect(existsSync(join(fx.dir, "repo", "lock"))).toBe(false);
    expect([await cli([...status, "--repo", "repo"]), await cli([...why, "--repo", "repo"])]).toEqual(whileWatching);
    expect(await cli(own)).toEqual(fromMemory);

    // Killed hard: the socket stays, nothing answers it; a run takes over the lock, a new watch the socket.
    watch = new Watch(fx.dir, ["-j", "2"]);
    await watch.nextPass();
    watch.child.kill("SIGKILL");
    await watch.exit();
    expect(existsSync(socket)).toBe(true);
    const after = await runCli(["run", "chain.yaml", "--repo", "repo", "--json"], { cwd: fx.dir });
    expect(after.code, after.stderr).toBe(0);
    expect(after.stderr).not.toContain("the watch");
    watch = new Watch(fx.dir, ["-j", "2"]);
    await watch.nextPass();
    expect(parseEventLines(await cli(["run", "chain.yaml", "--repo", "repo", "--json"])).at(-1)).toMatchObject({ event: "run-finished", exitCode: 0 });
  }, 180_000);
});
