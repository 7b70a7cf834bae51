/**
 * 15.1: the resolver and the dry run are pure: over a small in-memory view of a repository they decide
 * every quantum of a graph, as `quanta status` reports and `quanta run` acts.
 */
import { describe, expect, it } from "vitest";
import type { BlobDigest, Hasher } from "../../src/core/digest.js";
import { dryRun } from "../../src/core/dry-run.js";
import { buildQuantumGraph } from "../../src/core/graph-builder.js";
import { QuantumResolver } from "../../src/core/quantum-resolver.js";
import type { QuantumGraph } from "../../src/core/quantum-graph.js";
import type { RepositoryView } from "../../src/core/repository-view.js";
import { availableFrom, skyData, skyPipeline } from "../graph/fixtures.js";

/** Not a good hash, but a deterministic one: enough for keys in a test. */
const hasher: Hasher = {
  hashString: (text) => {
    let h = 0;
    for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
    return h.toString(16).padStart(32, "0");
  },
  hashBytes: (bytes) => `${hasher.hashString(String(bytes))}-${bytes.length}` as BlobDigest,
};

/** A repository that holds the graph's input datasets (but those `missing` names) and nothing else. */
function inputsOnly(graph: QuantumGraph, missing: Set<string>): RepositoryView {
  return {
    hasher,
    quantumRecords: () => [],
    action: () => undefined,
    execution: () => undefined,
    *datasetDigests(collection, type) {
      if (collection !== graph.inputCollection) return;
      for (const ds of [...graph.allDatasets()]) {
        if (ds.producer < 0 && ds.type === type && !missing.has(`${type}@${ds.key}`)) yield { key: ds.key, digest: `${type}-${ds.key}` as BlobDigest };
      }
    },
    blobExists: () => true,
  };
}

function skyGraph(): QuantumGraph {
  const built = buildQuantumGraph({ pipeline: skyPipeline(), available: availableFrom(skyData()) });
  if (!built.ok) throw new Error(built.error.message);
  return built.graph;
}

const name = (graph: QuantumGraph, id: number) => `${graph.quantum(id).task}@${graph.quantum(id).key}`;

describe("15.1 the dry run over a repository view", () => {
  it("in an empty repository, the quanta on inputs will run, as new; those after them may run", () => {
    const graph = skyGraph();
    const verdicts = dryRun(graph, new QuantumResolver(graph, inputsOnly(graph, new Set()), "out"));
    [...graph.allQuanta()].forEach((q, id) => {
      const onInputs = Object.values(q.inputs).flat().every((d) => graph.dataset(d).producer < 0);
      expect(verdicts[id], name(graph, id)).toEqual(onInputs ? { status: "will-run", reasons: [{ kind: "new" }] } : expect.objectContaining({ status: "may-run" }));
    });
    expect(verdicts.filter((v) => v?.status === "may-run").length).toBeGreaterThan(3);
  });

  it("a missing input blocks its quantum and every quantum downstream of it, as a run fails them", () => {
    const graph = skyGraph();
    const raw = [...graph.allDatasets()].find((d) => d.type === "raw")!;
    const verdicts = dryRun(graph, new QuantumResolver(graph, inputsOnly(graph, new Set([`raw@${raw.key}`])), "out"));
    const blocked = [...graph.allQuanta()].map((_, id) => id).filter((id) => verdicts[id]!.status === "blocked");
    const isr = [...graph.allQuanta()].findIndex((q) => q.task === "isr" && Object.values(q.inputs).some((ids) => ids.includes(raw.id)));
    expect(verdicts[isr]!.reasons).toEqual([{ kind: "missing-input", error: `input raw (raw@${raw.key}) is not in the repository` }]);
    // Downstream: every quantum that reads, directly or not, what isr writes.
    const downstream = new Set([isr]);
    for (let id = 0; id < graph.quantumCount; id++) {
      const reads = Object.values(graph.quantum(id).inputs).flat();
      if (reads.some((d) => downstream.has(graph.dataset(d).producer))) downstream.add(id);
    }
    expect(blocked).toEqual([...downstream].sort((a, b) => a - b));
    expect(blocked.length).toBeGreaterThan(3);
    for (const id of blocked) if (id !== isr) expect(verdicts[id]!.reasons).toEqual([{ kind: "upstream-failed", producer: name(graph, isr) }]);
    expect(verdicts.filter((v) => v!.status === "will-run" || v!.status === "may-run").length).toBe(graph.quantumCount - blocked.length);
  });

  it("stops once the quantum asked about is decided", () => {
    const graph = skyGraph();
    const last = graph.quantumCount - 1;
    const first = dryRun(graph, new QuantumResolver(graph, inputsOnly(graph, new Set()), "out"), 0);
    expect(first[0]?.status).toBe("will-run");
    expect(first.filter(Boolean).length).toBeLessThan(graph.quantumCount);
    expect(dryRun(graph, new QuantumResolver(graph, inputsOnly(graph, new Set()), "out"), last)[last]?.status).toBe("may-run");
  });
});
