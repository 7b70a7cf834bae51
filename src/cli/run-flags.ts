/** Flags shared by the commands that plan a run: `run`, `status`, `why`, `graph`. */
import type { Argv } from "yargs";

import type { PlanFlags } from "../app/plan-pipeline.js";
import type { ExecFlags } from "../app/run-pipeline.js";

export function addPlanFlags(y: Argv): Argv {
  return y
    .option("where", { type: "string", describe: "data query, e.g. \"visit IN (1..4) AND band = 'r'\"" })
    .option("bind", { type: "string", array: true, default: [], describe: "bind a :name placeholder of --where (name=value)" })
    .option("tasks", { type: "string", describe: "labels or subsets to run, comma-separated; +name adds its ancestors" })
    .option("config", { type: "string", array: true, default: [], describe: "override a config value (label.key=value)" })
    .option("output", { type: "string", describe: "output collection (default: the pipeline's name)" });
}

export function addExecFlags(y: Argv): Argv {
  return y
    .option("jobs", { alias: "j", type: "number", describe: "quanta to run at once (default: cores; 1 runs in-process)" })
    .option("retries", { type: "number", default: 0, describe: "retry a failed quantum up to N more times" })
    .option("fail-fast", { type: "boolean", default: false, describe: "stop starting quanta after the first failure" })
    .option("executor", { type: "string", choices: ["local", "slurm"], default: "local", describe: "where quanta run" })
    .option("fsync", { type: "boolean", default: true, hidden: true, describe: "make blobs durable before recording them (--no-fsync: benchmarks only)" });
}

export function readPlanFlags(args: Record<string, unknown>): PlanFlags {
  return {
    where: args.where as string | undefined,
    bind: (args.bind as string[] | undefined) ?? [],
    tasks: args.tasks as string | undefined,
    config: (args.config as string[] | undefined) ?? [],
    output: args.output as string | undefined,
  };
}

export function readExecFlags(args: Record<string, unknown>): ExecFlags {
  return {
    jobs: args.jobs as number | undefined,
    retries: args.retries as number,
    failFast: args["fail-fast"] as boolean,
    executor: args.executor as "local" | "slurm",
    fsync: args.fsync as boolean,
  };
}
