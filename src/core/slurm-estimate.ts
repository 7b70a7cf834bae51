/**
 * What `--executor slurm` would submit for the quanta a dry run says will or may run: how many array
 * elements (jobs) and array jobs (`sbatch` calls), per task of the quanta that head them. It follows
 * the head's rules: quanta of one cluster key ready in the same wave share a job (up to the cluster's
 * size), a quantum of the same cluster key reading only what its job or the repository holds follows
 * in that job, and each wave of ready jobs goes in as one array job per task of their first quanta.
 * Waves are counted as if every job of a wave ended before the next wave: a real run may split a wave
 * when its jobs end at different times, so `sbatchCalls` is a lower bound.
 */
import type { ClusterPlan } from "./cluster-plan.js";
import type { QuantumGraph } from "./quantum-graph.js";

export interface SlurmEstimate {
  /** Quanta that would be submitted (heads and follow-ons). */
  quanta: number;
  /** Array elements. */
  jobs: number;
  /** Array jobs: one `sbatch` each (without retries). */
  sbatchCalls: number;
  /** Per task of the quanta that head jobs: its array jobs and their jobs. */
  tasks: { task: string; sbatchCalls: number; jobs: number }[];
}

interface Element {
  key: string | undefined;
  wave: number;
  task: string;
  size: number;
  quanta: number;
}

export function estimateSlurmJobs(graph: QuantumGraph, plan: ClusterPlan, submitted: (quantum: number) => boolean): SlurmEstimate {
  const elementOf = new Map<number, Element>();
  /** Open elements of heads, by cluster key and wave. */
  const open = new Map<string, Element>();
  const elements: Element[] = [];
  let quanta = 0;
  const add = (id: number, element: Element) => {
    element.quanta++;
    quanta++;
    elementOf.set(id, element);
  };
  /** The elements of the submitted quanta a quantum reads from. */
  const producersOf = (id: number): Set<Element | undefined> => {
    const out = new Set<Element | undefined>();
    graph.forEachInput(id, (d) => {
      const producer = graph.producerOf(d);
      if (producer >= 0 && submitted(producer)) out.add(elementOf.get(producer));
    });
    return out;
  };
  // As the head packs a job: a quantum, then the quanta of its cluster key that read only what the job
  // makes or the repository holds, depth first.
  const follow = (id: number, element: Element) => {
    for (const output of graph.outputIds(id)) {
      for (const next of graph.consumersOf(output)) {
        if (element.quanta >= element.size) return;
        if (!submitted(next) || elementOf.has(next)) continue;
        if (plan.slotOf(graph.taskOf(next), graph.quantumDataId(next))?.key !== element.key || element.key === undefined) continue;
        if ([...producersOf(next)].some((e) => e !== element)) continue;
        add(next, element);
        follow(next, element);
      }
    }
  };
  // Quantum ids are in dependency order: producers first.
  for (let id = 0; id < graph.quantumCount; id++) {
    if (!submitted(id) || elementOf.has(id)) continue;
    let wave = 1;
    for (const e of producersOf(id)) wave = Math.max(wave, e!.wave + 1);
    const task = graph.taskOf(id);
    const slot = plan.slotOf(task, graph.quantumDataId(id));
    const openKey = slot === undefined ? undefined : `${slot.key}\n${wave}`;
    let element = openKey === undefined ? undefined : open.get(openKey);
    if (element === undefined || element.quanta >= element.size) {
      element = { key: slot?.key, wave, task, size: slot?.size ?? 1, quanta: 0 };
      elements.push(element);
      if (openKey !== undefined) open.set(openKey, element);
    }
    add(id, element);
    follow(id, element);
  }
  const perTask = new Map<string, { task: string; waves: Set<number>; jobs: number }>();
  for (const e of elements) {
    let t = perTask.get(e.task);
    if (t === undefined) perTask.set(e.task, (t = { task: e.task, waves: new Set(), jobs: 0 }));
    t.waves.add(e.wave);
    t.jobs++;
  }
  const tasks = graph.tasks.flatMap((task) => {
    const t = perTask.get(task.label);
    return t === undefined ? [] : [{ task: t.task, sbatchCalls: t.waves.size, jobs: t.jobs }];
  });
  return { quanta, jobs: elements.length, sbatchCalls: tasks.reduce((n, t) => n + t.sbatchCalls, 0), tasks };
}
