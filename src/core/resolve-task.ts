/**
 * One merged task entry set becomes a TaskNode: its connections (from the module's definition or the
 * command task's declaration, after `connections` renames), its dimensions (checked against the
 * pipeline's), its timeout, resources, code digest and effective config.
 *
 * Throws PipelineError (resolvePipeline turns it into a result). Also returns, for each connection,
 * where to point when a later check (producers, consumers) finds a problem with it.
 */
import { canonicalJson } from "./canonical-json.js";
import { parseCommandTemplate } from "./command-template.js";
import type { CodeDigest } from "./digest.js";
import { findConfigValue } from "./find-config-value.js";
import type { DimensionUniverse } from "./dimensions.js";
import { nameTooLong, shortened } from "./name-bounds.js";
import { checkSandboxName, namesEveryDimension } from "./sandbox-name.js";
import { suggestName } from "./suggest-name.js";
import type { Located, MergedTask } from "./merge-pipeline-files.js";
import type { ConfigOverride } from "./parse-config-override.js";
import type { PipelineError } from "./pipeline-error.js";
import type { Connection, TaskNode } from "./pipeline.js";
import type { PipelineFileConnection, PipelineFileTask } from "./pipeline-schema.js";
import { STORAGE_CLASSES, type StorageClass } from "./storage-class.js";
import { resolveTaskConfig, type ConfigValueSource } from "./task-config.js";
import type { ConnectionSpec, TaskDefinition } from "./task-definition.js";
import type { ErrorAtOptions, YamlPath } from "./yaml-source.js";
import { resolveKeyExtras, type DigestTool } from "./resolve-key-extras.js";

/** What the app loaded for a module task. */
export interface TaskModuleInfo {
  /** Absolute path of the module. */
  readonly modulePath: string;
  readonly definition: TaskDefinition;
  readonly codeDigest: CodeDigest;
}

export interface TaskResolveContext {
  readonly universe: DimensionUniverse;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly overrides: readonly ConfigOverride[];
  /** For module tasks. */
  readonly module?: TaskModuleInfo;
  readonly hashString: (text: string) => string;
  /** For tasks with `tools:`. */
  readonly digestTool?: DigestTool;
  /** A path of a pipeline file made absolute (a command task's `path:` folders); kept as given without it. */
  readonly resolvePath?: (fromFile: string, relative: string) => string;
}

/** Points at a connection's dataset type in the pipeline file (or at the task's module). */
export type ConnectionBlame = (summary: string, options?: ErrorAtOptions) => PipelineError;

export interface ResolvedTask {
  readonly node: TaskNode;
  readonly configSources: Readonly<Record<string, ConfigValueSource>>;
  /** By `inputs.<name>` / `outputs.<name>`. */
  readonly blame: ReadonlyMap<string, ConnectionBlame>;
}

const COMMAND_ONLY = ["dimensions", "inputs", "outputs"] as const;

export function resolveTask(task: MergedTask, context: TaskResolveContext): ResolvedTask {
  const { definer, label } = { definer: task.definer, label: task.label };
  const kind = definer.value.command !== undefined ? "command" : "module";
  const at = (entry: Located<unknown>, path: YamlPath, summary: string, options?: ErrorAtOptions): PipelineError =>
    entry.source.errorAt([...entry.path, ...path], summary, options);

  let dimensions: readonly string[];
  let specs: { inputs: Record<string, ConnectionSpec>; outputs: Record<string, ConnectionSpec> };
  const blame = new Map<string, ConnectionBlame>();
  if (kind === "module") {
    for (const entry of task.entries) {
      for (const field of COMMAND_ONLY) {
        if (entry.value[field] !== undefined) {
          throw at(entry, [field], `"${field}" is for command tasks; task "${label}" is a module and declares its own`, {
            target: "key",
            hint: "rename a connection's dataset type with connections: { name: newType }",
          });
        }
      }
    }
    const definition = context.module!.definition;
    const where = `task "${label}" (${definer.value.task})`;
    const blameModule: ConnectionBlame = (summary, options) => at(definer, ["task"], summary, options);
    dimensions = definition.dimensions;
    checkDimensions(dimensions, context.universe, (dim, hint) => blameModule(`${where} has dimension "${dim}", which the pipeline does not declare`, { hint }));
    specs = { inputs: { ...definition.inputs }, outputs: { ...definition.outputs } };
    for (const direction of ["inputs", "outputs"] as const) {
      for (const [name, spec] of Object.entries(specs[direction])) {
        blame.set(`${direction}.${name}`, blameModule);
        checkDimensions(spec.dimensions, context.universe, (dim, hint) =>
          blameModule(`${where}: connection "${name}" has dimension "${dim}", which the pipeline does not declare`, { hint }),
        );
        if (!STORAGE_CLASSES.includes(spec.storage)) {
          throw blameModule(`${where}: connection "${name}" has unknown storage class "${spec.storage}"`, {
            hint: suggestName(spec.storage, STORAGE_CLASSES) ?? `storage classes: ${STORAGE_CLASSES.join(", ")}`,
          });
        }
      }
    }
  } else {
    // An importing file may replace only the command: the other fields come from the latest entry that has them.
    const declaring = (field: "dimensions" | "inputs" | "outputs"): Located<PipelineFileTask> =>
      [...task.entries].reverse().find((e) => e.value[field] !== undefined) ?? definer;
    const dimsEntry = declaring("dimensions");
    if (dimsEntry.value.dimensions === undefined) {
      throw at(definer, ["command"], `command task "${label}" needs "dimensions"`, { target: "key", hint: "its quantum dimensions, e.g. dimensions: [visit]" });
    }
    dimensions = dimsEntry.value.dimensions;
    dimensions.forEach((dim, i) => {
      if (!(dim in context.universe)) {
        throw at(dimsEntry, ["dimensions", i], `task "${label}" has dimension "${dim}", which the pipeline does not declare`, {
          hint: dimensionHint(dim, context.universe),
        });
      }
    });
    specs = { inputs: {}, outputs: {} };
    for (const direction of ["inputs", "outputs"] as const) {
      const entry = declaring(direction);
      for (const [name, spec] of Object.entries(entry.value[direction] ?? {})) {
        const nameTooLongBy = nameTooLong(name);
        if (nameTooLongBy !== undefined) {
          throw at(entry, [direction, name], `connection "${shortened(name)}" of task "${label}": the name is too long (${nameTooLongBy})`, { target: "key", hint: "use a shorter name" });
        }
        specs[direction][name] = commandConnection(spec);
        blame.set(`${direction}.${name}`, (summary, options) => at(entry, [direction, name, "type"], summary, options));
        spec.dimensions.forEach((dim, i) => {
          if (!(dim in context.universe)) {
            throw at(entry, [direction, name, "dimensions", i], `connection "${name}" of task "${label}" has dimension "${dim}", which the pipeline does not declare`, {
              hint: dimensionHint(dim, context.universe),
            });
          }
        });
        if (spec.temp === true && direction === "inputs") {
          throw at(entry, [direction, name, "temp"], `input "${name}" of task "${label}" is marked temp, which only outputs can be`, {
            target: "key",
            hint: `mark the output that writes ${spec.type} temp: true, in the task that produces it`,
          });
        }
        if (spec.name !== undefined) checkConnectionName(spec, { label, name, dimensions, blame: (summary, hint) => at(entry, [direction, name, "name"], summary, { hint }) });
      }
    }
  }
  const renames = applyRenames(task, specs, blame);
  const config = resolveTaskConfig({
    label,
    layers: task.entries
      .filter((e) => e.value.config !== undefined)
      .map((e) => ({ ...e, value: e.value.config!, path: [...e.path, "config"] })),
    overrides: context.overrides,
    parameters: context.parameters,
    kind,
    schema: kind === "module" ? context.module!.definition.config : undefined,
    anchor: { ...definer, path: [...definer.path, kind === "module" ? "task" : "command"] },
  });
  const limits = resolveLimits(task);
  const resources = [...new Set(["cpus", ...Object.keys(limits.resources ?? {})])];
  if (kind === "command") checkTemplateFields(task, { ...specs, dimensions, config: config.config, resources });
  const extras = kind === "command" ? { ...resolveCommandExtras(task, specs.inputs), ...resolveEnvironment(task, context) } : {};
  const node: TaskNode = {
    label,
    kind,
    ...(kind === "module" ? { modulePath: context.module!.modulePath } : { command: definer.value.command! }),
    dimensions: [...dimensions],
    inputs: toConnections(specs.inputs, renames),
    outputs: toConnections(specs.outputs, renames),
    config: config.config,
    codeDigest: kind === "module" ? context.module!.codeDigest : (context.hashString(commandIdentity(definer.value.command!, extras)) as CodeDigest),
    ...limits,
    ...extras,
    ...resolveKeyExtras(task, context.digestTool),
  };
  return { node, configSources: config.sources, blame };
}

/** What a command task declares besides its template and connections (each from the latest entry that has it). */
interface CommandExtras {
  depfile?: string;
  env?: Record<string, string>;
  path?: string[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A command task's `env:` (later entries adding to and replacing earlier ones) and `path:` (the latest). */
function resolveEnvironment(task: MergedTask, context: TaskResolveContext): CommandExtras {
  const out: CommandExtras = {};
  for (const entry of task.entries) {
    for (const [name, value] of Object.entries(entry.value.env ?? {})) {
      if (!ENV_NAME.test(name) || name === "PATH" || name === "PWD") {
        throw entry.source.errorAt([...entry.path, "env", name], `task "${task.label}": "${name}" cannot be set by env:`, {
          target: "key",
          hint: name === "PATH" ? "add folders to PATH with path: [./tools/bin]" : name === "PWD" ? "the command's PWD is its sandbox" : "a variable name is letters, digits and _, not starting with a digit",
        });
      }
      (out.env ??= {})[name] = String(value);
    }
    if (entry.value.path !== undefined) out.path = entry.value.path.map((p) => context.resolvePath?.(entry.file, p) ?? p);
  }
  return out;
}

function resolveCommandExtras(task: MergedTask, inputs: Readonly<Record<string, ConnectionSpec>>): CommandExtras {
  const extras: CommandExtras = {};
  const entry = [...task.entries].reverse().find((e) => e.value.depfile !== undefined);
  const discovered = Object.entries(inputs).filter(([, spec]) => spec.discovered === true).map(([name]) => name);
  if (entry !== undefined) {
    const depfile = entry.value.depfile!;
    const blame = (summary: string, hint: string) => entry.source.errorAt([...entry.path, "depfile"], `task "${task.label}": ${summary}`, { hint });
    const problem = checkSandboxName(depfile, []);
    if (problem !== undefined) throw blame(`the depfile "${depfile}" ${problem.problem}`, problem.hint);
    if (discovered.length === 0) throw blame(`a depfile names inputs, but no input connection is marked "discovered: true"`, "mark the gathered headers' connection discovered: true");
    extras.depfile = depfile;
  } else if (discovered.length > 0) {
    const entryOf = [...task.entries].reverse().find((e) => e.value.inputs?.[discovered[0]!] !== undefined) ?? task.definer;
    throw entryOf.source.errorAt([...entryOf.path, "inputs", discovered[0]!, "discovered"], `input "${discovered[0]}" of task "${task.label}" is discovered, but the task has no depfile`, {
      hint: 'declare the file the command writes, e.g. depfile: deps.d with "gcc -MD -MF deps.d"',
    });
  }
  return extras;
}

/** What a command task's code digest hashes: its template alone, unless it declares more that shapes its outputs. */
function commandIdentity(command: string, extras: CommandExtras): string {
  return Object.keys(extras).length === 0 ? command : canonicalJson({ command, ...extras });
}

function commandConnection(spec: PipelineFileConnection): ConnectionSpec {
  return {
    type: spec.type,
    dimensions: spec.dimensions,
    storage: spec.storage as StorageClass,
    multiple: spec.multiple,
    minimum: spec.minimum,
    prerequisite: spec.prerequisite,
    ...(spec.name !== undefined ? { sandboxName: spec.name } : {}),
    ...(spec.executable !== undefined ? { executable: spec.executable } : {}),
    ...(spec.discovered !== undefined ? { discovered: spec.discovered } : {}),
    ...(spec.temp === true ? { temp: true } : {}),
  };
}

/** A command connection's `name:` is a path inside the sandbox; a gathered input's names one file per dataset. */
function checkConnectionName(
  spec: PipelineFileConnection,
  where: { label: string; name: string; dimensions: readonly string[]; blame: (summary: string, hint: string) => PipelineError },
): void {
  const fileName = spec.name!;
  const what = `the name "${fileName}" of connection "${where.name}" of task "${where.label}"`;
  const problem = checkSandboxName(fileName, spec.dimensions);
  if (problem !== undefined) throw where.blame(`${what} ${problem.problem}`, problem.hint);
  const gathered = spec.dimensions.filter((d) => !where.dimensions.includes(d));
  if (spec.multiple === true && !namesEveryDimension(fileName, gathered)) {
    throw where.blame(`${what} gives every dataset it gathers the same file`, `name each one by its own data ID, e.g. "${gathered.map((d) => `{${d}}`).join("-")}${fileName.replace(/^.*?(\.[^./]*)?$/, "$1")}"`);
  }
}

function dimensionHint(dim: string, universe: DimensionUniverse): string {
  const names = Object.keys(universe);
  return suggestName(dim, names) ?? (names.length === 0 ? "declare it under dimensions:" : `declared dimensions: ${names.join(", ")}`);
}

function checkDimensions(dims: readonly string[], universe: DimensionUniverse, fail: (dim: string, hint: string) => PipelineError): void {
  for (const dim of dims) if (!(dim in universe)) throw fail(dim, dimensionHint(dim, universe));
}

/** `connections:` of every entry, later entries winning; a name must be one of the task's connections. */
function applyRenames(
  task: MergedTask,
  specs: { inputs: Record<string, ConnectionSpec>; outputs: Record<string, ConnectionSpec> },
  blame: Map<string, ConnectionBlame>,
): Map<string, string> {
  const renames = new Map<string, string>();
  const names = [...Object.keys(specs.inputs), ...Object.keys(specs.outputs)];
  for (const entry of task.entries) {
    for (const [name, type] of Object.entries(entry.value.connections ?? {})) {
      const path = [...entry.path, "connections", name];
      if (!names.includes(name)) {
        throw entry.source.errorAt(path, `task "${task.label}" has no connection "${name}"`, {
          target: "key",
          hint: suggestName(name, names) ?? `its connections: ${names.join(", ")}`,
        });
      }
      renames.set(name, type);
      const direction = name in specs.inputs ? "inputs" : "outputs";
      blame.set(`${direction}.${name}`, (summary, options) => entry.source.errorAt(path, summary, options));
    }
  }
  return renames;
}

function toConnections(specs: Record<string, ConnectionSpec>, renames: ReadonlyMap<string, string>): Record<string, Connection> {
  const out: Record<string, Connection> = {};
  for (const [name, spec] of Object.entries(specs)) {
    out[name] = {
      name,
      type: renames.get(name) ?? spec.type,
      dimensions: [...spec.dimensions],
      storage: spec.storage,
      multiple: spec.multiple ?? false,
      minimum: spec.minimum ?? 1,
      prerequisite: spec.prerequisite ?? false,
      ...(spec.sandboxName !== undefined ? { sandboxName: spec.sandboxName } : {}),
      ...(spec.executable === true ? { executable: true } : {}),
      ...(spec.discovered === true ? { discovered: true } : {}),
      ...(spec.temp === true ? { temp: true } : {}),
    };
  }
  return out;
}

/**
 * The command template follows the grammar (command-template.ts), and each field names a connection,
 * a quantum dimension or a key of the task's effective config.
 */
function checkTemplateFields(
  task: MergedTask,
  known: { inputs: Record<string, ConnectionSpec>; outputs: Record<string, ConnectionSpec>; dimensions: readonly string[]; config: unknown; resources: readonly string[] },
): void {
  const command = task.definer.value.command!;
  const blame = (index: number, length: number, summary: string, hint: string | undefined): PipelineError =>
    task.definer.source.errorAt([...task.definer.path, "command"], summary, { within: [index, length], hint });
  const parsed = parseCommandTemplate(command);
  if (!parsed.ok) {
    const { index, length, message, hint } = parsed.problem;
    throw blame(index, length, `the command of task "${task.label}": ${message}`, hint);
  }
  for (const part of parsed.parts) {
    if (part.kind !== "field") continue;
    const { scope, name, text, index } = part.field;
    const uses = `the command of task "${task.label}" uses ${text}`;
    if (scope === "config") {
      const found = findConfigValue(known.config, name.split("."));
      if (found.ok) continue;
      const keys = name.split(".").slice(0, found.depth + 1).join(".");
      const hint = found.nearest === undefined ? "declare it under the task's config:" : `did you mean "${found.nearest}"?`;
      throw blame(index, text.length, `${uses}, but the task has no config key "${keys}"`, hint);
    }
    const names = scope === "dataId" ? known.dimensions : scope === "resources" ? known.resources : Object.keys(known[scope]);
    if (names.includes(name)) continue;
    const what = scope === "dataId" ? "quantum dimension" : scope === "resources" ? "resource" : scope === "inputs" ? "input" : "output";
    throw blame(index, text.length, `${uses}, but the task has no ${what} "${name}"`, suggestName(name, names) ?? (names.length > 0 ? `its ${scope}: ${names.join(", ")}` : undefined));
  }
}

const DURATION = /^([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)$/;
/** The longest delay a timer holds (a signed 32-bit number of milliseconds); longer ones fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

function resolveLimits(task: MergedTask): { timeoutMs?: number; resources?: Readonly<Record<string, unknown>> } {
  const out: { timeoutMs?: number; resources?: Readonly<Record<string, unknown>> } = {};
  for (const entry of task.entries) {
    const timeout = entry.value.timeout;
    if (typeof timeout === "number") out.timeoutMs = timeout * 1000;
    else if (typeof timeout === "string") {
      const m = DURATION.exec(timeout.trim());
      if (m === null) {
        throw entry.source.errorAt([...entry.path, "timeout"], `task "${task.label}": timeout ${JSON.stringify(timeout)} is not a duration`, {
          hint: 'write it like "30s", "5m", "1h", "500ms", or a number of seconds',
        });
      }
      out.timeoutMs = Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
    }
    if (timeout !== undefined && out.timeoutMs !== undefined && !(out.timeoutMs >= 1 && out.timeoutMs <= MAX_TIMEOUT_MS)) {
      const what = out.timeoutMs < 1 ? "shorter than 1 ms" : "longer than a timer can hold (596 hours)";
      throw entry.source.errorAt([...entry.path, "timeout"], `task "${task.label}": timeout ${JSON.stringify(timeout)} is ${what}`, {
        hint: 'give one from "1ms" to "596h" (2147483647 ms), or none',
      });
    }
    if (entry.value.resources !== undefined) out.resources = entry.value.resources;
    if (entry.value.task !== undefined && (entry.value.env !== undefined || entry.value.path !== undefined)) {
      const field = entry.value.env !== undefined ? "env" : "path";
      throw entry.source.errorAt([...entry.path, field], `"${field}" is for command tasks; task "${task.label}" is a module`, { target: "key" });
    }
    const cpus = entry.value.resources?.cpus;
    if (cpus !== undefined && !(typeof cpus === "number" && Number.isInteger(cpus) && cpus >= 1)) {
      throw entry.source.errorAt([...entry.path, "resources", "cpus"], `task "${task.label}": resources.cpus ${JSON.stringify(cpus)} is not a whole number of cores`, {
        hint: "give the cores one quantum uses, e.g. cpus: 4; it takes that many of the -j slots",
      });
    }
  }
  return out;
}

