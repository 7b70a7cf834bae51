/**
 * The quantum graph's invariant checker (see quantum-graph.ts): every test that builds a graph runs it.
 * Returns one message per broken invariant (empty when the graph is sound), at most `limit` of them.
 *
 * Checked: ids are positions; keys are canonical; quanta are ordered by task (in `graph.tasks` order)
 * then data ID, datasets by type then data ID (so no dataset appears twice); every dataset is an input
 * (producer -1) or written by exactly the quantum it names; inputs and consumers agree both ways;
 * connections match their task's declaration (types, one dataset unless `multiple`, output data ID equal
 * to the quantum's); every input's producer precedes its reader, which makes `quanta` a topological
 * order and so proves the graph acyclic.
 */
import { compareDataIds, encodeDataId } from "./data-id.js";
import type { GraphDataset, GraphQuantum, QuantumGraph } from "./quantum-graph.js";

/** The graph as object views, which this checker reads (it runs on test-sized graphs). */
interface Views {
  readonly tasks: QuantumGraph["tasks"];
  readonly quantumCount: number;
  readonly datasetCount: number;
  readonly quanta: readonly GraphQuantum[];
  readonly datasets: readonly GraphDataset[];
}

export function verifyGraph(columns: QuantumGraph, limit = 20): string[] {
  const graph: Views = {
    tasks: columns.tasks,
    quantumCount: columns.quantumCount,
    datasetCount: columns.datasetCount,
    quanta: [...columns.allQuanta()],
    datasets: [...columns.allDatasets()],
  };
  const problems: string[] = [];
  const report = (message: string): void => {
    if (problems.length < limit) problems.push(message);
  };
  checkDatasets(graph, report);
  checkQuantumOrder(graph, report);
  const written = new Int32Array(graph.datasetCount).fill(-1);
  for (const q of graph.quanta) checkQuantum(graph, q, written, report);
  graph.datasets.forEach((d) => {
    if (d.producer >= 0 && written[d.id] !== d.producer) report(`dataset ${d.id} names producer ${d.producer}, which does not write it`);
    if (d.producer < 0 && written[d.id]! >= 0) report(`input dataset ${d.id} is written by quantum ${written[d.id]}`);
  });
  return problems;
}

type Report = (message: string) => void;

function checkDatasets(graph: Views, report: Report): void {
  graph.datasets.forEach((d, i) => {
    if (d.id !== i) report(`dataset at ${i} has id ${d.id}`);
    if (d.key !== encodeDataId(d.dataId)) report(`dataset ${i} has key '${d.key}' for data ID ${encodeDataId(d.dataId)}`);
    if (d.producer < -1 || d.producer >= graph.quantumCount) report(`dataset ${i} has producer ${d.producer}, out of range`);
    for (let k = 0; k < d.consumers.length; k++) {
      const c = d.consumers[k]!;
      if (k > 0 && c <= d.consumers[k - 1]!) report(`dataset ${i}: consumers not strictly ascending`);
      const q = graph.quanta[c];
      if (q === undefined || !Object.values(q.inputs).some((ids) => ids.includes(i))) report(`dataset ${i} lists consumer ${c}, which does not read it`);
    }
    const prev = graph.datasets[i - 1];
    if (prev !== undefined && (prev.type > d.type || (prev.type === d.type && compareDataIds(prev.dataId, d.dataId) >= 0))) {
      report(`datasets ${i - 1} and ${i} are out of order (${prev.type}@${prev.key}, ${d.type}@${d.key})`);
    }
  });
}

function checkQuantumOrder(graph: Views, report: Report): void {
  const rank = new Map(graph.tasks.map((t, i) => [t.label, i]));
  graph.quanta.forEach((q, i) => {
    if (q.id !== i) report(`quantum at ${i} has id ${q.id}`);
    if (!rank.has(q.task)) report(`quantum ${i} belongs to unknown task "${q.task}"`);
    if (q.key !== encodeDataId(q.dataId)) report(`quantum ${i} has key '${q.key}' for data ID ${encodeDataId(q.dataId)}`);
    const prev = graph.quanta[i - 1];
    if (prev === undefined) return;
    const byTask = rank.get(prev.task)! - rank.get(q.task)!;
    if (byTask > 0 || (byTask === 0 && compareDataIds(prev.dataId, q.dataId) >= 0)) {
      report(`quanta ${i - 1} and ${i} are out of order (${prev.task}@${prev.key}, ${q.task}@${q.key})`);
    }
  });
}

function checkQuantum(graph: Views, q: GraphQuantum, written: Int32Array, report: Report): void {
  const task = graph.tasks.find((t) => t.label === q.task);
  if (task === undefined) return;
  const name = `quantum ${q.id} (${q.task}@${q.key})`;
  for (const [conn, c] of Object.entries(task.inputs)) {
    const ids = q.inputs[conn];
    if (ids === undefined) { report(`${name} lacks input ${conn}`); continue; }
    if (!c.multiple && ids.length !== 1) report(`${name} reads ${ids.length} datasets through ${conn}, which is not multiple`);
    ids.forEach((id, k) => {
      const d = graph.datasets[id];
      if (d === undefined) return report(`${name} reads dataset ${id}, out of range`);
      if (k > 0 && id <= ids[k - 1]!) report(`${name}: input ${conn} not strictly ascending`);
      if (d.type !== c.type) report(`${name} reads ${d.type} through ${conn}, declared ${c.type}`);
      if (d.producer >= q.id) report(`${name} reads dataset ${id}, produced by a later quantum ${d.producer}`);
      if (!d.consumers.includes(q.id)) report(`${name} reads dataset ${id}, which does not list it as a consumer`);
    });
  }
  for (const [conn, c] of Object.entries(task.outputs)) {
    const id = q.outputs[conn];
    const d = id === undefined ? undefined : graph.datasets[id];
    if (d === undefined || id === undefined) { report(`${name} lacks output ${conn}`); continue; }
    if (d.type !== c.type) report(`${name} writes ${d.type} through ${conn}, declared ${c.type}`);
    if (d.key !== q.key) report(`${name} writes ${d.type}@${d.key}, not at its data ID`);
    if (written[id]! >= 0) report(`dataset ${id} is written by quanta ${written[id]} and ${q.id}`);
    written[id] = q.id;
  }
  const extra = [...Object.keys(q.inputs).filter((k) => !(k in task.inputs)), ...Object.keys(q.outputs).filter((k) => !(k in task.outputs))];
  if (extra.length > 0) report(`${name} has undeclared connections ${extra.join(", ")}`);
}
