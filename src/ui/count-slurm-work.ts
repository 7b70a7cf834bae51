/**
 * With `--executor slurm`, what the view shows of each task's quanta in Slurm: how many are queued
 * (submitted, not started) and running, and the ids of the array jobs that hold them.
 */
import type { RunState } from "./run-state.js";

/** A task's quanta in Slurm: queued, running, and the array jobs that hold them. */
export interface SlurmTaskWork {
  queued: number;
  running: number;
  /**
   * The ids of the task's array jobs that hold quanta of it queued or running, in submission order;
   * when none do, all of the task's array jobs.
   */
  jobs: string[];
}

/** Per task (by label), its quanta in Slurm; the totals under `undefined`. */
export function countSlurmWork(state: RunState): Map<string | undefined, SlurmTaskWork> {
  const active = new Map<string | undefined, Set<string>>();
  const work = new Map<string | undefined, SlurmTaskWork>();
  const note = (task: string | undefined, jobId: string | undefined, kind: "queued" | "running") => {
    let w = work.get(task);
    if (w === undefined) work.set(task, (w = { queued: 0, running: 0, jobs: [] }));
    w[kind] += 1;
    if (jobId === undefined) return;
    let ids = active.get(task);
    if (ids === undefined) active.set(task, (ids = new Set()));
    ids.add(jobId);
  };
  for (const q of state.queued.values()) {
    note(q.task, q.jobId, "queued");
    note(undefined, q.jobId, "queued");
  }
  for (const r of state.running.values()) {
    const array = r.jobId?.split("_")[0];
    note(r.task, array, "running");
    note(undefined, array, "running");
  }
  const all = new Set<string>();
  for (const t of state.tasks) {
    for (const id of t.jobs) all.add(id);
    const w = work.get(t.task) ?? { queued: 0, running: 0, jobs: [] };
    work.set(t.task, { ...w, jobs: pickJobs(t.jobs, active.get(t.task)) });
  }
  const total = work.get(undefined) ?? { queued: 0, running: 0, jobs: [] };
  work.set(undefined, { ...total, jobs: pickJobs([...all], active.get(undefined)) });
  return work;
}

/** The jobs that are active, in the order of `jobs` (then those `jobs` lacks: another run's), or all when none is. */
function pickJobs(jobs: readonly string[], active: ReadonlySet<string> | undefined): string[] {
  if (active === undefined || active.size === 0) return [...jobs];
  const known = new Set(jobs);
  return [...jobs.filter((id) => active.has(id)), ...[...active].filter((id) => !known.has(id)).sort()];
}
