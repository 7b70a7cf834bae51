/**
 * Calibrates one exposure: estimates and subtracts a smooth background (masking the stars first),
 * measures the noise robustly, and detects and measures the stars above `detection.threshold` sigma. The calexp is the
 * background-subtracted image; `src` lists the stars in pixel and sky coordinates. The detection
 * threshold changes `src` only, never the calexp, so downstream quanta stay up to date (early cutoff).
 */
import { defineTask, z, type NdArray } from "quanta";
import { estimateMaskedBackground, type Image } from "./image-stats.js";
import { detectSources } from "./source-detection.js";
import { getDetectorOrigin } from "./geometry.mjs";

export default defineTask({
  name: "calibrate",
  dimensions: ["band", "visit", "detector"],
  config: z.object({
    detection: z
      .object({
        threshold: z.coerce.number().positive().default(5),
        psfSigma: z.number().positive().default(1.4),
        apertureRadius: z.number().positive().default(5),
      })
      .default({ threshold: 5, psfSigma: 1.4, apertureRadius: 5 }),
    background: z
      .object({
        cellSize: z.int().min(4).default(35),
        maskSigma: z.number().positive().default(3),
        maskGrow: z.int().min(0).default(3),
      })
      .default({ cellSize: 35, maskSigma: 3, maskGrow: 3 }),
  }),
  inputs: {
    exposure: { type: "postIsr", dimensions: ["band", "visit", "detector"], storage: "ndarray" },
  },
  outputs: {
    calexp: { type: "calexp", dimensions: ["band", "visit", "detector"], storage: "ndarray" },
    sources: { type: "src", dimensions: ["band", "visit", "detector"], storage: "json" },
  },
  run({ exposure }, config, ctx) {
    const [height, width] = exposure.shape;
    const image: Image = { width, height, data: Float32Array.from(exposure.data as ArrayLike<number>) };
    const background = estimateMaskedBackground(image, config.background);
    const subtracted = new Float32Array(image.data.length);
    for (let i = 0; i < subtracted.length; i++) subtracted[i] = image.data[i]! - background[i]!;
    const calexp: Image = { width, height, data: subtracted };
    const detection = detectSources(calexp, config.detection);
    const origin = locateDetector(ctx.dataId);
    const sources = detection.sources.map((s) => ({ ...roundSource(s), skyX: round(origin.x + s.x), skyY: round(origin.y + s.y) }));
    ctx.log.info("%d sources above %s sigma, noise %s", sources.length, config.detection.threshold, round(detection.noise));
    const calexpArray: NdArray = { dtype: "float32", shape: [height, width], data: subtracted };
    return {
      calexp: calexpArray,
      sources: { background: round(averageOf(background)), noise: round(detection.noise), sources },
    };
  },
});

function locateDetector(dataId: Readonly<Record<string, number | string>>): { x: number; y: number } {
  const { visit, detector } = dataId;
  return typeof visit === "number" && typeof detector === "number" ? getDetectorOrigin(visit, detector) : { x: 0, y: 0 };
}

function averageOf(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function roundSource<S extends { x: number; y: number; flux: number; fluxErr: number; significance: number }>(s: S) {
  return { x: round(s.x), y: round(s.y), flux: round(s.flux), fluxErr: round(s.fluxErr), significance: round(s.significance) };
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
