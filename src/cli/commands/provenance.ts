import type { CommandSpec } from "../command-spec.js";

export const provenanceCommand: CommandSpec = {
  command: "provenance <dataset>",
  describe: "print the lineage of a dataset as a tree (TYPE@DATAID)",
  builder: (y) =>
    y
      .positional("dataset", { type: "string", describe: "type@dataId" })
      .option("collection", { type: "string", describe: "collection (default: that of the latest run)" }),
  async handler(args) {
    const { showProvenance } = await import("../../app/show-provenance.js");
    return showProvenance({ repoRoot: args.repo, dataset: args.dataset as string, collection: args.collection as string | undefined, json: args.json, out: (t) => process.stdout.write(t) });
  },
};
