import type { CommandSpec } from "../command-spec.js";
import { addForceFlag, addPlanFlags, readPlanFlags } from "../run-flags.js";

export const whyCommand: CommandSpec = {
  command: "why <quantum>",
  describe: "explain why a quantum would run (e.g. calibrate@visit=12,detector=3)",
  builder: (y) =>
    addForceFlag(addPlanFlags(y))
      .positional("quantum", { type: "string", describe: "label@dataId" })
      .option("pipeline", { type: "string", describe: "pipeline file (default: the one of the latest run)" }),
  async handler(args) {
    const { explainQuantum } = await import("../../app/status.js");
    return explainQuantum({
      repoRoot: args.repo,
      pipelineFile: args.pipeline as string | undefined,
      quantum: args.quantum as string,
      json: args.json,
      targets: [],
      flags: readPlanFlags(args),
      out: (t) => process.stdout.write(t),
    });
  },
};
