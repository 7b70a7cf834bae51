import type { CommandSpec } from "../command-spec.js";
import { printStatus } from "./status.js";
import { addExecFlags, addForceFlag, addPlanFlags, readExecFlags, readPlanFlags } from "../run-flags.js";

export const runCommand: CommandSpec = {
  command: "run <pipeline> [targets..]",
  describe: "ingest changed inputs, build the graph and run what is stale",
  builder: (y) =>
    addExecFlags(addForceFlag(addPlanFlags(y)))
      .positional("pipeline", { type: "string", describe: "pipeline file (YAML)" })
      .positional("targets", { type: "string", array: true, describe: "datasets to make, e.g. calexp@visit=12,detector=3" })
      .option("dry-run", { alias: "n", type: "boolean", default: false, describe: "run nothing: print what would run, as 'quanta status' does" }),
  async handler(args) {
    if (args["dry-run"] === true) return printStatus(args, false);
    const { runPipeline } = await import("../../app/run-pipeline.js");
    return runPipeline({
      repoRoot: args.repo,
      pipelineFile: args.pipeline as string,
      targets: (args.targets as string[] | undefined) ?? [],
      flags: readPlanFlags(args),
      exec: readExecFlags(args),
      output: { json: args.json, quiet: args.quiet, plain: args.plain },
    });
  },
};
