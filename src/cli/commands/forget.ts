import type { CommandSpec } from "../command-spec.js";

export const forgetCommand: CommandSpec = {
  command: "forget <quanta..>",
  describe: "drop the cached results of quanta (TASK, or TASK@DATAID) so that the next run recomputes them",
  builder: (y) => y.positional("quanta", { type: "string", array: true, describe: "task labels (every quantum of the task) or quanta, e.g. calibrate@visit=12,detector=3" }),
  async handler(args) {
    const { forget } = await import("../../app/forget.js");
    return forget({ repoRoot: args.repo, quanta: args.quanta as string[], out: (t) => process.stdout.write(t) });
  },
};
