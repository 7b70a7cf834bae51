/**
 * Groups registry writes into transactions: each `add`ed writer runs inside the next commit, and a
 * commit starts when `maxItems` writers are waiting or `maxDelayMs` passed since the first of them.
 * Each commit is one all-or-nothing transaction, so a crash loses at most the last batch of results,
 * never part of one quantum's. (One fsync'd transaction per quantum would cap a run at a few hundred
 * quanta per second.)
 *
 * A commit first makes the batch's new blob files durable (a file-system sync, which can take a while
 * on a busy disk) and only then writes the registry. Both run in the background: the scheduler goes
 * on starting and finishing quanta, whose results wait for the next batch. One commit at a time. With
 * a RegistryWriter, large batches are encoded and committed on the writer's thread: the writers run
 * here against a recording view of the registry (`recordWrites`), and the recorded writes go there.
 */
import type { Registry, RegistryWrite } from "../store/registry.js";
import { recordWrites, type RegistryWriter } from "../store/registry-writer.js";

/** Batches smaller than this are committed on this thread (a message round trip is not worth it). */
const OFFLOAD_MIN_ITEMS = 64;

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
    private readonly options: { maxItems: number; maxDelayMs: number } = DEFAULT_BATCH,
    /** Makes the writer that large batches are committed by (called once, on the first of them). */
    private makeWriter?: () => RegistryWriter,
  ) {}

  private writer: RegistryWriter | undefined;

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
    return Math.max(0, this.firstAt + this.options.maxDelayMs - Date.now());
  }

  /** Starts a commit in the background if the batch is full or old enough and none is under way. */
  maybeCommit(): void {
    this.throwIfFailed();
    if (this.inFlight || this.pending.length === 0) return;
    if (this.pending.length < this.options.maxItems && Date.now() - this.firstAt < this.options.maxDelayMs) return;
    this.inFlight = this.commitBatch().then(
      () => (this.inFlight = undefined),
      (err: unknown) => {
        this.failure = err;
        this.inFlight = undefined;
      },
    );
  }

  /** Commits everything queued so far and waits until it is durable. */
  async commit(): Promise<void> {
    await this.inFlight;
    this.throwIfFailed();
    await this.commitBatch();
  }

  /** Stops the writer's thread, if one was started. */
  async close(): Promise<void> {
    await this.writer?.close();
    this.writer = undefined;
  }

  private async commitBatch(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    const newBlobs = this.newBlobs;
    this.pending = [];
    this.newBlobs = false;
    // Blobs first: a record must never be durable before the blobs it references.
    if (newBlobs) await this.flushBlobs();
    if (this.makeWriter !== undefined && batch.length >= OFFLOAD_MIN_ITEMS) this.writer ??= this.makeWriter();
    // A writer whose thread could not start (say, its module is missing): commit here instead.
    if (this.writer !== undefined && !(await this.writer.ready)) {
      await this.writer.close();
      this.writer = undefined;
      this.makeWriter = undefined;
    }
    if (this.writer !== undefined && batch.length >= OFFLOAD_MIN_ITEMS) {
      const writes: RegistryWrite[] = [];
      const recorder = recordWrites(this.registry, writes);
      for (const write of batch) write(recorder);
      await this.writer.commit(writes);
      return;
    }
    await this.registry.commit(() => {
      for (const write of batch) write(this.registry);
    });
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
