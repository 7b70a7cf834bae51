/**
 * Runs the sky pipeline's tasks in memory, without a repository, wiring each task's inputs by hand the
 * way the graph builder does: per-exposure tasks per raw file, warps per (visit, tract, patch) of the
 * overlap relation, coadds per (tract, patch, band), one summary.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestContext, type DataId, type NdArray } from "quanta";
import { decodeNpy } from "../../pipelines/sky/npy-file.mjs";
import { findBandOfVisit } from "../../pipelines/sky/tasks/geometry.mjs";
import isr from "../../pipelines/sky/tasks/isr.ts";
import calibrate from "../../pipelines/sky/tasks/calibrate.ts";
import makeWarp from "../../pipelines/sky/tasks/make-warp.ts";
import coadd from "../../pipelines/sky/tasks/coadd.ts";
import detect from "../../pipelines/sky/tasks/detect.ts";
import summary from "../../pipelines/sky/tasks/summary.ts";

export interface Overlap {
  visit: number;
  detector: number;
  tract: number;
  patch: number;
}

export function readArray(path: string): NdArray {
  return decodeNpy(new Uint8Array(readFileSync(path))) as NdArray;
}

export function readOverlaps(dataDir: string): Overlap[] {
  const [header, ...rows] = readFileSync(join(dataDir, "overlaps.csv"), "utf8").trim().split("\n");
  const names = header!.split(",");
  return rows.map((row) => Object.fromEntries(row.split(",").map((v, i) => [names[i]!, Number(v)])) as unknown as Overlap);
}

/** The calexp of one exposure: raw → isr → calibrate. */
export async function calibrateExposure(dataDir: string, dataId: { band: string; visit: number; detector: number }, threshold = 5) {
  const { band, visit, detector } = dataId;
  const raw = readArray(join(dataDir, "raw", band, `visit${visit}`, `det${detector}.npy`));
  const bias = readArray(join(dataDir, "calib", `bias-det${detector}.npy`));
  const flat = readArray(join(dataDir, "calib", `flat-det${detector}.npy`));
  const ctx = makeTestContext(dataId, "isr");
  const postIsr = (await isr.run({ raw, bias, flat }, isr.config!.parse({}), ctx)) as { exposure: NdArray };
  const config = calibrate.config!.parse({ detection: { threshold } });
  return (await calibrate.run({ exposure: postIsr.exposure }, config, makeTestContext(dataId, "calibrate"))) as {
    calexp: NdArray;
    sources: { noise: number; sources: { x: number; y: number; skyX: number; skyY: number; flux: number }[] };
  };
}

/** The warps of the whole survey, by visit and patch, each with its data ID as the builder gives it. */
export async function warpAll(dataDir: string) {
  const overlaps = readOverlaps(dataDir);
  const calexps = new Map<string, { dataId: DataId; value: NdArray }>();
  for (const { visit, detector } of overlaps) {
    const key = `${visit}/${detector}`;
    if (calexps.has(key)) continue;
    const dataId = { band: findBandOfVisit(visit), visit, detector };
    calexps.set(key, { dataId, value: (await calibrateExposure(dataDir, dataId)).calexp });
  }
  const warps: { dataId: { band: string; visit: number; tract: number; patch: number }; value: NdArray }[] = [];
  for (const key of [...new Set(overlaps.map((o) => `${o.visit}/${o.tract}/${o.patch}`))]) {
    const [visit, tract, patch] = key.split("/").map(Number) as [number, number, number];
    const gathered = overlaps
      .filter((o) => o.visit === visit && o.tract === tract && o.patch === patch)
      .sort((a, b) => a.detector - b.detector)
      .map((o) => calexps.get(`${o.visit}/${o.detector}`)!);
    const result = (await makeWarp.run({ calexps: gathered }, {}, makeTestContext({ visit, tract, patch }, "makeWarp"))) as { warp: NdArray };
    warps.push({ dataId: { band: findBandOfVisit(visit), visit, tract, patch }, value: result.warp });
  }
  return warps;
}

/** The whole chain, down to the summary's catalog and picture. */
export async function runSkyChain(dataDir: string, summaryConfig: Record<string, unknown> = {}) {
  const warps = await warpAll(dataDir);
  const coadds: { dataId: DataId; value: NdArray }[] = [];
  const detections: { dataId: DataId; value: unknown }[] = [];
  for (const key of [...new Set(warps.map((w) => `${w.dataId.tract}/${w.dataId.patch}/${w.dataId.band}`))].sort()) {
    const [tractText, patchText, band] = key.split("/") as [string, string, string];
    const dataId = { tract: Number(tractText), patch: Number(patchText), band };
    const gathered = warps
      .filter((w) => w.dataId.tract === dataId.tract && w.dataId.patch === dataId.patch && w.dataId.band === band)
      .map((w) => ({ dataId: { visit: w.dataId.visit, tract: dataId.tract, patch: dataId.patch }, value: w.value }))
      .sort((a, b) => a.dataId.visit - b.dataId.visit);
    const c = (await coadd.run({ warps: gathered }, coadd.config!.parse({ clip: 3 }), makeTestContext(dataId, "coadd"))) as { coadd: NdArray };
    coadds.push({ dataId, value: c.coadd });
    const d = (await detect.run({ image: c.coadd }, detect.config!.parse({}), makeTestContext(dataId, "detect"))) as { detections: unknown };
    detections.push({ dataId, value: d.detections });
  }
  const truth = JSON.parse(readFileSync(join(dataDir, "truth.json"), "utf8"));
  const result = await summary.run({ detections, coadds, truth }, summary.config!.parse(summaryConfig), makeTestContext({}, "summary"));
  return { warps, coadds, detections, ...(result as { catalog: any; picture: Uint8Array }) };
}
