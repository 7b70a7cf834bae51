/**
 * The shape of a TypeScript task, as written with `defineTask` (exported from the package root).
 * `run` is an ordinary function: tests can call it without a repository.
 */
import type { DataId } from "./data-id.js";
import type { NdArray, StorageClass } from "./storage-class.js";

export interface ConnectionSpec {
  readonly type: string;
  readonly dimensions: readonly string[];
  readonly storage: StorageClass;
  readonly multiple?: boolean;
  readonly minimum?: number;
  readonly prerequisite?: boolean;
  /** Command tasks: the connection's file in the sandbox (see `Connection.sandboxName`). */
  readonly sandboxName?: string;
  /** Command tasks: see `Connection.executable`. */
  readonly executable?: boolean;
  /** Command tasks: see `Connection.discovered`. */
  readonly discovered?: boolean;
  /** Command tasks: see `Connection.temp`. */
  readonly temp?: boolean;
}

/** The in-memory value of one dataset of a storage class. `file` datasets are paths to read-only files. */
export type StorageValue<S extends StorageClass> = S extends "json"
  ? unknown
  : S extends "text"
    ? string
    : S extends "bytes"
      ? Uint8Array
      : S extends "ndarray"
        ? NdArray
        : S extends "file"
          ? string
          : never;

/** One element of a `multiple` input: the dataset's data ID and its value, in data ID order. */
export interface GatheredValue<T> {
  readonly dataId: DataId;
  readonly value: T;
}

export type InputValues<I extends Record<string, ConnectionSpec>> = {
  [K in keyof I]: I[K]["multiple"] extends true
    ? GatheredValue<StorageValue<I[K]["storage"]>>[]
    : StorageValue<I[K]["storage"]>;
};

export type OutputValues<O extends Record<string, ConnectionSpec>> = {
  [K in keyof O]: StorageValue<O[K]["storage"]>;
};

export interface TaskLog {
  /** printf-style: `%s`, `%d`, `%j` are replaced by the following arguments. */
  info(format: string, ...args: unknown[]): void;
  warn(format: string, ...args: unknown[]): void;
  error(format: string, ...args: unknown[]): void;
  debug(format: string, ...args: unknown[]): void;
}

export interface TaskContext {
  readonly label: string;
  readonly dataId: DataId;
  readonly log: TaskLog;
}

/** Returned by `run` when there is nothing to do for this data ID; not a failure. */
export interface NoWork {
  readonly __quantaNoWork: true;
  readonly reason?: string;
}

export function isNoWork(value: unknown): value is NoWork {
  return typeof value === "object" && value !== null && (value as NoWork).__quantaNoWork === true;
}

/**
 * A task as `defineTask` returns it (and as a task module's default export holds it).
 * `config` is a zod schema; the engine validates the effective config with it (defaults filled in,
 * unknown keys rejected) before calling `run`.
 */
export interface TaskDefinition<
  C = any,
  I extends Record<string, ConnectionSpec> = Record<string, ConnectionSpec>,
  O extends Record<string, ConnectionSpec> = Record<string, ConnectionSpec>,
> {
  readonly name: string;
  readonly dimensions: readonly string[];
  /** A zod schema (typed loosely here so the core does not depend on zod). */
  readonly config?: { parse(value: unknown): C; safeParse(value: unknown): { success: boolean; data?: C; error?: unknown } };
  readonly inputs: I;
  readonly outputs: O;
  run(inputs: InputValues<I>, config: C, ctx: TaskContext): OutputValues<O> | NoWork | Promise<OutputValues<O> | NoWork>;
}
