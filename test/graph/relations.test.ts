/**
 * How relations take part in a task's join (graph-relations.ts): a relation constrains a task only where
 * the task's own dimensions need it, restricts a task over its own dimensions, carries `--where` to
 * upstream tasks, and a carried dimension never empties a join.
 */
import { describe, expect, test } from "vitest";
import type { DataId } from "../../src/core/data-id.js";
import { buildQuantumGraph, type BuildGraphOptions } from "../../src/core/graph-builder.js";
import { formatRef } from "../../src/core/graph-names.js";
import type { InputSpec } from "../../src/core/pipeline.js";
import type { QuantumGraph } from "../../src/core/quantum-graph.js";
import { verifyGraph } from "../../src/core/verify-graph.js";
import { availableFrom, conn, pipeline, SKY_INPUTS, skyData, skyPipeline, task, whereFilter } from "./fixtures.js";

function mustBuild(opts: BuildGraphOptions): QuantumGraph {
  const result = buildQuantumGraph(opts);
  if (!result.ok) throw new Error(`expected a graph, got: ${result.error.message}`);
  expect(verifyGraph(result.graph)).toEqual([]);
  return result.graph;
}

function quantaOf(graph: QuantumGraph, label: string): string[] {
  return [...graph.allQuanta()].filter((q) => q.task === label).map((q) => formatRef(q.task, q.key));
}

function inputsOf(graph: QuantumGraph, quantum: string, connection: string): string[] {
  const q = [...graph.allQuanta()].find((x) => formatRef(x.task, x.key) === quantum);
  if (q === undefined) throw new Error(`no quantum ${quantum}`);
  return q.inputs[connection]!.map((id) => formatRef(graph.dataset(id).type, graph.dataset(id).key));
}

const BVD = ["band", "visit", "detector"];

/** Per-visit statistics, then a per-exposure task that reads the raw and its visit's statistics. */
function perVisitPipeline(readsRaw: boolean) {
  return pipeline(
    [
      task("visitStats", ["band", "visit"], [conn("raws", "raw", BVD, { multiple: true, storage: "ndarray" })], [conn("stats", "stats", ["band", "visit"])]),
      task(
        "correct",
        BVD,
        [...(readsRaw ? [conn("raw", "raw", BVD, { storage: "ndarray" })] : []), conn("stats", "stats", ["band", "visit"])],
        [conn("corrected", "corrected", BVD)],
      ),
    ],
    SKY_INPUTS,
  );
}

describe("14.6 a relation constrains a task only where its own dimensions need it", () => {
  const allSix = [
    "correct@band=g,detector=1,visit=1",
    "correct@band=g,detector=2,visit=1",
    "correct@band=r,detector=1,visit=2",
    "correct@band=r,detector=1,visit=3",
    "correct@band=r,detector=2,visit=2",
    "correct@band=r,detector=2,visit=3",
  ];

  test("a (band, visit) input does not lose the exposures the overlaps relation lacks", () => {
    const data = skyData();
    data.set("overlaps", data.get("overlaps")!.filter((r) => !(r.visit === 3 && r.detector === 2)));
    const graph = mustBuild({ pipeline: perVisitPipeline(true), available: availableFrom(data) });
    expect(quantaOf(graph, "correct")).toEqual(allSix);
    expect(inputsOf(graph, "correct@band=r,detector=2,visit=3", "stats")).toEqual(["stats@band=r,visit=3"]);
  });

  test("nor all of them when the relation is empty", () => {
    const data = skyData();
    data.set("overlaps", []);
    expect(quantaOf(mustBuild({ pipeline: perVisitPipeline(true), available: availableFrom(data) }), "correct")).toEqual(allSix);
  });

  test("a dimension no input has comes from the link that brings nothing else (raw, not overlaps)", () => {
    const data = skyData();
    data.set("overlaps", []);
    expect(quantaOf(mustBuild({ pipeline: perVisitPipeline(false), available: availableFrom(data) }), "correct")).toEqual(allSix);
  });

  test("a gather still reads the datasets the relation relates to its quantum", () => {
    const graph = mustBuild({ pipeline: skyPipeline(), available: availableFrom(skyData()) });
    expect(inputsOf(graph, "makeWarp@patch=1,tract=0,visit=1", "calexps")).toEqual(["calexp@detector=1,visit=1", "calexp@detector=2,visit=1"]);
  });
});

describe("14.6 --where on a dimension a task lacks restricts it through relations", () => {
  test("patch = 2 keeps the exposures that overlap patch 2, as the target coadd@patch=2 does", () => {
    const available = availableFrom(skyData());
    const where = mustBuild({ pipeline: skyPipeline(), available, where: whereFilter("patch = 2") });
    const target = mustBuild({ pipeline: skyPipeline(), available, targets: [{ type: "coadd", dataId: { patch: 2 } }] });
    expect(quantaOf(where, "isr")).toEqual(["isr@detector=1,visit=3", "isr@detector=2,visit=1", "isr@detector=2,visit=3"]);
    for (const label of ["isr", "calibrate", "makeWarp", "coadd"]) expect(quantaOf(where, label)).toEqual(quantaOf(target, label));
  });
});

describe("14.6 a relation over a task's own dimension restricts it", () => {
  test("a sample list maps only the listed samples", () => {
    const inputs: InputSpec[] = [
      { kind: "files", type: "reads", path: "/data/{sample}.fastq", dimensions: ["sample"], storage: "text", prerequisite: false },
      { kind: "relation", type: "samples", path: "/data/samples.csv", dimensions: ["sample"] },
    ];
    const p = pipeline([task("map", ["sample"], [conn("reads", "reads", ["sample"], { storage: "text" })], [conn("bam", "bam", ["sample"])])], inputs, { sample: "string" });
    const data = new Map<string, DataId[]>([
      ["reads", [{ sample: "A" }, { sample: "B" }, { sample: "C" }]],
      ["samples", [{ sample: "A" }, { sample: "B" }]],
    ]);
    expect(quantaOf(mustBuild({ pipeline: p, available: availableFrom(data) }), "map")).toEqual(["map@sample=A", "map@sample=B"]);
  });
});

describe("14.6 a carried dimension does not empty a later join", () => {
  /** A liblmdb-like build: objects carry `role` from their source path; the library's members are all `lib`, the program's main object is `main`. */
  function buildPipeline() {
    const inputs: InputSpec[] = [
      { kind: "files", type: "source", path: "/src/{role}/{file}.c", dimensions: ["file", "role"], storage: "file", prerequisite: false },
      { kind: "relation", type: "members", path: "/members.csv", dimensions: ["file", "archive"] },
      { kind: "relation", type: "mains", path: "/mains.csv", dimensions: ["program", "file"] },
      { kind: "relation", type: "uses", path: "/uses.csv", dimensions: ["program", "archive"] },
    ];
    return pipeline(
      [
        task("compile", ["file"], [conn("src", "source", ["file", "role"], { storage: "file" })], [conn("obj", "object", ["file"])]),
        task("archive", ["archive"], [conn("objs", "object", ["file"], { multiple: true })], [conn("lib", "library", ["archive"])]),
        task(
          "link",
          ["program"],
          [conn("main", "object", ["file"], { multiple: true }), conn("libs", "library", ["archive"], { multiple: true })],
          [conn("exe", "executable", ["program"])],
        ),
      ],
      inputs,
      { file: "string", role: "string", archive: "string", program: "string" },
    );
  }

  test("the link task gets its quantum, reading the main object and the library", () => {
    const data = new Map<string, DataId[]>([
      ["source", [{ file: "mdb", role: "lib" }, { file: "midl", role: "lib" }, { file: "mdb_stat", role: "main" }]],
      ["members", [{ file: "mdb", archive: "liblmdb" }, { file: "midl", archive: "liblmdb" }]],
      ["mains", [{ program: "mdb_stat", file: "mdb_stat" }]],
      ["uses", [{ program: "mdb_stat", archive: "liblmdb" }]],
    ]);
    const graph = mustBuild({ pipeline: buildPipeline(), available: availableFrom(data) });
    expect(quantaOf(graph, "archive")).toEqual(["archive@archive=liblmdb"]);
    expect(quantaOf(graph, "link")).toEqual(["link@program=mdb_stat"]);
    expect(inputsOf(graph, "link@program=mdb_stat", "main")).toEqual(["object@file=mdb_stat"]);
    expect(inputsOf(graph, "link@program=mdb_stat", "libs")).toEqual(["library@archive=liblmdb"]);
    expect([...graph.allQuanta()].find((q) => q.task === "link")!.dataId).toEqual({ program: "mdb_stat" });
  });
});
