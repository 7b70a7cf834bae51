import { expect, test } from "vitest";
import { buildQuantumGraph } from "../../src/core/graph-builder.js";
import { formatGraphDot } from "../../src/core/graph-dot.js";
import { formatGraphMermaid } from "../../src/core/graph-mermaid.js";
import type { QuantumGraph } from "../../src/core/quantum-graph.js";
import { verifyGraph } from "../../src/core/verify-graph.js";
import { availableFrom, skyData, skyPipeline } from "./fixtures.js";
import { expectGolden } from "./golden.js";

function skyGraph(targets = [{ type: "coadd", dataId: { band: "g", patch: 1 } }]): QuantumGraph {
  const result = buildQuantumGraph({ pipeline: skyPipeline(), available: availableFrom(skyData()), targets });
  if (!result.ok) throw new Error(result.error.message);
  expect(verifyGraph(result.graph)).toEqual([]);
  return result.graph;
}

test("DOT of the task graph and of the quantum graph", () => {
  expectGolden("sky-tasks.dot", formatGraphDot(skyGraph([])));
  expectGolden("sky-quanta.dot", formatGraphDot(skyGraph(), { quanta: true }));
});

test("Mermaid of the task graph and of the quantum graph", () => {
  expectGolden("sky-tasks.mmd", formatGraphMermaid(skyGraph([])));
  expectGolden("sky-quanta.mmd", formatGraphMermaid(skyGraph(), { quanta: true }));
});

test("every quantum and dataset is drawn, with one edge per input and output", () => {
  const graph = skyGraph();
  const dot = formatGraphDot(graph, { quanta: true });
  const edges = [...graph.allQuanta()].reduce((n, q) => n + Object.values(q.inputs).flat().length + Object.keys(q.outputs).length, 0);
  expect(dot.split("\n").filter((l) => l.includes(" -> ")).length).toBe(edges);
  expect(dot.split("\n").filter((l) => l.includes("[label=")).length).toBe(graph.quantumCount + graph.datasetCount);
});
