/**
 * Groups registry writes into transactions: each `add`ed writer runs inside the next commit, and a
 * commit starts when `maxItems` writers are waiting or `maxDelayMs` passed since the first of them.
 * Each commit is one all-or-nothing transaction, so a crash loses at most the last batch of results,
 * never part of one quantum's. (One fsync'd transaction per quantum would cap a run at a few hundred
 * quanta per second.)
 *
 * A commit first makes the batch's new blob files durable (a file-system sync, which can take a while
 * on a busy disk) and only then writes the registry. The sync runs in the background: the scheduler goes
 * on starting and finishing quanta, whose results wait for the next batch. One commit at a time.
 * (Encoding and committing on a thread of its own was tried: cloning the writes over to it cost this
 * thread a third of what it saved, and that thread fell behind, so runs got slower.)
 */
import type { Registry } from "../store/registry.js";

const DEFAULT_BATCH = { maxItems: 4096, maxDelayMs: 500 };

export class CommitBatcher {
  private pending: ((registry: Registry) => void)[] = [];
  private firstAt = 0;
  private newBlobs = false;
  private inFlight: Promise<void> | undefined;
  private failure: unknown;

  constructor(
    private readonly registry: Registry,
    /** Makes new blobs durable; awaited before a commit whose writes reference new blobs. */
    private readonly flushBlobs: () => Promise<void>,
    /**
     * Called when a commit started in the background fails: the scheduler may be waiting for quanta
     * that never end (or for none at all), and must learn of it now (`maybeCommit` then throws).
     */
    private readonly onFailed: () => void = () => undefined,
    private readonly options: { maxItems: number; maxDelayMs: number } = DEFAULT_BATCH,
  ) {}

  /**
   * Queues a write, run with the registry to write to; `newBlobs` when it references blob files
   * written since the last commit.
   */
  add(write: (registry: Registry) => void, opts: { newBlobs: boolean } = { newBlobs: false }): void {
    if (this.pending.length === 0) this.firstAt = Date.now();
    this.pending.push(write);
    if (opts.newBlobs) this.newBlobs = true;
  }

  /**
   * Milliseconds until the scheduler should call `maybeCommit` again even if no quantum finishes:
   * when the pending batch is due, or soon while a commit is under way; undefined when nothing waits.
   */
  dueInMs(): number | undefined {
    if (this.pending.length === 0) return undefined;
    if (this.inFlight) return 50;
    if (!this.newBlobs) return 0;
    return Math.max(0, this.firstAt + this.options.maxDelayMs - Date.now());
  }

  /**
   * Starts a commit in the background if none is under way and the batch is due: at once when it
   * references no new blob file (a group commit: what finished during one commit goes into the next,
   * so the batch stays small and the run does not end waiting for a large one), else when it is full
   * or old enough (each such commit first syncs the file system).
   */
  maybeCommit(): void {
    this.throwIfFailed();
    if (this.inFlight || this.pending.length === 0) return;
    const due = !this.newBlobs || this.pending.length >= this.options.maxItems || Date.now() - this.firstAt >= this.options.maxDelayMs;
    if (!due) return;
    this.inFlight = this.commitBatch().then(
      () => (this.inFlight = undefined),
      (err: unknown) => {
        this.failure = err;
        this.inFlight = undefined;
        this.onFailed();
      },
    );
  }

  /** Commits everything queued so far and waits until it is durable. */
  async commit(): Promise<void> {
    await this.inFlight;
    this.throwIfFailed();
    await this.commitBatch();
  }


  private async commitBatch(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    const newBlobs = this.newBlobs;
    this.pending = [];
    this.newBlobs = false;
    // Blobs first: a record must never be durable before the blobs it references.
    if (newBlobs) await this.flushBlobs();
    await this.registry.commit(() => {
      for (const write of batch) write(this.registry);
    });
  }

  /** Whether a commit failed: `commit` and `maybeCommit` throw its error from then on. */
  get failed(): boolean {
    return this.failure !== undefined;
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
