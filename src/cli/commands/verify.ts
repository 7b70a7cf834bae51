import type { CommandSpec } from "../command-spec.js";

export const verifyCommand: CommandSpec = {
  command: "verify",
  describe: "re-hash every blob; report missing or corrupt ones (exit 3 if any)",
  builder: (y) =>
    y.option("repair", {
      type: "boolean",
      default: false,
      describe: "set corrupt blobs aside (in quarantine/) and drop the results computed from them; the next run recomputes them",
    }),
  async handler(args) {
    const { runVerify } = await import("../../app/verify.js");
    return runVerify({ repoRoot: args.repo, json: args.json, repair: args.repair === true, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
  },
};
