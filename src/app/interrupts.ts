/**
 * Ctrl-C (SIGINT) and SIGTERM. Node's own reaction to them is to die on the spot, running no `exit`
 * handler: the repository's writer lock stayed behind, the batch of results not yet committed was
 * lost, and commands started with Node's spawn (in sessions of their own) kept running.
 *
 * `installInterruptHandlers()` (the CLI does it first thing) replaces that with an orderly exit: by
 * default a signal ends the process with `process.exit(INTERRUPTED_EXIT_CODE)`, whose `exit` handlers
 * release the writer lock (repository-lock.ts) and kill the commands still running (node-shell-spawner.ts;
 * the quanta-spawn helper kills its own when its input closes). A registry commit in flight is let end
 * first (writes-in-flight.ts: an exit in the middle of one hangs or crashes); what was not yet handed
 * to a commit is lost, as after a crash: a registry transaction is all or nothing.
 *
 * A run asks for more with `stopOnInterrupt()`: the first signal aborts the returned signal instead
 * (the engine stops starting quanta, kills the running ones, commits what finished and reports what
 * was stopped, then the run ends with code 130); a second signal exits at once, as above.
 */

import { exitBetweenWrites, writesInFlight } from "../store/writes-in-flight.js";

/** The exit code of a command ended by SIGINT or SIGTERM (128 + SIGINT's number, as shells report Ctrl-C). */
export const INTERRUPTED_EXIT_CODE = 130;

const SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM"];

/**
 * The runs waiting for a signal, most recent last: the first signal goes to the most recent.
 * Process-wide by nature (signals are the process's); each run of a session adds itself for its own
 * length only (`dispose`).
 */
const stoppers: AbortController[] = [];
let installed = false;

/** Makes SIGINT and SIGTERM end this process through its `exit` handlers (idempotent). */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const signal of SIGNALS) process.on(signal, () => onSignal(signal));
}

function onSignal(signal: NodeJS.Signals): void {
  const stopper = stoppers.pop();
  if (stopper !== undefined && !stopper.signal.aborted) {
    stopper.abort(signal);
    return;
  }
  if (!writesInFlight()) process.stderr.write(`quanta: ${signal}: stopped at once\n`);
  else process.stderr.write(`quanta: ${signal}: stopping once the registry's commit in progress ends (it is all or nothing; SIGKILL ends the process at once)\n`);
  exitBetweenWrites(INTERRUPTED_EXIT_CODE);
}

export interface InterruptWatch {
  /** Aborted by the first SIGINT or SIGTERM; its `reason` is the signal's name. */
  readonly signal: AbortSignal;
  /** Stops watching: a signal from now on exits at once again. */
  dispose(): void;
}

/** Turns the next SIGINT or SIGTERM into an abort of the returned signal (see the module comment). */
export function stopOnInterrupt(): InterruptWatch {
  installInterruptHandlers();
  const controller = new AbortController();
  stoppers.push(controller);
  return {
    signal: controller.signal,
    dispose() {
      const i = stoppers.indexOf(controller);
      if (i >= 0) stoppers.splice(i, 1);
    },
  };
}
