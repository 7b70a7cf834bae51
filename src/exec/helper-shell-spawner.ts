/**
 * Starts commands through quanta-spawn (native/quanta-spawn.c, whose comment describes the protocol):
 * one small long-lived process that starts each shell, so the CLI's main thread only writes a request
 * and reads a reply per command (about 0.1 ms of its time, where a Node spawn costs over a millisecond).
 *
 * Timeouts and aborts are the CLI's: it asks the helper to kill the run's process group, and reports
 * the run as timed out or cancelled when the helper's reply comes. The helper holds the event loop
 * open only while runs are in hand, and ends (killing what it started) when the CLI's process does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { DROPPED_LOG_NOTE, type ShellEnd, type ShellRun, type ShellRunOptions, type ShellSpawner } from "./shell-spawner.js";

const PROTOCOL_GREETING = "quanta-spawn 1\n";
/** How long a starting helper may take to greet before Node's spawn is used instead. */
const START_TIMEOUT_MS = 10_000;

interface PendingRun {
  resolve: (run: ShellRun) => void;
  forced?: "timeout" | "aborted";
  timer?: NodeJS.Timeout;
  signal?: AbortSignal;
  onAbort?: () => void;
}

const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, number]) => [number as number, name]));

export class HelperShellSpawner implements ShellSpawner {
  readonly kind = "helper" as const;
  private exited = false;
  private readonly runs = new Map<string, PendingRun>();
  private nextId = 1;
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
    if (opts.signal?.aborted) return Promise.resolve({ end: { kind: "aborted" }, log: "" });
    if (command.includes("\0") || opts.cwd.includes("\0")) return Promise.resolve(spawnError("the command holds a NUL character"));
    if (this.exited) return Promise.resolve(spawnError("the quanta-spawn helper has exited"));
    const id = String(this.nextId++);
    return new Promise((resolve) => {
      const run: PendingRun = { resolve };
      if (this.runs.size === 0) this.ref();
      this.runs.set(id, run);
      this.stdin.write(`r${id}\0${opts.cwd}\0${command}\0`);
      if (opts.timeoutMs !== undefined) run.timer = setTimeout(() => this.kill(id, "timeout"), opts.timeoutMs);
      if (opts.signal !== undefined) {
        run.signal = opts.signal;
        run.onAbort = () => this.kill(id, "aborted");
        opts.signal.addEventListener("abort", run.onAbort, { once: true });
      }
    });
  }

  private kill(id: string, why: "timeout" | "aborted"): void {
    const run = this.runs.get(id);
    if (run === undefined) return;
    run.forced ??= why;
    this.stdin.write(`k${id}\0`);
  }

  /** Replies: `<id> <how> <value> <dropped> <length>\n` and `<length>` bytes of log. */
  private onData(chunk: Buffer): void {
    const buf = this.rest.length === 0 ? chunk : Buffer.concat([this.rest, chunk]);
    let at = 0;
    for (;;) {
      const newline = buf.indexOf(10, at);
      if (newline < 0) break;
      const [id, how, value, dropped, length] = buf.toString("latin1", at, newline).split(" ");
      const logEnd = newline + 1 + Number(length);
      if (buf.length < logEnd) break;
      const log = logEnd > newline + 1 ? buf.toString("utf8", newline + 1, logEnd) : "";
      at = logEnd;
      if (how === "e") this.settle(id!, { kind: "spawn-error", message: log }, "");
      else this.settle(id!, endOf(how!, Number(value)), dropped === "1" ? DROPPED_LOG_NOTE + log : log);
    }
    this.rest = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
  }

  private settle(id: string, end: ShellEnd, log: string): void {
    const run = this.runs.get(id);
    if (run === undefined) throw new Error(`internal error: quanta-spawn replied for unknown run ${id}`);
    this.runs.delete(id);
    if (this.runs.size === 0) this.unref();
    if (run.timer !== undefined) clearTimeout(run.timer);
    if (run.onAbort !== undefined) run.signal!.removeEventListener("abort", run.onAbort);
    run.resolve({ end: run.forced !== undefined ? { kind: run.forced } : end, log });
  }

  /** The helper is gone: every run from now on fails (sharedShellSpawner then switches to Node). */
  get hasExited(): boolean {
    return this.exited;
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exited = true;
    const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
    for (const id of [...this.runs.keys()]) this.settle(id, { kind: "spawn-error", message: `the quanta-spawn helper ${how}` }, "");
  }

  /** The helper's process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Ends the helper's input: it kills what it still runs (those runs end killed by SIGKILL), and exits. */
  close(): void {
    this.stdin.end();
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
