/**
 * The derived task order: a task comes after every task that produces a dataset type it reads; among
 * tasks free to go next, the one earliest in the file goes first.
 */

export interface TaskLinks {
  readonly label: string;
  /** Labels of the tasks whose outputs this task reads. */
  readonly after: readonly string[];
}

export type TaskOrder = { ok: true; labels: string[] } | { ok: false; cycle: string[] };

/** `tasks` in file order. A cycle is returned closed: `[a, b, a]`. */
export function orderTasks(tasks: readonly TaskLinks[]): TaskOrder {
  const index = new Map(tasks.map((t, i) => [t.label, i]));
  const waiting = tasks.map((t) => new Set(t.after.filter((a) => a !== t.label && index.has(a))));
  const self = tasks.find((t) => t.after.includes(t.label));
  if (self !== undefined) return { ok: false, cycle: [self.label, self.label] };
  const done = new Set<string>();
  const labels: string[] = [];
  while (labels.length < tasks.length) {
    const next = tasks.findIndex((t, i) => !done.has(t.label) && [...waiting[i]!].every((a) => done.has(a)));
    if (next < 0) return { ok: false, cycle: findCycle(tasks, index, done) };
    done.add(tasks[next]!.label);
    labels.push(tasks[next]!.label);
  }
  return { ok: true, labels };
}

/** Walks backwards along unfinished dependencies from the first unfinished task until a label repeats. */
function findCycle(tasks: readonly TaskLinks[], index: ReadonlyMap<string, number>, done: ReadonlySet<string>): string[] {
  const start = tasks.find((t) => !done.has(t.label))!;
  const path: string[] = [start.label];
  const seen = new Map<string, number>([[start.label, 0]]);
  let current = start;
  for (;;) {
    const blocker = [...current.after].filter((a) => !done.has(a) && index.has(a)).sort((a, b) => index.get(a)! - index.get(b)!)[0];
    if (blocker === undefined) throw new Error(`internal error: task "${current.label}" is blocked by nothing`);
    const at = seen.get(blocker);
    if (at !== undefined) {
      // The walk went consumer -> producer; print producers first: a -> b means a feeds b.
      return [...path.slice(at), blocker].reverse();
    }
    seen.set(blocker, path.length);
    path.push(blocker);
    current = tasks[index.get(blocker)!]!;
  }
}
