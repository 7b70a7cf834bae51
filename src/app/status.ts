/**
 * `quanta status` and `quanta why`: resolve every quantum of the plan against the repository without
 * running anything. Both are readers: they take no lock and write nothing, planning over a preview of
 * the ingest (plan-pipeline.ts), so they answer while a run holds the repository. A quantum will run (stale now), may run (an upstream quantum will run first and
 * may or may not change its inputs), or is up to date.
 */
import { resolve } from "node:path";
import type { EventBody, StatusCounts } from "../core/events.js";
import { formatReason } from "../core/explain.js";
import { formatPlanWarning } from "../core/plan-warning.js";
import { UsageError } from "../core/errors.js";
import type { QuantumGraph } from "../core/quantum-graph.js";
import { dryRun, type QuantumStatus, type QuantumVerdict } from "../core/dry-run.js";
import { QuantumResolver } from "../core/quantum-resolver.js";
import { readForcedTasks } from "../core/forced-tasks.js";
import { tempProducersToRun } from "../core/temp-outputs.js";
import { viewOf } from "../store/repository-view.js";
import { openRepository, type Repository } from "../store/repository.js";
import { formatStatus } from "../ui/format-status.js";
import { printJsonEvents } from "../ui/json-reporter.js";
import { planPipeline, type PlanRequest } from "./plan-pipeline.js";
import { readCollectionRun } from "./last-run.js";
import { parseQuantumRef } from "./parse-quantum-ref.js";
import { connectServer } from "./connect-server.js";
import { emitterFor, openReporter, type ExecFlags, type OutputFlags } from "./run-pipeline.js";
import { checkClusterFlags } from "./run-session.js";
import { checkSlurmResources } from "./slurm-session.js";
import { ClusterPlan } from "../core/cluster-plan.js";
import { estimateSlurmJobs } from "../core/slurm-estimate.js";

/**
 * Resolves the quanta of the plan as a run would, without running anything (core/dry-run.ts): every
 * one, or (`until`) those that decide that one.
 */
export function resolveStatuses(graph: QuantumGraph, repo: Repository, collection: string, options: { until?: number; force?: readonly string[] } = {}): QuantumVerdict[] {
  const forced = readForcedTasks(options.force, graph);
  const view = viewOf(repo);
  // As a run does: producers whose dropped temp outputs are needed run first (core/temp-outputs.ts).
  const needed = tempProducersToRun(graph, (n) => new QuantumResolver(graph, view, collection, { forced, needed: n }), (d) => view.blobExists(d));
  return dryRun(graph, new QuantumResolver(graph, view, collection, { forced, needed }), options.until) as QuantumVerdict[];
}

const LABEL: Record<QuantumStatus, string> = { "will-run": "will run", "may-run": "may run", "up-to-date": "up to date", blocked: "blocked" };
const FIELD: Record<QuantumStatus, keyof StatusCounts> = { "will-run": "willRun", "may-run": "mayRun", "up-to-date": "upToDate", blocked: "blocked" };

export async function showStatus(req: PlanRequest & { output: OutputFlags; list: boolean; executor?: Pick<ExecFlags, "executor" | "clusterBy" | "clusterSize">; out: (t: string) => void }): Promise<number> {
  const slurm = req.executor?.executor === "slurm" ? req.executor : undefined;
  checkClusterFlags(req.executor);
  if (slurm === undefined && (await statusFromServer(req))) return 0;
  const reporter = req.output.json ? await openReporter(req.output) : undefined;
  const emit = reporter ? emitterFor(reporter) : () => undefined;
  const repo = await openRepository(req.repoRoot, { write: false, ifMissing: "empty" });
  try {
    const plan = await planPipeline(req, repo, emit);
    const { graph, collection, warnings } = plan;
    if (!reporter) for (const w of warnings) process.stderr.write(`warning: ${formatPlanWarning(w)}\n`);
    const verdicts = resolveStatuses(graph, plan.repo, collection, { force: req.flags.force });
    const perTask = new Map(graph.tasks.map((t) => [t.label, { task: t.label, total: 0, willRun: 0, mayRun: 0, upToDate: 0, blocked: 0 }]));
    const counts: StatusCounts = { willRun: 0, mayRun: 0, upToDate: 0, blocked: 0 };
    verdicts.forEach((v, id) => {
      const t = perTask.get(graph.taskOf(id))!;
      t.total++;
      t[FIELD[v.status]]++;
      counts[FIELD[v.status]]++;
    });
    const body: EventBody = { event: "status", pipeline: graph.pipeline.name, collection, repository: resolve(req.repoRoot), counts, tasks: [...perTask.values()] };
    if (slurm !== undefined) {
      checkSlurmResources(graph, slurm.clusterBy);
      const plan = new ClusterPlan(graph.pipeline, { by: slurm.clusterBy, size: slurm.clusterSize });
      body.slurm = estimateSlurmJobs(graph, plan, (id) => verdicts[id]!.status === "will-run" || verdicts[id]!.status === "may-run");
    }
    if (req.list && !req.output.json) {
      verdicts.forEach((v, id) => {
        if (v.status === "up-to-date") return;
        const key = graph.quantumKey(id);
        req.out(`${LABEL[v.status]}  ${graph.taskOf(id)}${key ? "@" + key : ""}: ${v.reasons.map(formatReason).join("; ")}\n`);
      });
    }
    if (reporter) emit(body);
    else req.out(formatStatus({ v: 1, time: Date.now(), ...body } as Parameters<typeof formatStatus>[0], statusWidth()).join("\n") + "\n");
    return 0;
  } finally {
    await repo.close();
    await reporter?.close();
  }
}

/**
 * `quanta status` answered by a watch that holds the repository, when it knows the answer from memory
 * (its last pass was of the same plan, every quantum is up to date, nothing changed since): printed
 * as the standalone status prints it. False when no watch answers so.
 */
async function statusFromServer(req: PlanRequest & { output: OutputFlags; out: (t: string) => void }): Promise<boolean> {
  const server = await connectServer(req.repoRoot);
  if (server === undefined) return false;
  const events = await server.status({ pipelineFile: resolve(req.pipelineFile), targets: req.targets, flags: req.flags });
  if (events === undefined) return false;
  if (req.output.json) {
    printJsonEvents(req.out, events);
    return true;
  }
  for (const e of events) {
    if (e.event === "plan-warning") process.stderr.write(`warning: ${e.message}\n`);
    if (e.event === "status") req.out(formatStatus(e, statusWidth()).join("\n") + "\n");
  }
  return true;
}

/** `quanta why QUANTUM`: the verdict on one quantum, with the chain of upstream quanta that decide it. */
export async function explainQuantum(req: Omit<PlanRequest, "pipelineFile"> & { pipelineFile?: string; quantum: string; json?: boolean; out: (t: string) => void }): Promise<number> {
  // The latest run into the collection asked for (--output), else the latest run.
  const last = readCollectionRun(req.repoRoot, req.flags.output);
  const pipelineFile = req.pipelineFile ?? last?.pipeline;
  if (!pipelineFile) {
    const where = req.flags.output === undefined ? req.repoRoot : `collection ${req.flags.output} of ${req.repoRoot}`;
    throw new UsageError(`no run recorded in ${where}`, "name the pipeline with --pipeline FILE");
  }
  const flags = req.pipelineFile || !last ? req.flags : { ...last.flags, ...definedOnly(req.flags) };
  const repo = await openRepository(req.repoRoot, { write: false, ifMissing: "empty" });
  try {
    const plan = await planPipeline({ ...req, pipelineFile, flags }, repo, () => undefined);
    const { graph, collection, pipeline, warnings } = plan;
    if (!req.json) for (const w of warnings) process.stderr.write(`warning: ${formatPlanWarning(w)}\n`);
    const ref = parseQuantumRef(req.quantum, pipeline.dimensions, "quantum");
    const id = graph.findQuantum(ref.name, ref.key);
    if (id < 0) {
      const known = graph.tasks.some((t) => t.label === ref.name);
      throw new UsageError(
        known ? `the plan has no quantum ${ref.name}@${ref.key}` : `the pipeline has no task "${ref.name}"`,
        known ? "list the plan with 'quanta graph PIPELINE' or 'quanta status PIPELINE --list'" : `tasks: ${graph.tasks.map((t) => t.label).join(", ")}`,
      );
    }
    const verdicts = resolveStatuses(graph, plan.repo, collection, { until: id, force: req.flags.force });
    if (req.json) {
      // The quantum's verdict, then the verdicts of the upstream quanta it waits on.
      const upstream = verdicts[id]!.reasons.flatMap((r) => (r.kind === "upstream-pending" || r.kind === "upstream-failed" ? [r.producer] : []));
      const show = (qid: number) => ({ quantum: graph.quantumName(qid), status: verdicts[qid]!.status, reasons: verdicts[qid]!.reasons });
      printJsonEvents(req.out, [{ event: "why", ...show(id), upstream: upstream.map((p) => show(findByName(graph, p))) }]);
      return 0;
    }
    const printed = new Set<number>();
    const print = (qid: number, indent: string) => {
      const key = graph.quantumKey(qid);
      const v = verdicts[qid]!;
      req.out(`${indent}${graph.taskOf(qid)}${key ? "@" + key : ""} ${LABEL[v.status]}${v.reasons.length ? ":" : ""}\n`);
      if (printed.has(qid)) return;
      printed.add(qid);
      for (const r of v.reasons) {
        req.out(`${indent}  - ${formatReason(r)}\n`);
        if (r.kind === "upstream-pending" || r.kind === "upstream-failed") {
          const producer = findByName(graph, r.producer);
          if (producer >= 0 && !printed.has(producer)) print(producer, indent + "    ");
        }
      }
    };
    print(id, "");
    return 0;
  } finally {
    await repo.close();
  }
}

/** The quantum named `task@key` (as reasons name producers), or -1. */
function findByName(graph: QuantumGraph, name: string): number {
  const at = name.indexOf("@");
  return graph.findQuantum(name.slice(0, at), name.slice(at + 1));
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0))) as Partial<T>;
}

/** The width the status table wraps its closing sentence at: the terminal's; none when piped. */
function statusWidth(): number | undefined {
  return process.stdout.isTTY ? process.stdout.columns || 100 : undefined;
}
