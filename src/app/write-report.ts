/**
 * `quanta report [--run ID] -o FILE`: writes one self-contained HTML page for a run (ui/report-html.ts)
 * from its journal (run-records.ts) and the registry's execution records of its quanta (their full
 * logs and why they ran). A reader: it takes no lock.
 */
import { formatReason } from "../core/explain.js";
import { QUANTA_VERSION } from "../exec/version.js";
import { openRepository } from "../store/repository.js";
import { writeOutputFile } from "../store/write-output-file.js";
import { renderRunReport, type ReportExecution } from "../ui/report-html.js";
import { loadRunRecord } from "./run-records.js";

export interface WriteReportOptions {
  repoRoot: string;
  /** A run id (`quanta report` names them); the latest run when absent. */
  run?: string;
  outputFile: string;
  /** Where the one-line confirmation goes. */
  out: (text: string) => void;
}

export async function writeReport(options: WriteReportOptions): Promise<number> {
  const record = loadRunRecord(options.repoRoot, options.run);
  const executions = new Map<string, ReportExecution>();
  const repo = await openRepository(options.repoRoot, { write: false });
  try {
    for (const q of record.quanta) {
      if (q.executionId === undefined) continue;
      const exec = repo.registry.getExecution(q.executionId);
      if (exec !== undefined) executions.set(q.executionId, { log: exec.log, reasons: (exec.reasons ?? []).map(formatReason), host: exec.host });
    }
  } finally {
    await repo.close();
  }
  const html = renderRunReport({ record, executions, version: QUANTA_VERSION });
  writeOutputFile(options.outputFile, new TextEncoder().encode(html));
  options.out(`report of run ${record.id} (${record.pipeline} → collection ${record.collection}) written to ${options.outputFile}\n`);
  return 0;
}
