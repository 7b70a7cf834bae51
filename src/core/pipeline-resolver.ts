/**
 * Resolves a merged pipeline (see merge-pipeline-files.ts) into the Pipeline model: parameters,
 * dimensions, inputs, tasks with their effective config, the dataset types they share (one producer
 * each, read with the storage class and dimensions they are written with), the derived order and the
 * subsets. Pure: module loading, hashing and path resolution are done by the caller and passed in.
 */
import type { DimensionType, DimensionUniverse } from "./dimensions.js";
import { suggestName } from "./suggest-name.js";
import type { MergedPipeline, MergedTask } from "./merge-pipeline-files.js";
import { orderTasks } from "./order-tasks.js";
import { pathGlobProblem } from "./path-glob.js";
import { parsePathTemplate } from "./path-template.js";
import { parseConfigOverride, type ConfigOverride } from "./parse-config-override.js";
import { PipelineError } from "./pipeline-error.js";
import type { ClusterDef, Connection, InputSpec, Pipeline, SubsetDef, TaskNode } from "./pipeline.js";
import { nameTooLong, shortened } from "./name-bounds.js";
import { resolveTask, type ConnectionBlame, type TaskModuleInfo, type ResolvedTask } from "./resolve-task.js";
import type { StorageClass } from "./storage-class.js";
import { substituteParameters } from "./substitute-parameters.js";
import type { DigestTool } from "./resolve-key-extras.js";
import type { ConfigValueSource } from "./task-config.js";
import { parse as parseYaml } from "yaml";

export interface ResolveContext {
  /** The pipeline's name (its file name without extension). */
  readonly name: string;
  /** Absolute path of the pipeline file. */
  readonly file: string;
  /** The loaded module of every module task, by label. */
  readonly modules: ReadonlyMap<string, TaskModuleInfo>;
  /** The 128-bit hash of a string as 32 hex (core/digest.ts; a command task's code digest hashes its template). */
  hashString(text: string): string;
  /** The digest of a task's `tools:` executable (resolve-key-extras.ts). */
  readonly digestTool?: DigestTool;
  /** An absolute path for `relative` as written in the file `fromFile`. */
  resolvePath(fromFile: string, relative: string): string;
  /** `--config label.key=value` flags. */
  readonly configOverrides?: readonly string[];
  /** Parameter values from the command line, read as YAML scalars. */
  readonly parameters?: Readonly<Record<string, string>>;
}

export interface ResolvedPipeline {
  readonly pipeline: Pipeline;
  /** By task label, by dotted config key: the effective value and where it came from. */
  readonly configSources: Readonly<Record<string, Readonly<Record<string, ConfigValueSource>>>>;
}

export type PipelineResolution = { ok: true; resolved: ResolvedPipeline } | { ok: false; error: PipelineError };

const LABEL = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function resolvePipeline(merged: MergedPipeline, context: ResolveContext): PipelineResolution {
  try {
    return { ok: true, resolved: resolveOrThrow(merged, context) };
  } catch (err) {
    if (err instanceof PipelineError) return { ok: false, error: err };
    throw err;
  }
}

function resolveOrThrow(merged: MergedPipeline, context: ResolveContext): ResolvedPipeline {
  const parameters = resolveParameters(merged, context.parameters ?? {});
  const universe: Record<string, DimensionType> = {};
  for (const [name, located] of merged.dimensions) {
    const nameTooLongBy = nameTooLong(name);
    if (nameTooLongBy !== undefined) throw located.source.errorAt(located.path, `dimension "${shortened(name)}": the name is too long (${nameTooLongBy})`, { target: "key", hint: "use a shorter name" });
    universe[name] = located.value as DimensionType;
  }
  const inputs = resolveInputs(merged, universe, parameters, context);
  const overrides = parseOverrides(merged, context.configOverrides ?? []);

  const resolved = new Map<string, ResolvedTask>();
  for (const task of merged.tasks.values()) {
    if (!LABEL.test(task.label)) {
      throw task.definer.source.errorAt(task.definer.path, `task label "${task.label}" may hold only letters, digits, "_" and "-"`, { target: "key" });
    }
    const labelTooLong = nameTooLong(task.label);
    if (labelTooLong !== undefined) {
      throw task.definer.source.errorAt(task.definer.path, `task label "${shortened(task.label)}" is too long (${labelTooLong})`, { target: "key", hint: "use a shorter label" });
    }
    if (task.definer.value.task !== undefined && !context.modules.has(task.label)) {
      throw new Error(`internal error: the module of task "${task.label}" was not loaded`);
    }
    resolved.set(
      task.label,
      resolveTask(task, {
        universe,
        parameters,
        overrides: overrides.filter((o) => o.label === task.label),
        module: context.modules.get(task.label),
        hashString: context.hashString,
        digestTool: context.digestTool,
        resolvePath: context.resolvePath,
      }),
    );
  }
  const producers = checkDatasetTypes(merged, resolved, inputs);
  const tasks = orderResolved(merged, resolved, producers);
  const subsets = resolveSubsets(merged);
  const clusters = resolveClusters(merged, subsets, tasks);
  const configSources: Record<string, Readonly<Record<string, ConfigValueSource>>> = {};
  for (const task of tasks) configSources[task.label] = resolved.get(task.label)!.configSources;
  const pipeline: Pipeline = {
    name: context.name,
    file: context.file,
    ...(merged.description !== undefined ? { description: merged.description } : {}),
    parameters,
    dimensions: universe,
    inputs,
    tasks,
    subsets,
    ...(clusters !== undefined ? { clusters } : {}),
  };
  return { pipeline, configSources };
}

function resolveParameters(merged: MergedPipeline, fromFlags: Readonly<Record<string, string>>): Record<string, unknown> {
  const parameters: Record<string, unknown> = {};
  for (const [name, located] of merged.parameters) parameters[name] = located.value;
  for (const [name, text] of Object.entries(fromFlags)) {
    if (!Object.hasOwn(parameters, name)) {
      const names = Object.keys(parameters);
      throw new PipelineError({
        summary: `unknown parameter "${name}"`,
        hint: suggestName(name, names) ?? (names.length === 0 ? "the pipeline declares no parameters" : `parameters: ${names.join(", ")}`),
      });
    }
    parameters[name] = text.trim() === "" ? "" : parseYaml(text);
  }
  return parameters;
}

function resolveInputs(
  merged: MergedPipeline,
  universe: DimensionUniverse,
  parameters: Readonly<Record<string, unknown>>,
  context: ResolveContext,
): InputSpec[] {
  const inputs: InputSpec[] = [];
  const dimensionHint = (dim: string): string | undefined => suggestName(dim, Object.keys(universe)) ?? `declared dimensions: ${Object.keys(universe).join(", ")}`;
  for (const [type, located] of merged.inputs) {
    const { value, source, path } = located;
    const typeTooLong = nameTooLong(type);
    if (typeTooLong !== undefined) throw source.errorAt(path, `input "${shortened(type)}": the name is too long (${typeTooLong})`, { target: "key", hint: "use a shorter name" });
    if (value.storage === undefined && value.relation === undefined) {
      throw source.errorAt(path, `input "${type}" needs "storage" (files of datasets) or "relation" (rows of dimension values)`, { target: "key" });
    }
    if (value.storage !== undefined && value.relation !== undefined) {
      throw source.errorAt([...path, "relation"], `input "${type}" has both "storage" and "relation"`, {
        target: "key",
        hint: "an input is either files of datasets (storage) or a relation file (relation)",
      });
    }
    const substituted = substituteParameters(value.path, parameters);
    if (!substituted.ok) {
      throw source.errorAt([...path, "path"], `unknown parameter "${substituted.name}"`, {
        within: [substituted.index, substituted.length],
        hint: suggestName(substituted.name, Object.keys(parameters)),
      });
    }
    const absolute = context.resolvePath(located.file, String(substituted.value));
    if (value.relation !== undefined) {
      const limit = value.include !== undefined ? "include" : value.exclude !== undefined ? "exclude" : value.transfer !== undefined ? "transfer" : undefined;
      if (limit !== undefined) throw source.errorAt([...path, limit], `relation "${type}" is one file; "${limit}" is for inputs of files`, { target: "key" });
      value.relation.forEach((dim, i) => {
        if (!(dim in universe)) {
          throw source.errorAt([...path, "relation", i], `relation "${type}" has dimension "${dim}", which the pipeline does not declare`, { hint: dimensionHint(dim) });
        }
      });
      inputs.push({ kind: "relation", type, path: absolute, dimensions: [...value.relation] });
      continue;
    }
    const dimensions: string[] = [];
    for (const match of String(substituted.value).matchAll(/\{([^{}]*)\}/g)) {
      const dim = match[1]!;
      if (!(dim in universe)) {
        const at = value.path.indexOf(match[0]);
        throw source.errorAt([...path, "path"], `the path of input "${type}" has field "{${dim}}", which is not a declared dimension`, {
          within: at < 0 ? undefined : [at, match[0].length],
          hint: dimensionHint(dim),
        });
      }
      if (!dimensions.includes(dim)) dimensions.push(dim);
    }
    // What the ingest would refuse is refused here, where the error can point at it.
    const template = parsePathTemplate(String(substituted.value), universe);
    if (!template.ok) throw source.errorAt([...path, "path"], template.message, { hint: "fields are {dimension} names, with text between any two of them" });
    const limits: { include?: string[]; exclude?: string[] } = {};
    for (const field of ["include", "exclude"] as const) {
      const globs = value[field];
      globs?.forEach((glob, i) => {
        const problem = pathGlobProblem(glob);
        if (problem !== undefined) throw source.errorAt([...path, field, i], `the ${field} glob "${glob}" of input "${type}" cannot be used: ${problem}`, { hint: "a set's ranges go from the lower character to the higher, e.g. [1-9]" });
      });
      if (globs !== undefined) limits[field] = globs.map((g) => context.resolvePath(located.file, g));
    }
    const transfer = value.transfer === undefined ? {} : { transfer: value.transfer };
    inputs.push({ kind: "files", type, path: absolute, dimensions, storage: value.storage as StorageClass, prerequisite: value.prerequisite ?? false, ...limits, ...transfer });
  }
  return inputs;
}

function parseOverrides(merged: MergedPipeline, texts: readonly string[]): ConfigOverride[] {
  return texts.map((text) => {
    const parsed = parseConfigOverride(text);
    if (!parsed.ok) throw parsed.error;
    if (!merged.tasks.has(parsed.override.label)) {
      throw new PipelineError({
        summary: `--config ${text}: no task "${parsed.override.label}"`,
        hint: suggestName(parsed.override.label, merged.tasks.keys()) ?? `tasks: ${[...merged.tasks.keys()].join(", ")}`,
      });
    }
    return parsed.override;
  });
}

interface Producer {
  readonly label: string;
  readonly connection: Connection;
}

/** One producer per dataset type; every input is produced or declared; both ends agree on its shape. */
function checkDatasetTypes(merged: MergedPipeline, resolved: ReadonlyMap<string, ResolvedTask>, inputs: readonly InputSpec[]): Map<string, Producer> {
  const declared = new Map(inputs.filter((i) => i.kind === "files").map((i) => [i.type, i]));
  const producers = new Map<string, Producer>();
  const blameOf = (label: string, key: string): ConnectionBlame => resolved.get(label)!.blame.get(key)!;
  for (const { node } of resolved.values()) {
    for (const output of Object.values(node.outputs)) {
      const blame = blameOf(node.label, `outputs.${output.name}`);
      const typeTooLong = nameTooLong(output.type);
      if (typeTooLong !== undefined) {
        throw blame(`task "${node.label}" writes dataset type "${shortened(output.type)}", whose name is too long (${typeTooLong})`, { hint: "use a shorter name" });
      }
      const other = producers.get(output.type);
      if (other !== undefined) {
        throw blame(`dataset type "${output.type}" is produced by both "${other.label}" and "${node.label}"`, {
          hint: `rename one of them, e.g. connections: { ${output.name}: ${output.type}2 } in task "${node.label}"`,
        });
      }
      if (declared.has(output.type) || merged.inputs.has(output.type)) {
        throw blame(`task "${node.label}" writes dataset type "${output.type}", which is declared under inputs:`, {
          hint: "a dataset type comes either from files or from one task",
        });
      }
      producers.set(output.type, { label: node.label, connection: output });
    }
  }
  const known = [...producers.keys(), ...declared.keys()];
  for (const { node } of resolved.values()) {
    for (const input of Object.values(node.inputs)) {
      const blame = blameOf(node.label, `inputs.${input.name}`);
      const producer = producers.get(input.type);
      const file = declared.get(input.type);
      if (producer === undefined && file === undefined) {
        const relation = merged.inputs.get(input.type)?.value.relation !== undefined;
        throw blame(`task "${node.label}" reads dataset type "${input.type}", which no task produces`, {
          hint: relation
            ? `"${input.type}" is a relation, which tasks cannot read`
            : (suggestName(input.type, known) ?? "declare it under inputs: or add a task that writes it"),
        });
      }
      if (producer !== undefined && input.prerequisite) {
        throw blame(`task "${node.label}" reads "${input.type}" as a prerequisite, but task "${producer.label}" produces it`, {
          hint: "a prerequisite must exist before the run; drop `prerequisite` or the producer",
        });
      }
      const storage = producer?.connection.storage ?? file!.storage;
      const dims = producer?.connection.dimensions ?? file!.dimensions;
      if (storage !== input.storage) {
        const writer = producer !== undefined ? `task "${producer.label}" writes it as ${storage}` : `its inputs: entry says ${storage}`;
        throw blame(`task "${node.label}" reads "${input.type}" as ${input.storage}, but ${writer}`, {
          hint: "a dataset type has one storage class",
        });
      }
      // Files may carry implied dimensions (a visit's band in the path), so a reader may name fewer.
      const fits = producer !== undefined ? sameSet(dims, input.dimensions) : input.dimensions.every((d) => dims.includes(d));
      if (!fits) {
        const writer = producer !== undefined ? `task "${producer.label}" writes it with` : "its inputs: path has";
        throw blame(`task "${node.label}" reads "${input.type}" with dimensions (${input.dimensions.join(", ")}), but ${writer} (${dims.join(", ")})`, {
          hint: "a dataset type has one set of dimensions",
        });
      }
    }
  }
  return producers;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function orderResolved(merged: MergedPipeline, resolved: ReadonlyMap<string, ResolvedTask>, producers: ReadonlyMap<string, Producer>): TaskNode[] {
  const links = [...resolved.values()].map(({ node }) => ({
    label: node.label,
    after: Object.values(node.inputs)
      .map((i) => producers.get(i.type)?.label)
      .filter((l): l is string => l !== undefined),
  }));
  const order = orderTasks(links);
  if (!order.ok) {
    const first: MergedTask = merged.tasks.get(order.cycle[0]!)!;
    throw first.definer.source.errorAt(first.definer.path, `tasks form a cycle: ${order.cycle.join(" -> ")}`, {
      target: "key",
      hint: "each task reads a dataset type written by the next; rename one with connections:",
    });
  }
  return order.labels.map((label) => resolved.get(label)!.node);
}

function resolveSubsets(merged: MergedPipeline): Record<string, SubsetDef> {
  const subsets: Record<string, SubsetDef> = {};
  for (const [name, subset] of merged.subsets) {
    const { source, path } = subset.located;
    if (merged.tasks.has(name)) {
      throw source.errorAt(path, `subset "${name}" has the name of a task`, { target: "key", hint: "subsets and tasks share one namespace" });
    }
    const itemsPath = Array.isArray(subset.located.value) ? path : [...path, "tasks"];
    subset.tasks.forEach((label, i) => {
      if (!merged.tasks.has(label)) {
        throw source.errorAt([...itemsPath, i], `subset "${name}" names task "${label}", which the pipeline does not have`, {
          hint: suggestName(label, merged.tasks.keys()) ?? `tasks: ${[...merged.tasks.keys()].join(", ")}`,
        });
      }
    });
    subsets[name] = { tasks: [...subset.tasks], ...(subset.description !== undefined ? { description: subset.description } : {}) };
  }
  return subsets;
}

/**
 * The `clusters:` section: each names tasks (labels or subsets) and dimensions every one of them has;
 * a task is in one cluster at most.
 */
function resolveClusters(merged: MergedPipeline, subsets: Readonly<Record<string, SubsetDef>>, tasks: readonly TaskNode[]): Record<string, ClusterDef> | undefined {
  if (merged.clusters.size === 0) return undefined;
  const byLabel = new Map(tasks.map((t) => [t.label, t]));
  const clusterOf = new Map<string, string>();
  const clusters: Record<string, ClusterDef> = {};
  for (const [name, { value, source, path }] of merged.clusters) {
    if (!LABEL.test(name)) throw source.errorAt(path, `cluster name "${name}" may hold only letters, digits, "_" and "-"`, { target: "key" });
    const labels: string[] = [];
    value.tasks.forEach((item, i) => {
      const members = subsets[item]?.tasks ?? (byLabel.has(item) ? [item] : undefined);
      if (members === undefined) {
        throw source.errorAt([...path, "tasks", i], `cluster "${name}" names "${item}", which is neither a task nor a subset of the pipeline`, {
          hint: suggestName(item, [...byLabel.keys(), ...Object.keys(subsets)]) ?? `tasks: ${[...byLabel.keys()].join(", ")}`,
        });
      }
      for (const label of members) {
        const other = clusterOf.get(label);
        if (other !== undefined && other !== name) {
          throw source.errorAt([...path, "tasks", i], `task "${label}" is in both cluster "${other}" and cluster "${name}"`, { hint: "a task's quanta can share jobs in one cluster only" });
        }
        clusterOf.set(label, name);
        if (!labels.includes(label)) labels.push(label);
      }
    });
    if (value.by.length === 0) throw source.errorAt([...path, "by"], `cluster "${name}" groups by no dimension`, { hint: "by: [visit] puts the quanta of one visit in one job" });
    value.by.forEach((dim, i) => {
      for (const label of labels) {
        const task = byLabel.get(label)!;
        if (!task.dimensions.includes(dim)) {
          throw source.errorAt([...path, "by", i], `cluster "${name}" groups by "${dim}", which task "${label}" does not have (its dimensions: ${task.dimensions.join(", ") || "none"})`, {
            hint: "group by dimensions every task of the cluster has, or leave the task out",
          });
        }
      }
    });
    clusters[name] = { tasks: labels, by: [...value.by], ...(value.size !== undefined ? { size: value.size } : {}) };
  }
  return clusters;
}
