/**
 * What the graph builder's joins kept, step by step, so that an empty (or surprisingly small) graph
 * explains itself: which input type or relation had how many rows under the query, how many rows each
 * join step kept, and which task ended with no quanta.
 */

/** An input dataset type or relation the builder read. */
export interface SourceReport {
  readonly kind: "dataset" | "relation";
  readonly name: string;
  readonly dimensions: readonly string[];
  /** Rows (datasets) available before the query. */
  readonly total: number;
  /** Rows under `--where`. */
  readonly kept: number;
  /** For datasets of a type some unselected task produces: that task (they were read from the repository). */
  readonly producer?: string;
}

export type JoinStep =
  /** A connection's datasets: under the query for inputs, what the producing task makes otherwise. */
  | {
      readonly kind: "read";
      readonly connection: string;
      readonly type: string;
      readonly dimensions: readonly string[];
      readonly producer?: string;
      readonly rows: number;
    }
  /** Joined with a relation (or an input type's data IDs) to reach the quantum's dimensions. */
  | { readonly kind: "link"; readonly connection: string; readonly via: string; readonly viaKind: "relation" | "dataset"; readonly rows: number }
  /** Grouped by the quantum dimensions the connection's rows have. */
  | { readonly kind: "group"; readonly connection: string; readonly dimensions: readonly string[]; readonly groups: number }
  /** The candidate quanta after joining this connection's groups with those of the connections before. */
  | { readonly kind: "join"; readonly connection: string; readonly rows: number }
  /** The candidate quanta joined with a relation (or an input type's data IDs) to reach quantum dimensions no input has. */
  | { readonly kind: "link-quanta"; readonly via: string; readonly viaKind: "relation" | "dataset"; readonly rows: number }
  /** The candidate quanta restricted to those a relation holds, on the dimensions they share. */
  | { readonly kind: "restrict"; readonly via: string; readonly dimensions: readonly string[]; readonly rows: number }
  /** The candidate quanta under `--where`. */
  | { readonly kind: "where"; readonly rows: number }
  /** Candidate quanta dropped because a `multiple` input has fewer than `minimum` datasets. */
  | { readonly kind: "minimum"; readonly connection: string; readonly minimum: number; readonly dropped: number; readonly example: string };

export interface TaskReport {
  readonly task: string;
  readonly dimensions: readonly string[];
  readonly steps: readonly JoinStep[];
  readonly quanta: number;
}

export interface JoinReport {
  /** The `--where` text, when there was one. */
  readonly where?: string;
  readonly sources: readonly SourceReport[];
  readonly tasks: readonly TaskReport[];
}

/** `1 quantum`, `2 quanta`, `0 datasets`. */
function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function formatDims(dims: readonly string[]): string {
  return `(${dims.join(", ")})`;
}

function formatStep(step: JoinStep): string {
  switch (step.kind) {
    case "read":
      return step.producer === undefined
        ? `${step.connection}: ${step.type} has ${count(step.rows, "dataset", "datasets")}`
        : `${step.connection}: ${step.type} has ${count(step.rows, "dataset", "datasets")} from task ${step.producer}`;
    case "link":
      return `${step.connection}: joined with ${step.viaKind} ${step.via}: ${count(step.rows, "row", "rows")}`;
    case "group":
      return `${step.connection}: ${count(step.groups, "group", "groups")} by ${formatDims(step.dimensions)}`;
    case "join":
      return `with ${step.connection}: ${count(step.rows, "candidate quantum", "candidate quanta")}`;
    case "link-quanta":
      return `candidate quanta joined with ${step.viaKind} ${step.via}: ${count(step.rows, "row", "rows")}`;
    case "restrict":
      return `in relation ${step.via} on ${formatDims(step.dimensions)}: ${count(step.rows, "candidate quantum", "candidate quanta")}`;
    case "where":
      return `under --where: ${count(step.rows, "candidate quantum", "candidate quanta")}`;
    case "minimum":
      return `${step.connection}: ${count(step.dropped, "quantum", "quanta")} dropped with fewer than ${step.minimum} datasets (e.g. ${step.example})`;
    default: {
      const never: never = step;
      throw new Error(`internal error: unknown join step ${JSON.stringify(never)}`);
    }
  }
}

function formatSource(source: SourceReport): string {
  const what = source.kind === "relation" ? `relation ${source.name}` : source.name;
  const unit = source.kind === "relation" ? "rows" : "datasets";
  const from = source.producer === undefined ? "" : ` (existing outputs of ${source.producer})`;
  return `${what} ${formatDims(source.dimensions)}: ${source.kept} of ${source.total} ${unit}${from}`;
}

/**
 * One line on why a task has no quanta: the first step that left nothing, with the step before it, e.g.
 * `task makeWarp: 0 quanta: calexp has 24 datasets, relation overlaps has 0 rows under --where 'tract = 99'`.
 */
export function explainEmptyTask(task: TaskReport, report: JoinReport): string {
  const under = report.where === undefined ? "" : ` under --where '${report.where}'`;
  const head = `task ${task.task}: 0 quanta`;
  const zero = task.steps.findIndex((s) => "rows" in s && s.rows === 0);
  const step = zero >= 0 ? task.steps[zero]! : undefined;
  if (step === undefined) {
    const min = task.steps.find((s) => s.kind === "minimum");
    return min === undefined ? `${head}: no candidate quanta` : `${head}: ${formatStep(min)}`;
  }
  const before = zero > 0 ? task.steps[zero - 1] : undefined;
  const had = before?.kind === "read" ? `${before.type} ${formatDims(before.dimensions)} has ${before.rows} datasets, ` : "";
  switch (step.kind) {
    case "read":
      if (step.producer !== undefined) return `${head}: its input ${step.type} has no datasets (task ${step.producer} has no quanta)`;
      {
        const total = report.sources.find((s) => s.name === step.type)?.total ?? 0;
        const what = `${step.type} ${formatDims(step.dimensions)}`;
        return total > 0 && report.where !== undefined ? `${head}: ${what} has ${total} datasets, none${under}` : `${head}: ${what} has 0 datasets`;
      }
    case "link": {
      const kept = report.sources.find((s) => s.name === step.via)?.kept ?? 0;
      const via = `${step.viaKind} ${step.via} has ${kept} ${step.viaKind === "relation" ? "rows" : "datasets"}${under}`;
      return kept === 0 ? `${head}: ${had}${via}` : `${head}: ${had}${via}, and no row of one matches the other`;
    }
    case "join":
      return `${head}: no data ID has datasets for every input (${step.connection} matched none)`;
    case "link-quanta":
    case "restrict": {
      const kept = report.sources.find((s) => s.name === step.via)?.kept ?? 0;
      const unit = step.kind === "restrict" || step.viaKind === "relation" ? "rows" : "datasets";
      const what = `${step.kind === "restrict" ? "relation" : step.viaKind} ${step.via} has ${kept} ${unit}${under}`;
      return kept === 0 ? `${head}: ${what}` : `${head}: ${what}, and none matches a candidate quantum`;
    }
    case "where":
      return `${head}: no candidate quantum satisfies --where '${report.where ?? ""}'`;
    default:
      return `${head}: ${formatStep(step)}`;
  }
}

/** The report as text: sources under the query, each task's steps, and why empty tasks are empty. */
export function formatJoinReport(report: JoinReport): string {
  const lines: string[] = [];
  lines.push(report.where === undefined ? "inputs:" : `inputs under --where '${report.where}':`);
  for (const s of report.sources) lines.push(`  ${formatSource(s)}`);
  for (const t of report.tasks) {
    lines.push(`task ${t.task} ${formatDims(t.dimensions)}: ${count(t.quanta, "quantum", "quanta")}`);
    for (const step of t.steps) lines.push(`  ${formatStep(step)}`);
  }
  const empty = report.tasks.filter((t) => t.quanta === 0);
  if (empty.length > 0) {
    lines.push("why empty:");
    for (const t of empty) lines.push(`  ${explainEmptyTask(t, report)}`);
  }
  return lines.join("\n") + "\n";
}
