import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { HelperShellSpawner } from "../../src/exec/helper-shell-spawner.js";
import { LaunchSlots } from "../../src/exec/launch-slots.js";
import { chooseShellSpawner, CommandHost, HELPER_PATH, runShell } from "../../src/exec/command-host.js";
import { DROPPED_LOG_NOTE, ESCAPED_GRACE_MS, ESCAPED_NOTE, MAX_LOG_BYTES } from "../../src/exec/shell-spawner.js";
import { isDead } from "./process-state.js";
import { hasCompiler, startTestSpawners } from "./spawners.js";
import { describeWithCompiler, itWithCompiler, NO_COMPILER_REASON } from "../helpers/c-compiler.js";
import { PROJECT_ROOT } from "../helpers/cli.js";

const root = mkdtempSync(join(tmpdir(), "quanta-spawner-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

// The tests below compare runs' ends and logs; the helper's measure of peak memory, which varies, is
// checked by "14.11 the helper measures a run's peak memory" (with `measuredRun`) and left out of the others.
const measuredRun = HelperShellSpawner.prototype.run;
HelperShellSpawner.prototype.run = async function (this: HelperShellSpawner, ...args: Parameters<typeof measuredRun>) {
  const { peakRssBytes: _peak, ...rest } = await measuredRun.apply(this, args);
  return rest;
};
const measuredRunHoldingSlot = HelperShellSpawner.prototype.runHoldingSlot;
HelperShellSpawner.prototype.runHoldingSlot = async function (this: HelperShellSpawner, ...args: Parameters<typeof measuredRunHoldingSlot>) {
  const { peakRssBytes: _peak, ...rest } = await measuredRunHoldingSlot.apply(this, args);
  return rest;
};

describeWithCompiler("14.11 the helper measures a run's peak memory", () => {
  it("as the largest resident set among the shell and what it waited for", async () => {
    const helper = (await HelperShellSpawner.start(HELPER_PATH))!;
    try {
      const big = await measuredRun.call(helper, "(dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null)", { cwd: root });
      const small = await measuredRun.call(helper, "true", { cwd: root });
      expect(big.end).toEqual({ kind: "exit", code: 0 });
      expect(big.peakRssBytes).toBeGreaterThanOrEqual(60 * 1024 * 1024);
      expect(small.peakRssBytes).toBeGreaterThan(0);
      expect(small.peakRssBytes).toBeLessThan(16 * 1024 * 1024);
    } finally {
      helper.close();
    }
  });
});


/** Waits (without sleeping) until `path` holds a line, and returns it. */
async function waitForLine(path: string): Promise<string> {
  while (!existsSync(path) || !readFileSync(path, "utf8").endsWith("\n")) await new Promise((resolve) => setImmediate(resolve));
  return readFileSync(path, "utf8").trim();
}

describe("choosing a spawner", () => {
  it("the build made the helper, when there is a C compiler", () => {
    expect(existsSync(HELPER_PATH)).toBe(hasCompiler);
  });

  itWithCompiler("takes the helper when it answers, unless QUANTA_SPAWNER=node", async () => {
    const chosen = await chooseShellSpawner({ helperPath: HELPER_PATH });
    expect(chosen.kind).toBe("helper");
    (chosen as HelperShellSpawner).close();
    expect((await chooseShellSpawner({ helperPath: HELPER_PATH, wanted: "node" })).kind).toBe("node");
  });

  it("falls back to Node's spawn without a helper, and its commands run", async () => {
    const chosen = await chooseShellSpawner({ helperPath: join(root, "no-such-helper") });
    expect(chosen.kind).toBe("node");
    expect(await chosen.run("echo fallback", { cwd: root })).toEqual({ end: { kind: "exit", code: 0 }, log: "fallback\n" });
  });

  it("falls back to Node's spawn when the helper exits at once or speaks another protocol", async () => {
    expect((await chooseShellSpawner({ helperPath: "/bin/true" })).kind).toBe("node");
    const stale = join(root, "stale-helper");
    writeFileSync(stale, "#!/bin/sh\necho quanta-spawn 0\nexec cat > /dev/null\n");
    chmodSync(stale, 0o755);
    expect((await chooseShellSpawner({ helperPath: stale })).kind).toBe("node");
  });
});

const spawners = await startTestSpawners();
afterAll(() => spawners.close());
const helper = spawners.list[0]![1] as HelperShellSpawner | undefined;

describe.each(spawners.list)("runs started by %s", (_, spawner) => {
  if (spawner === undefined) return void it.skip(NO_COMPILER_REASON ?? "needs the helper");
  // Runs that hold a launch slot go through `runShell`, as every command quantum does.
  const source = { current: () => spawner };

  it("keep their logs apart when many run at once", async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => spawner.run(`echo run ${i}; echo err ${i} >&2`, { cwd: root })));
    expect(runs.map((r) => r.log)).toEqual(Array.from({ length: 20 }, (_, i) => `run ${i}\nerr ${i}\n`));
    expect(runs.every((r) => r.end.kind === "exit" && r.end.code === 0)).toBe(true);
  });

  it("keep the last MiB of a longer log, saying that the rest was dropped", async () => {
    const run = await spawner.run("head -c 3000000 /dev/zero | tr '\\0' a; echo END", { cwd: root });
    expect(run.end).toEqual({ kind: "exit", code: 0 });
    expect(run.log.startsWith(`${DROPPED_LOG_NOTE}aaaa`)).toBe(true);
    expect(run.log.endsWith("aaaaEND\n")).toBe(true);
    // The helper keeps exactly the last MiB; Node's spawn keeps whole chunks of up to 64 KiB more.
    expect(run.log.length - DROPPED_LOG_NOTE.length).toBeGreaterThanOrEqual(MAX_LOG_BYTES);
    expect(run.log.length - DROPPED_LOG_NOTE.length).toBeLessThanOrEqual(MAX_LOG_BYTES + 65536);
  });

  it("start with the default signal dispositions", async () => {
    expect(await spawner.run("kill -INT $$; echo survived", { cwd: root })).toEqual({ end: { kind: "signal", signal: "SIGINT" }, log: "" });
    expect(await spawner.run("kill -HUP $$; echo survived", { cwd: root })).toEqual({ end: { kind: "signal", signal: "SIGHUP" }, log: "" });
    // An ignored SIGPIPE would make `yes` complain of a broken pipe instead of dying quietly.
    expect(await spawner.run("yes | head -n 1", { cwd: root })).toEqual({ end: { kind: "exit", code: 0 }, log: "y\n" });
  });

  it("stop waiting for a process the command started in a session of its own, which holds the output", async () => {
    // `setsid` puts `sleep` out of reach of the kill of the shell's process group, its output still open.
    const started = Date.now();
    // The shell waits until it is there (its pid written), so the kill of the group cannot catch it first.
    const pidFile = join(root, "escaped.pid");
    rmSync(pidFile, { force: true });
    const command = `echo before; setsid sh -c 'echo $$ > ${pidFile}.new && mv ${pidFile}.new ${pidFile}; exec sleep 30' & while [ ! -s ${pidFile} ]; do sleep 0.01; done; echo after`;
    const run = await spawner.run(command, { cwd: root });
    const pid = Number(readFileSync(pidFile, "utf8"));
    try {
      expect(run.end).toEqual({ kind: "exit", code: 0 });
      expect(run.log).toBe(`before\nafter\n${ESCAPED_NOTE}`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(ESCAPED_GRACE_MS - 50);
      expect(Date.now() - started).toBeLessThan(ESCAPED_GRACE_MS + 5000);
    } finally {
      process.kill(pid, "SIGKILL");
    }
  });

  it("hold launch slots: never more runs at once than slots, each started when it gets one", async () => {
    const slots = new LaunchSlots(2);
    const trace = join(root, `slots-${spawner.kind}-${Math.random()}`);
    let started = 0;
    const runs = Array.from({ length: 7 }, (_, i) =>
      runShell(source, `echo start >> ${trace}; sleep 0.05; echo end >> ${trace}; echo ${i}`, { cwd: root, launch: { slots, started: () => started++ } }),
    );
    expect(started).toBe(2);
    const done = await Promise.all(runs);
    expect(done.map((r) => r.log)).toEqual(Array.from({ length: 7 }, (_, i) => `${i}\n`));
    expect(started).toBe(7);
    // The shells' own view: at most two between a start and its end.
    let inside = 0;
    let mostInside = 0;
    for (const line of readFileSync(trace, "utf8").trim().split("\n")) mostInside = Math.max(mostInside, (inside += line === "start" ? 1 : -1));
    expect(mostInside).toBeLessThanOrEqual(2);
    // Every slot came back.
    expect([slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, false]);
  });

  it("give up a run cancelled while it waits for a slot, which never starts", async () => {
    const slots = new LaunchSlots(1);
    const marker = join(root, `never-${spawner.kind}-${Math.random()}`);
    const first = runShell(source, "sleep 0.2; echo first", { cwd: root, launch: { slots, started: () => undefined } });
    const cancel = new AbortController();
    let started = false;
    const second = runShell(source, `touch ${marker}`, { cwd: root, signal: cancel.signal, launch: { slots, started: () => (started = true) } });
    cancel.abort();
    expect(await second).toEqual({ end: { kind: "aborted" }, log: "" });
    expect(await first).toEqual({ end: { kind: "exit", code: 0 }, log: "first\n" });
    expect(started).toBe(false);
    expect(existsSync(marker)).toBe(false);
    expect([slots.tryTake(), slots.tryTake()]).toEqual([true, false]);
  });

  it("start a command waiting for a slot as soon as another quantum gives one back", async () => {
    const slots = new LaunchSlots(2);
    expect(slots.tryTake()).toBe(true); // held by another quantum
    // 3 s: `echo quick`, started second, ends first even on a machine that stalls for a while.
    const slow = runShell(source, "sleep 3; echo slow", { cwd: root, launch: { slots, started: () => undefined } });
    const ended: string[] = [];
    const quick = runShell(source, "echo quick", { cwd: root, launch: { slots, started: () => undefined } }).then((r) => (ended.push("quick"), r));
    void slow.then(() => ended.push("slow"));
    slots.give();
    expect(await quick).toEqual({ end: { kind: "exit", code: 0 }, log: "quick\n" });
    expect(await slow).toEqual({ end: { kind: "exit", code: 0 }, log: "slow\n" });
    expect(ended).toEqual(["quick", "slow"]);
    expect([slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, false]);
  });

  it("count a run's timeout from its start, not from when it began to wait for a slot", async () => {
    const slots = new LaunchSlots(1);
    const launch = { slots, started: () => undefined };
    // It waits 2 s for its slot, longer than its 1.5 s timeout, which leaves 1.5 s to start and end.
    const first = runShell(source, "sleep 2", { cwd: root, launch });
    const waited = runShell(source, "echo in time", { cwd: root, launch, timeoutMs: 1500 });
    const stuck = runShell(source, "sleep 5", { cwd: root, launch, timeoutMs: 1500 });
    expect(await first).toEqual({ end: { kind: "exit", code: 0 }, log: "" });
    expect(await waited).toEqual({ end: { kind: "exit", code: 0 }, log: "in time\n" });
    expect(await stuck).toEqual({ end: { kind: "timeout" }, log: "" });
    expect([slots.tryTake(), slots.tryTake()]).toEqual([true, false]);
  });

  it("keep sets of launch slots apart: a run never starts in the place of another set's, or of a run holding none", async () => {
    const mine = new LaunchSlots(1);
    const theirs = new LaunchSlots(1);
    const trace = join(root, `sets-${spawner.kind}-${Math.random()}`);
    const first = runShell(source, `echo start >> ${trace}; sleep 0.3; echo end >> ${trace}`, { cwd: root, launch: { slots: mine, started: () => undefined } });
    const second = runShell(source, `echo start >> ${trace}; echo end >> ${trace}`, { cwd: root, launch: { slots: mine, started: () => undefined } });
    // Two runs that end while `first` still holds the only slot of `mine`.
    await Promise.all([runShell(source, "true", { cwd: root, launch: { slots: theirs, started: () => undefined } }), runShell(source, "true", { cwd: root })]);
    await Promise.all([first, second]);
    expect(readFileSync(trace, "utf8")).toBe("start\nend\nstart\nend\n");
    expect([mine.tryTake(), mine.tryTake(), theirs.tryTake(), theirs.tryTake()]).toEqual([true, false, true, false]);
  });

  it("leave a quantum that waited longer for a slot ahead of a command", async () => {
    const slots = new LaunchSlots(1);
    expect(slots.tryTake()).toBe(true);
    const order: string[] = [];
    slots.wait(() => order.push("waited longer"));
    const run = runShell(source, "echo ran", { cwd: root, launch: { slots, started: () => order.push("command") } });
    slots.give(); // to the one that waited longer
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual(["waited longer"]);
    slots.give(); // now to the command
    expect(await run).toEqual({ end: { kind: "exit", code: 0 }, log: "ran\n" });
    expect(order).toEqual(["waited longer", "command"]);
    expect([slots.tryTake(), slots.tryTake()]).toEqual([true, false]);
  });

  it("read nothing from stdin, and see the environment", async () => {
    process.env.QUANTA_TEST_VALUE = "seen";
    const fresh = spawner instanceof HelperShellSpawner ? await HelperShellSpawner.start(spawner.path) : spawner;
    const run = await fresh!.run('cat; echo "[$QUANTA_TEST_VALUE]"', { cwd: root });
    if (fresh instanceof HelperShellSpawner) fresh.close();
    delete process.env.QUANTA_TEST_VALUE;
    expect(run).toEqual({ end: { kind: "exit", code: 0 }, log: "[seen]\n" });
  });
});

describeWithCompiler("the quanta-spawn helper", () => {
  it("says why a command cannot start in a missing directory", async () => {
    const message = `No such file or directory (${join(root, "missing")})`;
    expect(await helper!.run("echo never", { cwd: join(root, "missing") })).toEqual({ end: { kind: "spawn-error", message }, log: "" });
    const forking = spawners.list[1]![1]!;
    expect(await forking.run("echo never", { cwd: join(root, "missing") })).toEqual({ end: { kind: "spawn-error", message }, log: "" });
  });

  it("refuses a command holding a NUL character", async () => {
    expect(await helper!.run("echo a\0b", { cwd: root })).toEqual({ end: { kind: "spawn-error", message: "the command holds a NUL character" }, log: "" });
  });

  it("kills what it runs when the CLI goes (its input ends)", async () => {
    const own = (await HelperShellSpawner.start(HELPER_PATH))!;
    const pids = join(root, "pids-on-close");
    const running = own.run(`sleep 30 & echo $$ $! > ${pids}; wait`, { cwd: root });
    const [shell, background] = (await waitForLine(pids)).split(" ").map(Number);
    own.close();
    expect(await running).toEqual({ end: { kind: "signal", signal: "SIGKILL" }, log: "" });
    expect(isDead(shell!)).toBe(true);
    expect(isDead(background!)).toBe(true);
  });

  it("outlives a Ctrl-C or a hangup meant for the CLI, and ends its runs when the CLI has gone", async () => {
    const own = (await HelperShellSpawner.start(HELPER_PATH))!;
    const pids = join(root, "pids-on-interrupt");
    const running = own.run(`sleep 30 & echo $$ $! > ${pids}; wait`, { cwd: root });
    const [shell, background] = (await waitForLine(pids)).split(" ").map(Number);
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) process.kill(own.pid!, signal);
    expect(own.hasExited).toBe(false);
    expect(isDead(shell!)).toBe(false);
    own.close();
    expect(await running).toEqual({ end: { kind: "signal", signal: "SIGKILL" }, log: "" });
    expect(isDead(background!)).toBe(true);
  });

  it("when it dies, fails the runs it had (queued ones too), and says which never reached it", async () => {
    const own = (await HelperShellSpawner.start(HELPER_PATH))!;
    const slots = new LaunchSlots(1);
    const launch = { slots, started: () => undefined };
    const pids = join(root, "pids-on-death");
    const running = own.runHoldingSlot(`echo $$ > ${pids}; exec sleep 30`, { cwd: root }, launch);
    const queued = own.runHoldingSlot("echo never", { cwd: root }, launch); // queued in the helper
    const shell = Number(await waitForLine(pids));
    let other = false;
    slots.wait(() => (other = true)); // a quantum of another kind waits: the next run stays here
    const waiting = own.runHoldingSlot("echo never", { cwd: root }, launch);
    process.kill(own.pid!, "SIGKILL");
    const gone = { kind: "spawn-error", message: "the quanta-spawn helper was killed by SIGKILL" };
    expect(await running).toEqual({ end: gone, log: "" });
    expect(await queued).toEqual({ end: gone, log: "" });
    expect(await waiting).toEqual({ end: gone, log: "", unstarted: true });
    process.kill(-shell, "SIGKILL");
    // The slot went to the other quantum; once it gives it back, it is free again.
    expect(other).toBe(true);
    slots.give();
    expect([slots.tryTake(), slots.tryTake()]).toEqual([true, false]);
  });

  it("settles a queued run given a slot after its input was closed once, when the helper replies", async () => {
    const own = (await HelperShellSpawner.start(HELPER_PATH))!;
    const slots = new LaunchSlots(2);
    expect(slots.tryTake()).toBe(true);
    const launch = { slots, started: () => undefined };
    const running = own.runHoldingSlot("sleep 30", { cwd: root }, launch);
    const queued = own.runHoldingSlot("echo never", { cwd: root }, launch);
    own.close();
    slots.give(); // to the queued run, whose `s` can no longer be sent
    const killed = { end: { kind: "signal", signal: "SIGKILL" }, log: "" };
    expect(await running).toEqual(killed);
    expect(await queued).toEqual(killed);
    expect([slots.tryTake(), slots.tryTake(), slots.tryTake()]).toEqual([true, true, false]);
  });

  it("once closed, keeps the process alive until it has exited, even when its last run ends first", () => {
    // In a process of its own, where nothing else keeps Node's event loop going. The helper's last run
    // waits here for a launch slot (another quantum is ahead in line), so `close` ends it at once. Letting
    // go of the helper then ended the process before `close` settled, with exit code 0 (a `quanta run`
    // whose commit had failed while commands ran exited 0, saying nothing).
    const script = `
      import { HelperShellSpawner } from ${JSON.stringify(join(PROJECT_ROOT, "dist/exec/helper-shell-spawner.js"))};
      import { LaunchSlots } from ${JSON.stringify(join(PROJECT_ROOT, "dist/exec/launch-slots.js"))};
      const helper = await HelperShellSpawner.start(process.argv[1]);
      const slots = new LaunchSlots(1);
      slots.tryTake();
      slots.wait(() => undefined);
      const waiting = helper.runHoldingSlot("echo never", { cwd: process.argv[2] }, { slots, started: () => undefined });
      await helper.close();
      process.stdout.write("closed: " + JSON.stringify((await waiting).end) + "\\n");
      process.exitCode = 5;
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, HELPER_PATH, root], { encoding: "utf8", timeout: 20_000 });
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 5, stdout: 'closed: {"kind":"signal","signal":"SIGKILL"}\n' });
  });

  it("fails the runs in hand when it dies, and its host goes on with Node's spawn", async () => {
    const host = new CommandHost(join(root, "host-tmp"), undefined);
    const shared = await host.current();
    expect(shared.kind).toBe("helper");
    const pids = join(root, "pids-on-crash");
    const running = shared.run(`echo $$ > ${pids}; exec sleep 30`, { cwd: root });
    const shell = Number(await waitForLine(pids));
    process.kill((shared as HelperShellSpawner).pid!, "SIGKILL");
    expect(await running).toEqual({ end: { kind: "spawn-error", message: "the quanta-spawn helper was killed by SIGKILL" }, log: "" });
    // A helper killed outright cannot kill its commands: this one is left to the test to end.
    process.kill(-shell, "SIGKILL");
    const next = await host.current();
    expect(next.kind).toBe("node");
    expect((await next.run("echo after", { cwd: root })).log).toBe("after\n");
    await host.close();
  });
});
