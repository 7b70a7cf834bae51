/**
 * The scheduler core shared by every executor: pure bookkeeping over a quantum graph, no I/O.
 *
 *   waiting --(all upstream quanta finished)--> ready --start()--> running --finish()--> done
 *                                                                         \--fail()----> failed
 *   waiting --(an upstream quantum failed)--> blocked
 *
 * A quantum depends on the producers of its input datasets (each counted once). `finish(id)` returns
 * the quanta it made ready; `fail(id)` returns every descendant it blocked, in id order. Executors
 * differ only in how they run what `takeReady()` hands them.
 */
import type { QuantumGraph } from "./quantum-graph.js";

/** What the walker reads of a graph: which datasets each quantum reads, and who produces them. */
export type WalkableGraph = Pick<QuantumGraph, "quantumCount" | "forEachInput" | "producerOf">;

export type QuantumState = "waiting" | "ready" | "running" | "done" | "failed" | "blocked";

const WAITING = 0;
const READY = 1;
const RUNNING = 2;
const DONE = 3;
const FAILED = 4;
const BLOCKED = 5;
const STATE_NAMES: readonly QuantumState[] = ["waiting", "ready", "running", "done", "failed", "blocked"];

export class GraphWalker {
  private readonly state: Uint8Array;
  /** Unfinished upstream quanta per quantum. */
  private readonly pending: Int32Array;
  /** Downstream quanta, CSR: children of q are childIds[childStart[q] .. childStart[q+1]). */
  private readonly childStart: Int32Array;
  private readonly childIds: Int32Array;
  private readyQueue: number[] = [];
  private readyHead = 0;
  private unfinished: number;

  constructor(graph: WalkableGraph, options: { order?: (ready: number[]) => number[] } = {}) {
    const n = graph.quantumCount;
    this.state = new Uint8Array(n);
    this.pending = new Int32Array(n);
    this.unfinished = n;
    this.order = options.order;
    const counts = new Int32Array(n + 1);
    forEachParent(graph, (q, p) => {
      this.pending[q]!++;
      counts[p + 1]!++;
    });
    for (let q = 0; q < n; q++) counts[q + 1]! += counts[q]!;
    this.childStart = counts;
    this.childIds = new Int32Array(counts[n]!);
    const fill = counts.slice(0, n);
    forEachParent(graph, (q, p) => (this.childIds[fill[p]!++] = q));
    const initial: number[] = [];
    for (let q = 0; q < n; q++) if (this.pending[q] === 0) initial.push(q);
    this.enqueue(initial);
  }

  private readonly order: ((ready: number[]) => number[]) | undefined;

  private enqueue(ids: number[]): void {
    const ordered = this.order ? this.order(ids) : ids;
    for (const q of ordered) {
      this.state[q] = READY;
      this.readyQueue.push(q);
    }
  }

  /** Takes up to `max` ready quanta and marks them running. */
  takeReady(max = Infinity): number[] {
    const out: number[] = [];
    while (out.length < max) {
      const q = this.takeOne();
      if (q < 0) break;
      out.push(q);
    }
    return out;
  }

  /** Drops the taken head of the queue once it is most of it. */
  private compactQueue(): void {
    if (this.readyHead > 4096 && this.readyHead * 2 > this.readyQueue.length) {
      this.readyQueue = this.readyQueue.slice(this.readyHead);
      this.readyHead = 0;
    }
  }

  /** Takes one ready quantum and marks it running; -1 when none is ready. */
  takeOne(): number {
    while (this.readyHead < this.readyQueue.length) {
      const q = this.readyQueue[this.readyHead++]!;
      if (this.state[q] !== READY) continue;
      this.state[q] = RUNNING;
      this.compactQueue();
      return q;
    }
    return -1;
  }

  get hasReady(): boolean {
    return this.readyHead < this.readyQueue.length;
  }

  /** True when every quantum is done, failed or blocked. */
  get isFinished(): boolean {
    return this.unfinished === 0;
  }

  stateOf(id: number): QuantumState {
    return STATE_NAMES[this.state[id]!]!;
  }

  /** Marks a running quantum done; returns the quanta that became ready. */
  finish(id: number): number[] {
    this.expect(id, RUNNING, "finish");
    this.state[id] = DONE;
    this.unfinished--;
    const ready: number[] = [];
    for (let i = this.childStart[id]!; i < this.childStart[id + 1]!; i++) {
      const c = this.childIds[i]!;
      if (--this.pending[c]! === 0 && this.state[c] === WAITING) ready.push(c);
    }
    this.enqueue(ready);
    return ready;
  }

  /** Marks a running quantum failed; returns every descendant it blocked, ascending. */
  fail(id: number): number[] {
    this.expect(id, RUNNING, "fail");
    this.state[id] = FAILED;
    this.unfinished--;
    return this.blockDescendants(id);
  }

  /**
   * Gives up on a quantum that was taken but never started (fail-fast): it and its descendants become
   * blocked. Returns its descendants, ascending.
   */
  abandon(id: number): number[] {
    this.expect(id, RUNNING, "abandon");
    this.state[id] = BLOCKED;
    this.unfinished--;
    return this.blockDescendants(id);
  }

  /**
   * Stops everything not yet started (for --fail-fast): every ready or waiting quantum becomes blocked.
   * Returns them, ascending. Running quanta are left to finish or fail.
   */
  blockRemaining(): number[] {
    const out: number[] = [];
    for (let q = 0; q < this.state.length; q++) {
      if (this.state[q] === WAITING || this.state[q] === READY) {
        this.state[q] = BLOCKED;
        this.unfinished--;
        out.push(q);
      }
    }
    return out;
  }

  private blockDescendants(id: number): number[] {
    const out: number[] = [];
    const stack = [id];
    while (stack.length > 0) {
      const q = stack.pop()!;
      for (let i = this.childStart[q]!; i < this.childStart[q + 1]!; i++) {
        const c = this.childIds[i]!;
        if (this.state[c] !== WAITING && this.state[c] !== READY) continue;
        this.state[c] = BLOCKED;
        this.unfinished--;
        out.push(c);
        stack.push(c);
      }
    }
    return out.sort((a, b) => a - b);
  }

  private expect(id: number, state: number, action: string): void {
    if (this.state[id] !== state) {
      throw new Error(`internal error: cannot ${action} quantum ${id} in state ${STATE_NAMES[this.state[id]!]}`);
    }
  }
}

/** Calls `visit(q, p)` once for every quantum q and each distinct quantum p that produces an input of q. */
function forEachParent(graph: WalkableGraph, visit: (q: number, p: number) => void): void {
  const n = graph.quantumCount;
  const seen = new Int32Array(n).fill(-1);
  for (let q = 0; q < n; q++) {
    graph.forEachInput(q, (d) => {
      const p = graph.producerOf(d);
      if (p < 0 || seen[p] === q) return;
      if (p >= q) throw new Error(`internal error: quantum ${q} reads a dataset of quantum ${p}, which does not come first`);
      seen[p] = q;
      visit(q, p);
    });
  }
}
