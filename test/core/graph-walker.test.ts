import { describe, expect, it } from "vitest";
import { GraphWalker, type WalkableGraph } from "../../src/core/graph-walker.js";

/** A walkable graph from each quantum's input dataset ids and each dataset's producer. */
function walkable(inputs: number[][], producers: number[]): WalkableGraph {
  return {
    quantumCount: inputs.length,
    forEachInput: (q, visit) => inputs[q]!.forEach((d) => visit(d, "in")),
    producerOf: (d) => producers[d]!,
  };
}

/** A graph from edges between quanta: each quantum produces one dataset (id = quantum id). */
function makeGraph(n: number, edges: [number, number][]): WalkableGraph {
  const inputs: number[][] = Array.from({ length: n }, () => []);
  for (const [from, to] of edges) inputs[to]!.push(from);
  return walkable(inputs, Array.from({ length: n }, (_, i) => i));
}

function shuffled(seed: number) {
  let s = seed;
  return (ids: number[]) => {
    const a = ids.slice();
    for (let i = a.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const j = s % (i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };
}

describe("GraphWalker", () => {
  it("releases a quantum only when all its producers finished", () => {
    // 0 -> 2, 1 -> 2, 2 -> 3
    const w = new GraphWalker(makeGraph(4, [[0, 2], [1, 2], [2, 3]]));
    expect(w.takeReady()).toEqual([0, 1]);
    expect(w.finish(0)).toEqual([]);
    expect(w.stateOf(2)).toBe("waiting");
    expect(w.finish(1)).toEqual([2]);
    expect(w.takeReady()).toEqual([2]);
    expect(w.finish(2)).toEqual([3]);
    expect(w.takeReady()).toEqual([3]);
    expect(w.isFinished).toBe(false);
    w.finish(3);
    expect(w.isFinished).toBe(true);
  });

  it("counts a producer once even when a quantum reads several of its datasets", () => {
    const g = walkable([[], [0, 1]], [0, 0]);
    const w = new GraphWalker(g);
    expect(w.takeReady()).toEqual([0]);
    expect(w.finish(0)).toEqual([1]);
  });

  it("blocks every descendant of a failure and lets independent branches finish", () => {
    // chain 0 -> 1 -> 2, chain 3 -> 4, 1 and 4 -> 5
    const w = new GraphWalker(makeGraph(6, [[0, 1], [1, 2], [3, 4], [1, 5], [4, 5]]));
    expect(w.takeReady()).toEqual([0, 3]);
    w.finish(0);
    w.finish(3);
    expect(w.takeReady()).toEqual([1, 4]);
    expect(w.fail(1)).toEqual([2, 5]);
    expect(w.stateOf(2)).toBe("blocked");
    expect(w.stateOf(5)).toBe("blocked");
    expect(w.finish(4)).toEqual([]);
    expect(w.isFinished).toBe(true);
  });

  it("blockRemaining stops what has not started (fail-fast)", () => {
    const w = new GraphWalker(makeGraph(4, [[0, 1]]));
    expect(w.takeReady(1)).toEqual([0]);
    expect(w.blockRemaining()).toEqual([1, 2, 3]);
    w.fail(0);
    expect(w.isFinished).toBe(true);
  });

  it("refuses to finish a quantum that is not running", () => {
    const w = new GraphWalker(makeGraph(2, [[0, 1]]));
    expect(() => w.finish(1)).toThrow(/internal error/);
  });

  it("runs every quantum exactly once, after its producers, under shuffled ready orders", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const n = 40;
      const edges: [number, number][] = [];
      const rnd = shuffled(seed);
      for (let to = 1; to < n; to++) for (const from of rnd([...Array(to).keys()]).slice(0, seed % 3)) edges.push([from, to]);
      const w = new GraphWalker(makeGraph(n, edges), { order: shuffled(seed * 7) });
      const done = new Set<number>();
      while (!w.isFinished) {
        const batch = w.takeReady(3);
        expect(batch.length).toBeGreaterThan(0);
        for (const q of batch) {
          for (const [from, to] of edges) if (to === q) expect(done.has(from)).toBe(true);
          done.add(q);
          w.finish(q);
        }
      }
      expect(done.size).toBe(n);
    }
  });
});
