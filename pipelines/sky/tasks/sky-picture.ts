/**
 * The summary's picture, a figure to keep: a title and a line of results above; one panel per band,
 * side by side, each labelled with its band and its counts, the mosaic of its coadds with an asinh
 * stretch, detections circled in green and missed true stars circled in red; below, a legend of the
 * circles, a scale bar in sky pixels and the grey scale of the stretch. All text is drawn into the
 * image with a bitmap font (bitmap-font.ts).
 *
 *   ┌──────────────────────────────────────────┐
 *   │ title                                    │
 *   │ subtitle                                 │
 *   │     band g              band r           │
 *   │   counts of g         counts of r        │
 *   │ ┌──────────────┐   ┌──────────────┐      │
 *   │ │    panel     │   │    panel     │      │
 *   │ └──────────────┘   └──────────────┘      │
 *   │ ○ detection (n)   ○ missed true star (n) │
 *   │ ├──┤ 16 px        ▁▂▃▅▇ flux / noise     │
 *   └──────────────────────────────────────────┘
 */
import { GLYPH_HEIGHT, drawText, measureText } from "./bitmap-font.js";
import type { CoaddMosaic } from "./coadd-mosaic.js";
import type { RgbImage } from "./png.js";

export interface Marker {
  readonly band: string;
  readonly x: number;
  readonly y: number;
  readonly kind: "detected" | "missed";
}

/** The words of the figure. */
export interface FigureCaption {
  readonly title: string;
  readonly subtitle: string;
  /** Per band: the line under its label (e.g. `26 of 26 recovered, 27 detections`). */
  readonly bandNotes: Readonly<Record<string, string>>;
  /** The magnitude limit of the stars that count as missed. */
  readonly magLimit: number;
}

type Colour = readonly [number, number, number];

const SCALE = 2;
const GAP = 16;
const PAD = 16;
const CIRCLE_RADIUS = 5;
/** The scale bar's length, in sky pixels. */
const SCALE_BAR_PIXELS = 16;
/** The flux / noise at which the stretch saturates, and the ticks of its grey scale. */
const STRETCH_MAX = 400;
const STRETCH_TICKS = [0, 1, 10, 100, 400];
const COLOURS: Record<Marker["kind"], Colour> = { detected: [30, 200, 80], missed: [240, 50, 50] };
const NO_DATA: Colour = [10, 10, 40];
const PAPER: Colour = [255, 255, 255];
const INK: Colour = [25, 25, 35];
const GREY_INK: Colour = [90, 90, 105];

/** Vertical positions of the figure's parts. */
const TITLE_Y = PAD;
const SUBTITLE_Y = TITLE_Y + 2 * GLYPH_HEIGHT + 6;
const LABEL_Y = SUBTITLE_Y + GLYPH_HEIGHT + 14;
const NOTE_Y = LABEL_Y + 2 * GLYPH_HEIGHT + 3;
const PANEL_Y = NOTE_Y + GLYPH_HEIGHT + 6;

/** Draws the figure. */
export function renderSkyPicture(mosaic: CoaddMosaic, markers: readonly Marker[], caption: FigureCaption): RgbImage {
  const { x0, y0, x1, y1 } = mosaic.bounds;
  const panelWidth = (x1 - x0) * SCALE;
  const panelHeight = (y1 - y0) * SCALE;
  const width = 2 * PAD + mosaic.bands.length * panelWidth + (mosaic.bands.length - 1) * GAP;
  const legendY = PANEL_Y + panelHeight + 14;
  const height = legendY + 56 + PAD;
  const image: RgbImage = { width, height, rgb: new Uint8Array(width * height * 3).fill(255) };
  drawText(image, caption.title, { x: PAD, y: TITLE_Y }, { scale: 2, colour: INK });
  drawText(image, caption.subtitle, { x: PAD, y: SUBTITLE_Y }, { scale: 1, colour: GREY_INK });
  mosaic.bands.forEach((band, k) => {
    const left = PAD + k * (panelWidth + GAP);
    drawCentred(image, `band ${band}`, { centre: left + panelWidth / 2, y: LABEL_Y, scale: 2, colour: INK });
    drawCentred(image, caption.bandNotes[band] ?? "", { centre: left + panelWidth / 2, y: NOTE_Y, scale: 1, colour: GREY_INK });
    drawPanel(image, { mosaic, band, left, top: PANEL_Y, width: panelWidth, height: panelHeight });
    const clip = { left, right: left + panelWidth, top: PANEL_Y, bottom: PANEL_Y + panelHeight };
    for (const m of markers.filter((m) => m.band === band)) {
      const cx = left + (m.x - x0 + 0.5) * SCALE;
      const cy = PANEL_Y + (y1 - 1 - m.y + 0.5) * SCALE;
      drawCircle(image, { cx, cy, radius: CIRCLE_RADIUS * SCALE, colour: COLOURS[m.kind], clip });
    }
    drawFrame(image, { left: left - 1, top: PANEL_Y - 1, right: left + panelWidth, bottom: PANEL_Y + panelHeight });
  });
  drawLegend(image, { top: legendY, markers, magLimit: caption.magLimit });
  return image;
}

interface PanelSpec {
  mosaic: CoaddMosaic;
  band: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

function drawPanel(image: RgbImage, { mosaic, band, left, top, width, height }: PanelSpec): void {
  const { x0, y1 } = mosaic.bounds;
  const noise = mosaic.estimateNoise(band);
  for (let py = 0; py < height; py++) {
    for (let px = 0; px < width; px++) {
      // Row 0 of the panel is the top: sky y grows upwards.
      const value = mosaic.sample(band, x0 + Math.floor(px / SCALE), y1 - 1 - Math.floor(py / SCALE));
      setPixel(image, left + px, top + py, Number.isFinite(value) ? stretchGrey(value / noise) : NO_DATA);
    }
  }
}

/** Two rows: the circles with their meaning and counts; the scale bar and the grey scale. */
function drawLegend(image: RgbImage, { top, markers, magLimit }: { top: number; markers: readonly Marker[]; magLimit: number }): void {
  const clip = { left: 0, right: image.width, top: 0, bottom: image.height };
  const count = (kind: Marker["kind"]) => markers.filter((m) => m.kind === kind).length;
  const entries: [Marker["kind"], string][] = [
    ["detected", `detection (${count("detected")})`],
    ["missed", `missed true star, mag ≤ ${magLimit} (${count("missed")})`],
  ];
  let x = PAD;
  for (const [kind, text] of entries) {
    drawCircle(image, { cx: x + 8, cy: top + 7, radius: 7, colour: COLOURS[kind], clip });
    drawText(image, text, { x: x + 22, y: top + 4 }, { scale: 1, colour: INK });
    x += 22 + measureText(text, 1).width + 28;
  }
  const barTop = top + 30;
  const barLength = SCALE_BAR_PIXELS * SCALE;
  fillRect(image, { left: PAD, top: barTop + 3, right: PAD + barLength, bottom: barTop + 5 }, INK);
  fillRect(image, { left: PAD, top: barTop, right: PAD + 2, bottom: barTop + 8 }, INK);
  fillRect(image, { left: PAD + barLength - 2, top: barTop, right: PAD + barLength, bottom: barTop + 8 }, INK);
  drawText(image, `${SCALE_BAR_PIXELS} sky pixels`, { x: PAD + barLength + 8, y: barTop + 1 }, { scale: 1, colour: INK });
  drawGreyScale(image, { left: PAD + barLength + 110, top: barTop });
}

/** The stretch's grey ramp with ticks at flux / noise = 0, 1, 10, 100, 400. */
function drawGreyScale(image: RgbImage, { left, top }: { left: number; top: number }): void {
  const length = 200;
  const position = (ratio: number) => left + Math.round((Math.asinh(ratio) / Math.asinh(STRETCH_MAX)) * (length - 1));
  for (let i = 0; i < length; i++) {
    const ratio = Math.sinh((i / (length - 1)) * Math.asinh(STRETCH_MAX));
    fillRect(image, { left: left + i, top, right: left + i + 1, bottom: top + 9 }, stretchGrey(ratio));
  }
  drawFrame(image, { left: left - 1, top: top - 1, right: left + length, bottom: top + 9 });
  for (const tick of STRETCH_TICKS) {
    const x = position(tick);
    fillRect(image, { left: x, top: top + 10, right: x + 1, bottom: top + 13 }, INK);
    drawCentred(image, String(tick), { centre: x + 0.5, y: top + 15, scale: 1, colour: GREY_INK });
  }
  drawText(image, "flux / noise", { x: left + length + 8, y: top + 1 }, { scale: 1, colour: INK });
}

function stretchGrey(ratio: number): Colour {
  const t = Math.asinh(Math.max(0, ratio)) / Math.asinh(STRETCH_MAX);
  const grey = Math.round(255 * Math.min(1, t));
  return [grey, grey, grey];
}

function drawCentred(image: RgbImage, text: string, at: { centre: number; y: number; scale: number; colour: Colour }): void {
  const { width } = measureText(text, at.scale);
  drawText(image, text, { x: Math.round(at.centre - width / 2), y: at.y }, { scale: at.scale, colour: at.colour });
}

interface Rect {
  left: number;
  top: number;
  /** Exclusive. */
  right: number;
  bottom: number;
}

interface CircleSpec {
  cx: number;
  cy: number;
  radius: number;
  colour: Colour;
  /** The circle is drawn only inside this rectangle. */
  clip: Rect;
}

function drawCircle(image: RgbImage, { cx, cy, radius, colour, clip }: CircleSpec): void {
  for (let y = Math.floor(cy - radius - 1); y <= Math.ceil(cy + radius + 1); y++) {
    for (let x = Math.floor(cx - radius - 1); x <= Math.ceil(cx + radius + 1); x++) {
      if (x < clip.left || x >= clip.right || y < clip.top || y >= clip.bottom) continue;
      const distance = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      if (Math.abs(distance - radius) < 0.75) setPixel(image, x, y, colour);
    }
  }
}

/** A one-pixel frame whose inside is `[left+1, right) × [top+1, bottom)`. */
function drawFrame(image: RgbImage, r: Rect): void {
  fillRect(image, { left: r.left, top: r.top, right: r.right + 1, bottom: r.top + 1 }, GREY_INK);
  fillRect(image, { left: r.left, top: r.bottom, right: r.right + 1, bottom: r.bottom + 1 }, GREY_INK);
  fillRect(image, { left: r.left, top: r.top, right: r.left + 1, bottom: r.bottom + 1 }, GREY_INK);
  fillRect(image, { left: r.right, top: r.top, right: r.right + 1, bottom: r.bottom + 1 }, GREY_INK);
}

function fillRect(image: RgbImage, r: Rect, colour: Colour): void {
  for (let y = Math.max(0, r.top); y < Math.min(image.height, r.bottom); y++) {
    for (let x = Math.max(0, r.left); x < Math.min(image.width, r.right); x++) setPixel(image, x, y, colour);
  }
}

function setPixel(image: RgbImage, x: number, y: number, colour: Colour): void {
  const i = (y * image.width + x) * 3;
  image.rgb[i] = colour[0];
  image.rgb[i + 1] = colour[1];
  image.rgb[i + 2] = colour[2];
}

/** The figure's paper colour (the background outside the panels). */
export const FIGURE_PAPER = PAPER;
/** The colour of the title, the band labels and the legend's text. */
export const FIGURE_INK = INK;
