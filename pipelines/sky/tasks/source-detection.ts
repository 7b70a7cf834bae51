/**
 * Source detection and measurement on background-subtracted images, shared by `calibrate` (single
 * exposures) and `detect` (coadds).
 *
 * Detection convolves the image with a Gaussian of the PSF's width (the matched filter for a point
 * source), estimates the filtered image's noise robustly, and keeps the local maxima above
 * `threshold` times that noise. Each source is measured on the unfiltered image: its centroid by
 * parabolic interpolation of the filtered peak, its flux by a circular aperture sum.
 */
import { estimateNoise, type Image } from "./image-stats.js";

export interface DetectionOptions {
  /** In units of the filtered image's noise. */
  readonly threshold: number;
  /** The PSF's Gaussian sigma, in pixels: the width of the matched filter. */
  readonly psfSigma: number;
  /** The aperture radius for fluxes, in pixels. */
  readonly apertureRadius: number;
}

/** A detected source, in pixel coordinates of the image it was found on. */
export interface Source {
  readonly x: number;
  readonly y: number;
  readonly flux: number;
  readonly fluxErr: number;
  /** Signal-to-noise ratio of the filtered peak. */
  readonly significance: number;
}

export interface Detection {
  /** The per-pixel noise of the image. */
  readonly noise: number;
  readonly sources: Source[];
}

const PEAK_HALF_WIDTH = 2;

/** Detects and measures the sources of a background-subtracted image (NaN marks pixels with no data). */
export function detectSources(image: Image, options: DetectionOptions): Detection {
  const noise = estimateNoise(image.data);
  const filtered = smoothWithGaussian(image, options.psfSigma);
  const filteredNoise = estimateNoise(maskLike(filtered, image.data));
  const cut = options.threshold * filteredNoise;
  const sources: Source[] = [];
  for (let y = 1; y < image.height - 1; y++) {
    for (let x = 1; x < image.width - 1; x++) {
      const i = y * image.width + x;
      if (!(filtered[i]! > cut) || !Number.isFinite(image.data[i]) || !isLocalPeak(filtered, image, x, y)) continue;
      const centre = interpolatePeak(filtered, image.width, x, y);
      const { flux, pixels } = sumAperture(image, centre.x, centre.y, options.apertureRadius);
      sources.push({
        x: centre.x,
        y: centre.y,
        flux,
        fluxErr: noise * Math.sqrt(pixels),
        significance: filtered[i]! / filteredNoise,
      });
    }
  }
  return { noise, sources };
}

/** Convolves with a normalised Gaussian (separable); NaN pixels count as zero. */
export function smoothWithGaussian(image: Image, sigma: number): Float32Array {
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const kernel = new Float64Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) total += kernel[k + radius] = Math.exp((-k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= total;
  const { width, height } = image;
  const rows = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) {
        const v = x + k >= 0 && x + k < width ? image.data[y * width + x + k]! : 0;
        if (Number.isFinite(v)) sum += kernel[k + radius]! * v;
      }
      rows[y * width + x] = sum;
    }
  }
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let sum = 0;
      for (let k = -radius; k <= radius; k++) if (y + k >= 0 && y + k < height) sum += kernel[k + radius]! * rows[(y + k) * width + x]!;
      out[y * width + x] = sum;
    }
  }
  return out;
}

/** `values` with NaN wherever `mask` is not finite. */
function maskLike(values: Float32Array, mask: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number.isFinite(mask[i]) ? values[i]! : NaN;
  return out;
}

/** A maximum of its neighbourhood; ties go to the first pixel in row-major order. */
function isLocalPeak(filtered: Float32Array, image: Image, x: number, y: number): boolean {
  const i = y * image.width + x;
  const v = filtered[i]!;
  for (let dy = -PEAK_HALF_WIDTH; dy <= PEAK_HALF_WIDTH; dy++) {
    for (let dx = -PEAK_HALF_WIDTH; dx <= PEAK_HALF_WIDTH; dx++) {
      const nx = x + dx;
      const ny = y + dy;
      if ((dx === 0 && dy === 0) || nx < 0 || ny < 0 || nx >= image.width || ny >= image.height) continue;
      const j = ny * image.width + nx;
      if (filtered[j]! > v || (filtered[j] === v && j < i)) return false;
    }
  }
  return true;
}

/** The sub-pixel peak position: a parabola through the peak and its two neighbours on each axis. */
function interpolatePeak(filtered: Float32Array, width: number, x: number, y: number): { x: number; y: number } {
  const at = (px: number, py: number) => filtered[py * width + px]!;
  const offset = (left: number, centre: number, right: number) => {
    const curvature = left - 2 * centre + right;
    return curvature < 0 ? Math.max(-0.5, Math.min(0.5, (0.5 * (left - right)) / curvature)) : 0;
  };
  return {
    x: x + offset(at(x - 1, y), at(x, y), at(x + 1, y)),
    y: y + offset(at(x, y - 1), at(x, y), at(x, y + 1)),
  };
}

/** The sum of the finite pixels whose centres lie within `radius` of (cx, cy), and how many there were. */
export function sumAperture(image: Image, cx: number, cy: number, radius: number): { flux: number; pixels: number } {
  let flux = 0;
  let pixels = 0;
  const y0 = Math.max(0, Math.floor(cy - radius));
  const y1 = Math.min(image.height - 1, Math.ceil(cy + radius));
  const x0 = Math.max(0, Math.floor(cx - radius));
  const x1 = Math.min(image.width - 1, Math.ceil(cx + radius));
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const v = image.data[y * image.width + x]!;
      if ((x - cx) ** 2 + (y - cy) ** 2 > radius * radius || !Number.isFinite(v)) continue;
      flux += v;
      pixels++;
    }
  }
  return { flux, pixels };
}
