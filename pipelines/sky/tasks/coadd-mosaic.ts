/**
 * The coadds of all patches seen as one sky image per band: each sky position is read from the patch
 * whose inner region holds it (the pixel-footprint convention of geometry.mjs).
 */
import type { GatheredValue, NdArray } from "quanta";
import { PATCH_SIZE, getPatchInnerBox, getPatchOrigin } from "./geometry.mjs";
import { estimateNoise } from "./image-stats.js";

interface PatchImage {
  readonly inner: { x0: number; y0: number; x1: number; y1: number };
  readonly origin: { x: number; y: number };
  readonly data: Float32Array;
}

export class CoaddMosaic {
  /** The bands, sorted. */
  readonly bands: string[];
  /** The union of the patches' inner regions, in pixel-centre coordinates: `[x0, x1) × [y0, y1)`. */
  readonly bounds: { x0: number; y0: number; x1: number; y1: number };
  private readonly patchesByBand = new Map<string, PatchImage[]>();
  private readonly noiseByBand = new Map<string, number>();

  constructor(coadds: readonly GatheredValue<NdArray>[]) {
    for (const { dataId, value } of coadds) {
      const tract = Number(dataId.tract);
      const patch = Number(dataId.patch);
      const band = String(dataId.band);
      const entry = { inner: getPatchInnerBox(tract, patch), origin: getPatchOrigin(tract, patch), data: value.data as Float32Array };
      this.patchesByBand.set(band, [...(this.patchesByBand.get(band) ?? []), entry]);
    }
    this.bands = [...this.patchesByBand.keys()].sort();
    const all = [...this.patchesByBand.values()].flat().map((p) => p.inner);
    this.bounds = {
      x0: Math.min(...all.map((b) => b.x0)),
      y0: Math.min(...all.map((b) => b.y0)),
      x1: Math.max(...all.map((b) => b.x1)),
      y1: Math.max(...all.map((b) => b.y1)),
    };
  }

  /** The coadd value nearest to sky position (x, y) in `band`; NaN where no coadd has data. */
  sample(band: string, x: number, y: number): number {
    const px = Math.round(x);
    const py = Math.round(y);
    for (const p of this.patchesByBand.get(band) ?? []) {
      if (px < p.inner.x0 || px >= p.inner.x1 || py < p.inner.y0 || py >= p.inner.y1) continue;
      return p.data[(py - p.origin.y) * PATCH_SIZE + (px - p.origin.x)]!;
    }
    return NaN;
  }

  /** The per-pixel noise of a band's coadds, estimated robustly over all their pixels. */
  estimateNoise(band: string): number {
    let noise = this.noiseByBand.get(band);
    if (noise === undefined) {
      const planes = (this.patchesByBand.get(band) ?? []).map((p) => Array.from(p.data));
      noise = estimateNoise(planes.flat());
      this.noiseByBand.set(band, noise);
    }
    return noise;
  }
}
