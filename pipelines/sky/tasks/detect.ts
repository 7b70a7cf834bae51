/**
 * Detects and measures the sources of one coadd. Positions are returned in sky coordinates; only the
 * sources in the patch's inner region are kept, so each star is reported by exactly one patch.
 * The input connection is `image` (dataset type `deepCoadd` by default); the sky pipeline renames it
 * to its `coadd` dataset type.
 */
import { defineTask, z } from "quanta";
import { detectSources } from "./source-detection.js";
import { getPatchInnerBox, getPatchOrigin } from "./geometry.mjs";

export default defineTask({
  name: "detect",
  dimensions: ["tract", "patch", "band"],
  config: z.object({
    threshold: z.coerce.number().positive().default(5),
    psfSigma: z.number().positive().default(1.4),
    apertureRadius: z.number().positive().default(5),
  }),
  inputs: {
    image: { type: "deepCoadd", dimensions: ["tract", "patch", "band"], storage: "ndarray" },
  },
  outputs: {
    detections: { type: "detections", dimensions: ["tract", "patch", "band"], storage: "json" },
  },
  run({ image }, config, ctx) {
    const { tract, patch, band } = ctx.dataId as { tract: number; patch: number; band: string };
    const [height, width] = image.shape;
    const data = Float32Array.from(image.data as ArrayLike<number>);
    const detection = detectSources({ width, height, data }, config);
    const origin = getPatchOrigin(tract, patch);
    const inner = getPatchInnerBox(tract, patch);
    const sources = detection.sources
      .map((s) => ({ ...s, x: origin.x + s.x, y: origin.y + s.y }))
      .filter((s) => s.x >= inner.x0 - 0.5 && s.x < inner.x1 - 0.5 && s.y >= inner.y0 - 0.5 && s.y < inner.y1 - 0.5)
      .map((s) => ({ x: round(s.x), y: round(s.y), flux: round(s.flux), fluxErr: round(s.fluxErr), significance: round(s.significance) }));
    ctx.log.info("%d sources in the inner region of patch %d, band %s", sources.length, patch, band);
    return { detections: { tract, patch, band, noise: round(detection.noise), sources } };
  },
});

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
