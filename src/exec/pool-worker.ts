/**
 * A worker thread of the local pool: runs the module-task jobs it is sent, one at a time, and posts
 * each outcome back. Started by PoolExecutor with `workerData = { repoRoot, durability }`. Its blobs
 * are made durable by the scheduler's flush (a file-system sync covers every thread's writes).
 */
import { parentPort, workerData } from "node:worker_threads";
import { BlobStore, type BlobDurability } from "../store/blob-store.js";
import { loadHasher } from "../store/hasher.js";
import type { QuantumJob } from "./quantum-job.js";
import { runQuantumJob } from "./run-quantum-job.js";

process.setSourceMapsEnabled(true);
const { repoRoot, durability } = workerData as { repoRoot: string; durability: BlobDurability };
const blobs = new BlobStore(repoRoot, await loadHasher(), { durability: durability === "per-blob" ? "per-blob" : "none" });

parentPort!.on("message", async (job: QuantumJob) => {
  const outcome = await runQuantumJob(job, blobs);
  parentPort!.postMessage(outcome);
});
