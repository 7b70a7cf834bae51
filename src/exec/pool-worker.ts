/**
 * A worker thread of the local pool: runs the module-task jobs it is sent one at a time, in the order
 * they came (it may be sent the next ones while it runs one), and posts each outcome back. Started by PoolExecutor with `workerData = { repoRoot, durability }`. Its blobs
 * are made durable by the scheduler's flush (a file-system sync covers every thread's writes).
 */
import { parentPort, workerData } from "node:worker_threads";
import { BlobStore } from "../store/blob-store.js";
import { loadHasher } from "../store/hasher.js";
import type { TaskNode } from "../core/pipeline.js";
import type { PoolWorkerData, WorkerMessage } from "./module-workers.js";
import type { QuantumJob } from "./quantum-job.js";
import type { JobOutcome } from "./run-quantum-job.js";
import { loadJobModule, runQuantumJob } from "./run-quantum-job.js";
import { CLOCK_STARTS } from "./module-workers.js";

process.setSourceMapsEnabled(true);
const { repoRoot, durability, progress } = workerData as PoolWorkerData;
const blobs = new BlobStore(repoRoot, await loadHasher(), { durability: durability === "per-blob" ? "per-blob" : "none" });

/** At most this many outcomes are held back while more jobs wait. */
const SEND_EVERY = 32;

const waiting: QuantumJob[] = [];
let running = false;
/** The tasks this thread was sent, by number (each is sent once, with its first job). */
const tasks = new Map<number, TaskNode>();

parentPort!.on("message", (messages: WorkerMessage[]) => {
  for (const { job, taskId, task } of messages) {
    if (task) tasks.set(taskId, task);
    waiting.push({ ...job, task: tasks.get(taskId)! });
  }
  if (!running) void runWaiting();
});

async function runWaiting(): Promise<void> {
  running = true;
  let outcomes: JobOutcome[] = [];
  for (let job = waiting.shift(); job; job = waiting.shift()) {
    // A job with a timeout goes alone: the scheduler times it from the moment the outcomes before it
    // arrive until its own does.
    const timed = job.task.timeoutMs !== undefined;
    if (timed && outcomes.length > 0) {
      parentPort!.postMessage(outcomes);
      outcomes = [];
    }
    if (timed) {
      // Its clock starts once its module is loaded (the first job of a fresh thread loads it).
      await loadJobModule(job);
      parentPort!.postMessage(CLOCK_STARTS);
    }
    Atomics.add(progress, 0, 1);
    outcomes.push(await runQuantumJob(job, blobs));
    // Sent once nothing waits, or in parts of SEND_EVERY so the scheduler records some while the rest run.
    if (timed || waiting.length === 0 || outcomes.length >= SEND_EVERY) {
      parentPort!.postMessage(outcomes);
      outcomes = [];
    }
  }
  running = false;
}
