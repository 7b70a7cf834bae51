import type { CommandSpec } from "../command-spec.js";

export const logCommand: CommandSpec = {
  command: "log <quantum>",
  describe: "print the captured log of a quantum's latest execution",
  builder: (y) =>
    y
      .positional("quantum", { type: "string", describe: "label@dataId" })
      .option("collection", { type: "string", describe: "collection (default: that of the latest run)" }),
  async handler(args) {
    const { showLog } = await import("../../app/show-log.js");
    return showLog({ repoRoot: args.repo, quantum: args.quantum as string, collection: args.collection as string | undefined, json: args.json, out: (t) => process.stdout.write(t) });
  },
};
