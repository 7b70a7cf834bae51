/** `quanta log QUANTUM`: the captured log of a quantum's latest execution in a collection. */
import { UsageError } from "../core/errors.js";
import { formatReason } from "../core/explain.js";
import { openRepository } from "../store/repository.js";
import { printJsonEvents } from "../ui/json-reporter.js";
import { dimensionsOf, readCollectionRun, readLastRun } from "./last-run.js";
import { parseQuantumRef } from "./parse-quantum-ref.js";

export async function showLog(opts: { repoRoot: string; quantum: string; collection?: string; json: boolean; out: (text: string) => void }): Promise<number> {
  const repo = await openRepository(opts.repoRoot, { write: false });
  try {
    const last = readLastRun(opts.repoRoot);
    if (!last) throw new UsageError(`no run recorded in ${opts.repoRoot}`, "run a pipeline first with 'quanta run PIPELINE'");
    const collection = opts.collection ?? last.collection;
    const ref = parseQuantumRef(opts.quantum, dimensionsOf(repo.registry, readCollectionRun(opts.repoRoot, collection)), "quantum");
    const record = repo.registry.getQuantum(collection, ref.name, ref.key);
    if (!record) throw new UsageError(`quantum ${ref.name}@${ref.key} has not run in collection ${collection}`);
    const exec = repo.registry.getExecution(record.executionId);
    if (!exec) throw new UsageError(`quantum ${ref.name}@${ref.key} was reused from the action cache and has no execution of its own`);
    if (opts.json) {
      printJsonEvents(opts.out, [{ event: "execution", ...exec }]);
      return 0;
    }
    const when = new Date(exec.startedAt).toISOString();
    opts.out(`${exec.task}@${exec.dataId}: ${exec.status} (attempt ${exec.attempt}) on ${exec.host} at ${when}, ${exec.durationMs} ms\n`);
    for (const r of exec.reasons ?? []) opts.out(`  ran because: ${formatReason(r)}\n`);
    if (exec.error) opts.out(`error: ${exec.error}\n`);
    opts.out(exec.log === "" ? "(no log output)\n" : exec.log.endsWith("\n") ? exec.log : exec.log + "\n");
    return 0;
  } finally {
    await repo.close();
  }
}
