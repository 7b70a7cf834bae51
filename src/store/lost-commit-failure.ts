/**
 * A registry commit that fails (a full disk) must fail once, as a RepositoryError, and nothing else.
 * lmdb-js (3.x) rejects the transaction's promise ("Commit failed (see commitError for details)", the
 * cause in `commitError`), but also prints the cause with console.error, and rejects a second promise
 * of its own with the same error, which nobody holds: Node would then die of an unhandled rejection,
 * printing lmdb-js's stack trace instead of the command's message.
 *
 * lmdb-js may also leave the transaction's promise unsettled, the lost rejection its only sign.
 *
 * `whileCommitting` wraps each commit: while commits are in flight, lmdb-js's console.error print of
 * an error is dropped, and a process-wide `unhandledRejection` listener hands lmdb-js's commit
 * failures to the commits in flight, or drops them once a commit has failed (that commit reports
 * it). Any other unhandled rejection is thrown, as Node's default does.
 */

/**
 * The commits in flight, by the function that fails them. Process-wide by nature: lmdb-js's lost
 * rejection reaches the process's `unhandledRejection` listener, not the repository that committed.
 */
const inFlight = new Set<(err: unknown) => void>();
/** How many commits failed (each reported by its own caller). */
let failed = 0;
let listening = false;

/**
 * Awaits a registry commit, with lmdb-js's side effects of a failure kept quiet (see above). A commit
 * whose promise lmdb-js leaves unsettled, or resolves, while rejecting only its lost promise, fails
 * with that rejection: the commit settles one turn of the event loop after its promise does, by which
 * time Node has dispatched the rejections of that turn.
 */
export async function whileCommitting<T>(commit: Promise<T>): Promise<T> {
  listen();
  let fail!: (err: unknown) => void;
  const lost = new Promise<never>((_, reject) => (fail = reject));
  inFlight.add(fail);
  try {
    const result = await Promise.race([commit, lost]);
    await Promise.race([new Promise((resolve) => setImmediate(resolve)), lost]);
    return result;
  } catch (err) {
    if (isLmdbCommitFailure(err)) failed++;
    throw err;
  } finally {
    inFlight.delete(fail);
  }
}

function isLmdbCommitFailure(reason: unknown): boolean {
  return reason instanceof Error && (reason as { commitError?: unknown }).commitError instanceof Promise;
}

function listen(): void {
  if (listening) return;
  listening = true;
  process.on("unhandledRejection", (reason) => {
    if (!isLmdbCommitFailure(reason)) throw reason;
    if (inFlight.size > 0) for (const fail of inFlight) fail(reason);
    else if (failed === 0) throw reason;
  });
  const print = console.error.bind(console);
  console.error = (...args: unknown[]) => {
    const [first] = args;
    if (inFlight.size > 0 && args.length === 1 && first instanceof Error && /[\\/]lmdb[\\/]/.test(first.stack ?? "")) return;
    print(...args);
  };
}
