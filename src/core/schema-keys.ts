/**
 * What keys a zod object schema accepts at a path, read from the schema's definition (duck-typed on
 * zod 4's `_zod.def`, so the core does not import zod for it). Used to reject unknown keys with a
 * "did you mean" hint, also for task config schemas that would silently strip them.
 */

/** The schema's definition, as far as we look at it. */
interface SchemaDef {
  readonly type?: string;
  readonly shape?: Record<string, unknown>;
  readonly catchall?: unknown;
  readonly innerType?: unknown;
  readonly element?: unknown;
  readonly valueType?: unknown;
  readonly options?: readonly unknown[];
  readonly in?: unknown;
}

function defOf(schema: unknown): SchemaDef | undefined {
  const def = (schema as { _zod?: { def?: SchemaDef } } | null)?._zod?.def;
  return typeof def === "object" && def !== null ? def : undefined;
}

/** Unwraps optional/default/nullable/readonly/pipe wrappers. */
function unwrap(schema: unknown): unknown {
  let current = schema;
  for (let i = 0; i < 20; i++) {
    const def = defOf(current);
    if (def === undefined) return current;
    if (def.innerType !== undefined) current = def.innerType;
    else if (def.type === "pipe" && def.in !== undefined) current = def.in;
    else return current;
  }
  return current;
}

/** The schema that validates the value at `path` inside a value of `schema`, if it can be followed. */
export function findSchemaAt(schema: unknown, path: readonly (string | number)[]): unknown {
  let current = unwrap(schema);
  for (const segment of path) {
    const def = defOf(current);
    if (def === undefined) return undefined;
    if (def.type === "object" && def.shape !== undefined && String(segment) in def.shape) current = def.shape[String(segment)];
    else if (def.type === "object" && def.catchall !== undefined) current = def.catchall;
    else if (def.type === "record") current = def.valueType;
    else if (def.type === "array") current = def.element;
    else return undefined;
    current = unwrap(current);
  }
  return current;
}

export interface ObjectKeys {
  readonly keys: readonly string[];
  /** Whether keys outside `keys` are accepted (a catchall other than `never`). */
  readonly open: boolean;
}

/** The keys of the object schema at `path`, or undefined when it is not a (known) object schema. */
export function listSchemaKeys(schema: unknown, path: readonly (string | number)[] = []): ObjectKeys | undefined {
  const def = defOf(findSchemaAt(schema, path));
  if (def?.type !== "object" || def.shape === undefined) return undefined;
  const catchall = defOf(def.catchall);
  return { keys: Object.keys(def.shape), open: catchall !== undefined && catchall.type !== "never" };
}
