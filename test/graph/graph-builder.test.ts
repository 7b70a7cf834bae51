import { describe, expect, test } from "vitest";
import type { DataId } from "../../src/core/data-id.js";
import { buildQuantumGraph, type BuildGraphOptions, type BuildGraphResult } from "../../src/core/graph-builder.js";
import { formatRef } from "../../src/core/graph-names.js";
import { formatGraphSummary, formatGraphText } from "../../src/core/graph-text.js";
import { explainEmptyTask, formatJoinReport } from "../../src/core/join-report.js";
import type { QuantumGraph } from "../../src/core/quantum-graph.js";
import { verifyGraph } from "../../src/core/verify-graph.js";
import { availableFrom, conn, pipeline, SKY_INPUTS, skyData, skyPipeline, task, whereFilter } from "./fixtures.js";
import { expectGolden } from "./golden.js";

function build(opts: Partial<BuildGraphOptions> = {}, data = skyData()): BuildGraphResult {
  const result = buildQuantumGraph({ pipeline: skyPipeline(), available: availableFrom(data), ...opts });
  if (result.ok) expect(verifyGraph(result.graph)).toEqual([]);
  return result;
}

function mustBuild(opts: Partial<BuildGraphOptions> = {}, data = skyData()): Extract<BuildGraphResult, { ok: true }> {
  const result = build(opts, data);
  if (!result.ok) throw new Error(`expected a graph, got: ${result.error.message}`);
  return result;
}

function quantaOf(graph: QuantumGraph, label?: string): string[] {
  return [...graph.allQuanta()].filter((q) => label === undefined || q.task === label).map((q) => formatRef(q.task, q.key));
}

function inputsOf(graph: QuantumGraph, quantum: string, connection: string): string[] {
  const q = [...graph.allQuanta()].find((x) => formatRef(x.task, x.key) === quantum);
  if (q === undefined) throw new Error(`no quantum ${quantum}`);
  return q.inputs[connection]!.map((id) => formatRef(graph.dataset(id).type, graph.dataset(id).key));
}

describe("the DESIGN.md example", () => {
  test("text form, summary and join report", () => {
    const { graph, report } = mustBuild();
    expectGolden("sky.txt", formatGraphText(graph));
    expectGolden("sky-summary.txt", formatGraphSummary(graph));
    expectGolden("sky-report.txt", formatJoinReport(report));
  });

  test("quanta per task: per exposure, per overlapping patch, per band", () => {
    const { graph } = mustBuild();
    const count = (label: string) => quantaOf(graph, label).length;
    expect([count("isr"), count("calibrate"), count("makeWarp"), count("coadd"), count("detect"), count("summary")]).toEqual([6, 6, 7, 6, 6, 1]);
  });

  test("makeWarp gathers the detectors overlapping its patch through the relation", () => {
    const { graph } = mustBuild();
    expect(inputsOf(graph, "makeWarp@patch=1,tract=0,visit=1", "calexps")).toEqual(["calexp@detector=1,visit=1", "calexp@detector=2,visit=1"]);
    expect(inputsOf(graph, "makeWarp@patch=0,tract=0,visit=2", "calexps")).toEqual(["calexp@detector=1,visit=2"]);
  });

  test("band comes with raw and reaches the coadds: each gathers the warps of its band", () => {
    const { graph } = mustBuild();
    expect(inputsOf(graph, "coadd@band=r,patch=1,tract=0", "warps")).toEqual(["warp@patch=1,tract=0,visit=2", "warp@patch=1,tract=0,visit=3"]);
    expect(inputsOf(graph, "coadd@band=g,patch=1,tract=0", "warps")).toEqual(["warp@patch=1,tract=0,visit=1"]);
  });

  test("the summary gathers everything", () => {
    const { graph } = mustBuild();
    expect(inputsOf(graph, "summary", "detections")).toHaveLength(6);
    expect(inputsOf(graph, "summary", "coadds")).toHaveLength(6);
    expect(inputsOf(graph, "summary", "truth")).toEqual(["truth"]);
  });

  test("ids and order do not depend on the order the repository lists things in", () => {
    const shuffled = new Map([...skyData()].map(([k, rows]) => [k, [...rows].reverse()]));
    expect(formatGraphText(mustBuild({}, shuffled).graph)).toBe(formatGraphText(mustBuild().graph));
    const a = mustBuild({}, shuffled).graph;
    const b = mustBuild().graph;
    expect([...a.allDatasets()].map((d) => `${d.id} ${d.type}@${d.key} ${d.producer} ${d.consumers.join(",")}`)).toEqual(
      [...b.allDatasets()].map((d) => `${d.id} ${d.type}@${d.key} ${d.producer} ${d.consumers.join(",")}`),
    );
  });
});

describe("gather and minimum", () => {
  test("a quantum with fewer datasets than a minimum is dropped, and the report says so", () => {
    const p = skyPipeline();
    const coadd = p.tasks.find((t) => t.label === "coadd")!;
    const withMinimum = { ...coadd, inputs: { warps: { ...coadd.inputs.warps!, minimum: 2 } } };
    const { graph, report } = mustBuild({ pipeline: { ...p, tasks: p.tasks.map((t) => (t.label === "coadd" ? withMinimum : t)) } });
    expect(quantaOf(graph, "coadd")).toEqual(["coadd@band=r,patch=1,tract=0"]);
    expect(quantaOf(graph, "detect")).toEqual(["detect@band=r,patch=1,tract=0"]);
    expectGolden("minimum-report.txt", formatJoinReport(report));
  });

  test("a single input that finds several datasets is an error", () => {
    const p = skyPipeline();
    const makeWarp = p.tasks.find((t) => t.label === "makeWarp")!;
    const single = { ...makeWarp, inputs: { calexps: { ...makeWarp.inputs.calexps!, multiple: false } } };
    const result = build({ pipeline: { ...p, tasks: p.tasks.map((t) => (t.label === "makeWarp" ? single : t)) } });
    expect(result.ok).toBe(false);
    if (!result.ok) expectGolden("ambiguous-input.txt", `${result.error.message}\nhint: ${result.error.hint}\n`);
  });
});

describe("prerequisites", () => {
  test("a missing prerequisite names the quantum and the dataset", () => {
    const data = skyData();
    data.set("bias", [{ detector: 1 }]);
    const result = build({}, data);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.kind).toBe("missing-prerequisite");
      expectGolden("missing-prerequisite.txt", `${result.error.message}\nhint: ${result.error.hint}\n`);
    }
  });

  test("a prerequisite is not joined: bias for an absent detector makes no quantum", () => {
    const data = skyData();
    data.set("bias", [{ detector: 1 }, { detector: 2 }, { detector: 9 }]);
    const { graph } = mustBuild({}, data);
    expect([...graph.allDatasets()].filter((d) => d.type === "bias").map((d) => d.key)).toEqual(["detector=1", "detector=2"]);
  });
});

describe("targets", () => {
  test("a target prunes the graph to its ancestors", () => {
    const { graph } = mustBuild({ targets: [{ type: "calexp", dataId: { visit: 1, detector: 2 } }] });
    expect(quantaOf(graph)).toEqual(["isr@detector=2,visit=1", "calibrate@detector=2,visit=1"]);
    expect([...graph.allDatasets()].map((d) => formatRef(d.type, d.key))).toEqual([
      "bias@detector=2",
      "calexp@detector=2,visit=1",
      "postIsr@detector=2,visit=1",
      "raw@band=g,detector=2,visit=1",
      "src@detector=2,visit=1",
    ]);
  });

  test("a partial data ID selects every matching dataset", () => {
    const { graph } = mustBuild({ targets: [{ type: "coadd", dataId: { band: "g", patch: 1 } }] });
    expect(quantaOf(graph)).toEqual([
      "isr@detector=1,visit=1",
      "isr@detector=2,visit=1",
      "calibrate@detector=1,visit=1",
      "calibrate@detector=2,visit=1",
      "makeWarp@patch=1,tract=0,visit=1",
      "coadd@band=g,patch=1,tract=0",
    ]);
  });

  test("unknown and absent targets, and targets naming inputs, are errors", () => {
    const unknown = build({ targets: [{ type: "calexps", dataId: {} }] });
    const absent = build({ targets: [{ type: "calexp", dataId: { visit: 99 } }] });
    const input = build({ targets: [{ type: "raw", dataId: { visit: 1 } }] });
    expect(!unknown.ok && !absent.ok && !input.ok).toBe(true);
    if (!unknown.ok && !absent.ok && !input.ok) {
      expectGolden("target-errors.txt", [unknown, absent, input].map((r) => `${r.error.message}\nhint: ${r.error.hint}\n`).join(""));
    }
  });
});

describe("task selection", () => {
  test("a task with its ancestors", () => {
    const { graph } = mustBuild({ tasks: ["isr", "calibrate", "makeWarp"] });
    expect(graph.tasks.map((t) => t.label)).toEqual(["isr", "calibrate", "makeWarp"]);
    expect(graph.pipeline.tasks.map((t) => t.label)).toEqual(["isr", "calibrate", "makeWarp"]);
    expect(quantaOf(graph).length).toBe(6 + 6 + 7);
  });

  test("a task whose input's producer is not selected needs that input to exist", () => {
    const result = build({ tasks: ["coadd"] });
    expect(result.ok).toBe(false);
    if (!result.ok) expectGolden("unselected-producer.txt", `${result.error.message}\nhint: ${result.error.hint}\n`);
  });

  test("existing outputs stand in for an unselected producer; their band comes from raw", () => {
    const data = skyData();
    const full = mustBuild().graph;
    data.set("warp", [...full.allDatasets()].filter((d) => d.type === "warp").map((d) => d.dataId));
    const { graph, report } = mustBuild({ tasks: ["coadd", "detect"] }, data);
    expect(quantaOf(graph, "coadd")).toEqual(quantaOf(full, "coadd"));
    expect([...graph.allDatasets()].filter((d) => d.type === "warp").every((d) => d.producer === -1)).toBe(true);
    expect(inputsOf(graph, "coadd@band=r,patch=1,tract=0", "warps")).toEqual(["warp@patch=1,tract=0,visit=2", "warp@patch=1,tract=0,visit=3"]);
    expect(report.tasks[0]!.steps.some((s) => s.kind === "link" && s.via === "raw")).toBe(true);
  });

  test("an unknown label is an error with a suggestion", () => {
    const result = build({ tasks: ["calibrat"] });
    expect(result.ok ? "" : `${result.error.message} / ${result.error.hint}`).toBe('the pipeline has no task "calibrat" / did you mean "calibrate"?');
  });
});

describe("--where", () => {
  test("restricts inputs, relations and candidate quanta", () => {
    const { graph } = mustBuild({ where: whereFilter("band = 'r' AND patch != 2") });
    // visit 3, detector 2 overlaps only patch 2: through the relation, the query leaves it out.
    expect(quantaOf(graph, "isr")).toEqual(["isr@detector=1,visit=2", "isr@detector=1,visit=3", "isr@detector=2,visit=2"]);
    expect(quantaOf(graph, "coadd")).toEqual(["coadd@band=r,patch=0,tract=0", "coadd@band=r,patch=1,tract=0"]);
    expect(graph.query.where).toBe("band = 'r' AND patch != 2");
  });

  test("a condition across dimensions of the relation and of the data is applied to joined rows", () => {
    const { graph } = mustBuild({ where: whereFilter("detector = 1 OR patch = 2") });
    expect(inputsOf(graph, "makeWarp@patch=1,tract=0,visit=1", "calexps")).toEqual(["calexp@detector=1,visit=1"]);
    expect(inputsOf(graph, "makeWarp@patch=2,tract=0,visit=1", "calexps")).toEqual(["calexp@detector=2,visit=1"]);
  });

  test("a where that leaves nothing explains itself", () => {
    const { graph, report } = mustBuild({ where: whereFilter("tract = 99") });
    expect(quantaOf(graph, "makeWarp")).toEqual([]);
    expect(quantaOf(graph, "summary")).toEqual([]);
    expect(explainEmptyTask(report.tasks.find((t) => t.task === "isr")!, report)).toBe("task isr: 0 quanta: relation overlaps has 0 rows under --where 'tract = 99'");
    expectGolden("where-empty-report.txt", formatJoinReport(report));
  });

  test("no raw data at all", () => {
    const data = skyData();
    data.delete("raw");
    const { graph, report } = mustBuild({}, data);
    expect([...graph.allQuanta()]).toEqual([]);
    expect(explainEmptyTask(report.tasks[0]!, report)).toBe("task isr: 0 quanta: raw (band, visit, detector) has 0 datasets");
  });
});

describe("pipeline errors", () => {
  test("outputs must have the quantum's dimensions", () => {
    const bad = pipeline([task("isr", ["visit", "detector"], [conn("raw", "raw", ["band", "visit", "detector"])], [conn("out", "postIsr", ["visit"])])], SKY_INPUTS);
    const result = buildQuantumGraph({ pipeline: bad, available: availableFrom(skyData()) });
    expect(result.ok ? "" : result.error.message).toBe(
      'task "isr" writes "postIsr" (connection "out") with dimensions (visit), but its quantum dimensions are (visit, detector)',
    );
  });

  test("a quantum dimension no input or relation supplies", () => {
    const bad = pipeline([task("perTract", ["tract"], [conn("raw", "raw", ["band", "visit", "detector"])], [conn("out", "x", ["tract"])])], SKY_INPUTS.filter((i) => i.kind !== "relation"));
    const result = buildQuantumGraph({ pipeline: bad, available: availableFrom(skyData()) });
    expect(result.ok ? "" : result.error.message).toBe('task "perTract" has quantum dimension tract, which none of its inputs has and no relation links to them');
  });

  test("an input type nobody produces or declares", () => {
    const bad = pipeline([task("a", ["visit"], [conn("in", "nothing", ["visit"])], [conn("out", "x", ["visit"])])], SKY_INPUTS);
    const result = buildQuantumGraph({ pipeline: bad, available: availableFrom(skyData()) });
    expect(result.ok ? "" : result.error.message).toBe('task "a" reads dataset type "nothing", which no task produces and no input declares');
  });

  test("two inputs of one quantum are joined on their shared dimensions, not multiplied", () => {
    const p = pipeline(
      [
        task("a", ["visit", "detector"], [conn("raw", "raw", ["band", "visit", "detector"])], [conn("x", "x", ["visit", "detector"]), conn("y", "y", ["visit", "detector"])]),
        task("b", ["visit"], [conn("xs", "x", ["visit", "detector"], { multiple: true }), conn("ys", "y", ["visit", "detector"], { multiple: true })], [conn("z", "z", ["visit"])]),
      ],
      SKY_INPUTS,
    );
    const result = buildQuantumGraph({ pipeline: p, available: availableFrom(skyData()) });
    if (!result.ok) throw new Error(result.error.message);
    expect(verifyGraph(result.graph)).toEqual([]);
    expect(inputsOf(result.graph, "b@visit=1", "xs")).toEqual(["x@detector=1,visit=1", "x@detector=2,visit=1"]);
    expect(inputsOf(result.graph, "b@visit=1", "ys")).toEqual(["y@detector=1,visit=1", "y@detector=2,visit=1"]);
  });
});

test("data IDs with quoted strings keep their canonical keys", () => {
  const data = skyData();
  data.set("raw", [{ band: "r'x", visit: 1, detector: 1 } as DataId, { band: "g r", visit: 2, detector: 1 }]);
  const { graph } = mustBuild({ tasks: ["isr"] }, data);
  expect([...graph.allDatasets()].filter((d) => d.type === "raw").map((d) => d.key)).toEqual(["band='g r',detector=1,visit=2", "band='r''x',detector=1,visit=1"]);
});
