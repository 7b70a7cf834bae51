import type { CommandSpec } from "../command-spec.js";

export const exportCommand: CommandSpec = {
  command: "export <datasets..>",
  describe: "write datasets (TYPE for all of a type, or TYPE@DATAID) to a folder, programs executable",
  builder: (y) =>
    y
      .positional("datasets", { type: "string", array: true, describe: "dataset types or type@dataId, e.g. program calexp@visit=1,detector=2" })
      .option("to", { type: "string", demandOption: true, describe: "the folder to write them to (made if missing)" })
      .option("collection", { type: "string", describe: "collection (default: any collection holding each, if they agree)" }),
  async handler(args) {
    const { exportDatasets } = await import("../../app/export-datasets.js");
    return exportDatasets({
      repoRoot: args.repo,
      datasets: args.datasets as string[],
      to: args.to as string,
      collection: args.collection as string | undefined,
      out: (text) => process.stdout.write(text),
    });
  },
};
