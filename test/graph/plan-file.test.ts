import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { buildQuantumGraph } from "../../src/core/graph-builder.js";
import { formatGraphText } from "../../src/core/graph-text.js";
import { QuantumGraph } from "../../src/core/quantum-graph.js";
import { verifyGraph } from "../../src/core/verify-graph.js";
import { decodePlan, encodePlan, loadPlan, PLAN_FORMAT, savePlan } from "../../src/store/plan-file.js";
import { makeTempDir } from "../helpers/cli.js";
import { availableFrom, skyData, skyPipeline } from "./fixtures.js";

let temp: { dir: string; cleanup: () => void };
beforeEach(() => {
  temp = makeTempDir("quanta-plan-");
});
afterEach(() => temp.cleanup());

/** What a graph says, as plain objects: equal for equal graphs whatever their columns' encodings. */
function viewsOf(graph: QuantumGraph) {
  const { pipeline, tasks, query, inputCollection } = graph;
  return { pipeline, tasks, query, inputCollection, quanta: [...graph.allQuanta()], datasets: [...graph.allDatasets()] };
}

function skyGraph(data = skyData(), tasks?: string[]): QuantumGraph {
  const result = buildQuantumGraph({ pipeline: skyPipeline(), available: availableFrom(data), tasks, where: undefined });
  if (!result.ok) throw new Error(result.error.message);
  return result.graph;
}

test("a saved plan loads back equal", async () => {
  const graph = skyGraph();
  const path = join(temp.dir, "plan.qg");
  await savePlan(graph, path);
  const loaded = await loadPlan(path);
  expect(verifyGraph(loaded)).toEqual([]);
  expect(viewsOf(loaded)).toEqual(viewsOf(graph));
  expect(formatGraphText(loaded)).toBe(formatGraphText(graph));
});

test("string values needing quotes, big integers and inputs standing in for unselected producers", () => {
  const data = skyData();
  data.set("raw", [
    { band: "r'x", visit: 1, detector: 1 },
    { band: "g r", visit: 2, detector: 2 },
    { band: "i", visit: 2 ** 40, detector: -3 },
  ]);
  data.set("bias", [{ detector: 1 }, { detector: 2 }, { detector: -3 }]);
  const full = skyGraph(data);
  data.set("calexp", [...full.allDatasets()].filter((d) => d.type === "calexp").map((d) => d.dataId));
  for (const graph of [full, skyGraph(data, ["makeWarp", "coadd"])]) {
    const loaded = decodePlan(encodePlan(graph));
    expect(verifyGraph(loaded)).toEqual([]);
    expect(viewsOf(loaded)).toEqual(viewsOf(graph));
  }
});

test("the query travels with the plan", () => {
  const built = skyGraph();
  const graph = new QuantumGraph({ ...built, taskQuanta: built.taskQuanta, types: built.types, producers: built.allProducers(), query: { where: "band = :b", bind: { b: "r" } } });
  expect(decodePlan(encodePlan(graph)).query).toEqual({ where: "band = :b", bind: { b: "r" } });
});

test("an empty graph round-trips", () => {
  const data = skyData();
  data.delete("raw");
  const graph = skyGraph(data);
  expect(viewsOf(decodePlan(encodePlan(graph)))).toEqual(viewsOf(graph));
});

test("another format version is refused with a clear message", async () => {
  const path = join(temp.dir, "old.qg");
  const bytes = encodePlan(skyGraph());
  new DataView(bytes.buffer).setUint32(8, PLAN_FORMAT + 1, true);
  writeFileSync(path, bytes);
  await expect(loadPlan(path)).rejects.toThrow(`plan format ${PLAN_FORMAT + 1} found, ${PLAN_FORMAT} expected: rebuild it with quanta graph`);
});

test("a file that is not a plan, and a missing file", async () => {
  const path = join(temp.dir, "not.qg");
  writeFileSync(path, "hello, I am a text file");
  await expect(loadPlan(path)).rejects.toThrow(`${path} is not a quanta plan file`);
  await expect(loadPlan(join(temp.dir, "none.qg"))).rejects.toThrow(/plan file .*none\.qg does not exist/);
  expect(readFileSync(path, "utf8")).toBe("hello, I am a text file");
});
