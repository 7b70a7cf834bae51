/**
 * The registry writes in flight, which the process must not exit in the middle of.
 *
 * lmdb-js runs a write transaction on a thread of libuv's pool. For a transaction with a callback,
 * that thread opens the transaction and then waits for the main thread to run the callback. A
 * `process.exit` in that window never ends: Node's exit joins the pool's threads, and the writer
 * waits for the main thread, which waits in the join. A `process.exit` during the commit itself can
 * crash (SIGSEGV): the writer commits with what the exit has already freed. Both were seen on a
 * Ctrl-C'd `quanta ingest`: it hung, or died of a segmentation fault, after releasing its lock.
 *
 * So the registry hands each of its writes to `trackWrite` (a commit as lost-commit-failure.ts
 * settles it: lmdb-js may leave a failed commit's own promise unsettled, which would hold the exit
 * for ever), and the signal handler exits through `exitBetweenWrites` (interrupts.ts): at once when
 * no write is in flight, else as soon as the last one settles. Meanwhile the event loop goes on, so
 * the writer gets its callback run. A commit is all or nothing: it is let finish rather than cut,
 * and the exit follows before the code that awaited it goes on.
 */

let inFlight = 0;
/** The exit code asked for while writes were in flight. */
let exitCode: number | undefined;

/** Counts `write` in flight until it settles; returns it unchanged. */
export function trackWrite<T>(write: Promise<T>): Promise<T> {
  inFlight++;
  // Registered before the caller's own reaction: the exit comes before the caller goes on.
  const settled = () => {
    inFlight--;
    if (inFlight === 0 && exitCode !== undefined) process.exit(exitCode);
  };
  write.then(settled, settled);
  return write;
}

/** Whether a registry write is in flight. */
export function writesInFlight(): boolean {
  return inFlight > 0;
}

/** Exits with `code` now when no registry write is in flight, else once the last one settles. */
export function exitBetweenWrites(code: number): void {
  if (inFlight === 0) process.exit(code);
  exitCode = code;
}
