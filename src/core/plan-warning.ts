/**
 * What planning dropped without failing, as data: a task whose join kept no quanta (and the step that
 * emptied it), and candidate quanta dropped because a `multiple` input fell short of its `minimum`.
 * Every command that plans (`graph`, `run`, `status`, `why`) reports them: as `warning:` lines, or as
 * `plan-warning` events with `--json`; a run's summary counts the dropped quanta.
 */
import { explainEmptyTask, type JoinReport } from "./join-report.js";

export type PlanWarning =
  /** The task has no quanta; `reason` names the join step that left nothing. */
  | { readonly kind: "empty-task"; readonly task: string; readonly reason: string }
  /** `dropped` candidate quanta of the task were left out: input `connection` has fewer than `minimum` datasets there. */
  | { readonly kind: "below-minimum"; readonly task: string; readonly connection: string; readonly minimum: number; readonly dropped: number; readonly example: string };

/** The warnings of a plan, task by task in pipeline order. */
export function collectPlanWarnings(report: JoinReport): PlanWarning[] {
  const out: PlanWarning[] = [];
  for (const task of report.tasks) {
    for (const step of task.steps) {
      if (step.kind !== "minimum") continue;
      out.push({ kind: "below-minimum", task: task.task, connection: step.connection, minimum: step.minimum, dropped: step.dropped, example: step.example });
    }
    if (task.quanta === 0) out.push({ kind: "empty-task", task: task.task, reason: explainEmptyTask(task, report) });
  }
  return out;
}

/** The quanta the warnings say were dropped. */
export function countDroppedQuanta(warnings: readonly PlanWarning[]): number {
  let n = 0;
  for (const w of warnings) if (w.kind === "below-minimum") n += w.dropped;
  return n;
}

/** The warning as one line, without the `warning: ` prefix. */
export function formatPlanWarning(warning: PlanWarning): string {
  switch (warning.kind) {
    case "empty-task":
      return warning.reason;
    case "below-minimum": {
      const quanta = warning.dropped === 1 ? "1 quantum" : `${warning.dropped} quanta`;
      const datasets = warning.minimum === 1 ? "1 dataset" : `${warning.minimum} datasets`;
      return `task ${warning.task}: ${quanta} dropped: input ${warning.connection} has fewer than ${datasets} there (e.g. ${warning.example})`;
    }
    default: {
      const never: never = warning;
      throw new Error(`internal error: unknown plan warning ${JSON.stringify(never)}`);
    }
  }
}
