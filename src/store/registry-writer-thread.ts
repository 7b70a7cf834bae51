/**
 * The thread of a RegistryWriter (registry-writer.ts): opens the repository's registry and applies
 * each commit it is sent, in order, replying when it is durable or failed.
 */
import { parentPort, workerData } from "node:worker_threads";
import { LmdbRegistry } from "./lmdb-registry.js";
import type { WriterReply, WriterRequest } from "./registry-writer.js";

const { root } = workerData as { root: string };
const registry = await LmdbRegistry.open({ root, readOnly: false });
const port = parentPort!;

port.on("message", async (req: WriterRequest) => {
  let reply: WriterReply;
  try {
    for (const [digest, bytes] of req.blobs) registry.stageBlob(digest, bytes);
    await registry.commit(() => {
      for (const [method, ...args] of req.writes) (registry[method] as (...a: unknown[]) => void)(...args);
    });
    reply = { id: req.id, ok: true };
  } catch (err) {
    reply = { id: req.id, ok: false, message: err instanceof Error ? err.message : String(err) };
  }
  port.postMessage(reply);
});
port.postMessage("ready");
