/**
 * The event stream of a run whose command task fails for every one of `failing` data IDs, each with a
 * three-line log tail, and whose gather is blocked by the first failure (issue 14, item 17).
 *
 * `order: "engine-before-fix"` emits the engine's old order, where the last quantum of a task was
 * reported after its task's `task-finished` (the gather's `quantum-blocked` after its task finished,
 * `broken`'s last failure after `broken` finished): a reporter counting both counted it twice.
 */
import type { QuantaEvent } from "../../src/core/events.js";
import { at, taskCounts } from "./sample-events.js";

export const LOG_TAIL = ["line one of stderr", "line two", "line three"];

export function manyFailures(failing: number, order: "engine" | "engine-before-fix" = "engine"): QuantaEvent[] {
  const events: QuantaEvent[] = [];
  const gather = { quantum: failing, task: "gather", dataId: "" };
  const brokenDone = at(10 * failing + 5, { event: "task-finished", counts: taskCounts("broken", { total: failing, failed: failing }) });
  const gatherDone = at(15, { event: "task-finished", counts: taskCounts("gather", { total: 1, blocked: 1 }) });
  events.push(
    at(0, {
      event: "run-started",
      pipeline: "fail",
      collection: "fail",
      executor: "pool",
      workers: 2,
      tasks: [
        { task: "broken", total: failing },
        { task: "gather", total: 1 },
      ],
    }),
  );
  for (let i = 0; i < failing; i++) {
    const ref = { quantum: i, task: "broken", dataId: `item=${i + 1}` };
    const failed = at(10 * i + 10, { event: "quantum-failed", attempt: 1, error: "command exited with code 1", logTail: LOG_TAIL, durationMs: 10, ...ref });
    events.push(at(10 * i + 1, { event: "quantum-started", attempt: 1, ...ref }));
    if (i === failing - 1 && order === "engine-before-fix") events.push(brokenDone, failed);
    else events.push(failed);
    if (i === 0) {
      const blocked = at(10, { event: "quantum-blocked", blockedBy: ref, ...gather });
      events.push(...(order === "engine" ? [blocked, gatherDone] : [gatherDone, blocked]));
    }
  }
  if (order === "engine") events.push(brokenDone);
  events.push(
    at(10 * failing + 10, {
      event: "run-finished",
      pipeline: "fail",
      collection: "fail",
      counts: { ran: 0, upToDate: 0, failed: failing, blocked: 1, noWork: 0 },
      durationMs: 10 * failing + 10,
      tasks: [taskCounts("broken", { total: failing, failed: failing }), taskCounts("gather", { total: 1, blocked: 1 })],
      slowest: [],
      exitCode: 1,
    }),
  );
  return events;
}
