/**
 * The quantum graph as stable text: one block per quantum, in graph order, naming its inputs and outputs
 * as `type@dataId` (canonical data IDs), and a summary (quanta per task, datasets per type). Both are
 * deterministic, so tests pin them with golden files.
 */
import { formatRef } from "./graph-names.js";
import type { QuantumGraph } from "./quantum-graph.js";

function formatHeadline(graph: QuantumGraph): string[] {
  const inputs = graph.types.reduce((n, t) => n + (t.dataIds === undefined ? 0 : t.count), 0);
  const lines = [
    `pipeline ${graph.pipeline.name}: ${graph.tasks.length} tasks, ${graph.quantumCount} quanta, ${graph.datasetCount} datasets (${inputs} inputs)`,
  ];
  if (graph.query.where !== undefined) lines.push(`where: ${graph.query.where}`);
  const bind = Object.entries(graph.query.bind ?? {});
  if (bind.length > 0) lines.push(`bind: ${bind.map(([k, v]) => `${k}=${v}`).join(", ")}`);
  return lines;
}

/** Every quantum as `task@dataId` followed by `  in  connection: type@dataId` and `  out ...` lines. */
export function formatGraphText(graph: QuantumGraph): string {
  const lines = formatHeadline(graph);
  const ref = (id: number) => formatRef(graph.typeOf(id), graph.datasetKey(id));
  for (const q of graph.allQuanta()) {
    lines.push(formatRef(q.task, q.key));
    for (const [name, ids] of Object.entries(q.inputs)) for (const id of ids) lines.push(`  in  ${name}: ${ref(id)}`);
    for (const [name, id] of Object.entries(q.outputs)) lines.push(`  out ${name}: ${ref(id)}`);
  }
  return lines.join("\n") + "\n";
}

/** Quanta per task (pipeline order) and datasets per type (name order; inputs marked). */
export function formatGraphSummary(graph: QuantumGraph): string {
  const perTask = new Map<string, number>(graph.taskQuanta.map((t) => [t.task.label, t.count]));
  const perType = new Map(graph.types.map((t) => [t.type, { count: t.count, input: t.dataIds !== undefined }]));
  const width = Math.max(8, ...[...perTask.keys(), ...perType.keys()].map((k) => k.length)) + 2;
  const lines = formatHeadline(graph);
  lines.push("quanta per task:");
  for (const [task, n] of perTask) lines.push(`  ${task.padEnd(width)}${String(n).padStart(8)}`);
  lines.push("datasets per type:");
  for (const [type, { count, input }] of perType) lines.push(`  ${type.padEnd(width)}${String(count).padStart(8)}${input ? "  input" : ""}`);
  return lines.join("\n") + "\n";
}
