import type { CommandSpec } from "../command-spec.js";

export const verifyCommand: CommandSpec = {
  command: "verify",
  describe: "re-hash every blob; report missing or corrupt ones (exit 3 if any)",
  builder: (y) => y,
  async handler(args) {
    const { runVerify } = await import("../../app/verify.js");
    return runVerify({ repoRoot: args.repo, json: args.json, out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) });
  },
};
