import type { CommandSpec } from "../command-spec.js";

export const showCommand: CommandSpec = {
  command: "show <what> <pipeline> [label]",
  describe: "print the pipeline, config, tasks or dimensions",
  builder: (y) =>
    y
      .positional("what", { type: "string", choices: ["pipeline", "config", "tasks", "dimensions"], describe: "what to print" })
      .positional("pipeline", { type: "string", describe: "pipeline file (YAML)" })
      .positional("label", { type: "string", describe: "only this task" })
      .option("tasks", { type: "string", describe: "labels or subsets, comma-separated; +name adds its ancestors" })
      .option("config", { type: "string", array: true, default: [], describe: "override a config value (label.key=value)" }),
  async handler(args) {
    const { showPipeline } = await import("../../app/show.js");
    const text = await showPipeline({
      what: args.what as "pipeline" | "config" | "tasks" | "dimensions",
      pipelineFile: args.pipeline as string,
      label: args.label as string | undefined,
      config: (args.config as string[] | undefined) ?? [],
      tasks: args.tasks as string | undefined,
      json: args.json,
    });
    process.stdout.write(text);
    return 0;
  },
};
