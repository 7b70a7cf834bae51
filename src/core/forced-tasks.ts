import { UsageError } from "./errors.js";
import type { QuantumGraph } from "./quantum-graph.js";
import { suggestName } from "./suggest-name.js";

/**
 * The task labels of `--force LABELS` (comma-separated, repeatable), checked against the plan's tasks:
 * a label the plan does not hold is a usage error naming the nearest one. Undefined when none is forced.
 */
export function readForcedTasks(flags: readonly string[] | undefined, graph: QuantumGraph): ReadonlySet<string> | undefined {
  const labels = (flags ?? []).flatMap((f) => f.split(",")).map((l) => l.trim()).filter((l) => l !== "");
  if (labels.length === 0) return undefined;
  const planned = graph.tasks.map((t) => t.label);
  for (const label of labels) {
    if (!planned.includes(label)) {
      throw new UsageError(`--force: the plan has no task "${label}"`, suggestName(label, planned) ?? `tasks: ${planned.join(", ")}`);
    }
  }
  return new Set(labels);
}
