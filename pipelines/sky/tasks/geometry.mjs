/**
 * The survey's layout and its world coordinate model, shared by the data generator and the tasks.
 *
 * Sky coordinates are in pixels of one common scale (detectors and patches have the same pixel size).
 * A detector pixel (x, y), counted from 0 with its centre at integer coordinates, lies at sky
 * `detectorOrigin(visit, detector) + (x, y)`; a patch pixel (i, j) lies at `patchOrigin(tract, patch) + (i, j)`.
 * Detectors tile the focal plane in a 2×2 grid with no gaps; each visit shifts the whole focal plane by a
 * small dither. Patches tile one tract in a 2×2 grid of 64×64-pixel inner regions, each padded by a
 * border of 4 pixels so that a star near a patch edge is whole in at least one patch; a detection belongs
 * to the patch whose inner region holds it.
 */
import { createRandom } from "../prng.mjs";

export const DETECTOR_SIZE = 70;
export const DETECTORS = [0, 1, 2, 3];
export const PATCH_INNER_SIZE = 64;
export const PATCH_BORDER = 4;
export const PATCH_SIZE = PATCH_INNER_SIZE + 2 * PATCH_BORDER;
export const TRACTS = [0];
export const PATCHES = [0, 1, 2, 3];
/** The visits of each band: a visit is taken in one band. */
export const VISITS_BY_BAND = /** @type {Record<string, number[]>} */ ({ g: [1, 2, 3], r: [4, 5, 6] });
const FOCAL_PLANE_OFFSET = -6;
const MAX_DITHER = 4;

/**
 * The band a visit was taken in.
 * @param {number} visit
 * @returns {string}
 */
export function findBandOfVisit(visit) {
  for (const [band, visits] of Object.entries(VISITS_BY_BAND)) if (visits.includes(visit)) return band;
  throw new Error(`unknown visit ${visit}`);
}

/**
 * The sky position of pixel (0, 0) of a detector in a visit.
 * @param {number} visit
 * @param {number} detector
 * @returns {{ x: number, y: number }}
 */
export function getDetectorOrigin(visit, detector) {
  const uniform = createRandom(7919 * visit + 17);
  const ditherX = (2 * uniform() - 1) * MAX_DITHER;
  const ditherY = (2 * uniform() - 1) * MAX_DITHER;
  return {
    x: FOCAL_PLANE_OFFSET + (detector % 2) * DETECTOR_SIZE + ditherX,
    y: FOCAL_PLANE_OFFSET + Math.floor(detector / 2) * DETECTOR_SIZE + ditherY,
  };
}

/**
 * The sky position of pixel (0, 0) of a patch's grid (its border included).
 * @param {number} tract
 * @param {number} patch
 * @returns {{ x: number, y: number }}
 */
export function getPatchOrigin(tract, patch) {
  const inner = getPatchInnerBox(tract, patch);
  return { x: inner.x0 - PATCH_BORDER, y: inner.y0 - PATCH_BORDER };
}

/**
 * The patch's inner region on the sky, `[x0, x1) × [y0, y1)`: detections there belong to this patch.
 * @param {number} tract
 * @param {number} patch
 * @returns {{ x0: number, y0: number, x1: number, y1: number }}
 */
export function getPatchInnerBox(tract, patch) {
  const x0 = (patch % 2) * PATCH_INNER_SIZE + tract * 2 * PATCH_INNER_SIZE;
  const y0 = Math.floor(patch / 2) * PATCH_INNER_SIZE;
  return { x0, y0, x1: x0 + PATCH_INNER_SIZE, y1: y0 + PATCH_INNER_SIZE };
}

/**
 * Whether a detector's footprint in a visit intersects a patch's footprint (border included).
 * Footprints extend half a pixel beyond the outermost pixel centres.
 * @param {{ visit: number, detector: number, tract: number, patch: number }} ids
 * @returns {boolean}
 */
export function isOverlapping({ visit, detector, tract, patch }) {
  const d = getDetectorOrigin(visit, detector);
  const p = getPatchOrigin(tract, patch);
  const overlapX = Math.min(d.x + DETECTOR_SIZE, p.x + PATCH_SIZE) - Math.max(d.x, p.x);
  const overlapY = Math.min(d.y + DETECTOR_SIZE, p.y + PATCH_SIZE) - Math.max(d.y, p.y);
  return overlapX > 0 && overlapY > 0;
}
