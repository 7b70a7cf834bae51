/** Graphviz DOT of the task graph, or (`quanta: true`) of the quantum graph: `quanta graph --dot`. */
import { shapeQuantumGraph, shapeTaskGraph, type ShapeNode } from "./graph-shape.js";
import type { QuantumGraph } from "./quantum-graph.js";

function quote(text: string): string {
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

function nodeStyle(node: ShapeNode): string {
  switch (node.kind) {
    case "task":
      return "shape=box, style=filled, fillcolor=lightblue";
    case "dataset":
      return "shape=ellipse";
    case "input":
      return "shape=ellipse, style=dashed";
    default: {
      const never: never = node.kind;
      throw new Error(`internal error: unknown node kind ${String(never)}`);
    }
  }
}

export function formatGraphDot(graph: QuantumGraph, options: { quanta?: boolean } = {}): string {
  const shape = options.quanta ? shapeQuantumGraph(graph) : shapeTaskGraph(graph);
  const lines = [`digraph ${quote(graph.pipeline.name)} {`, "  rankdir=LR;"];
  for (const n of shape.nodes) lines.push(`  ${n.id} [label=${quote(n.label)}, ${nodeStyle(n)}];`);
  for (const [from, to] of shape.edges) lines.push(`  ${from} -> ${to};`);
  lines.push("}");
  return lines.join("\n") + "\n";
}
