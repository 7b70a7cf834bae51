/**
 * `defineTask` and its companions: what a task author writes, and what the engine uses to check a
 * task's config before calling `run`.
 *
 * The core does not import zod: schemas are walked through zod 4's structural `_zod.def` objects, so
 * this module stays pure and the package's one copy of zod lives in the public API (`src/index.ts`).
 */
import type { DataId } from "./data-id.js";
import { didYouMean } from "./errors.js";
import type {
  ConnectionSpec,
  InputValues,
  NoWork,
  OutputValues,
  TaskContext,
  TaskDefinition,
  TaskLog,
} from "./task-definition.js";

/** The minimal structural view of a zod schema that `defineTask` needs (zod 4's `ZodType` fits). */
export interface ConfigSchema<C> {
  parse(value: unknown): C;
  safeParse(value: unknown): { success: boolean; data?: C; error?: unknown };
}

/** What an author passes to `defineTask`; `config` is optional (a task without config takes `{}`). */
export interface TaskSpec<C, I extends Record<string, ConnectionSpec>, O extends Record<string, ConnectionSpec>> {
  readonly name: string;
  readonly dimensions: readonly string[];
  readonly config?: ConfigSchema<C>;
  readonly inputs: I;
  readonly outputs: O;
  run(inputs: InputValues<I>, config: C, ctx: TaskContext): OutputValues<O> | NoWork | Promise<OutputValues<O> | NoWork>;
}

/**
 * Declares a task. Returns the definition unchanged (so `run` stays an ordinary function that tests
 * call directly), typed: `config` is the schema's output type, inputs and outputs the in-memory values
 * of their storage classes (`ndarray` → `NdArray`, `multiple` → `{dataId, value}[]`, …).
 */
export function defineTask<
  C = Record<string, never>,
  const I extends Record<string, ConnectionSpec> = Record<string, never>,
  const O extends Record<string, ConnectionSpec> = Record<string, never>,
>(spec: TaskSpec<C, I, O>): TaskDefinition<C, I, O> {
  if (typeof spec !== "object" || spec === null || typeof spec.run !== "function") {
    throw new TypeError("defineTask expects an object with name, dimensions, inputs, outputs and a run function");
  }
  return spec as TaskDefinition<C, I, O>;
}

/** "Nothing to do for this data ID": returned by `run`, recorded as no-work, not as a failure. */
export function noWork(reason?: string): NoWork {
  return reason === undefined ? { __quantaNoWork: true } : { __quantaNoWork: true, reason };
}

/** Whether `value` looks like a task definition (a module's default export is checked with this). */
export function isTaskDefinition(value: unknown): value is TaskDefinition {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.name === "string" &&
    Array.isArray(v.dimensions) &&
    typeof v.inputs === "object" &&
    v.inputs !== null &&
    typeof v.outputs === "object" &&
    v.outputs !== null &&
    typeof v.run === "function"
  );
}

// ---------------------------------------------------------------------------------------------
// Config validation

/** One problem with a config: where (`["detection", "threshold"]`), what, and maybe a hint. */
export interface ConfigIssue {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly hint?: string;
}

export type ConfigValidation = { ok: true; config: unknown } | { ok: false; issues: ConfigIssue[] };

/**
 * Validates a raw config (from YAML and `--config`) against a task's schema: defaults filled in,
 * unknown keys rejected even where the schema's objects are not strict (only an explicit
 * `z.looseObject`/`.catchall()` admits extra keys). Unknown keys are reported first, each with the
 * nearest known key as a hint; otherwise the schema's own issues.
 */
export function validateTaskConfig(definition: Pick<TaskDefinition, "config">, raw: unknown): ConfigValidation {
  const value = raw === undefined || raw === null ? {} : raw;
  const schema = definition.config;
  if (schema === undefined) {
    if (isPlainObject(value) && Object.keys(value).length === 0) return { ok: true, config: {} };
    if (!isPlainObject(value)) return { ok: false, issues: [{ path: [], message: "expected a mapping" }] };
    const issues = Object.keys(value).map((key) => ({
      path: [key],
      message: `unknown config key "${key}" (this task takes no config)`,
    }));
    return { ok: false, issues };
  }
  const unknown: ConfigIssue[] = [];
  collectUnknownKeys(schema as unknown as ZodLike, value, [], unknown);
  if (unknown.length > 0) return { ok: false, issues: unknown };
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, issues: toConfigIssues(parsed.error) };
}

/** The structural part of a zod 4 schema this walk reads. */
interface ZodLike {
  _zod?: { def: Record<string, unknown> & { type: string } };
  safeParse?(value: unknown): { success: boolean };
}

type Path = (string | number)[];

function collectUnknownKeys(schema: ZodLike, value: unknown, path: Path, out: ConfigIssue[]): void {
  const def = schema._zod?.def;
  if (def === undefined) return;
  switch (def.type) {
    case "default":
    case "prefault":
    case "optional":
    case "nullable":
    case "readonly":
    case "catch":
    case "nonoptional":
    case "success":
      collectUnknownKeys(def.innerType as ZodLike, value, path, out);
      return;
    case "pipe":
      collectUnknownKeys(def.in as ZodLike, value, path, out);
      return;
    case "lazy":
      collectUnknownKeys((def.getter as () => ZodLike)(), value, path, out);
      return;
    case "object":
      collectObjectUnknownKeys(def, value, path, out);
      return;
    case "array":
      if (Array.isArray(value)) value.forEach((item, i) => collectUnknownKeys(def.element as ZodLike, item, [...path, i], out));
      return;
    case "tuple":
      if (Array.isArray(value)) {
        const items = def.items as ZodLike[];
        value.forEach((item, i) => {
          const itemSchema = items[i] ?? (def.rest as ZodLike | undefined);
          if (itemSchema) collectUnknownKeys(itemSchema, item, [...path, i], out);
        });
      }
      return;
    case "record":
      if (isPlainObject(value)) {
        for (const [k, v] of Object.entries(value)) collectUnknownKeys(def.valueType as ZodLike, v, [...path, k], out);
      }
      return;
    case "union":
      collectUnionUnknownKeys(def.options as ZodLike[], value, path, out);
      return;
    default:
      // Leaves, intersections and anything exotic: zod's own parse is the judge.
      return;
  }
}

function collectObjectUnknownKeys(def: Record<string, unknown>, value: unknown, path: Path, out: ConfigIssue[]): void {
  if (!isPlainObject(value)) return;
  const shape = def.shape as Record<string, ZodLike>;
  const catchall = def.catchall as ZodLike | undefined;
  const admitsExtra = catchall !== undefined && catchall._zod?.def.type !== "never";
  for (const [key, v] of Object.entries(value)) {
    if (Object.hasOwn(shape, key)) {
      collectUnknownKeys(shape[key]!, v, [...path, key], out);
    } else if (admitsExtra) {
      collectUnknownKeys(catchall!, v, [...path, key], out);
    } else {
      const where = path.length === 0 ? "" : ` in "${path.join(".")}"`;
      const known = Object.keys(shape);
      const hint = didYouMean(key, known) ?? (known.length > 0 ? `known keys: ${known.join(", ")}` : undefined);
      out.push({ path: [...path, key], message: `unknown config key "${key}"${where}`, ...(hint ? { hint } : {}) });
    }
  }
}

/** A union admits a value when one of its options does; otherwise report the closest option's keys. */
function collectUnionUnknownKeys(options: ZodLike[], value: unknown, path: Path, out: ConfigIssue[]): void {
  let best: ConfigIssue[] | undefined;
  for (const option of options) {
    const found: ConfigIssue[] = [];
    collectUnknownKeys(option, value, path, found);
    const parses = option.safeParse?.(value).success ?? true;
    if (found.length === 0 && parses) return;
    if (found.length > 0 && (best === undefined || found.length < best.length)) best = found;
  }
  if (best !== undefined) out.push(...best);
}

function toConfigIssues(error: unknown): ConfigIssue[] {
  const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] } | undefined)?.issues;
  if (!Array.isArray(issues) || issues.length === 0) return [{ path: [], message: String(error) }];
  return issues.map((issue) => ({
    path: issue.path.map((p) => (typeof p === "number" ? p : String(p))),
    message: issue.message,
  }));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// Task logs

export type LogLevel = "debug" | "info" | "warn" | "error";

/** A `TaskLog` that appends each formatted line, prefixed by its level, to `lines`. */
export function createCapturedLog(lines: string[]): TaskLog {
  const write = (level: LogLevel) => (format: string, ...args: unknown[]) => {
    lines.push(`${level.toUpperCase()} ${formatLogMessage(format, args)}`);
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/** A context for calling a task's `run` in a unit test: `ctx.lines` collects what it logs. */
export interface TestContext extends TaskContext {
  readonly lines: string[];
}

/** A `TaskContext` for unit tests: `run(inputs, config, makeTestContext({visit: 1}))`. */
export function makeTestContext(dataId: DataId = {}, label = "test"): TestContext {
  const lines: string[] = [];
  return { label, dataId, log: createCapturedLog(lines), lines };
}

/**
 * printf-style formatting as task logs use it: `%s` (string), `%d`/`%i` (integer or number), `%f`,
 * `%j`/`%o`/`%O` (JSON), `%%`; arguments left over are appended, separated by spaces.
 */
export function formatLogMessage(format: string, args: readonly unknown[]): string {
  let next = 0;
  let text = String(format).replace(/%([sdifjoO%])/g, (match, spec: string) => {
    if (spec === "%") return "%";
    if (next >= args.length) return match;
    const arg = args[next++];
    switch (spec) {
      case "s":
        return formatLogValue(arg);
      case "d":
        return typeof arg === "bigint" ? `${arg}` : String(Number(arg));
      case "i":
        return typeof arg === "bigint" ? `${arg}` : String(Math.trunc(Number(arg)));
      case "f":
        return String(Number(arg));
      default:
        return stringifyForLog(arg);
    }
  });
  for (; next < args.length; next++) text += " " + formatLogValue(args[next]);
  return text;
}

function formatLogValue(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.message;
  if (typeof value === "object" && value !== null) return stringifyForLog(value);
  return String(value);
}

function stringifyForLog(value: unknown): string {
  try {
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? `${v}` : v));
    return text === undefined ? String(value) : text;
  } catch {
    return "[unserialisable]";
  }
}
