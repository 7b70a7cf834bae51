/**
 * Resamples one visit's calexps onto one patch's pixel grid (bilinear interpolation; detectors and
 * patches share one pixel scale, so flux per pixel is preserved). Patch pixels that no detector of the
 * visit covers are NaN. A detector covers half a pixel beyond its outermost pixel centres, so the
 * seams between adjacent detectors leave no gap; where two detectors meet, the first in data ID order wins.
 */
import { defineTask, noWork, type GatheredValue, type NdArray } from "quanta";
import { PATCH_SIZE, getDetectorOrigin, getPatchOrigin } from "./geometry.mjs";

export default defineTask({
  name: "makeWarp",
  dimensions: ["visit", "tract", "patch"],
  inputs: {
    calexps: { type: "calexp", dimensions: ["band", "visit", "detector"], storage: "ndarray", multiple: true },
  },
  outputs: {
    warp: { type: "warp", dimensions: ["visit", "tract", "patch"], storage: "ndarray" },
  },
  run({ calexps }, _config, ctx) {
    const { visit, tract, patch } = ctx.dataId as { visit: number; tract: number; patch: number };
    const patchOrigin = getPatchOrigin(tract, patch);
    const warp = new Float32Array(PATCH_SIZE * PATCH_SIZE).fill(NaN);
    let covered = 0;
    for (const calexp of calexps) {
      covered += resampleDetector({ calexp, visit, patchOrigin, warp });
    }
    if (covered === 0) return noWork(`no detector of visit ${visit} covers patch ${patch}`);
    ctx.log.info("%d detectors cover %d of %d pixels", calexps.length, covered, warp.length);
    const warpArray: NdArray = { dtype: "float32", shape: [PATCH_SIZE, PATCH_SIZE], data: warp };
    return { warp: warpArray };
  },
});

interface ResampleArgs {
  calexp: GatheredValue<NdArray>;
  visit: number;
  patchOrigin: { x: number; y: number };
  warp: Float32Array;
}

/** Fills the warp's still-empty pixels that this detector covers; returns how many it filled. */
function resampleDetector({ calexp, visit, patchOrigin, warp }: ResampleArgs): number {
  const [height, width] = calexp.value.shape;
  const data = calexp.value.data as Float32Array;
  const origin = getDetectorOrigin(visit, Number(calexp.dataId.detector));
  let filled = 0;
  for (let j = 0; j < PATCH_SIZE; j++) {
    const y = patchOrigin.y + j - origin.y;
    if (y < -0.5 || y >= height - 0.5) continue;
    for (let i = 0; i < PATCH_SIZE; i++) {
      const x = patchOrigin.x + i - origin.x;
      if (x < -0.5 || x >= width - 0.5 || !Number.isNaN(warp[j * PATCH_SIZE + i])) continue;
      warp[j * PATCH_SIZE + i] = sampleBilinear(data, width, height, x, y);
      filled++;
    }
  }
  return filled;
}

/** Bilinear interpolation at (x, y), clamped to the outermost pixel centres. */
function sampleBilinear(data: Float32Array, width: number, height: number, x: number, y: number): number {
  const cx = Math.min(Math.max(x, 0), width - 1);
  const cy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.min(Math.floor(cx), width - 2);
  const y0 = Math.min(Math.floor(cy), height - 2);
  const fx = cx - x0;
  const fy = cy - y0;
  const at = (px: number, py: number) => data[py * width + px]!;
  const top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx;
  const bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx;
  return top * (1 - fy) + bottom * fy;
}
