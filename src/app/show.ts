/**
 * `quanta show pipeline|config|tasks|dimensions PIPELINE [LABEL]`: the resolved pipeline, as text for
 * people (or as JSON with `--json`). Paths are shown relative to the current directory.
 */
import { relative } from "node:path";
import { suggestName } from "../core/suggest-name.js";
import { PipelineError } from "../core/pipeline-error.js";
import type { Connection, InputSpec, Pipeline, TaskNode } from "../core/pipeline.js";
import { loadPipeline, type LoadedPipeline } from "./load-pipeline.js";
import { stampEvent } from "../core/events.js";
import { formatJsonLine } from "../ui/json-reporter.js";

export const SHOW_WHATS = ["pipeline", "config", "tasks", "dimensions"] as const;
export type ShowWhat = (typeof SHOW_WHATS)[number];

export interface ShowRequest {
  readonly what: ShowWhat;
  readonly pipelineFile: string;
  /** One task label: show only that task. */
  readonly label?: string;
  readonly config?: readonly string[];
  readonly tasks?: string;
  readonly json?: boolean;
  /** Paths are shown relative to it (default: the current directory). */
  readonly cwd?: string;
}

/** Loads the pipeline and returns what to print (ending with a newline). */
export async function showPipeline(request: ShowRequest): Promise<string> {
  const loaded = await loadPipeline(request.pipelineFile, { config: request.config, tasks: request.tasks, cwd: request.cwd });
  const cwd = request.cwd ?? process.cwd();
  const task = request.label === undefined ? undefined : findTask(loaded.pipeline, request.label);
  if (request.json) {
    const value = selectJson(request.what, loaded, task);
    return formatJsonLine(stampEvent({ event: "show", what: request.what, ...(task && { task: task.label }), value }, Date.now()));
  }
  const shown = (p: string): string => relative(cwd, p) || p;
  switch (request.what) {
    case "pipeline":
      return task !== undefined ? formatTaskDetail(task, shown) : formatOverview(loaded.pipeline, shown);
    case "tasks":
      return task !== undefined ? formatTaskDetail(task, shown) : formatTaskTable(loaded.pipeline.tasks);
    case "config":
      return formatConfig(loaded, task === undefined ? loaded.pipeline.tasks : [task]);
    case "dimensions":
      return formatDimensions(loaded.pipeline);
    default: {
      const never: never = request.what;
      throw new Error(`internal error: unknown show ${String(never)}`);
    }
  }
}

function findTask(pipeline: Pipeline, label: string): TaskNode {
  const task = pipeline.tasks.find((t) => t.label === label);
  if (task !== undefined) return task;
  const labels = pipeline.tasks.map((t) => t.label);
  throw new PipelineError({ summary: `pipeline "${pipeline.name}" has no task "${label}"`, hint: suggestName(label, labels) ?? `tasks: ${labels.join(", ")}` });
}

function selectJson(what: ShowWhat, loaded: LoadedPipeline, task: TaskNode | undefined): unknown {
  switch (what) {
    case "pipeline":
      return task ?? loaded.pipeline;
    case "tasks":
      return task ?? loaded.pipeline.tasks;
    case "config":
      return task === undefined ? loaded.configSources : { [task.label]: loaded.configSources[task.label] };
    case "dimensions":
      return loaded.pipeline.dimensions;
    default: {
      const never: never = what;
      throw new Error(`internal error: unknown show ${String(never)}`);
    }
  }
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
function formatColumns(rows: readonly (readonly string[])[], indent = ""): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ").trimEnd() + "\n").join("");
}

function formatValue(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function dims(list: readonly string[]): string {
  return `(${list.join(", ")})`;
}

function types(connections: Readonly<Record<string, Connection>>): string {
  const list = Object.values(connections).map((c) => c.type + (c.multiple ? "[]" : ""));
  return list.length === 0 ? "-" : list.join(", ");
}

function formatOverview(pipeline: Pipeline, shown: (p: string) => string): string {
  let out = `pipeline ${pipeline.name} (${shown(pipeline.file)})\n`;
  if (pipeline.description !== undefined) out += `  ${pipeline.description}\n`;
  const parameters = Object.entries(pipeline.parameters);
  if (parameters.length > 0) out += "\nparameters:\n" + formatColumns(parameters.map(([k, v]) => [k, formatValue(v)]), "  ");
  out += "\ndimensions:\n" + formatColumns(Object.entries(pipeline.dimensions), "  ");
  if (pipeline.inputs.length > 0) out += "\ninputs:\n" + formatColumns(pipeline.inputs.map((i) => formatInput(i, shown)), "  ");
  out += "\ntasks, in order:\n";
  out += formatColumns(
    pipeline.tasks.map((t, i) => [`${i + 1}.`, t.label, dims(t.dimensions), `${types(t.inputs)} -> ${types(t.outputs)}`]),
    "  ",
  );
  const subsets = Object.entries(pipeline.subsets);
  if (subsets.length > 0) {
    out += "\nsubsets:\n";
    out += formatColumns(subsets.map(([name, s]) => [name, s.tasks.join(", ") + (s.description !== undefined ? `  (${s.description})` : "")]), "  ");
  }
  return out;
}

function formatInput(input: InputSpec, shown: (p: string) => string): string[] {
  switch (input.kind) {
    case "files":
      return [input.type, `files ${input.storage}${input.prerequisite ? " prerequisite" : ""}`, dims(input.dimensions), shown(input.path)];
    case "relation":
      return [input.type, "relation", dims(input.dimensions), shown(input.path)];
    default: {
      const never: never = input;
      throw new Error(`internal error: unknown input ${JSON.stringify(never)}`);
    }
  }
}

function formatTaskTable(tasks: readonly TaskNode[]): string {
  const rows = [["label", "kind", "dimensions", "inputs -> outputs"]];
  for (const t of tasks) rows.push([t.label, t.kind, dims(t.dimensions), `${types(t.inputs)} -> ${types(t.outputs)}`]);
  return formatColumns(rows);
}

function formatConnection(c: Connection): string[] {
  const flags = [c.multiple ? `multiple (minimum ${c.minimum})` : "", c.prerequisite ? "prerequisite" : ""].filter((f) => f !== "");
  return [`${c.name}:`, c.type, dims(c.dimensions), c.storage, flags.join(", ")];
}

function formatTaskDetail(task: TaskNode, shown: (p: string) => string): string {
  let out = `task ${task.label}\n`;
  const rows: string[][] = [];
  if (task.kind === "module") rows.push(["module:", shown(task.modulePath ?? "")]);
  else rows.push(["command:", task.command ?? ""]);
  rows.push(["dimensions:", dims(task.dimensions)], ["code digest:", task.codeDigest]);
  if (task.timeoutMs !== undefined) rows.push(["timeout:", `${task.timeoutMs / 1000}s`]);
  if (task.resources !== undefined) rows.push(["resources:", JSON.stringify(task.resources)]);
  out += formatColumns(rows, "  ");
  for (const [title, connections] of [["inputs", task.inputs], ["outputs", task.outputs]] as const) {
    const list = Object.values(connections);
    out += `  ${title}:${list.length === 0 ? " none" : ""}\n` + formatColumns(list.map(formatConnection), "    ");
  }
  return out;
}

function formatConfig(loaded: LoadedPipeline, tasks: readonly TaskNode[]): string {
  let out = "";
  for (const task of tasks) {
    const entries = Object.entries(loaded.configSources[task.label] ?? {});
    out += `${task.label}:${entries.length === 0 ? " (no config)" : ""}\n`;
    out += formatColumns(entries.map(([key, { value, source }]) => [key, `= ${formatValue(value)}`, `(${source})`]), "  ");
  }
  return out;
}

function formatDimensions(pipeline: Pipeline): string {
  const rows = [["dimension", "type", "tasks"]];
  for (const [name, type] of Object.entries(pipeline.dimensions)) {
    const users = pipeline.tasks.filter((t) => t.dimensions.includes(name)).map((t) => t.label);
    rows.push([name, type, users.length === 0 ? "-" : users.join(", ")]);
  }
  return formatColumns(rows);
}
