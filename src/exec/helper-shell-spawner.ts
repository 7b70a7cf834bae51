/**
 * Starts commands through quanta-spawn (native/quanta-spawn.c, whose comment describes the protocol):
 * one small long-lived process that starts each shell, so the CLI's main thread only writes a request
 * and reads a reply per command (about 0.1 ms of its time, where a Node spawn costs over a millisecond).
 *
 * Timeouts and aborts are the CLI's: it asks the helper to kill the run's process group, and reports
 * the run as timed out or cancelled when the helper's reply comes. The helper holds the event loop
 * open while runs are in hand, and once `close` is called until it has exited; it ends (killing what it
 * started) when the CLI's process does.
 *
 * The hand-over (`runHoldingSlot`, which only `runShell` in command-host.ts calls): a run that must hold
 * a launch slot and finds none free is sent to the helper to queue, as long as only such runs of this
 * helper wait for slots: the helper starts it in the place of the next run holding a slot of the same
 * LaunchSlots that ends, and says so in that run's reply, whose slot passes to it. Otherwise it waits
 * for a slot here, and is sent once it has one. Nothing outside this file and quanta-spawn.c knows
 * that a slot can pass from one command to the next without being given back.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import type { Launch, LaunchSlots, SlotWaiter } from "./launch-slots.js";
import { DROPPED_LOG_NOTE, type ShellEnd, type ShellRun, type ShellRunOptions, type ShellSpawner } from "./shell-spawner.js";

const PROTOCOL_GREETING = "quanta-spawn 4\n";
/** How long a starting helper may take to greet before Node's spawn is used instead. */
const START_TIMEOUT_MS = 10_000;

interface PendingRun {
  resolve: (run: HelperRun) => void;
  forced?: "timeout" | "aborted";
  timer?: NodeJS.Timeout;
  timeoutMs?: number;
  signal?: AbortSignal;
  onAbort?: () => void;
  launch?: Launch;
  /** In line for a launch slot (it holds none yet). */
  waiter?: SlotWaiter;
  /** It holds a launch slot, given back when it ends. */
  hasSlot: boolean;
  /** The helper has it (queued or started). */
  sent: boolean;
  started: boolean;
}

/**
 * A run's end; `unstarted` with a `spawn-error`: the helper went away while the run waited here for a
 * launch slot, before it was sent, so nothing of it ran and another spawner may run it.
 */
export type HelperRun = ShellRun & { unstarted?: true };

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number as number, name]));

export class HelperShellSpawner implements ShellSpawner {
  readonly kind = "helper" as const;
  private exited = false;
  /**
   * What `close` returned (a second call returns it again). Once set, the helper keeps the process
   * alive until it has exited.
   */
  private closed: Promise<void> | undefined;
  /** Called once the helper has exited (see `close`). */
  private onExited: (() => void) | undefined;
  private readonly runs = new Map<string, PendingRun>();
  private nextId = 1;
  /** The helper's name for each set of launch slots its runs hold (`-`: a run that holds none). */
  private readonly pools = new WeakMap<LaunchSlots, string>();
  private nextPool = 1;
  /** The waiters in line for a launch slot whose commands the helper holds queued. */
  private readonly queuedHere = new WeakSet<SlotWaiter>();
  /** Reply bytes received but not yet complete. */
  private rest: Buffer = Buffer.alloc(0);
  private readonly stdin: Writable & { ref(): void; unref(): void };
  private readonly stdout: Readable & { ref(): void; unref(): void };

  private constructor(
    /** The helper's executable. */
    readonly path: string,
    private readonly child: ChildProcess,
    greeted: Buffer,
  ) {
    this.stdin = child.stdin as typeof this.stdin;
    this.stdout = child.stdout as typeof this.stdout;
    // A write after the helper died fails with EPIPE; the exit handler has failed the runs already.
    this.stdin.on("error", () => undefined);
    this.stdout.on("data", (chunk: Buffer) => this.onData(chunk));
    // "close": the helper has exited and every reply it wrote has been read.
    child.on("close", (code, signal) => this.onExit(code, signal));
    this.unref();
    if (greeted.length > 0) this.onData(greeted);
  }

  /**
   * Starts the helper at `path` and waits for its greeting; undefined when there is no helper there,
   * or it cannot start, or it speaks another version of the protocol (a stale build).
   */
  static start(path: string): Promise<HelperShellSpawner | undefined> {
    if (!existsSync(path)) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const child = spawn(path, [], { stdio: ["pipe", "pipe", "ignore"] });
      let received = Buffer.alloc(0);
      const giveUp = () => {
        cleanUp();
        child.kill("SIGKILL");
        resolve(undefined);
      };
      const timer = setTimeout(giveUp, START_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < PROTOCOL_GREETING.length) return;
        if (received.toString("latin1", 0, PROTOCOL_GREETING.length) !== PROTOCOL_GREETING) return giveUp();
        cleanUp();
        resolve(new HelperShellSpawner(path, child, received.subarray(PROTOCOL_GREETING.length)));
      };
      const cleanUp = () => {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.off("error", giveUp);
        child.off("exit", giveUp);
      };
      child.stdout!.on("data", onData);
      child.on("error", giveUp);
      child.on("exit", giveUp);
    });
  }

  run(command: string, opts: ShellRunOptions): Promise<ShellRun> {
    return this.start(command, opts);
  }

  /** Runs the command holding one of `launch`'s slots, which may be handed over to it (above). */
  runHoldingSlot(command: string, opts: ShellRunOptions, launch: Launch): Promise<HelperRun> {
    return this.start(command, opts, launch);
  }

  private start(command: string, opts: ShellRunOptions, launch?: Launch): Promise<HelperRun> {
    if (opts.signal?.aborted) return Promise.resolve({ end: { kind: "aborted" }, log: "" });
    if (command.includes("\0") || opts.cwd.includes("\0")) return Promise.resolve(spawnError("the command holds a NUL character"));
    if (this.exited) return Promise.resolve(spawnError("the quanta-spawn helper has exited"));
    const id = String(this.nextId++);
    return new Promise((resolve) => {
      const run: PendingRun = { resolve, timeoutMs: opts.timeoutMs, launch, hasSlot: false, sent: false, started: false };
      if (this.runs.size === 0) this.ref();
      this.runs.set(id, run);
      const slots = launch?.slots;
      const request = `${id}\0${slots === undefined ? "-" : this.poolOf(slots)}\0${opts.cwd}\0${command}\0`;
      if (slots === undefined || slots.tryTake()) {
        run.hasSlot = slots !== undefined;
        this.send(run, `r${request}`);
        this.started(id, run);
      } else if (slots.everyWaiter((waiter) => this.queuedHere.has(waiter))) {
        // Queued by the helper, and started there in the place of a run that ends, unless this
        // process gives it a slot first (then it is told to start now). Only while nothing else
        // waits: the helper never starts a command ahead of a quantum that waited longer.
        run.waiter = slots.wait(() => this.slotGiven(id, run, `s${id}\0`));
        this.queuedHere.add(run.waiter);
        this.send(run, `q${request}`);
      } else {
        run.waiter = slots.wait(() => this.slotGiven(id, run, `r${request}`));
      }
      if (opts.signal !== undefined) {
        run.signal = opts.signal;
        run.onAbort = () => this.kill(id, "aborted");
        opts.signal.addEventListener("abort", run.onAbort, { once: true });
      }
    });
  }

  private poolOf(slots: LaunchSlots): string {
    let pool = this.pools.get(slots);
    if (pool === undefined) this.pools.set(slots, (pool = String(this.nextPool++)));
    return pool;
  }

  private send(run: PendingRun, request: string): void {
    run.sent = true;
    this.stdin.write(request);
  }

  /** A launch slot was given to a run in line for one: it starts now (`request`), unless it has already. */
  private slotGiven(id: string, run: PendingRun, request: string): void {
    run.waiter = undefined;
    run.hasSlot = true;
    if (run.started) return;
    if (this.exited || this.stdin.writableEnded) {
      // Queued there: the helper's reply (or its exit) settles it. Never sent: it never started.
      if (!run.sent) this.settle(id, { kind: "spawn-error", message: "the quanta-spawn helper has exited" }, "");
      return;
    }
    this.send(run, request);
    this.started(id, run);
  }

  /** The run's shell has started (or is starting): the timeout counts from now. */
  private started(id: string, run: PendingRun): void {
    run.started = true;
    run.launch?.started();
    if (run.timeoutMs !== undefined) run.timer = setTimeout(() => this.kill(id, "timeout"), run.timeoutMs);
  }

  private kill(id: string, why: "timeout" | "aborted"): void {
    const run = this.runs.get(id);
    if (run === undefined) return;
    run.forced ??= why;
    if (run.sent) this.stdin.write(`k${id}\0`);
    else this.settle(id, { kind: why }, "");
  }

  /** Replies: `<id> <how> <value> <dropped> <length> <next> <maxrss KiB>\n` and `<length>` bytes of log. */
  private onData(chunk: Buffer): void {
    const buf = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    let at = 0;
    for (;;) {
      const newline = buf.indexOf(10, at);
      if (newline < 0) break;
      const [id, how, value, dropped, length, next, maxrss] = buf.toString("latin1", at, newline).split(" ");
      const logEnd = newline + 1 + Number(length);
      if (buf.length < logEnd) break;
      const log = logEnd > newline + 1 ? buf.toString("utf8", newline + 1, logEnd) : "";
      at = logEnd;
      const successor = next === "-" ? undefined : next;
      if (how === "e") this.settle(id!, { kind: "spawn-error", message: log }, "", successor);
      else this.settle(id!, endOf(how!, Number(value)), dropped === "1" ? DROPPED_LOG_NOTE + log : log, successor, Number(maxrss) * 1024 || undefined);
    }
    this.rest = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
  }

  /**
   * Ends run `id`; `successor`: the queued run the helper started in its place, which takes its slot;
   * `peakRssBytes`: the shell's peak memory, when it ran.
   */
  private settle(id: string, end: ShellEnd, log: string, successor?: string, peakRssBytes?: number): void {
    const run = this.runs.get(id);
    if (run === undefined) throw new Error(`internal error: quanta-spawn replied for unknown run ${id}`);
    this.runs.delete(id);
    if (run.timer !== undefined) clearTimeout(run.timer);
    if (run.onAbort !== undefined) run.signal!.removeEventListener("abort", run.onAbort);
    if (run.waiter !== undefined) run.launch!.slots.leave(run.waiter);
    const next = successor === undefined ? undefined : this.runs.get(successor);
    if (next !== undefined && !next.hasSlot) {
      // This run's slot passes to the one started in its place (a run that held none has none to pass).
      if (next.waiter !== undefined) next.launch!.slots.leave(next.waiter);
      next.waiter = undefined;
      next.hasSlot = run.hasSlot || next.launch!.slots.tryTake();
      this.started(successor!, next);
    } else if (run.hasSlot) {
      run.launch!.slots.give();
    }
    // Once closed, the helper is held until it has exited (`close`), whatever its last reply.
    if (this.runs.size === 0 && this.closed === undefined) this.unref();
    const result: HelperRun = { end: run.forced !== undefined ? { kind: run.forced } : end, log };
    if (peakRssBytes !== undefined) result.peakRssBytes = peakRssBytes;
    if (!run.sent && result.end.kind === "spawn-error") result.unstarted = true;
    run.resolve(result);
  }

  /** The helper is gone: every run from now on fails (its CommandHost then switches to Node). */
  get hasExited(): boolean {
    return this.exited;
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    this.onExited?.();
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    const end: ShellEnd = { kind: "spawn-error", message: `the quanta-spawn helper ${how}` };
    // First the runs in line for a slot here, which never reached the helper: they leave the line in
    // the order they came (`runShell` puts them back in it, for the spawner that replaces this one),
    // so that the slots given back below go to quanta that can start, and not to them in reverse order.
    const runs = [...this.runs];
    for (const [id, run] of runs) if (!run.sent) this.settle(id, end, "");
    for (const [id] of runs) if (this.runs.has(id)) this.settle(id, end, "");
  }

  /** The helper's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /**
   * Ends the helper's input: it kills what it still runs and drops what it queued (those runs end
   * killed by SIGKILL, as do runs still in line for a slot here), and exits; settles once it has.
   */
  close(): Promise<void> {
    if (this.closed !== undefined) return this.closed;
    const exited = (this.closed = this.exited ? Promise.resolve() : new Promise<void>((resolve) => (this.onExited = resolve)));
    // Held until it has exited: whoever closes the spawner may count on the helper being gone. A run
    // that settles after this (the helper's reply to a run it kills as its input ends) must not let
    // go of it: with nothing else pending, Node would end the process there, before `close` settles,
    // with exit code 0 and whatever the command had still to do or to say left undone.
    if (!this.exited) this.ref();
    this.stdin.end();
    for (const [id, run] of [...this.runs]) if (!run.sent && this.runs.has(id)) this.settle(id, { kind: "signal", signal: "SIGKILL" }, "");
    return exited;
  }

  /** While runs are in hand the helper keeps the process alive; idle, it does not. */
  private ref(): void {
    this.child.ref();
    this.stdin.ref();
    this.stdout.ref();
  }

  private unref(): void {
    this.child.unref();
    this.stdin.unref();
    this.stdout.unref();
  }
}

function endOf(how: string, value: number): ShellEnd {
  switch (how) {
    case "x":
      return { kind: "exit", code: value };
    case "s":
      return { kind: "signal", signal: SIGNAL_NAMES.get(value) ?? `signal ${value}` };
    default:
      throw new Error(`internal error: quanta-spawn replied "${how}"`);
  }
}

function spawnError(message: string): ShellRun {
  return { end: { kind: "spawn-error", message }, log: "" };
}
