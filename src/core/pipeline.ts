/**
 * The resolved pipeline model: what the loader produces from a pipeline file (after imports,
 * parameters, config precedence and connection renames) and what the graph builder and the engine use.
 * Everything here is plain data, so a `Pipeline` can be snapshotted into a saved plan.
 */
import type { CodeDigest } from "./digest.js";
import type { DimensionUniverse } from "./dimensions.js";
import type { StorageClass } from "./storage-class.js";

/** A named input or output of a task, after renames. */
export interface Connection {
  /** The connection's name in the task (`exposure`), the key of `inputs`/`outputs`. */
  readonly name: string;
  /** The dataset type it reads or writes (`postIsr`), after the pipeline's `connections` renames. */
  readonly type: string;
  readonly dimensions: readonly string[];
  readonly storage: StorageClass;
  /** An input whose dimensions are a superset of the quantum's: gathers every matching dataset. */
  readonly multiple: boolean;
  /** With `multiple`: the fewest datasets a quantum needs (default 1). */
  readonly minimum: number;
  /** An input that must exist before the run (never produced by a task of the pipeline). */
  readonly prerequisite: boolean;
  /**
   * Command tasks: the path of the connection's file in the sandbox, relative to it, as written
   * (`{sample}.bam`, `include/stats.h`); its `{dimension}` fields take the dataset's data ID values.
   * Unset: quanta's own names (command-runner.ts).
   */
  readonly sandboxName?: string;
  /** Command tasks: an input placed executable; an output that is a program (its readers get it executable). */
  readonly executable?: boolean;
  /** Command tasks: an input whose datasets join the key only when the depfile names them (discovered-inputs.ts). */
  readonly discovered?: boolean;
  /**
   * Command tasks: an output whose blob is dropped once every quantum of a run that reads it has run
   * (temp-outputs.ts); its record and digest stay, and its producer runs again when it is needed.
   */
  readonly temp?: boolean;
}

/** A dataset type declared by the `inputs:` section: ingested from files matching a path template. */
export interface FileInputSpec {
  readonly kind: "files";
  /** The dataset type name (the key under `inputs:`). */
  readonly type: string;
  /** Absolute path template, with `{dimension}` fields, parameters already substituted. */
  readonly path: string;
  /** The dimensions named by the template's fields, in template order. */
  readonly dimensions: readonly string[];
  readonly storage: StorageClass;
  readonly prerequisite: boolean;
  /** Absolute globs (path-glob.ts): only files matching one of them are this input's. */
  readonly include?: readonly string[];
  /** Absolute globs: files matching one of them are not this input's, and are not warned about. */
  readonly exclude?: readonly string[];
}

/** A relation declared by the `inputs:` section: rows of dimension values that belong together. */
export interface RelationInputSpec {
  readonly kind: "relation";
  /** The relation's name (the key under `inputs:`). */
  readonly type: string;
  /** Absolute path of a CSV (with a header row) or JSON (array of objects) file. */
  readonly path: string;
  readonly dimensions: readonly string[];
}

export type InputSpec = FileInputSpec | RelationInputSpec;

/** One labelled task of a pipeline, resolved. */
export interface TaskNode {
  readonly label: string;
  readonly kind: "module" | "command";
  /** `module` tasks: the absolute path of the TypeScript/JavaScript module. */
  readonly modulePath?: string;
  /** `command` tasks: the command template. */
  readonly command?: string;
  /** The quantum dimensions. */
  readonly dimensions: readonly string[];
  readonly inputs: Readonly<Record<string, Connection>>;
  readonly outputs: Readonly<Record<string, Connection>>;
  /** The effective config, validated by the task's schema, defaults filled in. */
  readonly config: unknown;
  /** Code identity: module tasks hash their module and its local imports; command tasks their template. */
  readonly codeDigest: CodeDigest;
  /** Kill a quantum that runs longer than this. */
  readonly timeoutMs?: number;
  readonly resources?: Readonly<Record<string, unknown>>;
  /**
   * What else its quanta's keys depend on (resolve-key-extras.ts): `version` → the task's `version:`,
   * `tool NAME` → the digest of a `tools:` executable. Unset when the task declares neither.
   */
  readonly depends?: Readonly<Record<string, string>>;
  /** Command tasks: the sandbox path of the dependency file the command writes (discovered-inputs.ts). */
  readonly depfile?: string;
  /** Command tasks: environment variables set for the command (values as written, never expanded). */
  readonly env?: Readonly<Record<string, string>>;
  /** Command tasks: absolute folders put before the inherited PATH, in this order. */
  readonly path?: readonly string[];
}

export interface SubsetDef {
  readonly tasks: readonly string[];
  readonly description?: string;
}

/**
 * A `clusters:` entry: with `--executor slurm`, the quanta of these tasks with equal values of `by`
 * run in one job, a data ID's chain depth first (docs/how-it-works.md, "The Slurm executor").
 */
export interface ClusterDef {
  readonly tasks: readonly string[];
  readonly by: readonly string[];
  readonly size?: number;
}

export interface Pipeline {
  /** The pipeline's name: its file name without `.yaml`; the default output collection. */
  readonly name: string;
  /** Absolute path of the pipeline file. */
  readonly file: string;
  readonly description?: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly dimensions: DimensionUniverse;
  readonly inputs: readonly InputSpec[];
  /** In dependency order (producers before consumers; ties in file order). */
  readonly tasks: readonly TaskNode[];
  readonly subsets: Readonly<Record<string, SubsetDef>>;
  /** Absent when the file has no `clusters:` section. */
  readonly clusters?: Readonly<Record<string, ClusterDef>>;
}
