/**
 * The sky survey's data generator: deterministic (seeded), small and fast. It writes, under a data
 * directory:
 *
 *   raw/{band}/visit{visit}/det{detector}.npy   float32 [70, 70]: (sky + stars) · flat + bias + noise
 *   calib/bias-det{detector}.npy                float32 [70, 70]: the detector's bias pattern
 *   calib/flat-det{detector}.npy                float32 [70, 70]: the detector's flat-field pattern
 *   truth.json                                  the true star catalog and each visit's conditions
 *   overlaps.csv                                visit,detector,tract,patch rows whose footprints intersect
 *
 * Stars are Gaussian PSFs integrated over each pixel, with a per-visit seeing and a per-band flux from
 * each star's magnitude (zero point 27). Noise is Gaussian with the variance of the detected signal plus
 * a read noise. Run directly: `node pipelines/sky/generate.mjs DATA_DIR`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { encodeNpy } from "./npy-file.mjs";
import { createGaussian, createRandom } from "./prng.mjs";
import {
  DETECTORS, DETECTOR_SIZE, PATCHES, TRACTS, VISITS_BY_BAND, getDetectorOrigin, isOverlapping,
} from "./tasks/geometry.mjs";

export const ZERO_POINT = 27;
const STAR_COUNT = 70;
const STAR_MIN_SEPARATION = 8;
const SKY_BOX = { x0: -12, y0: -12, x1: 140, y1: 140 };
const READ_NOISE = 5;

/** @typedef {{ id: number, x: number, y: number, mag: Record<string, number> }} TrueStar */
/** @typedef {{ band: string, seeing: number, sky: number, skySlopeX: number, skySlopeY: number }} VisitConditions */

/**
 * A magnitude's flux in ADU.
 * @param {number} mag
 * @returns {number}
 */
export function convertMagToFlux(mag) {
  return 10 ** (-0.4 * (mag - ZERO_POINT));
}

/**
 * The sky level of a visit at a sky position, in ADU per pixel.
 * @param {VisitConditions} conditions
 * @param {number} x
 * @param {number} y
 * @returns {number}
 */
export function evaluateSky(conditions, x, y) {
  return conditions.sky + conditions.skySlopeX * (x - 64) + conditions.skySlopeY * (y - 64);
}

/**
 * Writes the whole data set under `dataDir` and returns the truth it was drawn from.
 * @param {string} dataDir
 * @param {{ seed?: number }} [options]
 * @returns {{ stars: TrueStar[], visits: Record<string, VisitConditions> }}
 */
export function generateSkyData(dataDir, options = {}) {
  const seed = options.seed ?? 2024;
  const stars = drawStars(createRandom(seed));
  const visits = drawVisitConditions(createRandom(seed + 1));
  for (const detector of DETECTORS) writeCalibration(dataDir, detector, seed);
  for (const [band, bandVisits] of Object.entries(VISITS_BY_BAND)) {
    for (const visit of bandVisits) {
      for (const detector of DETECTORS) {
        const raw = renderRaw({ stars, conditions: visits[visit], visit, detector, seed });
        writeArray(join(dataDir, "raw", band, `visit${visit}`, `det${detector}.npy`), raw);
      }
    }
  }
  const truth = { zeroPoint: ZERO_POINT, stars, visits };
  writeFileSync(join(dataDir, "truth.json"), JSON.stringify(truth, null, 1) + "\n");
  writeFileSync(join(dataDir, "overlaps.csv"), formatOverlaps());
  return truth;
}

/**
 * @param {() => number} uniform
 * @returns {TrueStar[]}
 */
function drawStars(uniform) {
  /** @type {TrueStar[]} */
  const stars = [];
  while (stars.length < STAR_COUNT) {
    const x = SKY_BOX.x0 + uniform() * (SKY_BOX.x1 - SKY_BOX.x0);
    const y = SKY_BOX.y0 + uniform() * (SKY_BOX.y1 - SKY_BOX.y0);
    if (stars.some((s) => Math.hypot(s.x - x, s.y - y) < STAR_MIN_SEPARATION)) continue;
    const r = 16.5 + 6.5 * uniform();
    const g = r + 0.2 + 0.8 * uniform();
    stars.push({ id: stars.length, x: round3(x), y: round3(y), mag: { g: round3(g), r: round3(r) } });
  }
  return stars;
}

/**
 * @param {() => number} uniform
 * @returns {Record<string, VisitConditions>}
 */
function drawVisitConditions(uniform) {
  /** @type {Record<string, VisitConditions>} */
  const visits = {};
  for (const [band, bandVisits] of Object.entries(VISITS_BY_BAND)) {
    for (const visit of bandVisits) {
      visits[visit] = {
        band,
        seeing: round3(1.2 + 0.4 * uniform()),
        sky: round3((band === "g" ? 220 : 380) * (0.9 + 0.2 * uniform())),
        skySlopeX: round3(0.3 * (uniform() - 0.5)),
        skySlopeY: round3(0.3 * (uniform() - 0.5)),
      };
    }
  }
  return visits;
}

/**
 * The bias and flat patterns of a detector.
 * @param {number} detector
 * @param {number} seed
 * @returns {{ bias: Float32Array, flat: Float32Array }}
 */
export function makeCalibration(detector, seed) {
  const n = DETECTOR_SIZE;
  const gaussian = createGaussian(createRandom(seed * 31 + detector));
  const bias = new Float32Array(n * n);
  const flat = new Float32Array(n * n);
  const tilt = detector % 2 === 0 ? 1 : -1;
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      const u = x / (n - 1) - 0.5;
      const v = y / (n - 1) - 0.5;
      bias[y * n + x] = 900 + 40 * detector + 6 * Math.sin(0.45 * x + detector) + 0.05 * y;
      flat[y * n + x] = 1 + 0.12 * tilt * u + 0.06 * v - 0.1 * (u * u + v * v) + 0.01 * gaussian();
    }
  }
  return { bias, flat };
}

/**
 * @param {string} dataDir
 * @param {number} detector
 * @param {number} seed
 */
function writeCalibration(dataDir, detector, seed) {
  const { bias, flat } = makeCalibration(detector, seed);
  writeArray(join(dataDir, "calib", `bias-det${detector}.npy`), bias);
  writeArray(join(dataDir, "calib", `flat-det${detector}.npy`), flat);
}

/**
 * One raw exposure: (sky + stars) · flat + bias + noise.
 * @param {{ stars: TrueStar[], conditions: VisitConditions, visit: number, detector: number, seed: number }} args
 * @returns {Float32Array}
 */
function renderRaw({ stars, conditions, visit, detector, seed }) {
  const n = DETECTOR_SIZE;
  const origin = getDetectorOrigin(visit, detector);
  const signal = new Float64Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) signal[y * n + x] = evaluateSky(conditions, origin.x + x, origin.y + y);
  }
  for (const star of stars) {
    const flux = convertMagToFlux(star.mag[conditions.band]);
    addGaussianStar(signal, { x: star.x - origin.x, y: star.y - origin.y, flux, sigma: conditions.seeing });
  }
  const { bias, flat } = makeCalibration(detector, seed);
  const gaussian = createGaussian(createRandom(seed * 1009 + visit * 101 + detector));
  const raw = new Float32Array(n * n);
  for (let i = 0; i < n * n; i++) {
    const detected = signal[i] * flat[i];
    raw[i] = detected + bias[i] + Math.sqrt(detected + READ_NOISE * READ_NOISE) * gaussian();
  }
  return raw;
}

/**
 * Adds a circular Gaussian PSF, integrated over each pixel, centred at detector coordinates (x, y).
 * @param {Float64Array} image a DETECTOR_SIZE² image
 * @param {{ x: number, y: number, flux: number, sigma: number }} star
 */
function addGaussianStar(image, { x, y, flux, sigma }) {
  const n = DETECTOR_SIZE;
  const reach = Math.ceil(6 * sigma);
  const x0 = Math.max(0, Math.floor(x) - reach);
  const x1 = Math.min(n - 1, Math.ceil(x) + reach);
  const y0 = Math.max(0, Math.floor(y) - reach);
  const y1 = Math.min(n - 1, Math.ceil(y) + reach);
  if (x0 > x1 || y0 > y1) return;
  const scale = sigma * Math.SQRT2;
  /** @param {number} p @param {number} c */
  const share = (p, c) => 0.5 * (computeErf((p + 0.5 - c) / scale) - computeErf((p - 0.5 - c) / scale));
  for (let py = y0; py <= y1; py++) {
    const fy = share(py, y);
    for (let px = x0; px <= x1; px++) image[py * n + px] += flux * fy * share(px, x);
  }
}

/**
 * The error function (Abramowitz & Stegun 7.1.26, absolute error below 1.5e-7).
 * @param {number} z
 * @returns {number}
 */
function computeErf(z) {
  const sign = z < 0 ? -1 : 1;
  const a = Math.abs(z);
  const t = 1 / (1 + 0.3275911 * a);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign * (1 - poly * Math.exp(-a * a));
}

/** @returns {string} the overlap relation as CSV */
function formatOverlaps() {
  const lines = ["visit,detector,tract,patch"];
  for (const visits of Object.values(VISITS_BY_BAND)) {
    for (const visit of visits) {
      for (const detector of DETECTORS) {
        for (const tract of TRACTS) {
          for (const patch of PATCHES) {
            if (isOverlapping({ visit, detector, tract, patch })) lines.push(`${visit},${detector},${tract},${patch}`);
          }
        }
      }
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * @param {string} path
 * @param {Float32Array} data a DETECTOR_SIZE² image
 */
function writeArray(path, data) {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, encodeNpy({ dtype: "float32", shape: [DETECTOR_SIZE, DETECTOR_SIZE], data }));
}

/** @param {number} v */
function round3(v) {
  return Math.round(v * 1000) / 1000;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.argv[2] ?? join(import.meta.dirname, "data");
  const truth = generateSkyData(dir);
  console.log(`wrote ${Object.keys(truth.visits).length} visits, ${truth.stars.length} stars under ${dir}`);
}
