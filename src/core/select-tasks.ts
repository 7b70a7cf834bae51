/**
 * `--tasks a,b,step2` keeps the named tasks and the tasks of the named subsets; `+name` also keeps
 * every task they need (the producers of their inputs, transitively). The selected pipeline keeps the
 * derived order; its subsets keep only selected tasks (empty ones are dropped). Inputs of selected tasks
 * whose producers were left out are read from the repository.
 */
import { suggestName } from "./suggest-name.js";
import { PipelineError } from "./pipeline-error.js";
import type { Pipeline, SubsetDef, TaskNode } from "./pipeline.js";

export type TaskSelection = { ok: true; pipeline: Pipeline; labels: string[] } | { ok: false; error: PipelineError };

export function selectTasks(pipeline: Pipeline, expression: string): TaskSelection {
  const fail = (summary: string, hint?: string): TaskSelection => ({
    ok: false,
    error: new PipelineError({ summary: `--tasks ${expression}: ${summary}`, hint }),
  });
  const byLabel = new Map(pipeline.tasks.map((t) => [t.label, t]));
  const selected = new Set<string>();
  const items = expression.split(",").map((s) => s.trim());
  for (const item of items) {
    const withAncestors = item.startsWith("+");
    const name = withAncestors ? item.slice(1).trim() : item;
    if (name === "") return fail("expected task labels or subset names separated by commas, found an empty name");
    const labels = pipeline.subsets[name]?.tasks ?? (byLabel.has(name) ? [name] : undefined);
    if (labels === undefined) {
      const names = [...byLabel.keys(), ...Object.keys(pipeline.subsets)];
      return fail(`no task or subset "${name}"`, suggestName(name, names) ?? `tasks: ${[...byLabel.keys()].join(", ")}`);
    }
    for (const label of labels) {
      if (withAncestors) for (const a of listAncestors(pipeline.tasks, label)) selected.add(a);
      selected.add(label);
    }
  }
  const tasks = pipeline.tasks.filter((t) => selected.has(t.label));
  const subsets: Record<string, SubsetDef> = {};
  for (const [name, subset] of Object.entries(pipeline.subsets)) {
    const kept = subset.tasks.filter((l) => selected.has(l));
    if (kept.length > 0) subsets[name] = { ...subset, tasks: kept };
  }
  return { ok: true, pipeline: { ...pipeline, tasks, subsets }, labels: tasks.map((t) => t.label) };
}

/** The labels of the tasks that `label` needs, transitively (not `label` itself). */
export function listAncestors(tasks: readonly TaskNode[], label: string): Set<string> {
  const producerOf = new Map<string, string>();
  for (const task of tasks) for (const output of Object.values(task.outputs)) producerOf.set(output.type, task.label);
  const byLabel = new Map(tasks.map((t) => [t.label, t]));
  const found = new Set<string>();
  const stack = [label];
  while (stack.length > 0) {
    const task = byLabel.get(stack.pop()!);
    if (task === undefined) continue;
    for (const input of Object.values(task.inputs)) {
      const producer = producerOf.get(input.type);
      if (producer !== undefined && producer !== label && !found.has(producer)) {
        found.add(producer);
        stack.push(producer);
      }
    }
  }
  return found;
}
