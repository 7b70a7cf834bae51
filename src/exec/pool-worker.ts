/**
 * A worker thread of the local pool: runs the module-task jobs it is sent, one at a time, and posts
 * each outcome back. Started by PoolExecutor with `workerData = { repoRoot }`.
 */
import { parentPort, workerData } from "node:worker_threads";
import { BlobStore } from "../store/blob-store.js";
import { loadHasher } from "../store/hasher.js";
import type { QuantumJob } from "./quantum-job.js";
import { runQuantumJob } from "./run-quantum-job.js";

process.setSourceMapsEnabled(true);
const { repoRoot, fsync } = workerData as { repoRoot: string; fsync: boolean };
const blobs = new BlobStore(repoRoot, await loadHasher(), { fsync });

parentPort!.on("message", async (job: QuantumJob) => {
  const outcome = await runQuantumJob(job, blobs);
  parentPort!.postMessage(outcome);
});
