/**
 * The shape both pictures draw (DOT and Mermaid): nodes and edges, in a deterministic order. The task
 * graph has a node per task (with its quanta count) and per dataset type (inputs marked); the quantum
 * graph a node per quantum and per dataset.
 */
import { formatRef } from "./graph-names.js";
import type { QuantumGraph } from "./quantum-graph.js";

export interface ShapeNode {
  /** Unique, made of letters, digits and `_`. */
  readonly id: string;
  readonly label: string;
  readonly kind: "task" | "dataset" | "input";
}

export interface GraphShape {
  readonly nodes: readonly ShapeNode[];
  readonly edges: readonly (readonly [from: string, to: string])[];
}

/** Tasks (pipeline order) and dataset types (by name), with an edge per connection. */
export function shapeTaskGraph(graph: QuantumGraph): GraphShape {
  const counts = new Map(graph.taskQuanta.map((t) => [t.task.label, t.count]));
  const produced = new Set(graph.tasks.flatMap((t) => Object.values(t.outputs).map((c) => c.type)));
  const types = [...new Set(graph.tasks.flatMap((t) => [...Object.values(t.inputs), ...Object.values(t.outputs)].map((c) => c.type)))].sort();
  const typeId = new Map(types.map((t, i) => [t, `type${i}`]));
  const nodes: ShapeNode[] = [
    ...graph.tasks.map((t, i): ShapeNode => {
      const n = counts.get(t.label) ?? 0;
      return { id: `task${i}`, label: `${t.label}\n${n} ${n === 1 ? "quantum" : "quanta"}`, kind: "task" };
    }),
    ...types.map((t): ShapeNode => ({ id: typeId.get(t)!, label: t, kind: produced.has(t) ? "dataset" : "input" })),
  ];
  const edges: [string, string][] = [];
  graph.tasks.forEach((t, i) => {
    for (const c of Object.values(t.inputs)) edges.push([typeId.get(c.type)!, `task${i}`]);
    for (const c of Object.values(t.outputs)) edges.push([`task${i}`, typeId.get(c.type)!]);
  });
  return { nodes, edges };
}

/** Quanta and datasets (graph order), with an edge per input and output. */
export function shapeQuantumGraph(graph: QuantumGraph): GraphShape {
  const nodes: ShapeNode[] = [
    ...[...graph.allQuanta()].map((q): ShapeNode => ({ id: `q${q.id}`, label: formatRef(q.task, q.key), kind: "task" })),
    ...[...graph.allDatasets()].map((d): ShapeNode => ({ id: `d${d.id}`, label: formatRef(d.type, d.key), kind: d.producer < 0 ? "input" : "dataset" })),
  ];
  const edges: [string, string][] = [];
  for (const q of graph.allQuanta()) {
    for (const ids of Object.values(q.inputs)) for (const id of ids) edges.push([`d${id}`, `q${q.id}`]);
    for (const id of Object.values(q.outputs)) edges.push([`q${q.id}`, `d${id}`]);
  }
  return { nodes, edges };
}
