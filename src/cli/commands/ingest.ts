import type { CommandSpec } from "../command-spec.js";

export const ingestCommand: CommandSpec = {
  command: "ingest <pipeline>",
  describe: "register the pipeline's input files in its input collection (raw/<pipeline name>)",
  builder: (y) =>
    y
      .positional("pipeline", { type: "string", describe: "pipeline file (YAML)" })
      .option("fsync", { type: "boolean", default: true, describe: "fsync each blob (--no-fsync: faster, less safe on power loss)" }),
  async handler(args) {
    const { runIngest } = await import("../../app/ingest.js");
    return runIngest({
      repoRoot: args.repo,
      pipelineFile: args.pipeline as string,
      fsync: args.fsync as boolean,
      json: args.json,
      quiet: args.quiet,
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  },
};
