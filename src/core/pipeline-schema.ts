/**
 * The one schema of pipeline files: it validates what users write (positions are mapped back to the
 * YAML by parse-pipeline-file.ts) and generates the JSON Schema that `quanta schema` prints for
 * editors. Checks that need more than one value at a time (a task has `task` or `command`, a dataset
 * type has one producer, dimensions are declared…) live in the resolver, which also knows positions.
 *
 * Written with zod/mini, whose functions the CLI bundle keeps only as far as they are used: classic
 * zod's methods come as one block of about 750 KB, which every command that reads a pipeline spent
 * some 90 ms loading. The schema has the same shape as with classic zod (a description on the same
 * wrapper as `.optional().describe(…)` put it), so `quanta schema` prints the same JSON Schema.
 * `import * as z`, not `import { z }`: that `z` is an object holding all of zod/mini, which the bundle
 * would then keep whole (700 KB, every locale included).
 */
import * as z from "zod/mini";
import { en } from "zod/locales";
import { DIMENSION_TYPES } from "./dimensions.js";
import { STORAGE_CLASSES } from "./storage-class.js";

const storageClass = z.enum(STORAGE_CLASSES as unknown as [string, ...string[]]).check(z.describe("how the datasets are serialised"));
const dimensionList = z.array(z.string()).check(z.describe("dimension names, declared under `dimensions:`"));
const config = z.record(z.string(), z.unknown()).check(z.describe("config values; `${name}` substitutes a parameter"));

/** An optional value with a description, as `schema.optional().describe(description)` makes it in classic zod. */
function optional<T extends z.core.SomeType>(schema: T, description?: string): z.ZodMiniOptional<T> {
  const wrapped = z.optional(schema);
  return description === undefined ? wrapped : wrapped.check(z.describe(description));
}

const connection = z
  .strictObject({
    type: z.string().check(z.describe("the dataset type read or written")),
    dimensions: dimensionList,
    storage: storageClass,
    multiple: optional(z.boolean(), "gather every dataset whose data ID extends the quantum's"),
    minimum: optional(z.int().check(z.minimum(0)), "with `multiple`: the fewest datasets a quantum needs"),
    prerequisite: optional(z.boolean(), "must exist before the run; no task produces it"),
    name: optional(z.string(), 'its file in the sandbox, e.g. "{sample}.bam", "include/stats.h"; `{dimension}` fields from its data ID'),
    executable: optional(z.boolean(), "an input: placed executable; an output: a program, executable when read or exported"),
    discovered: optional(z.boolean(), "an input all placed in the sandbox, of which only what the task's depfile names joins the key"),
    temp: optional(z.boolean(), "an output whose blob is dropped once every task reading it has run; computed again when needed"),
  })
  .check(z.describe("a connection of a command task"));

const input = z
  .strictObject({
    path: z.string().check(z.describe("path template, relative to the pipeline file; `{dimension}` fields make the data ID")),
    storage: optional(storageClass),
    prerequisite: optional(z.boolean()),
    relation: optional(dimensionList, "a CSV or JSON file of rows of these dimensions"),
    include: optional(z.array(z.string()), "files: only paths matching one of these globs (relative to the pipeline file)"),
    exclude: optional(z.array(z.string()), "files: not paths matching one of these globs; nor are they warned about"),
    transfer: optional(
      z.enum(["reference", "link", "copy"]),
      "files: how the repository holds their bytes: by reference to the file (the default), a hard link, or a copy",
    ),
  })
  .check(z.describe("files ingested as datasets (with `storage`) or a relation between dimensions (with `relation`)"));

const task = z
  .strictObject({
    task: optional(z.string(), "a TypeScript or JavaScript task module, relative to the pipeline file"),
    command: optional(z.string(), "a shell command template: {inputs.X} {outputs.Y} {config.Z} {dataId.D}"),
    dimensions: optional(dimensionList, "command tasks: the quantum dimensions"),
    inputs: optional(z.record(z.string(), connection), "command tasks: input connections"),
    outputs: optional(z.record(z.string(), connection), "command tasks: output connections"),
    config: optional(config),
    connections: optional(z.record(z.string(), z.string()), "connection name -> new dataset type"),
    timeout: optional(z.union([z.number().check(z.positive()), z.string()]), '"30s", "5m", "1h", "500ms" or seconds'),
    resources: optional(z.record(z.string(), z.unknown())),
    version: optional(z.union([z.string(), z.number()]), "joins the quanta's keys: change it to rerun the task's quanta"),
    tools: optional(z.array(z.string()), "executables whose content joins the quanta's keys, e.g. [cc]"),
    env: optional(
      z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
      "command tasks: environment variables the command gets (literal values)",
    ),
    path: optional(z.array(z.string()), "command tasks: folders put first in PATH, relative to the pipeline file"),
    depfile: optional(z.string(), "command tasks: a Makefile-style dependency file the command writes (gcc -MD -MF deps.d)"),
  })
  .check(z.describe("a task: a module (`task`) or a `command`"));

const subset = z.union([
  z.array(z.string()),
  z.strictObject({ tasks: z.array(z.string()), description: optional(z.string()) }),
]);

const cluster = z.strictObject({
  tasks: z.array(z.string()).check(z.describe("task labels or subsets whose quanta share Slurm jobs")),
  by: z.array(z.string()).check(z.describe("dimensions: quanta with equal values of these run in one job, depth first")),
  size: optional(z.number().check(z.int(), z.positive()), "at most this many quanta in one job"),
});

const importEntry = z.strictObject({
  location: z.string().check(z.describe("another pipeline file, relative to this one")),
  include: optional(z.array(z.string()), "labels or subsets to take"),
  exclude: optional(z.array(z.string()), "labels or subsets to leave out"),
});

/** A pipeline file as written (before imports, parameters and config precedence). */
export const PipelineFileSchema = z
  .strictObject({
    description: optional(z.string()),
    parameters: optional(z.record(z.string(), z.unknown()), "values referenced as ${name}"),
    dimensions: optional(z.record(z.string(), z.enum(DIMENSION_TYPES as unknown as [string, ...string[]]))),
    inputs: optional(z.record(z.string(), input)),
    tasks: optional(z.record(z.string(), task)),
    subsets: optional(z.record(z.string(), subset)),
    clusters: optional(z.record(z.string(), cluster), "with --executor slurm: quanta that share a job"),
    imports: optional(z.array(importEntry)),
  })
  .check(z.describe("a quanta pipeline"));

/**
 * English messages for the schema's issues, whatever locale the process's zod was set to: zod/mini,
 * unlike classic zod, sets none, and a message without one is only "Invalid input".
 */
const messages = en().localeError;

/** Validates a pipeline file's data (its `x-` keys already left out). */
export function validatePipelineFile(raw: unknown): z.core.util.SafeParseResult<PipelineFile> {
  return PipelineFileSchema.safeParse(raw, { error: messages });
}

export type PipelineFile = z.infer<typeof PipelineFileSchema>;
export type PipelineFileTask = NonNullable<PipelineFile["tasks"]>[string];
export type PipelineFileInput = NonNullable<PipelineFile["inputs"]>[string];
export type PipelineFileConnection = NonNullable<PipelineFileTask["inputs"]>[string];
export type PipelineFileCluster = NonNullable<PipelineFile["clusters"]>[string];
export type PipelineFileImport = NonNullable<PipelineFile["imports"]>[number];
