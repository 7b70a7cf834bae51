import type { CommandSpec } from "../command-spec.js";

export const getCommand: CommandSpec = {
  command: "get <dataset>",
  describe: "write one dataset's bytes (TYPE@DATAID) to stdout or -o FILE",
  builder: (y) =>
    y
      .positional("dataset", { type: "string", describe: "type@dataId, e.g. raw@visit=1,detector=2" })
      .option("output", { alias: "o", type: "string", describe: "write to this file instead of stdout" })
      .option("collection", { type: "string", describe: "collection (default: any collection holding it, if they agree)" }),
  async handler(args) {
    const { getDataset } = await import("../../app/get-dataset.js");
    return getDataset({
      repoRoot: args.repo,
      dataset: args.dataset as string,
      collection: args.collection as string | undefined,
      outputFile: args.output as string | undefined,
      writeStdout: (bytes) => process.stdout.write(bytes),
    });
  },
};
