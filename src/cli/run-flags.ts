/** Flags shared by the commands that plan a run: `run`, `status`, `why`, `graph`. */
import type { Argv } from "yargs";

import { checkOutputCollection } from "../core/check-output-collection.js";
import { UsageError } from "../core/errors.js";
import { parseConfigOverride } from "../core/parse-config-override.js";
import { parseParameterFlags } from "../core/parse-parameter-flag.js";
import { parseBindings } from "../core/query/parse-bindings.js";
import { checkWhereSyntax } from "../core/query/query-parser.js";
import { toUsageError } from "../core/query/query-format.js";
import type { PlanFlags } from "../app/plan-pipeline.js";
import type { ExecFlags } from "../app/run-pipeline.js";

export function addPlanFlags(y: Argv): Argv {
  return y
    .option("where", { type: "string", describe: "data query, e.g. \"visit IN (1..4) AND band = 'r'\"" })
    .option("bind", { type: "string", array: true, default: [], describe: "bind a :name placeholder of --where (name=value)" })
    .option("tasks", { type: "string", describe: "labels or subsets to run, comma-separated; +name adds its ancestors" })
    .option("config", { type: "string", array: true, default: [], describe: "override a config value (label.key=value)" })
    .option("param", { type: "string", array: true, default: [], describe: "set a pipeline parameter (name=value), as in its parameters: section" })
    .option("output", { type: "string", describe: "output collection (default: the pipeline's name)" });
}

/** `--force LABELS`, for `run`, `status` and `why` (which must agree on what it makes run). */
export function addForceFlag(y: Argv): Argv {
  return y.option("force", { type: "string", array: true, default: [], describe: "run these tasks' quanta whatever the cache holds (labels, comma-separated); --where narrows them" });
}

/** `--executor` and the Slurm clustering flags, for `run`, `exec`, `watch` and `status`. */
export function addExecutorFlags(y: Argv): Argv {
  return y
    .option("executor", { type: "string", choices: ["local", "slurm"], default: "local", describe: "where quanta run" })
    .option("cluster-by", { type: "string", describe: "with --executor slurm: run quanta with the same values of these dimensions (comma-separated) in one job, a chain depth first" })
    .option("cluster-size", { type: "string", describe: "with --executor slurm: at most N quanta in one job (alone: packs a task's ready quanta into jobs of N)" });
}

export function addExecFlags(y: Argv): Argv {
  return addExecutorFlags(y)
    // Read as text, so that a bad value is shown as typed (yargs would make "abc" a NaN).
    .option("jobs", { alias: "j", type: "string", describe: "quanta to run at once (default: cores; 1 runs in-process)" })
    .option("retries", { type: "string", default: "0", describe: "retry a failed quantum up to N more times" })
    .option("fail-fast", { type: "boolean", default: false, describe: "stop starting quanta after the first failure" })
    .option("fsync", { type: "boolean", default: true, hidden: true, describe: "make blobs durable before recording them (--no-fsync: benchmarks only)" });
}

/**
 * The plan flags, checked as far as they can be without the pipeline: the syntax of `--param`,
 * `--bind`, `--config` and `--where` (with its placeholders bound), and the `--output` name. Every
 * command that plans reads them here, so that a `--bind` is checked without a `--where` too, and a
 * watch refuses them before it starts (no edit of a file could fix them) rather than report them on
 * every pass.
 */
export function readPlanFlags(args: Record<string, unknown>): PlanFlags {
  const flags: PlanFlags = {
    where: args.where as string | undefined,
    bind: (args.bind as string[] | undefined) ?? [],
    tasks: args.tasks as string | undefined,
    config: (args.config as string[] | undefined) ?? [],
    params: (args.param as string[] | undefined) ?? [],
    force: (args.force as string[] | undefined) ?? [],
    output: args.output as string | undefined,
  };
  parseParameterFlags(flags.params ?? []);
  const bind = parseBindings(flags.bind);
  if (flags.where !== undefined) {
    const error = checkWhereSyntax(flags.where, bind);
    if (error !== undefined) throw toUsageError(flags.where, error);
  }
  for (const text of flags.config) {
    const parsed = parseConfigOverride(text);
    if (!parsed.ok) throw parsed.error;
  }
  if (flags.output !== undefined) checkOutputCollection(flags.output, "--output");
  return flags;
}

export function readExecFlags(args: Record<string, unknown>): ExecFlags {
  return {
    jobs: args.jobs === undefined ? undefined : readWholeNumber("-j", args.jobs, 1),
    retries: readWholeNumber("--retries", args.retries, 0),
    failFast: args["fail-fast"] as boolean,
    fsync: args.fsync as boolean,
    ...readExecutorFlags(args),
  };
}

export function readExecutorFlags(args: Record<string, unknown>): Pick<ExecFlags, "executor" | "clusterBy" | "clusterSize"> {
  return {
    executor: args.executor as "local" | "slurm",
    ...(args["cluster-size"] === undefined ? {} : { clusterSize: readWholeNumber("--cluster-size", args["cluster-size"], 1) }),
    ...(typeof args["cluster-by"] === "string" ? { clusterBy: args["cluster-by"].split(",").map((d) => d.trim()).filter((d) => d !== "") } : {}),
  };
}

/** A flag's value as a whole number of at least `min`; anything else is a UsageError quoting it. */
function readWholeNumber(flag: string, value: unknown, min: number): number {
  const text = String(Array.isArray(value) ? value[value.length - 1] : value).trim();
  const n = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${flag} expects a whole number${min > 0 ? ` of at least ${min}` : ""}, got ${JSON.stringify(text)}`);
  }
  return n;
}
