import type { CommandSpec } from "../command-spec.js";
import { addPlanFlags, readPlanFlags } from "../run-flags.js";

export const graphCommand: CommandSpec = {
  command: "graph <pipeline> [targets..]",
  describe: "build the quantum graph: save it (-o), summarise it, or draw it",
  builder: (y) =>
    addPlanFlags(y)
      .positional("pipeline", { type: "string", describe: "pipeline file (YAML)" })
      .positional("targets", { type: "string", array: true, describe: "datasets to make (TYPE@DATAID), pruning the graph to what they need" })
      .option("save", { alias: "o", type: "string", describe: "write the plan to this file (run it with 'quanta exec')" })
      .option("summary", { type: "boolean", default: false, describe: "print quanta per task and datasets per type (the default)" })
      .option("list", { type: "boolean", default: false, describe: "print every quantum with its inputs and outputs" })
      .option("dot", { type: "boolean", default: false, describe: "print the task graph in Graphviz DOT" })
      .option("mermaid", { type: "boolean", default: false, describe: "print the task graph as a Mermaid flowchart" })
      .option("quanta", { type: "boolean", default: false, describe: "with --dot or --mermaid: draw quanta and datasets" })
      .option("explain", { type: "boolean", default: false, describe: "print every join step: rows per input, relation and task" }),
  async handler(args) {
    const { UsageError } = await import("../../core/errors.js");
    const chosen = (["summary", "list", "dot", "mermaid", "explain"] as const).filter((k) => args[k] === true);
    if (chosen.length > 1) throw new UsageError(`choose one of --${chosen.join(", --")}`);
    if (args.quanta === true && !chosen.some((c) => c === "dot" || c === "mermaid")) {
      throw new UsageError("--quanta goes with --dot or --mermaid");
    }
    const save = args.save as string | undefined;
    const display = chosen[0] ?? (save !== undefined && args.quiet ? "none" : "summary");
    const { runGraphCommand } = await import("../../app/build-graph.js");
    return runGraphCommand({
      repoRoot: args.repo,
      pipelineFile: args.pipeline as string,
      targets: (args.targets as string[] | undefined) ?? [],
      flags: readPlanFlags(args),
      ...(save === undefined ? {} : { save }),
      display,
      quanta: args.quanta as boolean,
      json: args.json,
      out: (t) => process.stdout.write(t),
      err: (t) => process.stderr.write(t),
    });
  },
};
