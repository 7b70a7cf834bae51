import type { CommandSpec } from "../command-spec.js";

export const gcCommand: CommandSpec = {
  command: "gc",
  describe: "delete blobs that nothing references, and leftover temporary files",
  builder: (y) => y,
  async handler(args) {
    const { runGc } = await import("../../app/gc.js");
    return runGc({ repoRoot: args.repo, json: args.json, out: (t) => process.stdout.write(t) });
  },
};
