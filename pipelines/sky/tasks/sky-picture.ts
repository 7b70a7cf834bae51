/**
 * The summary's picture: one panel per band, side by side, each the mosaic of its coadds with an asinh
 * stretch, detections circled in green and missed true stars circled in red.
 */
import type { CoaddMosaic } from "./coadd-mosaic.js";
import type { RgbImage } from "./png.js";

export interface Marker {
  readonly band: string;
  readonly x: number;
  readonly y: number;
  readonly kind: "detected" | "missed";
}

const SCALE = 2;
const GAP = 8;
const CIRCLE_RADIUS = 5;
const COLOURS: Record<Marker["kind"], [number, number, number]> = { detected: [40, 230, 90], missed: [255, 60, 60] };
const NO_DATA: [number, number, number] = [10, 10, 40];

/** Draws the panels and the markers. */
export function renderSkyPicture(mosaic: CoaddMosaic, markers: readonly Marker[]): RgbImage {
  const { x0, y0, x1, y1 } = mosaic.bounds;
  const panelWidth = (x1 - x0) * SCALE;
  const panelHeight = (y1 - y0) * SCALE;
  const width = mosaic.bands.length * panelWidth + (mosaic.bands.length - 1) * GAP;
  const image = { width, height: panelHeight, rgb: new Uint8Array(width * panelHeight * 3) };
  mosaic.bands.forEach((band, k) => {
    const left = k * (panelWidth + GAP);
    const noise = mosaic.estimateNoise(band);
    for (let py = 0; py < panelHeight; py++) {
      for (let px = 0; px < panelWidth; px++) {
        // Row 0 of the picture is the top: sky y grows upwards.
        const value = mosaic.sample(band, x0 + Math.floor(px / SCALE), y1 - 1 - Math.floor(py / SCALE));
        setPixel(image, left + px, py, Number.isFinite(value) ? stretchGrey(value, noise) : NO_DATA);
      }
    }
    for (const m of markers.filter((m) => m.band === band)) {
      const cx = left + (m.x - x0 + 0.5) * SCALE;
      const cy = (y1 - 1 - m.y + 0.5) * SCALE;
      drawCircle(image, { cx, cy, radius: CIRCLE_RADIUS * SCALE, colour: COLOURS[m.kind], left, right: left + panelWidth });
    }
  });
  return image;
}

function stretchGrey(value: number, noise: number): [number, number, number] {
  const t = Math.asinh(Math.max(0, value) / noise) / Math.asinh(400);
  const grey = Math.round(255 * Math.min(1, t));
  return [grey, grey, grey];
}

interface CircleSpec {
  cx: number;
  cy: number;
  radius: number;
  colour: [number, number, number];
  /** The panel's columns: the circle is clipped to them. */
  left: number;
  right: number;
}

function drawCircle(image: RgbImage, { cx, cy, radius, colour, left, right }: CircleSpec): void {
  for (let y = Math.floor(cy - radius - 1); y <= Math.ceil(cy + radius + 1); y++) {
    for (let x = Math.floor(cx - radius - 1); x <= Math.ceil(cx + radius + 1); x++) {
      if (x < left || x >= right || y < 0 || y >= image.height) continue;
      const distance = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (Math.abs(distance - radius) < 0.75) setPixel(image, x, y, colour);
    }
  }
}

function setPixel(image: RgbImage, x: number, y: number, colour: readonly number[]): void {
  const i = (y * image.width + x) * 3;
  image.rgb[i] = colour[0]!;
  image.rgb[i + 1] = colour[1]!;
  image.rgb[i + 2] = colour[2]!;
}
