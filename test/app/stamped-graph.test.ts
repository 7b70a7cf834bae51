// The last run's graph, kept beside its stamp (app/since-stamped-run.ts stampedGraph): taken by a run
// after an edit of some inputs, and only when this run's graph is that one.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { loadPipeline } from "../../src/app/load-pipeline.js";
import { stampedGraph } from "../../src/app/since-stamped-run.js";
import type { IngestReport } from "../../src/app/ingest.js";
import type { QuantumGraph } from "../../src/core/quantum-graph.js";
import { encodePlan, loadPlan } from "../../src/store/plan-file.js";
import { keptRunStates, writeRunStamp, type RunStamp } from "../../src/app/stamps.js";
import { openRepository, type Repository } from "../../src/store/repository.js";
import { runCli } from "../helpers/cli.js";
import { makeChainFixture } from "../integration/chain-fixture.js";

let fx: ReturnType<typeof makeChainFixture>;
beforeEach(() => {
  fx = makeChainFixture(5);
});
afterEach(() => fx.cleanup());

const CONFIG = ["double.factor=1"];
const contentOnly = { added: 0, removed: 0, changed: 1, relations: [] } as unknown as IngestReport;

/** Every quantum as `task dataId <- inputs -> outputs`, by dataset type and data ID. */
function describeGraph(graph: QuantumGraph): string[] {
  const ds = (id: number) => `${graph.dataset(id).type}@${graph.dataset(id).key}`;
  return [...graph.allQuanta()].map((q) => `${q.task} ${q.key} <- ${Object.values(q.inputs).flat().map(ds).sort().join(" ")} -> ${Object.values(q.outputs).map(ds).sort().join(" ")}`).sort();
}

async function withRepo<T>(fn: (repo: Repository) => Promise<T>): Promise<T> {
  const repo = await openRepository(fx.repo, { write: true, command: "test" });
  try {
    return await fn(repo);
  } finally {
    await repo.close();
  }
}

describe("stampedGraph", () => {
  it("is the graph the run was planned with, and nothing once the registry moved, the inputs came or went, or the plan is damaged", async () => {
    const run = await runCli(["run", "chain.yaml", "--repo", "repo", "--plain", "--config", ...CONFIG], { cwd: fx.dir });
    expect(run.code, run.stderr).toBe(0);
    const plan = await runCli(["graph", "chain.yaml", "--repo", "repo", "-o", "plan.qg", "--config", ...CONFIG], { cwd: fx.dir });
    expect(plan.code, plan.stderr).toBe(0);
    const built = describeGraph(await loadPlan(join(fx.dir, "plan.qg")));
    const { pipeline } = await loadPipeline(join(fx.dir, "chain.yaml"), { config: CONFIG });

    await withRepo(async (repo) => {
      const stamp = repo.registry.getStamp("run\0chain") as { fingerprint: string };
      const check = { repo, collection: "chain", fingerprint: stamp.fingerprint, generationBefore: repo.registry.generation(), ingest: contentOnly, pipeline };
      const kept = await stampedGraph(check);
      expect(kept).toBeDefined();
      expect(kept!.graph.pipeline).toBe(pipeline);
      expect(describeGraph(kept!.graph)).toEqual(built);
      // Not when the ingest added or removed inputs, changed none, or the registry moved since the stamp.
      expect(await stampedGraph({ ...check, ingest: { ...contentOnly, added: 1 } })).toBeUndefined();
      expect(await stampedGraph({ ...check, ingest: { ...contentOnly, removed: 1 } })).toBeUndefined();
      expect(await stampedGraph({ ...check, ingest: { ...contentOnly, changed: 0 } })).toBeUndefined();
      expect(await stampedGraph({ ...check, generationBefore: check.generationBefore - 1 })).toBeUndefined();
      expect(await stampedGraph({ ...check, fingerprint: "another" })).toBeUndefined();
      // A pipeline of other tasks.
      expect(await stampedGraph({ ...check, pipeline: { ...pipeline, tasks: pipeline.tasks.slice(1) } })).toBeUndefined();
      // Damaged: its digest is not the stamp's.
      const bytes = repo.registry.getStamp("rp\0chain") as Uint8Array;
      const damaged = Uint8Array.from(bytes);
      damaged[damaged.length - 1] ^= 1;
      await repo.registry.commit(() => repo.registry.putStamp("rp\0chain", damaged));
      expect(await stampedGraph(check)).toBeUndefined();
    });

    // A one-shot run after an edit is then planned again, and keeps its plan for the next one.
    writeFileSync(join(fx.dir, "data", "raw-2.txt"), "7\n");
    const again = await runCli(["run", "chain.yaml", "--repo", "repo", "--plain", "--config", ...CONFIG], { cwd: fx.dir });
    expect(again.code, again.stderr).toBe(0);
    await withRepo(async (repo) => {
      const stamp = repo.registry.getStamp("run\0chain") as { fingerprint: string };
      const kept = await stampedGraph({ repo, collection: "chain", fingerprint: stamp.fingerprint, generationBefore: repo.registry.generation(), ingest: contentOnly, pipeline });
      expect(describeGraph(kept!.graph)).toEqual(built);
    });
  });

  it("is not written again by a run that took it: the next run takes it still", async () => {
    const run = await runCli(["run", "chain.yaml", "--repo", "repo", "--plain", "--config", ...CONFIG], { cwd: fx.dir });
    expect(run.code, run.stderr).toBe(0);
    const { pipeline } = await loadPipeline(join(fx.dir, "chain.yaml"), { config: CONFIG });
    const other = await runCli(["graph", "chain.yaml", "--repo", "repo", "-o", "other.qg", "--config", "double.factor=3"], { cwd: fx.dir });
    expect(other.code, other.stderr).toBe(0);
    await withRepo(async (repo) => {
      const { fingerprint, quanta, datasets, tasks, fileBlobs } = repo.registry.getStamp("run\0chain") as RunStamp;
      const rest = { fingerprint, quanta, datasets, tasks };
      const check = () => ({ repo, collection: "chain", fingerprint: rest.fingerprint, generationBefore: repo.registry.generation(), ingest: contentOnly, pipeline });
      const kept = await stampedGraph(check());
      expect(kept).toBeDefined();
      const written: string[] = [];
      const putStamp = repo.registry.putStamp.bind(repo.registry);
      repo.registry.putStamp = (name, value) => {
        written.push(name.replace("\0", " "));
        putStamp(name, value);
      };
      const statesText = keptRunStates(repo, "chain")!;
      // The kept plan's own bytes: the stamp and the states are written, the plan is not.
      await writeRunStamp(repo, "chain", { ...rest, fileBlobs }, { statesText, plan: kept!.bytes, planKept: true });
      expect(written).toEqual(["run chain", "rs chain"]);
      expect(describeGraph((await stampedGraph(check()))!.graph)).toEqual(describeGraph(kept!.graph));
      // Bytes not read back from beside the stamp are written, even when their digest is the stamp's:
      // the kept ones may be damaged.
      written.length = 0;
      await writeRunStamp(repo, "chain", { ...rest, fileBlobs }, { statesText, plan: Uint8Array.from(kept!.bytes) });
      expect(written).toEqual(["run chain", "rs chain", "rp chain"]);
      // Kept bytes whose digest the stamp does not hold (another plan's) are written too.
      written.length = 0;
      const other = encodePlan(await loadPlan(join(fx.dir, "other.qg")));
      await writeRunStamp(repo, "chain", { ...rest, fileBlobs }, { statesText, plan: other, planKept: true });
      expect(written).toEqual(["run chain", "rs chain", "rp chain"]);
      await writeRunStamp(repo, "chain", { ...rest, fileBlobs }, { statesText, plan: kept!.bytes, planKept: true });
      expect(written.slice(3)).toEqual(["run chain", "rs chain", "rp chain"]);
      const damaged = Uint8Array.from(kept!.bytes);
      damaged[damaged.length - 1] ^= 1;
      await repo.registry.commit(() => repo.registry.putStamp("rp\0chain", damaged));
      expect(await stampedGraph(check())).toBeUndefined();
      await writeRunStamp(repo, "chain", { ...rest, fileBlobs }, { statesText, plan: encodePlan(kept!.graph) });
      expect(describeGraph((await stampedGraph(check()))!.graph)).toEqual(describeGraph(kept!.graph));
    });
  });
});
