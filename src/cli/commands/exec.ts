import type { CommandSpec } from "../command-spec.js";
import { addExecFlags, readExecFlags } from "../run-flags.js";

export const execCommand: CommandSpec = {
  command: "exec <plan>",
  describe: "execute a saved plan (.qg, made by 'quanta graph -o')",
  builder: (y) =>
    addExecFlags(y)
      .positional("plan", { type: "string", describe: "plan file" })
      .option("output", { type: "string", describe: "output collection (default: the pipeline's name)" }),
  async handler(args) {
    const { execPlan } = await import("../../app/run-pipeline.js");
    return execPlan({
      repoRoot: args.repo,
      planFile: args.plan as string,
      collection: args.output as string | undefined,
      exec: readExecFlags(args),
      output: { json: args.json, quiet: args.quiet, plain: args.plain },
    });
  },
};
