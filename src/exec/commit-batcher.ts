/**
 * Groups registry writes into transactions: each `add`ed writer runs inside the next commit, and a
 * commit happens when `maxItems` writers are waiting or `maxDelayMs` passed since the first of them.
 * Each commit is one all-or-nothing transaction, so a crash loses at most the last small batch of
 * results, never part of one quantum's. (One fsync'd transaction per quantum would cap a run at a few
 * hundred quanta per second.)
 */
import type { Registry } from "../store/registry.js";

export class CommitBatcher {
  private pending: (() => void)[] = [];
  private firstAt = 0;
  private newBlobs = false;

  constructor(
    private readonly registry: Registry,
    /** Makes new blobs durable; called before a commit whose writes reference new blobs. */
    private readonly flushBlobs: () => void,
    private readonly options: { maxItems: number; maxDelayMs: number } = { maxItems: 4096, maxDelayMs: 500 },
  ) {}

  /** Queues a write; `newBlobs` when it references blobs written since the last commit. */
  add(write: () => void, opts: { newBlobs: boolean } = { newBlobs: false }): void {
    if (this.pending.length === 0) this.firstAt = Date.now();
    this.pending.push(write);
    if (opts.newBlobs) this.newBlobs = true;
  }

  /** Milliseconds until the pending batch is due, or undefined when nothing is pending. */
  dueInMs(): number | undefined {
    if (this.pending.length === 0) return undefined;
    return Math.max(0, this.firstAt + this.options.maxDelayMs - Date.now());
  }

  /** Commits now if the batch is full or old enough. */
  async maybeCommit(): Promise<void> {
    if (this.pending.length >= this.options.maxItems || (this.pending.length > 0 && Date.now() - this.firstAt >= this.options.maxDelayMs)) {
      await this.commit();
    }
  }

  async commit(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    // Blobs first: a record must never be durable before the blobs it references.
    if (this.newBlobs) this.flushBlobs();
    this.newBlobs = false;
    await this.registry.commit(() => {
      for (const write of batch) write();
    });
  }
}
