import type { CommandSpec } from "../command-spec.js";

export const reportCommand: CommandSpec = {
  command: "report",
  describe: "write one self-contained HTML page for a run: what ran and why, a timeline, failures with logs, the plan",
  builder: (y) =>
    y
      .option("run", { type: "string", describe: "the run's id (default: the latest run)" })
      .option("out", { alias: "o", type: "string", demandOption: true, describe: "the HTML file to write, e.g. report.html" }),
  async handler(args) {
    const { writeReport } = await import("../../app/write-report.js");
    return writeReport({ repoRoot: args.repo, run: args.run as string | undefined, outputFile: args.out as string, out: (t) => process.stdout.write(t) });
  },
};
