import type { CommandSpec } from "../command-spec.js";

export const datasetsCommand: CommandSpec = {
  command: "datasets",
  describe: "list datasets in the repository",
  builder: (y) =>
    y
      .option("type", { type: "string", describe: "only this dataset type" })
      .option("collection", { type: "string", describe: "only this collection" })
      .option("where", { type: "string", describe: "only data IDs matching this expression" })
      .option("bind", { type: "array", string: true, default: [], describe: "name=value for :name in --where" }),
  async handler(args) {
    const { listDatasets } = await import("../../app/list-datasets.js");
    const { parseBindings } = await import("../../core/query/query.js");
    return listDatasets({
      repoRoot: args.repo,
      type: args.type as string | undefined,
      collection: args.collection as string | undefined,
      where: args.where as string | undefined,
      bind: parseBindings(args.bind as string[]),
      json: args.json,
      out: (t) => process.stdout.write(t),
    });
  },
};
