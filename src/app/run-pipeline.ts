/**
 * `quanta run` and `quanta exec`: one run through a run session (run-session.ts), opened for it and
 * closed after it. The session holds the run logic; a watch mode keeps one open across runs instead.
 */
import type { PlanRequest } from "./plan-pipeline.js";
import { resolve } from "node:path";
import type { QuantaEvent } from "../core/events.js";
import { connectServer } from "./connect-server.js";
import { openReporter, RunSession, type ExecFlags, type OutputFlags } from "./run-session.js";

export { emitterFor, openReporter, type ExecFlags, type OutputFlags } from "./run-session.js";

/** `quanta run`: ingest changed inputs, build the graph, run what is stale; the exit code. */
export async function runPipeline(req: PlanRequest & { exec: ExecFlags; output: OutputFlags }): Promise<number> {
  const served = await runOnServer(req);
  if (served !== undefined) return served;
  const session = await RunSession.open({ repoRoot: req.repoRoot, exec: req.exec, output: req.output, command: "quanta run" });
  try {
    return (await session.run({ pipelineFile: req.pipelineFile, targets: req.targets, flags: req.flags })).exitCode;
  } finally {
    await session.close();
  }
}

/** `quanta exec`: runs a saved plan; the exit code. */
export async function execPlan(opts: { repoRoot: string; planFile: string; collection?: string; exec: ExecFlags; output: OutputFlags }): Promise<number> {
  const session = await RunSession.open({ repoRoot: opts.repoRoot, exec: opts.exec, output: opts.output, command: "quanta exec" });
  try {
    return (await session.runSavedPlan({ planFile: opts.planFile, collection: opts.collection })).exitCode;
  } finally {
    await session.close();
  }
}

/**
 * When a `quanta watch` holds the repository, it runs the request between its passes, on its workers
 * (its -j and --retries); the events come back here and are printed as a standalone run prints them.
 * Undefined when no watch serves the repository.
 */
async function runOnServer(req: PlanRequest & { output: OutputFlags }): Promise<number | undefined> {
  const server = await connectServer(req.repoRoot);
  if (server === undefined) return undefined;
  process.stderr.write(`quanta: the watch (pid ${server.pid}) holding ${resolve(req.repoRoot)} runs this\n`);
  const reporter = await openReporter(req.output);
  try {
    const request = { pipelineFile: resolve(req.pipelineFile), targets: req.targets, flags: req.flags };
    return await server.run(request, (event: QuantaEvent) => reporter.onEvent(event));
  } finally {
    server.close();
    await reporter.close();
  }
}
