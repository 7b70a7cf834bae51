import type { CommandSpec } from "../command-spec.js";

export const getCommand: CommandSpec = {
  command: "get <dataset>",
  describe: "write one dataset's bytes (TYPE@DATAID) to stdout or -o FILE",
  builder: (y) =>
    y
      .positional("dataset", { type: "string", describe: "type@dataId, e.g. raw@visit=1,detector=2" })
      .option("to", { alias: "o", type: "string", describe: "write to this file instead of stdout" })
      // `--output` names a collection everywhere else (run, exec): here it is refused, not a file.
      .option("output", { type: "string", hidden: true })
      .option("collection", { type: "string", describe: "collection (default: any collection holding it, if they agree)" }),
  async handler(args) {
    if (args.output !== undefined) {
      const { UsageError } = await import("../../core/errors.js");
      throw new UsageError("get takes no --output (in quanta, --output names a collection)", "write to a file with -o FILE (--to FILE); read from a collection with --collection NAME");
    }
    const { getDataset } = await import("../../app/get-dataset.js");
    return getDataset({
      repoRoot: args.repo,
      dataset: args.dataset as string,
      collection: args.collection as string | undefined,
      outputFile: args.to as string | undefined,
      writeStdout: (bytes) => process.stdout.write(bytes),
    });
  },
};
