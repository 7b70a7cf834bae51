/**
 * 15.4: the local executors cancel one quantum (`QuantumExecutor.cancel`): its command's process group
 * is killed, its outcome is a failure marked `cancelled`, and the others run on. The engine here is
 * driven through a thin executor that cancels the slow quantum as soon as it has started.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventBody } from "../../src/core/events.js";
import { runGraph } from "../../src/exec/engine.js";
import { InProcessExecutor } from "../../src/exec/in-process-executor.js";
import { PoolExecutor } from "../../src/exec/pool-executor.js";
import type { OutcomeSink, QuantumExecutor, QuantumJob } from "../../src/exec/quantum-job.js";
import { planPipeline } from "../../src/app/plan-pipeline.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { makeTempDir } from "../helpers/cli.js";
import { isDead } from "./process-state.js";

const pipeline = (pidFile: string) => `dimensions: { item: int }
inputs:
  raw: { path: "data/{item}.txt", storage: text }
tasks:
  copy:
    command: 'read v < {inputs.raw}; if [ "$v" = slow ]; then echo $$ > ${pidFile}; sleep 60; fi; cp {inputs.raw} {outputs.out}'
    dimensions: [item]
    inputs: { raw: { type: raw, dimensions: [item], storage: text } }
    outputs: { out: { type: copied, dimensions: [item], storage: text } }
`;

let dir: string;
let cleanup: () => void;
let repo: Repository;
beforeEach(async () => {
  ({ dir, cleanup } = makeTempDir("quanta-cancel-"));
  mkdirSync(join(dir, "data"));
  for (let i = 1; i <= 4; i++) writeFileSync(join(dir, "data", `${i}.txt`), i === 2 ? "slow\n" : `${i}\n`);
  writeFileSync(join(dir, "p.yaml"), pipeline(join(dir, "slow.pid")));
  repo = await openRepository(join(dir, "repo"), { write: true, command: "test" });
});
afterEach(async () => {
  await repo.close();
  cleanup();
});

/** Passes everything to `inner`, and cancels a quantum as soon as its command has said it runs. */
function cancellingWhenSlow(inner: QuantumExecutor, pidFile: string): QuantumExecutor {
  return {
    kind: inner.kind,
    slots: inner.slots,
    queued: inner.queued,
    submit(jobs: readonly QuantumJob[], sink: OutcomeSink) {
      inner.submit(jobs, {
        started: (q) => {
          sink.started(q);
          if (jobs[0]!.dataId.item !== 2) return;
          const poll = setInterval(() => {
            try {
              readFileSync(pidFile);
            } catch {
              return;
            }
            clearInterval(poll);
            inner.cancel([q]);
          }, 10);
        },
        finished: (q, outcome) => sink.finished(q, outcome),
      });
    },
    cancel: (quanta) => inner.cancel(quanta),
    stop: () => inner.stop(),
    unfinished: () => inner.unfinished(),
    adopt: (job, sink) => inner.adopt(job, sink),
    abandon: (keys) => inner.abandon(keys),
    close: () => inner.close(),
  };
}

describe("15.4 cancelling one quantum on a local executor", () => {
  for (const jobs of [1, 2]) {
    it(`15.4 -j ${jobs}: the cancelled command is killed and fails as cancelled; the other quanta run`, async () => {
      const executor = jobs === 1 ? new InProcessExecutor(repo.blobs, repo.root) : new PoolExecutor(jobs, repo.blobs, repo.root);
      const pidFile = join(dir, "slow.pid");
      const events: EventBody[] = [];
      const plan = await planPipeline({ repoRoot: repo.root, pipelineFile: join(dir, "p.yaml"), targets: [], flags: { bind: [], config: [] } }, repo, (e) => events.push(e));
      const started = Date.now();
      try {
        const result = await runGraph({ graph: plan.graph, repo, collection: "p", executor: cancellingWhenSlow(executor, pidFile), emit: (e) => events.push(e), retries: 0, failFast: false });
        expect(Date.now() - started).toBeLessThan(30_000);
        expect(result.counts).toMatchObject({ ran: 3, failed: 1 });
        const failed = events.find((e) => e.event === "quantum-failed");
        expect(failed).toMatchObject({ dataId: "item=2", error: "cancelled" });
        expect(isDead(Number(readFileSync(pidFile, "utf8")))).toBe(true);
      } finally {
        await executor.close();
      }
    });
  }
});
