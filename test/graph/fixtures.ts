/** Inline pipelines and data for the graph builder's tests: the DESIGN.md §2 example on a small sky. */
import type { DataId } from "../../src/core/data-id.js";
import type { CodeDigest } from "../../src/core/digest.js";
import type { AvailableInputs, WhereFilter } from "../../src/core/graph-builder.js";
import { compileWhere, parseWhere, referencedDimensions } from "../../src/core/query/query.js";
import type { Connection, InputSpec, Pipeline, TaskNode } from "../../src/core/pipeline.js";
import type { StorageClass } from "../../src/core/storage-class.js";

export interface ConnectionOptions {
  storage?: StorageClass;
  multiple?: boolean;
  minimum?: number;
  prerequisite?: boolean;
}

export function conn(name: string, type: string, dimensions: string[], options: ConnectionOptions = {}): Connection {
  return {
    name,
    type,
    dimensions,
    storage: options.storage ?? "json",
    multiple: options.multiple ?? false,
    minimum: options.minimum ?? 1,
    prerequisite: options.prerequisite ?? false,
  };
}

export function task(label: string, dimensions: string[], inputs: Connection[], outputs: Connection[]): TaskNode {
  return {
    label,
    kind: "module",
    modulePath: `/pipelines/tasks/${label}.ts`,
    dimensions,
    inputs: Object.fromEntries(inputs.map((c) => [c.name, c])),
    outputs: Object.fromEntries(outputs.map((c) => [c.name, c])),
    config: { label, threshold: 5 },
    codeDigest: "0123456789abcdef" as CodeDigest,
  };
}

export function pipeline(tasks: TaskNode[], inputs: InputSpec[], dimensions: Record<string, "int" | "string"> = SKY_DIMENSIONS): Pipeline {
  return { name: "sky", file: "/pipelines/sky.yaml", parameters: { threshold: 5 }, dimensions, inputs, tasks, subsets: {} };
}

export const SKY_DIMENSIONS = { visit: "int", detector: "int", band: "string", tract: "int", patch: "int" } as const;

export const SKY_INPUTS: InputSpec[] = [
  { kind: "files", type: "raw", path: "/data/raw/{band}/visit{visit}/det{detector}.npy", dimensions: ["band", "visit", "detector"], storage: "ndarray", prerequisite: false },
  { kind: "files", type: "bias", path: "/data/calib/bias-det{detector}.npy", dimensions: ["detector"], storage: "ndarray", prerequisite: true },
  { kind: "relation", type: "overlaps", path: "/data/overlaps.csv", dimensions: ["visit", "detector", "tract", "patch"] },
  { kind: "files", type: "truth", path: "/data/truth.json", dimensions: [], storage: "json", prerequisite: false },
];

/** The DESIGN.md §2 pipeline: isr and calibrate per (visit, detector), warps per (visit, tract, patch), coadds and detections per (tract, patch, band), one summary. */
export function skyPipeline(): Pipeline {
  const vd = ["visit", "detector"];
  const tpb = ["tract", "patch", "band"];
  return pipeline(
    [
      task("isr", vd, [conn("raw", "raw", ["band", "visit", "detector"], { storage: "ndarray" }), conn("bias", "bias", ["detector"], { prerequisite: true })], [conn("exposure", "postIsr", vd)]),
      task("calibrate", vd, [conn("exposure", "postIsr", vd)], [conn("calexp", "calexp", vd), conn("sources", "src", vd)]),
      task("makeWarp", ["visit", "tract", "patch"], [conn("calexps", "calexp", vd, { multiple: true })], [conn("warp", "warp", ["visit", "tract", "patch"])]),
      task("coadd", tpb, [conn("warps", "warp", ["visit", "tract", "patch"], { multiple: true })], [conn("coadd", "coadd", tpb)]),
      task("detect", tpb, [conn("image", "coadd", tpb)], [conn("detections", "detections", tpb)]),
      task("summary", [], [conn("detections", "detections", tpb, { multiple: true }), conn("coadds", "coadd", tpb, { multiple: true }), conn("truth", "truth", [])], [conn("catalog", "summary", [])]),
    ],
    SKY_INPUTS,
  );
}

/** Visits 1 (g), 2 (r), 3 (r); detectors 1 and 2; tract 0 with patches 0, 1, 2. */
export const SKY_VISITS: Record<number, string> = { 1: "g", 2: "r", 3: "r" };

/** Which patches of tract 0 each (visit, detector) overlaps. */
export const SKY_OVERLAPS: [visit: number, detector: number, patches: number[]][] = [
  [1, 1, [0, 1]],
  [1, 2, [1, 2]],
  [2, 1, [0]],
  [2, 2, [1]],
  [3, 1, [1, 2]],
  [3, 2, [2]],
];

export function skyData(): Map<string, DataId[]> {
  const raw: DataId[] = [];
  for (const [visit, band] of Object.entries(SKY_VISITS)) for (const detector of [1, 2]) raw.push({ band, visit: Number(visit), detector });
  const overlaps: DataId[] = [];
  for (const [visit, detector, patches] of SKY_OVERLAPS) for (const patch of patches) overlaps.push({ visit, detector, tract: 0, patch });
  return new Map<string, DataId[]>([
    ["raw", raw],
    ["bias", [{ detector: 1 }, { detector: 2 }]],
    ["overlaps", overlaps],
    ["truth", [{}]],
  ]);
}

/** `AvailableInputs` over a map of type or relation name to rows. */
export function availableFrom(data: Map<string, readonly DataId[]>): AvailableInputs {
  return { datasetIds: (type) => data.get(type), relationRows: (name) => data.get(name) };
}

/** A `WhereFilter` compiled by the query language, as the app builds it. */
export function whereFilter(text: string, universe: Record<string, "int" | "string"> = SKY_DIMENSIONS): WhereFilter {
  const parsed = parseWhere(text, universe);
  if (!parsed.ok) throw new Error(`bad where in a test: ${parsed.error.message}`);
  return { predicate: compileWhere(parsed.expr), dimensions: referencedDimensions(parsed.expr), text };
}
