/**
 * The one schema of pipeline files: it validates what users write (positions are mapped back to the
 * YAML by parse-pipeline-file.ts) and generates the JSON Schema that `quanta schema` prints for
 * editors. Checks that need more than one value at a time (a task has `task` or `command`, a dataset
 * type has one producer, dimensions are declared…) live in the resolver, which also knows positions.
 */
import { z } from "zod";
import { DIMENSION_TYPES } from "./dimensions.js";
import { STORAGE_CLASSES } from "./storage-class.js";

const storageClass = z.enum(STORAGE_CLASSES as unknown as [string, ...string[]]).describe("how the datasets are serialised");
const dimensionList = z.array(z.string()).describe("dimension names, declared under `dimensions:`");
const config = z.record(z.string(), z.unknown()).describe("config values; `${name}` substitutes a parameter");

const connection = z
  .strictObject({
    type: z.string().describe("the dataset type read or written"),
    dimensions: dimensionList,
    storage: storageClass,
    multiple: z.boolean().optional().describe("gather every dataset whose data ID extends the quantum's"),
    minimum: z.int().min(0).optional().describe("with `multiple`: the fewest datasets a quantum needs"),
    prerequisite: z.boolean().optional().describe("must exist before the run; no task produces it"),
    name: z.string().optional().describe('its file in the sandbox, e.g. "{sample}.bam", "include/stats.h"; `{dimension}` fields from its data ID'),
    executable: z.boolean().optional().describe("an input: placed executable; an output: a program, executable when read or exported"),
    discovered: z.boolean().optional().describe("an input all placed in the sandbox, of which only what the task's depfile names joins the key"),
    temp: z.boolean().optional().describe("an output whose blob is dropped once every task reading it has run; computed again when needed"),
  })
  .describe("a connection of a command task");

const input = z
  .strictObject({
    path: z.string().describe("path template, relative to the pipeline file; `{dimension}` fields make the data ID"),
    storage: storageClass.optional(),
    prerequisite: z.boolean().optional(),
    relation: dimensionList.optional().describe("a CSV or JSON file of rows of these dimensions"),
    include: z.array(z.string()).optional().describe("files: only paths matching one of these globs (relative to the pipeline file)"),
    exclude: z.array(z.string()).optional().describe("files: not paths matching one of these globs; nor are they warned about"),
  })
  .describe("files ingested as datasets (with `storage`) or a relation between dimensions (with `relation`)");

const task = z
  .strictObject({
    task: z.string().optional().describe("a TypeScript or JavaScript task module, relative to the pipeline file"),
    command: z.string().optional().describe("a shell command template: {inputs.X} {outputs.Y} {config.Z} {dataId.D}"),
    dimensions: dimensionList.optional().describe("command tasks: the quantum dimensions"),
    inputs: z.record(z.string(), connection).optional().describe("command tasks: input connections"),
    outputs: z.record(z.string(), connection).optional().describe("command tasks: output connections"),
    config: config.optional(),
    connections: z.record(z.string(), z.string()).optional().describe("connection name -> new dataset type"),
    timeout: z.union([z.number().positive(), z.string()]).optional().describe('"30s", "5m", "1h", "500ms" or seconds'),
    resources: z.record(z.string(), z.unknown()).optional(),
    version: z.union([z.string(), z.number()]).optional().describe("joins the quanta's keys: change it to rerun the task's quanta"),
    tools: z.array(z.string()).optional().describe("executables whose content joins the quanta's keys, e.g. [cc]"),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().describe("command tasks: environment variables the command gets (literal values)"),
    path: z.array(z.string()).optional().describe("command tasks: folders put first in PATH, relative to the pipeline file"),
    depfile: z.string().optional().describe("command tasks: a Makefile-style dependency file the command writes (gcc -MD -MF deps.d)"),
  })
  .describe("a task: a module (`task`) or a `command`");

const subset = z.union([
  z.array(z.string()),
  z.strictObject({ tasks: z.array(z.string()), description: z.string().optional() }),
]);

const cluster = z.strictObject({
  tasks: z.array(z.string()).describe("task labels or subsets whose quanta share Slurm jobs"),
  by: z.array(z.string()).describe("dimensions: quanta with equal values of these run in one job, depth first"),
  size: z.number().int().positive().optional().describe("at most this many quanta in one job"),
});

const importEntry = z.strictObject({
  location: z.string().describe("another pipeline file, relative to this one"),
  include: z.array(z.string()).optional().describe("labels or subsets to take"),
  exclude: z.array(z.string()).optional().describe("labels or subsets to leave out"),
});

/** A pipeline file as written (before imports, parameters and config precedence). */
export const PipelineFileSchema = z
  .strictObject({
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional().describe("values referenced as ${name}"),
    dimensions: z.record(z.string(), z.enum(DIMENSION_TYPES as unknown as [string, ...string[]])).optional(),
    inputs: z.record(z.string(), input).optional(),
    tasks: z.record(z.string(), task).optional(),
    subsets: z.record(z.string(), subset).optional(),
    clusters: z.record(z.string(), cluster).optional().describe("with --executor slurm: quanta that share a job"),
    imports: z.array(importEntry).optional(),
  })
  .describe("a quanta pipeline");

export type PipelineFile = z.infer<typeof PipelineFileSchema>;
export type PipelineFileTask = NonNullable<PipelineFile["tasks"]>[string];
export type PipelineFileInput = NonNullable<PipelineFile["inputs"]>[string];
export type PipelineFileConnection = NonNullable<PipelineFileTask["inputs"]>[string];
export type PipelineFileCluster = NonNullable<PipelineFile["clusters"]>[string];
export type PipelineFileImport = NonNullable<PipelineFile["imports"]>[number];
