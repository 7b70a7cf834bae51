/**
 * What a Slurm job runs: `node dist/exec/slurm/slurm-job.js <element file>` (see slurm-files.ts). It
 * runs the element's quanta one after another with the same code as the local executors
 * (run-quantum-job.ts): reads the inputs from the blob store, runs the task (a TypeScript module in
 * this process, a command in a sandbox under the repository's `tmp/`, named with this host), writes the
 * outputs into the blob store, syncs them, and leaves one result record per quantum. It never opens
 * the registry: the head ingests the records.
 *
 * Exit code 0 when every record was written (a quantum that failed is a record too), 1 otherwise: Slurm
 * then says FAILED, and the head fails the quanta left without a record with the element's output.
 */
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { BlobStore } from "../../store/blob-store.js";
import { loadHasher } from "../../store/hasher.js";
import { CommandHost } from "../command-host.js";
import type { QuantumJob } from "../quantum-job.js";
import { runQuantumJob, type JobOutcome } from "../run-quantum-job.js";
import { resultFileName, SLURM_FILES_FORMAT, writeFileDurably, type ElementFile, type ResultRecord } from "./slurm-files.js";

const HOST = hostname();

async function main(elementPath: string): Promise<number> {
  const element = JSON.parse(readFileSync(elementPath, "utf8")) as ElementFile;
  const dir = dirname(elementPath);
  const jobId = process.env.SLURM_ARRAY_JOB_ID !== undefined ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}` : (process.env.SLURM_JOB_ID ?? "");
  if (element.format !== SLURM_FILES_FORMAT) {
    for (const job of element.jobs ?? []) {
      const error = `job file format ${element.format}, ${SLURM_FILES_FORMAT} expected: the head and this node run different versions of quanta`;
      writeRecord(dir, job, jobId, { ok: false, error, log: "", startedAt: Date.now(), finishedAt: Date.now() });
    }
    return 1;
  }
  const repoRoot = element.jobs[0]?.repoRoot;
  if (repoRoot === undefined) return 0;
  const blobs = new BlobStore(repoRoot, await loadHasher(), { durability: "deferred" });
  const host = new CommandHost(join(repoRoot, "tmp"));
  try {
    for (const job of element.jobs) {
      const outcome = await runQuantumJob(job, blobs, { host });
      // The outputs are durable before a record names them.
      if (outcome.ok) await blobs.flushAsync();
      writeRecord(dir, job, jobId, outcome);
    }
  } finally {
    await host.close();
  }
  return 0;
}

function writeRecord(dir: string, job: QuantumJob, jobId: string, outcome: JobOutcome): void {
  const { bytes, ...rest } = outcome;
  const record: ResultRecord = { format: SLURM_FILES_FORMAT, quantum: job.quantum, key: job.key, attempt: job.attempt, host: HOST, jobId, outcome: rest };
  if (bytes !== undefined) record.bytes = bytes.map(([digest, b]) => [digest, Buffer.from(b).toString("base64")]);
  writeFileDurably(join(dir, resultFileName(job.quantum, job.attempt)), JSON.stringify(record));
}

const elementPath = process.argv[2];
if (elementPath === undefined) {
  process.stderr.write("usage: node slurm-job.js ELEMENT_FILE\n");
  process.exit(2);
}
main(elementPath).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`quanta slurm job: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
