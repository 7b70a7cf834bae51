import type { CommandSpec } from "../command-spec.js";
import { addForceFlag, addPlanFlags, readPlanFlags } from "../run-flags.js";

export const statusCommand: CommandSpec = {
  command: "status <pipeline> [targets..]",
  describe: "dry run: what would run, what may run, what is up to date",
  builder: (y) =>
    addForceFlag(addPlanFlags(y))
      .positional("pipeline", { type: "string", describe: "pipeline file (YAML)" })
      .positional("targets", { type: "string", array: true, describe: "datasets to make" })
      .option("list", { type: "boolean", default: false, describe: "list each quantum that will or may run, with its reasons" }),
  async handler(args) {
    const { showStatus } = await import("../../app/status.js");
    return showStatus({
      repoRoot: args.repo,
      pipelineFile: args.pipeline as string,
      targets: (args.targets as string[] | undefined) ?? [],
      flags: readPlanFlags(args),
      output: { json: args.json, quiet: args.quiet, plain: true },
      list: args.list as boolean,
      out: (t) => process.stdout.write(t),
    });
  },
};
