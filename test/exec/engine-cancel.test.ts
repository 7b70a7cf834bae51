/**
 * A quantum cancelled through QuantumExecutor.cancel (not by the run's own stop) ends through its sink
 * marked `cancelled`: the engine reports it as failed for this run, does not retry it, and records
 * nothing, so the next run starts it again (quantum-job.ts).
 */
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { EventBody } from "../../src/core/events.js";
import { runGraph } from "../../src/exec/engine.js";
import { planPipeline } from "../../src/app/plan-pipeline.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { makeChainFixture } from "../integration/chain-fixture.js";
import { FakeCluster, FakeExecutor } from "../helpers/fake-executor.js";

let fx: ReturnType<typeof makeChainFixture>;
let repo: Repository;
beforeEach(async () => {
  fx = makeChainFixture(2);
  repo = await openRepository(fx.repo, { write: true, command: "test" });
});
afterEach(async () => {
  await repo.close();
  fx.cleanup();
});

describe("16 a quantum cancelled through the executor", () => {
  it("16 is reported as failed for this run, not retried, and not recorded: the next run starts it again", async () => {
    const cluster = new FakeCluster();
    const events: EventBody[] = [];
    const request = { repoRoot: fx.repo, pipelineFile: join(fx.dir, "chain.yaml"), targets: [], flags: { bind: [], config: [] } };
    const plan = await planPipeline(request, repo, (e) => events.push(e));
    const executor = new FakeExecutor({ blobs: repo.blobs, cluster, ends: "held", slots: 2 });
    const running = runGraph({ graph: plan.graph, repo, collection: plan.collection, executor, emit: (e) => events.push(e), retries: 2, failFast: false });
    while (cluster.pending.size < 2) await new Promise((r) => setImmediate(r));
    const victim = [...cluster.pending.values()][0]!.job;
    executor.cancel([victim.quantum]);
    const release = setInterval(() => cluster.release(), 1);
    await running;
    clearInterval(release);
    expect(events.filter((e) => e.event === "quantum-retrying")).toEqual([]);
    expect(events.filter((e) => e.event === "quantum-failed")).toMatchObject([{ quantum: victim.quantum, error: "cancelled" }]);
    const q = plan.graph.quantum(victim.quantum);
    expect(repo.registry.getQuantum(plan.collection, q.task, q.key)).toBeUndefined();
  });
});
