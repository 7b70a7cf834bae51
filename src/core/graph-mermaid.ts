/** Mermaid flowchart of the task graph, or (`quanta: true`) of the quantum graph: `quanta graph --mermaid`. */
import { shapeQuantumGraph, shapeTaskGraph, type ShapeNode } from "./graph-shape.js";
import type { QuantumGraph } from "./quantum-graph.js";

/** A label in double quotes: Mermaid's entity codes for `"`, `<br/>` for line breaks. */
function quote(text: string): string {
  return `"${text.replace(/"/g, "#quot;").replace(/\n/g, "<br/>")}"`;
}

function formatNode(node: ShapeNode): string {
  switch (node.kind) {
    case "task":
      return `${node.id}[${quote(node.label)}]`;
    case "dataset":
      return `${node.id}([${quote(node.label)}])`;
    case "input":
      return `${node.id}[(${quote(node.label)})]`;
    default: {
      const never: never = node.kind;
      throw new Error(`internal error: unknown node kind ${String(never)}`);
    }
  }
}

export function formatGraphMermaid(graph: QuantumGraph, options: { quanta?: boolean } = {}): string {
  const shape = options.quanta ? shapeQuantumGraph(graph) : shapeTaskGraph(graph);
  const lines = ["flowchart LR"];
  for (const n of shape.nodes) lines.push(`  ${formatNode(n)}`);
  for (const [from, to] of shape.edges) lines.push(`  ${from} --> ${to}`);
  return lines.join("\n") + "\n";
}
