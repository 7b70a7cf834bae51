/**
 * The sky pipeline's tasks, called directly (no repository) on generated data: each task does what it
 * claims on its own, and the whole chain recovers the true stars.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inflateSync } from "node:zlib";
import { makeTestContext, type NdArray } from "quanta";
import { evaluateSky, generateSkyData } from "../../pipelines/sky/generate.mjs";
import { PATCH_SIZE, getDetectorOrigin, getPatchOrigin } from "../../pipelines/sky/tasks/geometry.mjs";
import { computeMedian } from "../../pipelines/sky/tasks/image-stats.ts";
import { sumAperture } from "../../pipelines/sky/tasks/source-detection.ts";
import { computeCrc32, encodePng } from "../../pipelines/sky/tasks/png.ts";
import isr from "../../pipelines/sky/tasks/isr.ts";
import makeWarp from "../../pipelines/sky/tasks/make-warp.ts";
import coadd, { combineClipped } from "../../pipelines/sky/tasks/coadd.ts";
import { calibrateExposure, readArray, readOverlaps, runSkyChain, warpAll } from "./sky-chain.ts";

let dataDir: string;
let truth: ReturnType<typeof generateSkyData>;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), "quanta-sky-"));
  truth = generateSkyData(dataDir);
});

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const SIZE = 70;

/** Whether no other true star lies within `radius` pixels. */
function isIsolated(star: { id: number; x: number; y: number }, radius: number): boolean {
  return truth.stars.every((s) => s.id === star.id || Math.hypot(s.x - star.x, s.y - star.y) > radius);
}

/** The true stars whose centres lie on a detector at least `margin` pixels inside its edges. */
function findStarsOnDetector(visit: number, detector: number, margin: number) {
  const origin = getDetectorOrigin(visit, detector);
  return truth.stars
    .map((s) => ({ ...s, px: s.x - origin.x, py: s.y - origin.y }))
    .filter((s) => s.px >= margin && s.px <= SIZE - 1 - margin && s.py >= margin && s.py <= SIZE - 1 - margin);
}

describe("the generator", () => {
  it("writes the same bytes for the same seed", () => {
    const again = mkdtempSync(join(tmpdir(), "quanta-sky-again-"));
    try {
      generateSkyData(again);
      const a = readArray(join(dataDir, "raw", "r", "visit5", "det2.npy"));
      const b = readArray(join(again, "raw", "r", "visit5", "det2.npy"));
      expect(a.shape).toEqual([70, 70]);
      expect(Buffer.from(b.data.buffer).equals(Buffer.from(a.data.buffer))).toBe(true);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it("relates each visit's detectors to the patches they overlap", () => {
    const overlaps = readOverlaps(dataDir);
    expect(new Set(overlaps.map((o) => o.visit))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
    for (const visit of [1, 2, 3, 4, 5, 6]) {
      const patches = new Set(overlaps.filter((o) => o.visit === visit).map((o) => o.patch));
      expect(patches).toEqual(new Set([0, 1, 2, 3]));
    }
  });
});

describe("isr", () => {
  it("removes the bias and the flat field, leaving the sky", async () => {
    const [visit, detector] = [2, 1];
    const raw = readArray(join(dataDir, "raw", "g", `visit${visit}`, `det${detector}.npy`));
    const bias = readArray(join(dataDir, "calib", `bias-det${detector}.npy`));
    const flat = readArray(join(dataDir, "calib", `flat-det${detector}.npy`));
    const out = (await isr.run({ raw, bias, flat }, {}, makeTestContext({ band: "g", visit, detector }))) as { exposure: NdArray };
    const origin = getDetectorOrigin(visit, detector);
    const conditions = truth.visits[visit]!;
    const residual = (image: ArrayLike<number>, x0: number, x1: number, offset: number) => {
      const values: number[] = [];
      for (let y = 0; y < SIZE; y++) {
        for (let x = x0; x < x1; x++) values.push(image[y * SIZE + x]! - offset - evaluateSky(conditions, origin.x + x, origin.y + y));
      }
      return computeMedian(values);
    };
    // Stars raise a median by about one ADU; noise per pixel is about 15 ADU.
    expect(Math.abs(residual(out.exposure.data as Float32Array, 0, 35, 0))).toBeLessThan(3);
    expect(Math.abs(residual(out.exposure.data as Float32Array, 35, 70, 0))).toBeLessThan(3);
    // Before ISR, the flat's tilt makes the two halves differ by several ADU around the bias level.
    const biasLevel = computeMedian(Array.from(bias.data as Float32Array));
    const rawTilt = residual(raw.data as Float32Array, 0, 35, biasLevel) - residual(raw.data as Float32Array, 35, 70, biasLevel);
    expect(Math.abs(rawTilt)).toBeGreaterThan(8);
  });
});

describe("calibrate", () => {
  it("finds most of the stars of a visit at their true positions, with fluxes close to the truth", async () => {
    const visit = 4;
    let bright = 0;
    let found = 0;
    const fluxRatios: number[] = [];
    for (const detector of [0, 1, 2, 3]) {
      const { calexp, sources } = await calibrateExposure(dataDir, { band: "r", visit, detector });
      expect(calexp.shape).toEqual([70, 70]);
      // The background is gone: the calexp's median is near zero.
      expect(Math.abs(computeMedian(Array.from(calexp.data as Float32Array)))).toBeLessThan(3);
      // Sky noise: sqrt(sky + read noise²), about 20 ADU in r.
      expect(sources.noise).toBeGreaterThan(15);
      expect(sources.noise).toBeLessThan(25);
      for (const star of findStarsOnDetector(visit, detector, 3).filter((s) => s.mag.r <= 20)) {
        bright++;
        const match = sources.sources.find((d) => Math.hypot(d.skyX - star.x, d.skyY - star.y) < 1);
        if (match === undefined) continue;
        found++;
        if (isIsolated(star, 9) && star.mag.r <= 19.5) fluxRatios.push(match.flux / 10 ** (-0.4 * (star.mag.r - 27)));
      }
    }
    expect(bright).toBeGreaterThanOrEqual(10);
    expect(found / bright).toBeGreaterThanOrEqual(0.8);
    expect(fluxRatios.length).toBeGreaterThanOrEqual(3);
    expect(computeMedian(fluxRatios)).toBeGreaterThan(0.95);
    expect(computeMedian(fluxRatios)).toBeLessThan(1.05);
  });

  it("changes its source list, not its calexp, with the detection threshold", async () => {
    const dataId = { band: "g", visit: 2, detector: 2 };
    const low = await calibrateExposure(dataDir, dataId, 4);
    const high = await calibrateExposure(dataDir, dataId, 10);
    expect(low.sources.sources.length).toBeGreaterThan(high.sources.sources.length);
    expect(Buffer.from(low.calexp.data.buffer).equals(Buffer.from(high.calexp.data.buffer))).toBe(true);
  });
});

describe("makeWarp", () => {
  it("resamples a visit onto its patches, preserving stars' fluxes", async () => {
    const visit = 1;
    const calexps = [];
    for (const detector of [0, 1, 2, 3]) {
      const dataId = { band: "g", visit, detector };
      calexps.push({ dataId, value: (await calibrateExposure(dataDir, dataId)).calexp });
    }
    const ratios: number[] = [];
    for (const patch of [0, 1, 2, 3]) {
      const out = (await makeWarp.run({ calexps }, {}, makeTestContext({ visit, tract: 0, patch }))) as { warp: NdArray };
      expect(out.warp.shape).toEqual([PATCH_SIZE, PATCH_SIZE]);
      const origin = getPatchOrigin(0, patch);
      const warpImage = { width: PATCH_SIZE, height: PATCH_SIZE, data: out.warp.data as Float32Array };
      for (const detector of [0, 1, 2, 3]) {
        const calexpImage = { width: SIZE, height: SIZE, data: calexps[detector]!.value.data as Float32Array };
        for (const star of findStarsOnDetector(visit, detector, 7).filter((s) => s.mag.g <= 19 && isIsolated(s, 9))) {
          const [wx, wy] = [star.x - origin.x, star.y - origin.y];
          if (wx < 7 || wy < 7 || wx > PATCH_SIZE - 8 || wy > PATCH_SIZE - 8) continue;
          ratios.push(sumAperture(warpImage, wx, wy, 6).flux / sumAperture(calexpImage, star.px, star.py, 6).flux);
        }
      }
    }
    expect(ratios.length).toBeGreaterThanOrEqual(5);
    for (const ratio of ratios) {
      expect(ratio).toBeGreaterThan(0.95);
      expect(ratio).toBeLessThan(1.05);
    }
  });

  it("marks the pixels no detector covers as NaN", async () => {
    const dataId = { band: "g", visit: 1, detector: 3 };
    const calexp = (await calibrateExposure(dataDir, dataId)).calexp;
    const out = (await makeWarp.run({ calexps: [{ dataId, value: calexp }] }, {}, makeTestContext({ visit: 1, tract: 0, patch: 0 }))) as { warp: NdArray };
    const data = out.warp.data as Float32Array;
    expect(Number.isNaN(data[0])).toBe(true); // patch 0's corner is on detector 0, not 3
    expect(Number.isFinite(data[data.length - 1])).toBe(true); // its opposite corner is on detector 3
  });
});

describe("coadd", () => {
  it("rejects a value far from the others and keeps the rest", () => {
    const options = { clip: 3, signalTolerance: 0.5 };
    expect(combineClipped([1, 2, 3], [10, 10, 10], options)).toEqual({ mean: 2, rejected: 0 });
    expect(combineClipped([1, 3, 5000], [10, 10, 10], options)).toEqual({ mean: 2, rejected: 1 });
    expect(combineClipped([], [], options).mean).toBeNaN();
  });

  it("clips an outlier injected into one warp", async () => {
    const warps = (await warpAll(dataDir))
      .filter((w) => w.dataId.band === "g" && w.dataId.patch === 1)
      .map((w) => ({ dataId: { visit: w.dataId.visit, tract: 0, patch: 1 }, value: w.value }));
    expect(warps.length).toBe(3);
    const pixel = 30 * PATCH_SIZE + 30;
    const clean = warps.map((w) => (w.value.data as Float32Array)[pixel]!);
    const hit = Float32Array.from(warps[1]!.value.data as Float32Array);
    hit[pixel] = 5000; // a cosmic ray
    const withHit = [warps[0]!, { ...warps[1]!, value: { ...warps[1]!.value, data: hit } }, warps[2]!];
    const run = async (clip: number) =>
      ((await coadd.run({ warps: withHit }, coadd.config!.parse({ clip }), makeTestContext({ tract: 0, patch: 1, band: "g" }))) as { coadd: NdArray }).coadd;
    const clipped = (await run(3)).data[pixel]!;
    expect(clipped).toBeCloseTo((clean[0]! + clean[2]!) / 2, 3);
    const unclipped = (await run(1e6)).data[pixel]!;
    expect(unclipped).toBeGreaterThan(1500);
  });
});

describe("png", () => {
  it("computes the standard CRC-32 and writes a decodable image", () => {
    expect(computeCrc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
    const rgb = Uint8Array.from({ length: 2 * 3 * 3 }, (_, i) => i * 10);
    const png = encodePng({ width: 3, height: 2, rgb });
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const view = new DataView(png.buffer, png.byteOffset);
    expect([view.getUint32(16), view.getUint32(20)]).toEqual([3, 2]);
    const idatLength = view.getUint32(33);
    const scanlines = inflateSync(png.subarray(41, 41 + idatLength));
    expect(Array.from(scanlines.subarray(0, 10))).toEqual([0, 0, 10, 20, 30, 40, 50, 60, 70, 80]);
  });
});

describe("the whole chain in memory", () => {
  it("recovers most true stars brighter than the limit, with no spurious detections to speak of", async () => {
    const result = await runSkyChain(dataDir, { magLimit: 20.5 });
    expect(result.warps.length).toBe(24);
    expect(result.coadds.length).toBe(8);
    expect(result.catalog.expected).toBeGreaterThanOrEqual(20);
    expect(result.catalog.completeness).toBeGreaterThanOrEqual(0.8);
    for (const band of ["g", "r"]) {
      expect(result.catalog.bands[band].spurious).toBeLessThanOrEqual(2);
    }
    type Row = { truthId: number | null; trueMag: number | null; mag: number | null };
    const isolatedBright = result.catalog.sources.filter(
      (s: Row) => s.truthId !== null && s.trueMag! < 19.5 && isIsolated(truth.stars[s.truthId]!, 9),
    );
    expect(isolatedBright.length).toBeGreaterThanOrEqual(10);
    const errors = isolatedBright.map((s: Row) => Math.abs(s.mag! - s.trueMag!));
    expect(computeMedian(errors)).toBeLessThan(0.05);
    expect(Array.from(result.picture.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]);
  });
});
