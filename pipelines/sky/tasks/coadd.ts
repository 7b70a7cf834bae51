/**
 * Combines all warps of a patch in one band into a coadd: per pixel, the mean of the values that lie
 * within `clip` sigma of the pixel's median, where sigma combines the warp's own noise (estimated
 * robustly) with `signalTolerance` times the median signal (stars differ between visits by their
 * seeing; satellites and cosmic rays do not look like that). Pixels no warp covers are NaN.
 */
import { defineTask, z, type NdArray } from "quanta";
import { computeMedian, estimateNoise } from "./image-stats.js";

export default defineTask({
  name: "coadd",
  dimensions: ["tract", "patch", "band"],
  config: z.object({
    clip: z.coerce.number().positive().default(3),
    signalTolerance: z.number().min(0).default(0.5),
  }),
  inputs: {
    warps: { type: "warp", dimensions: ["visit", "tract", "patch"], storage: "ndarray", multiple: true },
  },
  outputs: {
    coadd: { type: "coadd", dimensions: ["tract", "patch", "band"], storage: "ndarray" },
  },
  run({ warps }, config, ctx) {
    const shape = warps[0]!.value.shape;
    const planes = warps.map((w) => w.value.data as Float32Array);
    const noises = planes.map((p) => estimateNoise(p));
    const out = new Float32Array(planes[0]!.length);
    let clipped = 0;
    const values: number[] = [];
    const sigmas: number[] = [];
    for (let i = 0; i < out.length; i++) {
      values.length = 0;
      sigmas.length = 0;
      planes.forEach((plane, k) => {
        if (Number.isFinite(plane[i])) {
          values.push(plane[i]!);
          sigmas.push(noises[k]!);
        }
      });
      const combined = combineClipped(values, sigmas, config);
      out[i] = combined.mean;
      clipped += combined.rejected;
    }
    ctx.log.info("coadded %d warps, clipped %d values", warps.length, clipped);
    const coaddArray: NdArray = { dtype: "float32", shape: [...shape], data: out };
    return { coadd: coaddArray };
  },
});

interface ClipOptions {
  readonly clip: number;
  readonly signalTolerance: number;
}

/** The clipped mean of one pixel's values (NaN when there are none) and how many were rejected. */
export function combineClipped(values: number[], sigmas: number[], options: ClipOptions): { mean: number; rejected: number } {
  if (values.length === 0) return { mean: NaN, rejected: 0 };
  const median = computeMedian(values);
  let sum = 0;
  let kept = 0;
  for (let k = 0; k < values.length; k++) {
    const allowed = options.clip * Math.hypot(sigmas[k]!, options.signalTolerance * median);
    if (Math.abs(values[k]! - median) > allowed) continue;
    sum += values[k]!;
    kept++;
  }
  return kept === 0 ? { mean: median, rejected: values.length } : { mean: sum / kept, rejected: values.length - kept };
}
