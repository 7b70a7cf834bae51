/**
 * Merges a pipeline file with the files it imports, recursively, into one set of located entries
 * (every value remembers its file and YAML path, for errors). Rules:
 * - an import may keep only some tasks (`include`) or leave some out (`exclude`), by label or subset;
 * - the importing file's settings win: its dimensions, inputs, parameters and subsets replace imported
 *   ones of the same name, and its entry for an imported task label overrides that task (config is
 *   merged key by key; `connections` name by name; `task`/`command`, `dimensions`, `inputs`, `outputs`,
 *   `timeout`, `resources` replace, each on its own);
 * - the same task label from two imports is an error (exclude it from one of them).
 * Task file order: imported tasks in import order, then the file's own new labels.
 */
import { suggestName } from "./suggest-name.js";
import type { ParsedPipelineFile } from "./parse-pipeline-file.js";
import { PipelineError } from "./pipeline-error.js";
import type { PipelineFileCluster, PipelineFileInput, PipelineFileTask } from "./pipeline-schema.js";
import type { YamlPath, YamlSource } from "./yaml-source.js";

/** A pipeline file and the files it imports, loaded (the app reads them; the core merges them). */
export interface PipelineFileTree {
  /** Absolute path: relative paths in the file are resolved against its directory. */
  readonly path: string;
  readonly parsed: ParsedPipelineFile;
  /** One tree per entry of `imports:`, in order. */
  readonly imports: readonly PipelineFileTree[];
}

/** Where a merged value comes from: the root file (`pipeline`) or an imported file. */
export type ConfigOrigin = "pipeline" | `import:${string}`;

export interface Located<T> {
  readonly value: T;
  readonly source: YamlSource;
  readonly path: YamlPath;
  /** Absolute path of the declaring file. */
  readonly file: string;
  readonly origin: ConfigOrigin;
}

export interface MergedTask {
  readonly label: string;
  /** Every entry for this label, lowest precedence first. */
  readonly entries: readonly Located<PipelineFileTask>[];
  /** The highest entry that says `task:` or `command:`: it defines what the task is. */
  readonly definer: Located<PipelineFileTask>;
}

export interface MergedSubset {
  readonly tasks: readonly string[];
  readonly description?: string;
  readonly located: Located<unknown>;
}

export interface MergedPipeline {
  readonly description?: string;
  readonly dimensions: ReadonlyMap<string, Located<string>>;
  readonly inputs: ReadonlyMap<string, Located<PipelineFileInput>>;
  readonly parameters: ReadonlyMap<string, Located<unknown>>;
  /** In file order (see the module comment). */
  readonly tasks: ReadonlyMap<string, MergedTask>;
  readonly subsets: ReadonlyMap<string, MergedSubset>;
  readonly clusters: ReadonlyMap<string, Located<PipelineFileCluster>>;
}

export type MergeResult = { ok: true; merged: MergedPipeline } | { ok: false; error: PipelineError };

interface Draft {
  description?: string;
  dimensions: Map<string, Located<string>>;
  inputs: Map<string, Located<PipelineFileInput>>;
  parameters: Map<string, Located<unknown>>;
  tasks: Map<string, Located<PipelineFileTask>[]>;
  subsets: Map<string, MergedSubset>;
  clusters: Map<string, Located<PipelineFileCluster>>;
}

/** Merges `tree`; its root's values have origin `pipeline`, others `import:<file as shown>`. */
export function mergePipelineFiles(tree: PipelineFileTree): MergeResult {
  try {
    const draft = mergeTree(tree, true);
    const tasks = new Map<string, MergedTask>();
    for (const [label, entries] of draft.tasks) tasks.set(label, { label, entries, definer: findDefiner(label, entries) });
    return {
      ok: true,
      merged: {
        description: draft.description,
        dimensions: draft.dimensions,
        inputs: draft.inputs,
        parameters: draft.parameters,
        tasks,
        subsets: draft.subsets,
        clusters: draft.clusters,
      },
    };
  } catch (err) {
    if (err instanceof PipelineError) return { ok: false, error: err };
    throw err;
  }
}

function findDefiner(label: string, entries: readonly Located<PipelineFileTask>[]): Located<PipelineFileTask> {
  for (const entry of entries) {
    if (entry.value.task !== undefined && entry.value.command !== undefined) {
      throw entry.source.errorAt([...entry.path, "command"], `task "${label}" has both "task:" and "command:"`, {
        target: "key",
        hint: "a task is either a module (task:) or a shell command (command:)",
      });
    }
  }
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i]!;
    if (entry.value.task !== undefined || entry.value.command !== undefined) return entry;
  }
  const first = entries[0]!;
  throw first.source.errorAt(first.path, `task "${label}" has neither "task:" nor "command:"`, {
    target: "key",
    hint: 'name a task module (task: ./tasks/x.ts) or a shell command (command: "…")',
  });
}

function mergeTree(tree: PipelineFileTree, isRoot: boolean): Draft {
  const { source, data } = tree.parsed;
  const origin: ConfigOrigin = isRoot ? "pipeline" : `import:${source.file}`;
  const locate = <T>(value: T, path: YamlPath): Located<T> => ({ value, source, path, file: tree.path, origin });
  const draft: Draft = {
    dimensions: new Map(),
    inputs: new Map(),
    parameters: new Map(),
    tasks: new Map(),
    subsets: new Map(),
    clusters: new Map(),
  };
  const importedFrom = new Map<string, number>();
  (data.imports ?? []).forEach((spec, index) => {
    const imported = filterImport(mergeTree(tree.imports[index]!, false), tree, index);
    for (const [name, dim] of imported.dimensions) {
      const before = draft.dimensions.get(name);
      if (before !== undefined && before.value !== dim.value && data.dimensions?.[name] === undefined) {
        throw source.errorAt(["imports", index, "location"], `dimension "${name}" is ${before.value} in ${before.source.file} but ${dim.value} in ${dim.source.file}`, {
          hint: `declare "${name}" in ${source.file} to settle it`,
        });
      }
      draft.dimensions.set(name, dim);
    }
    for (const [name, input] of imported.inputs) draft.inputs.set(name, input);
    for (const [name, parameter] of imported.parameters) draft.parameters.set(name, parameter);
    for (const [name, subset] of imported.subsets) draft.subsets.set(name, subset);
    for (const [name, cluster] of imported.clusters) draft.clusters.set(name, cluster);
    for (const [label, entries] of imported.tasks) {
      const other = importedFrom.get(label);
      if (other !== undefined) {
        const otherFile = (data.imports ?? [])[other]!.location;
        throw source.errorAt(["imports", index, "location"], `task "${label}" is imported from both ${JSON.stringify(otherFile)} and ${JSON.stringify(spec.location)}`, {
          hint: `exclude "${label}" from one of the imports`,
        });
      }
      importedFrom.set(label, index);
      draft.tasks.set(label, [...entries]);
    }
    draft.description ??= imported.description;
  });
  if (data.description !== undefined) draft.description = data.description;
  for (const [name, type] of Object.entries(data.dimensions ?? {})) draft.dimensions.set(name, locate(type, ["dimensions", name]));
  for (const [name, input] of Object.entries(data.inputs ?? {})) draft.inputs.set(name, locate(input, ["inputs", name]));
  for (const [name, value] of Object.entries(data.parameters ?? {})) draft.parameters.set(name, locate(value, ["parameters", name]));
  for (const [label, task] of Object.entries(data.tasks ?? {})) {
    const entries = draft.tasks.get(label) ?? [];
    entries.push(locate(task, ["tasks", label]));
    draft.tasks.set(label, entries);
  }
  for (const [name, subset] of Object.entries(data.subsets ?? {})) {
    const tasks = Array.isArray(subset) ? subset : subset.tasks;
    const description = Array.isArray(subset) ? undefined : subset.description;
    draft.subsets.set(name, { tasks, description, located: locate(subset, ["subsets", name]) });
  }
  for (const [name, cluster] of Object.entries(data.clusters ?? {})) draft.clusters.set(name, locate(cluster, ["clusters", name]));
  return draft;
}

/** Applies an import's `include`/`exclude` (labels or subset names) to what it brings in. */
function filterImport(imported: Draft, tree: PipelineFileTree, index: number): Draft {
  const { source, data } = tree.parsed;
  const spec = (data.imports ?? [])[index]!;
  const expand = (names: readonly string[], field: "include" | "exclude"): Set<string> => {
    const labels = new Set<string>();
    names.forEach((name, i) => {
      const subset = imported.subsets.get(name);
      if (subset !== undefined) for (const label of subset.tasks) labels.add(label);
      else if (imported.tasks.has(name)) labels.add(name);
      else {
        throw source.errorAt(["imports", index, field, i], `${JSON.stringify(spec.location)} has no task or subset "${name}"`, {
          hint: suggestName(name, [...imported.tasks.keys(), ...imported.subsets.keys()]),
        });
      }
    });
    return labels;
  };
  if (spec.include === undefined && spec.exclude === undefined) return imported;
  const included = spec.include === undefined ? new Set(imported.tasks.keys()) : expand(spec.include, "include");
  const excluded = spec.exclude === undefined ? new Set<string>() : expand(spec.exclude, "exclude");
  const keep = (label: string): boolean => included.has(label) && !excluded.has(label);
  const tasks = new Map([...imported.tasks].filter(([label]) => keep(label)));
  const subsets = new Map<string, MergedSubset>();
  for (const [name, subset] of imported.subsets) {
    const kept = subset.tasks.filter(keep);
    if (kept.length > 0) subsets.set(name, { ...subset, tasks: kept });
  }
  const clusters = new Map<string, Located<PipelineFileCluster>>();
  for (const [name, cluster] of imported.clusters) {
    const kept = cluster.value.tasks.filter(keep);
    if (kept.length > 0) clusters.set(name, { ...cluster, value: { ...cluster.value, tasks: kept } });
  }
  return { ...imported, tasks, subsets, clusters };
}
