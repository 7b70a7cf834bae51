import type { CommandSpec } from "../command-spec.js";
import { addExecutorFlags, addForceFlag, addPlanFlags, readExecutorFlags, readPlanFlags } from "../run-flags.js";

export const statusCommand: CommandSpec = {
  command: "status <pipeline> [targets..]",
  describe: "dry run: what would run, what may run, what is up to date",
  builder: (y) =>
    addExecutorFlags(addForceFlag(addPlanFlags(y)))
      .positional("pipeline", { type: "string", describe: "pipeline file (YAML)" })
      .positional("targets", { type: "string", array: true, describe: "datasets to make" })
      .option("list", { type: "boolean", default: false, describe: "list each quantum that will or may run, with its reasons" }),
  handler: (args) => printStatus(args, args.list as boolean),
};

/** `quanta status`, and `quanta run --dry-run` (without `--list`). */
export async function printStatus(args: Record<string, unknown> & { repo: string; json: boolean; quiet: boolean }, list: boolean): Promise<number> {
  const { showStatus } = await import("../../app/status.js");
  return showStatus({
    repoRoot: args.repo,
    pipelineFile: args.pipeline as string,
    targets: (args.targets as string[] | undefined) ?? [],
    flags: readPlanFlags(args),
    output: { json: args.json, quiet: args.quiet, plain: true },
    list,
    executor: readExecutorFlags(args),
    out: (t) => process.stdout.write(t),
  });
}
