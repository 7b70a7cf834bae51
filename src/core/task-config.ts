/**
 * A task's effective config and where each value came from. Layers, lowest precedence first: the
 * task's defaults (from its zod schema), imported pipelines (deepest first), this pipeline, then
 * `--config` flags in the order given. Mappings merge key by key; anything else (lists included) is
 * replaced whole. `${name}` parameters are substituted in file layers before merging.
 *
 * Throws PipelineError pointing at the layer responsible for a problem (resolvePipeline turns it into
 * a result).
 */
import { describeIssue, type SchemaIssue } from "./describe-issue.js";
import { findConfigValue } from "./find-config-value.js";
import { suggestName } from "./suggest-name.js";
import type { ConfigOrigin, Located } from "./merge-pipeline-files.js";
import type { ConfigOverride } from "./parse-config-override.js";
import { PipelineError } from "./pipeline-error.js";
import { listSchemaKeys } from "./schema-keys.js";
import { substituteParameters } from "./substitute-parameters.js";
import type { TaskDefinition } from "./task-definition.js";
import { validateTaskConfig } from "./define-task.js";
import type { ErrorAtOptions, YamlPath } from "./yaml-source.js";

export type ConfigSource = "default" | ConfigOrigin | "command line";

export interface ConfigValueSource {
  readonly value: unknown;
  readonly source: ConfigSource;
}

export interface TaskConfigRequest {
  readonly label: string;
  /** The `config:` mappings of the task's entries, lowest precedence first. */
  readonly layers: readonly Located<Record<string, unknown>>[];
  /** This task's `--config` flags, in order. */
  readonly overrides: readonly ConfigOverride[];
  readonly parameters: Readonly<Record<string, unknown>>;
  /** `command` tasks take any config; module tasks take what their schema accepts (none without one). */
  readonly kind: "module" | "command";
  readonly schema?: TaskDefinition["config"];
  /** Where to point when no layer is to blame (the task's `task:` value). */
  readonly anchor: Located<unknown>;
}

export interface ResolvedConfig {
  readonly config: unknown;
  /** By dotted key of every leaf of the effective config. */
  readonly sources: Readonly<Record<string, ConfigValueSource>>;
}

interface Layer {
  readonly origin: ConfigSource;
  readonly value: Record<string, unknown>;
  /** An error about `path` (relative to the config) in this layer. */
  errorAt(path: YamlPath, summary: string, options?: ErrorAtOptions): PipelineError;
}

export function resolveTaskConfig(request: TaskConfigRequest): ResolvedConfig {
  const layers = [...request.layers.map((l) => fileLayer(l, request.parameters)), ...request.overrides.map(overrideLayer)];
  const merged: Record<string, unknown> = {};
  for (const layer of layers) mergeInto(merged, layer.value);
  const nameOf = (path: YamlPath): string =>
    path.length === 0 ? `the config of task "${request.label}"` : `config key "${path.join(".")}" of task "${request.label}"`;

  let config: unknown = merged;
  if (request.kind === "command") checkCommandOverrides(request, layers);
  if (request.kind === "module") {
    if (request.schema === undefined) {
      const culprit = [...layers].reverse().find((l) => Object.keys(l.value).length > 0);
      if (culprit !== undefined) {
        const key = Object.keys(culprit.value)[0]!;
        throw culprit.errorAt([key], `task "${request.label}" takes no config, found key "${key}"`, {
          target: "key",
          hint: "its module declares no config schema",
        });
      }
      config = {};
    } else {
      for (const layer of layers) checkKeys(request, layer, layer.value, []);
      config = validate(request, layers, merged, nameOf);
    }
  }
  const sources: Record<string, ConfigValueSource> = {};
  for (const [path, value] of listLeaves(config, [])) {
    const layer = findSetter(layers, path);
    sources[path.join(".")] = { value, source: layer?.origin ?? "default" };
  }
  return { config, sources };
}

function fileLayer(located: Located<Record<string, unknown>>, parameters: Readonly<Record<string, unknown>>): Layer {
  const errorAt = (path: YamlPath, summary: string, options?: ErrorAtOptions): PipelineError =>
    located.source.errorAt([...located.path, ...path], summary, options);
  const substituted = substituteParameters(located.value, parameters);
  if (!substituted.ok) {
    throw errorAt(substituted.path, `unknown parameter "${substituted.name}"`, {
      within: [substituted.index, substituted.length],
      hint: suggestName(substituted.name, Object.keys(parameters)) ?? declaredParameters(parameters),
    });
  }
  return { origin: located.origin, value: substituted.value as Record<string, unknown>, errorAt };
}

function declaredParameters(parameters: Readonly<Record<string, unknown>>): string {
  const names = Object.keys(parameters);
  return names.length === 0 ? "the pipeline declares no parameters" : `parameters: ${names.join(", ")}`;
}

function overrideLayer(override: ConfigOverride): Layer {
  let value: unknown = override.value;
  for (let i = override.key.length - 1; i >= 0; i--) value = { [override.key[i]!]: value };
  return {
    origin: "command line",
    value: value as Record<string, unknown>,
    errorAt: (_path, summary, options) => new PipelineError({ summary: `--config ${override.text}: ${summary}`, hint: options?.hint }),
  };
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function mergeInto(target: Record<string, unknown>, layer: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(layer)) {
    const before = target[key];
    if (isMapping(before) && isMapping(value)) mergeInto(before, value);
    else target[key] = isMapping(value) ? structuredClone(value) : value;
  }
}

/**
 * A command task's config keys are those its pipeline files declare: a `--config` flag naming another
 * key is refused (its value would reach no template field, and a typo would go unnoticed).
 */
function checkCommandOverrides(request: TaskConfigRequest, layers: readonly Layer[]): void {
  const declared: Record<string, unknown> = {};
  for (const layer of layers.filter((l) => l.origin !== "command line")) mergeInto(declared, layer.value);
  request.overrides.forEach((override, i) => {
    const found = findConfigValue(declared, override.key);
    if (found.ok) return;
    const key = override.key.slice(0, found.depth + 1).join(".");
    const keys = Object.keys(declared);
    const hint =
      found.nearest !== undefined
        ? `did you mean "${found.nearest}"?`
        : keys.length > 0
          ? `its config keys: ${keys.join(", ")}`
          : `task "${request.label}" declares no config; a command task takes the keys its config: declares`;
    throw layers[request.layers.length + i]!.errorAt([], `task "${request.label}" has no config key "${key}"`, { hint });
  });
}

/** Unknown keys are rejected even when the task's schema would silently strip them. */
function checkKeys(request: TaskConfigRequest, layer: Layer, value: unknown, path: string[]): void {
  if (!isMapping(value)) return;
  const known = listSchemaKeys(request.schema, path);
  for (const [key, item] of Object.entries(value)) {
    if (known !== undefined && !known.open && !known.keys.includes(key)) {
      throw layer.errorAt([...path, key], `task "${request.label}" has no config key "${[...path, key].join(".")}"`, {
        target: "key",
        hint: suggestName(key, known.keys) ?? (known.keys.length > 0 ? `expected one of: ${known.keys.join(", ")}` : undefined),
      });
    }
    checkKeys(request, layer, item, [...path, key]);
  }
}

/**
 * Acceptance is decided by validateTaskConfig (the same check the engine makes before `run`); the
 * words come from the schema's own issues where there are some, mapped to the layer to blame.
 */
function validate(request: TaskConfigRequest, layers: readonly Layer[], merged: Record<string, unknown>, nameOf: (p: YamlPath) => string): unknown {
  const validation = validateTaskConfig({ config: request.schema }, merged);
  if (validation.ok) return validation.config;
  const blame = (path: readonly string[], summary: string, options: ErrorAtOptions): PipelineError => {
    const layer = findSetter(layers, path) ?? (options.target === "key" ? findSetter(layers, path.slice(0, -1)) : undefined);
    if (layer !== undefined) return layer.errorAt(path, summary, options);
    return request.anchor.source.errorAt(request.anchor.path, summary, options);
  };
  const result = request.schema!.safeParse(merged);
  const first = ((result.error as { issues?: SchemaIssue[] } | undefined)?.issues ?? [])[0];
  if (result.success || first === undefined) {
    const issue = validation.issues[0]!;
    throw blame(issue.path.map(String), `task "${request.label}": ${issue.message}`, { hint: issue.hint, target: "key" });
  }
  const [described] = describeIssue(first, {
    root: merged,
    nameOf,
    keysAt: (path) => listSchemaKeys(request.schema, path)?.keys,
  });
  if (described === undefined) throw new Error(`internal error: no description for config issue ${first.code}`);
  throw blame(described.path.map(String), described.summary, { hint: described.hint, target: described.target });
}

/** The highest layer that sets a value at exactly `path`. */
function findSetter(layers: readonly Layer[], path: readonly string[]): Layer | undefined {
  for (let i = layers.length - 1; i >= 0; i--) {
    let value: unknown = layers[i]!.value;
    let found = true;
    for (const key of path) {
      if (!isMapping(value) || !Object.hasOwn(value, key)) {
        found = false;
        break;
      }
      value = value[key];
    }
    if (found) return layers[i];
  }
  return undefined;
}

function listLeaves(value: unknown, path: string[]): [string[], unknown][] {
  if (isMapping(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([key, item]) => listLeaves(item, [...path, key]));
  }
  return path.length === 0 ? [] : [[path, value]];
}
