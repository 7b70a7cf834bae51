/**
 * What a Slurm job runs: `node dist/exec/slurm/slurm-job.js <element file>` (see slurm-files.ts). It
 * runs the element's quanta one after another (a cluster's chains depth first: a follow-on quantum
 * gets the inputs made before it in the element, and its key, here) with the same code as the local executors
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
import { failIfAbandoned } from "../abandoned-process.js";
import { CommandHost } from "../command-host.js";
import type { FollowOnJob, OutputBlob, QuantumJob } from "../quantum-job.js";
import { computeQuantumKey } from "../../core/quantum-key.js";
import type { Hasher } from "../../core/digest.js";
import { runQuantumJob, type JobOutcome } from "../run-quantum-job.js";
import { resultFileName, SLURM_FILES_FORMAT, writeFileWhole, type ElementFile, type ResultRecord } from "./slurm-files.js";

const HOST = hostname();
/**
 * How long ended quanta wait for others before their records are written: the blob store is synced
 * once per batch of records, not once per quantum (a sync costs more than a short quantum).
 */
const RECORD_INTERVAL_MS = 250;

async function main(elementPath: string): Promise<number> {
  const element = JSON.parse(readFileSync(elementPath, "utf8")) as ElementFile;
  const dir = dirname(elementPath);
  const jobId = process.env.SLURM_ARRAY_JOB_ID !== undefined ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}` : (process.env.SLURM_JOB_ID ?? "");
  if (element.format !== SLURM_FILES_FORMAT) {
    for (const step of element.steps ?? []) {
      if (step.job === undefined) continue;
      const error = `job file format ${element.format}, ${SLURM_FILES_FORMAT} expected: the head and this node run different versions of quanta`;
      writeRecord(dir, step.job, jobId, { ok: false, error, log: "", startedAt: Date.now(), finishedAt: Date.now() });
    }
    return 1;
  }
  const repoRoot = element.steps[0]?.job?.repoRoot;
  if (repoRoot === undefined) return 0;
  const hasher = await loadHasher();
  const blobs = new BlobStore(repoRoot, hasher, { durability: "deferred" });
  const host = new CommandHost(join(repoRoot, "tmp"));
  /** What each quantum of the element made, for the ones that follow it. */
  const made = new Map<number, Record<string, MadeOutput>>();
  // Records go out in batches: one sync of the blob store for all of them, then each renamed into place.
  const ended: { job: QuantumJob; outcome: JobOutcome }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const writeEnded = async () => {
    const n = ended.length;
    if (n === 0) return;
    // The outputs are durable before a record names them.
    if (ended.slice(0, n).some((e) => e.outcome.ok)) await blobs.flushAsync();
    for (const e of ended.splice(0, n)) writeRecord(dir, e.job, jobId, e.outcome);
  };
  // No handler for SIGTERM (Slurm ending the element): the process ends at once, as its commands do,
  // so a command cut short can never pass for one that ended. What ended more than RECORD_INTERVAL_MS
  // earlier has its record already.
  try {
    for (const step of element.steps) {
      const job = step.job ?? fillFollowOn(step.followOn, made, hasher);
      if (job === undefined) continue;
      if (step.followOn?.previous !== undefined && job.key === step.followOn.previous.key) {
        // As the head would: the result it has for this key stands.
        made.set(job.quantum, step.followOn.previous.outputs);
        continue;
      }
      const outcome = await runQuantumJob(job, blobs, { host });
      if (outcome.ok && !outcome.noWork) made.set(job.quantum, madeOutputs(outcome, blobs));
      ended.push({ job, outcome });
      timer ??= setTimeout(() => {
        timer = undefined;
        writing = writing.then(writeEnded);
      }, RECORD_INTERVAL_MS);
    }
  } finally {
    clearTimeout(timer);
    try {
      await writing;
      await writeEnded();
    } finally {
      await host.close();
    }
  }
  return 0;
}

/** An output made in the element, as a later quantum reads it: its file, or its bytes when small. */
type MadeOutput = OutputBlob & { path?: string; bytes?: Uint8Array };

function madeOutputs(outcome: Extract<JobOutcome, { ok: true }>, blobs: BlobStore): Record<string, MadeOutput> {
  const small = new Map(outcome.bytes ?? []);
  const out: Record<string, MadeOutput> = {};
  for (const name in outcome.outputs) {
    const { digest, size } = outcome.outputs[name]!;
    const bytes = small.get(digest);
    out[name] = bytes !== undefined ? { digest, size, bytes } : { digest, size, path: blobs.pathOf(digest) };
  }
  return out;
}

/**
 * A follow-on's job with the inputs made earlier in the element filled in, and its key computed; or
 * undefined when one of them was not made (its quantum failed, found no work, or did not run): the
 * head decides that quantum itself.
 */
function fillFollowOn(followOn: FollowOnJob, made: ReadonlyMap<number, Record<string, MadeOutput>>, hasher: Hasher): QuantumJob | undefined {
  const { job, manifest } = followOn;
  for (const hole of followOn.holes) {
    const output = made.get(hole.quantum)?.[hole.output];
    if (output === undefined) return undefined;
    const items = job.inputs[hole.connection]!.items;
    const item = items[hole.item]!;
    items[hole.item] = output.bytes !== undefined ? { ...item, digest: output.digest, bytes: output.bytes } : { ...item, digest: output.digest, path: output.path };
    manifest.inputs[hole.manifestIndex]!.digest = output.digest;
  }
  return { ...job, key: computeQuantumKey(manifest, hasher) };
}

function writeRecord(dir: string, job: QuantumJob, jobId: string, outcome: JobOutcome): void {
  const { bytes, ...rest } = outcome;
  const record: ResultRecord = { format: SLURM_FILES_FORMAT, quantum: job.quantum, key: job.key, attempt: job.attempt, host: HOST, jobId, outcome: rest };
  if (bytes !== undefined) record.bytes = bytes.map(([digest, b]) => [digest, Buffer.from(b).toString("base64")]);
  writeFileWhole(join(dir, resultFileName(job.quantum, job.attempt)), JSON.stringify(record));
}

const elementPath = process.argv[2];
if (elementPath === undefined) {
  process.stderr.write("usage: node slurm-job.js ELEMENT_FILE\n");
  process.exit(2);
}
const job = main(elementPath).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`quanta slurm job: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
// Exit code 1, as for any job that did not write all its records (Slurm says FAILED).
failIfAbandoned(job, 1);
