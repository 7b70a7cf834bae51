import type { CommandSpec } from "../command-spec.js";
import { UsageError } from "../../core/errors.js";
import { addExecFlags, addPlanFlags, readExecFlags, readPlanFlags } from "../run-flags.js";

export const watchCommand: CommandSpec = {
  command: "watch <pipeline> [targets..]",
  describe: "run what is stale, then rerun what each change to inputs, the pipeline or task code makes stale",
  builder: (y) =>
    addExecFlags(addPlanFlags(y))
      .option("debounce", { type: "string", default: "200", describe: "quiet time after a change before a pass starts (ms)" })
      .positional("pipeline", { type: "string", describe: "pipeline file (YAML)" })
      .positional("targets", { type: "string", array: true, describe: "datasets to make, e.g. calexp@visit=12,detector=3" }),
  async handler(args) {
    const debounce = String(args.debounce).trim();
    if (!/^[0-9]+$/.test(debounce)) throw new UsageError(`--debounce expects a whole number of milliseconds, got ${JSON.stringify(debounce)}`);
    const { watchPipeline } = await import("../../watch/watch-pipeline.js");
    return watchPipeline({
      repoRoot: args.repo,
      pipelineFile: args.pipeline as string,
      targets: (args.targets as string[] | undefined) ?? [],
      flags: readPlanFlags(args),
      exec: readExecFlags(args),
      output: { json: args.json, quiet: args.quiet, plain: args.plain },
      debounceMs: Number(debounce),
    });
  },
};
