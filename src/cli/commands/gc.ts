import type { CommandSpec } from "../command-spec.js";

export const gcCommand: CommandSpec = {
  command: "gc",
  describe: "delete blobs that nothing references, old cached results by policy, and leftover temporary files",
  builder: (y) =>
    y
      .option("keep-age", { type: "string", describe: "keep cached results used within this age (s, m, h, d: 7d); older ones go" })
      .option("max-size", { type: "string", describe: "keep the store within this size (500M, 2G), dropping the least recently used cached results first" })
      .option("dry-run", { alias: "n", type: "boolean", default: false, describe: "delete nothing: print what would be deleted" }),
  async handler(args) {
    const { runGc } = await import("../../app/gc.js");
    return runGc({
      repoRoot: args.repo,
      json: args.json,
      keepAge: args["keep-age"] as string | undefined,
      maxSize: args["max-size"] as string | undefined,
      dryRun: args["dry-run"] === true,
      out: (t) => process.stdout.write(t),
    });
  },
};
