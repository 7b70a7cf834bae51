/**
 * Property test: random small pipelines over random data (seeded, so failures reproduce). Every graph
 * built passes verifyGraph (one producer per dataset or an input, edges agree both ways, producers
 * before readers, hence acyclic), every input agrees with its quantum on shared dimensions, the order
 * does not depend on the order of the available data, and pruning to any dataset keeps the invariants.
 */
import { describe, expect, test } from "vitest";
import type { DataId } from "../../src/core/data-id.js";
import { buildQuantumGraph } from "../../src/core/graph-builder.js";
import type { GraphErrorKind } from "../../src/core/graph-error.js";
import { formatGraphText } from "../../src/core/graph-text.js";
import type { Connection, InputSpec, Pipeline, TaskNode } from "../../src/core/pipeline.js";
import type { QuantumGraph } from "../../src/core/quantum-graph.js";
import { verifyGraph } from "../../src/core/verify-graph.js";
import { availableFrom, conn, pipeline, task } from "./fixtures.js";

const DIMS = ["a", "b", "c", "d"];
const UNIVERSE = { a: "int", b: "int", c: "int", d: "int" } as const;

/** mulberry32: a small seeded PRNG. */
function makeRandom(seed: number): { int(n: number): number; pick<T>(xs: readonly T[]): T; subset<T>(xs: readonly T[], p: number): T[] } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    int: (n) => Math.floor(next() * n),
    pick: (xs) => xs[Math.floor(next() * xs.length)]!,
    subset: (xs, p) => xs.filter(() => next() < p),
  };
}

type Random = ReturnType<typeof makeRandom>;

function randomRows(rnd: Random, dims: readonly string[], count: number): DataId[] {
  const rows = new Map<string, DataId>();
  for (let i = 0; i < count; i++) {
    const row = Object.fromEntries(dims.map((d) => [d, rnd.int(3)]));
    rows.set(JSON.stringify(row), row);
  }
  return [...rows.values()];
}

interface Case {
  pipeline: Pipeline;
  data: Map<string, DataId[]>;
}

function randomCase(seed: number): Case {
  const rnd = makeRandom(seed);
  const inputs: InputSpec[] = [];
  const data = new Map<string, DataId[]>();
  const types: { type: string; dims: string[] }[] = [];
  const nInputs = 1 + rnd.int(2);
  for (let i = 0; i < nInputs; i++) {
    const dims = rnd.subset(DIMS, 0.5);
    const type = `in${i}`;
    inputs.push({ kind: "files", type, path: `/data/${type}`, dimensions: dims, storage: "json", prerequisite: false });
    data.set(type, randomRows(rnd, dims, 1 + rnd.int(12)));
    types.push({ type, dims });
  }
  if (rnd.int(2) === 0) {
    const dims = rnd.subset(DIMS, 0.6);
    inputs.push({ kind: "relation", type: "rel", path: "/data/rel.csv", dimensions: dims });
    data.set("rel", randomRows(rnd, dims, rnd.int(15)));
  }
  const prerequisite = rnd.int(3) === 0 ? rnd.subset(DIMS, 0.3) : undefined;
  if (prerequisite !== undefined) {
    inputs.push({ kind: "files", type: "calib", path: "/data/calib", dimensions: prerequisite, storage: "json", prerequisite: true });
    data.set("calib", randomRows(rnd, prerequisite, 20));
  }
  const tasks: TaskNode[] = [];
  const nTasks = 1 + rnd.int(5);
  for (let t = 0; t < nTasks; t++) tasks.push(randomTask(rnd, t, types, prerequisite));
  return { pipeline: pipeline(tasks, inputs, UNIVERSE), data };
}

/** A task reading one or two types; its dimensions mostly come from them (sometimes from nowhere). */
function randomTask(rnd: Random, t: number, types: { type: string; dims: string[] }[], prerequisite: string[] | undefined): TaskNode {
  const reads = [...new Set([rnd.pick(types), ...(rnd.int(2) === 0 ? [rnd.pick(types)] : [])])];
  const near = new Set([...reads.flatMap((r) => r.dims), ...(rnd.int(4) === 0 ? [rnd.pick(DIMS)] : [])]);
  const q = rnd.subset(DIMS.filter((d) => near.has(d)), 0.6);
  const inputs: Connection[] = reads.map((r, i) => {
    const gathers = r.dims.some((d) => !q.includes(d));
    return conn(`in${i}`, r.type, r.dims, { multiple: gathers || rnd.int(4) === 0, minimum: 1 + rnd.int(2) });
  });
  if (prerequisite !== undefined && rnd.int(2) === 0) inputs.push(conn("calib", "calib", prerequisite, { prerequisite: true, multiple: true }));
  const outputs = Array.from({ length: 1 + rnd.int(2) }, (_, i) => conn(`out${i}`, `t${t}o${i}`, q));
  for (const o of outputs) types.push({ type: o.type, dims: q });
  return task(`t${t}`, q, inputs, outputs);
}

/** Every dataset a quantum reads or writes agrees with the quantum's data ID on their shared dimensions. */
function checkAgreement(graph: QuantumGraph): string[] {
  const problems: string[] = [];
  for (const q of [...graph.allQuanta()]) {
    const ids = [...Object.values(q.inputs).flat(), ...Object.values(q.outputs)];
    for (const id of ids) {
      const d = graph.dataset(id);
      for (const [dim, v] of Object.entries(q.dataId)) {
        if (dim in d.dataId && d.dataId[dim] !== v) problems.push(`${q.task}@${q.key} reads or writes ${d.type}@${d.key}`);
      }
    }
  }
  return problems;
}

const ALLOWED_ERRORS: GraphErrorKind[] = ["ambiguous-input", "unsupplied-dimension", "missing-prerequisite"];

describe("random pipelines", () => {
  const seeds = Array.from({ length: 400 }, (_, i) => i + 1);
  test("every graph is sound, deterministic and prunes soundly", () => {
    const outcomes = { graphs: 0, nonEmpty: 0, errors: new Map<string, number>() };
    for (const seed of seeds) {
      const c = randomCase(seed);
      const result = buildQuantumGraph({ pipeline: c.pipeline, available: availableFrom(c.data) });
      if (!result.ok) {
        expect(ALLOWED_ERRORS, `seed ${seed}: ${result.error.message}`).toContain(result.error.kind);
        outcomes.errors.set(result.error.kind, (outcomes.errors.get(result.error.kind) ?? 0) + 1);
        continue;
      }
      outcomes.graphs++;
      const { graph } = result;
      expect(verifyGraph(graph), `seed ${seed}`).toEqual([]);
      expect(checkAgreement(graph), `seed ${seed}`).toEqual([]);
      const reversed = new Map([...c.data].map(([k, rows]) => [k, [...rows].reverse()]));
      const again = buildQuantumGraph({ pipeline: c.pipeline, available: availableFrom(reversed) });
      expect(again.ok && formatGraphText(again.graph), `seed ${seed}`).toBe(formatGraphText(graph));
      if (graph.quantumCount === 0) continue;
      outcomes.nonEmpty++;
      checkPruning(c, graph, seed);
    }
    expect(outcomes.nonEmpty).toBeGreaterThan(150);
    expect(outcomes.errors.size).toBeGreaterThan(0);
  });
});

/** Pruned to the last dataset: sound, and closed under "the producers of my inputs". */
function checkPruning(c: Case, graph: QuantumGraph, seed: number): void {
  const target = graph.dataset(graph.datasetCount - 1);
  const pruned = buildQuantumGraph({ pipeline: c.pipeline, available: availableFrom(c.data), targets: [{ type: target.type, dataId: target.dataId }] });
  if (!pruned.ok) throw new Error(`seed ${seed}: pruning failed: ${pruned.error.message}`);
  expect(verifyGraph(pruned.graph), `seed ${seed} pruned`).toEqual([]);
  const full = new Set([...graph.allQuanta()].map((q) => `${q.task}@${q.key}`));
  for (const q of [...pruned.graph.allQuanta()]) expect(full.has(`${q.task}@${q.key}`)).toBe(true);
  for (const d of [...pruned.graph.allDatasets()]) {
    const original = [...graph.allDatasets()].find((x) => x.type === d.type && x.key === d.key)!;
    expect(d.producer >= 0, `seed ${seed}: ${d.type}@${d.key} lost its producer`).toBe(original.producer >= 0);
  }
}
