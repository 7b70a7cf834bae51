/**
 * How a command quantum's shell is started: `/bin/sh -c COMMAND` in a working directory, in its own
 * process group (a timeout or an abort kills the whole tree; when the shell exits, whatever it left in
 * the background is killed too), stdin from /dev/null, stdout and stderr captured together as written
 * (the last `MAX_LOG_BYTES` of them).
 *
 * Two implementations, one behaviour: `HelperShellSpawner` hands the command to a small C helper
 * (dist/exec/quanta-spawn, built by `npm run build` when a C compiler is at hand) that forks it, so the
 * CLI's large Node process never forks; `NodeShellSpawner` uses Node's own `spawn`, a fork of the
 * whole CLI per command (about 1.5 ms of the main thread's time). Each executor's `CommandHost`
 * (command-host.ts) picks one, and ends it when the executor closes.
 */
export type ShellEnd =
  | { kind: "exit"; code: number }
  | { kind: "signal"; signal: string }
  | { kind: "timeout" }
  | { kind: "aborted" }
  | { kind: "spawn-error"; message: string };

export interface ShellRun {
  end: ShellEnd;
  /** stdout and stderr interleaved; `[… earlier output dropped]` first when only the tail was kept. */
  log: string;
  /**
   * The peak resident memory of the shell and of the descendants it waited for (the largest of them,
   * not their sum: wait4's ru_maxrss), from the quanta-spawn helper. Unset with Node's spawn, which
   * cannot tell it (Node reports no child's resource usage).
   */
  peakRssBytes?: number;
}

export interface ShellRunOptions {
  readonly cwd: string;
  /** Kills the process group after this long (the end is then `timeout`). */
  readonly timeoutMs?: number;
  /** Kills the process group when aborted (the end is then `aborted`). */
  readonly signal?: AbortSignal;
}

export interface ShellSpawner {
  readonly kind: "helper" | "node";
  /**
   * Runs `/bin/sh -c command` now (a command that must hold a `-j` slot is run through `runShell`,
   * command-host.ts); resolves once the shell and everything it started are gone, or, when a
   * process it started in a session of its own (out of reach of the kill of its process group) still
   * holds the output `ESCAPED_GRACE_MS` after the shell ended, stops reading it (`ESCAPED_NOTE` ends
   * the log) and resolves then.
   */
  run(command: string, opts: ShellRunOptions): Promise<ShellRun>;
}

/** The most log kept per quantum: the tail, where the error usually is. */
export const MAX_LOG_BYTES = 1 << 20;

export const DROPPED_LOG_NOTE = "[… earlier output dropped]\n";

/** How long the output may stay open once the shell has ended and its process group was killed. */
export const ESCAPED_GRACE_MS = 500;

/** Ends the log of a run whose output a process in another session held open (native/quanta-spawn.c too). */
export const ESCAPED_NOTE = "[quanta: a process the command started in a session of its own still held its output; stopped reading it]\n";
