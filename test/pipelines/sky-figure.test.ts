/**
 * 17.9: the sky demo's picture is a figure: a title, a line of results, each panel labelled with its
 * band, a legend of the circles with their counts, a scale bar and the stretch's grey scale, all drawn
 * into the PNG. The PNG of the summary task (run on generated data, in memory) is decoded and each
 * expected text is looked for, pixel for pixel, as the figure's font draws it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateSkyData } from "../../pipelines/sky/generate.mjs";
import { drawText, measureText } from "../../pipelines/sky/tasks/bitmap-font.ts";
import type { RgbImage } from "../../pipelines/sky/tasks/png.ts";
import { FIGURE_INK, FIGURE_PAPER } from "../../pipelines/sky/tasks/sky-picture.ts";
import { runSkyChain } from "./sky-chain.ts";

let dataDir: string;
let figure: RgbImage;
let catalog: { magLimit: number; expected: number; recovered: number; bands: Record<string, { detections: number; expected: number; recovered: number }> };

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "quanta-sky-figure-"));
  generateSkyData(dataDir);
  const result = await runSkyChain(dataDir, { magLimit: 20.5 });
  figure = decodePng(result.picture);
  catalog = result.catalog;
}, 120_000);

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Decodes the PNGs png.ts writes: 8-bit RGB, filter 0 on every row, IDAT chunks. */
function decodePng(png: Uint8Array): RgbImage {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const idat: Uint8Array[] = [];
  for (let at = 8; at < png.length; ) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(...png.subarray(at + 4, at + 8));
    if (type === "IDAT") idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const rows = inflateSync(Buffer.concat(idat));
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    expect(rows[y * (width * 3 + 1)]).toBe(0);
    rgb.set(rows.subarray(y * (width * 3 + 1) + 1, (y + 1) * (width * 3 + 1)), y * width * 3);
  }
  return { width, height, rgb };
}

function colourAt(image: RgbImage, x: number, y: number): [number, number, number] {
  const i = (y * image.width + x) * 3;
  return [image.rgb[i]!, image.rgb[i + 1]!, image.rgb[i + 2]!];
}

const same = (a: readonly number[], b: readonly number[]) => a[0] === b[0] && a[1] === b[1] && a[2] === b[2];

/**
 * Where `text`, drawn by the figure's font at `scale`, appears in the figure: every position whose
 * pixels are ink exactly where the font inks and paper around them (within the text's box).
 */
function findText(text: string, scale: number, ink: readonly number[] = FIGURE_INK): { x: number; y: number }[] {
  const { width, height } = measureText(text, scale);
  const stamp: RgbImage = { width, height, rgb: new Uint8Array(width * height * 3) };
  drawText(stamp, text, { x: 0, y: 0 }, { scale, colour: [255, 0, 255] });
  const inked: boolean[] = [];
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) inked.push(colourAt(stamp, x, y)[0] === 255);
  const found: { x: number; y: number }[] = [];
  for (let top = 0; top + height <= figure.height; top++) {
    for (let left = 0; left + width <= figure.width; left++) {
      let match = true;
      for (let k = 0; k < inked.length && match; k++) {
        const colour = colourAt(figure, left + (k % width), top + Math.floor(k / width));
        match = inked[k] ? same(colour, ink) : same(colour, FIGURE_PAPER);
      }
      if (match) found.push({ x: left, y: top });
    }
  }
  return found;
}

describe("17.9 the sky demo's figure", () => {
  it("17.9 has room for its words around the panels, on white paper", () => {
    // Two panels of 128 sky pixels drawn 2× wide, a gap of 16 and margins of 16; text above and below.
    expect(figure.width).toBe(16 + 256 + 16 + 256 + 16);
    expect(figure.height).toBeGreaterThan(256 + 120);
    for (const [x, y] of [[0, 0], [figure.width - 1, 0], [0, figure.height - 1], [figure.width - 1, figure.height - 1]]) {
      expect(colourAt(figure, x!, y!)).toEqual([...FIGURE_PAPER]);
    }
  });

  it("17.9 says what it shows: a title, and each panel's band with its counts", () => {
    const [title] = findText("Coadds, detections and missed true stars", 2);
    expect(title).toEqual({ x: 16, y: 16 });
    const g = findText("band g", 2);
    const r = findText("band r", 2);
    expect(g).toHaveLength(1);
    expect(r).toHaveLength(1);
    // Each label is centred over its panel, the g panel left of the r panel, both below the title.
    expect(g[0]!.y).toBe(r[0]!.y);
    expect(g[0]!.y).toBeGreaterThan(title!.y + 18);
    expect(Math.abs(g[0]!.x + measureText("band g", 2).width / 2 - (16 + 128))).toBeLessThanOrEqual(1);
    expect(Math.abs(r[0]!.x + measureText("band r", 2).width / 2 - (16 + 256 + 16 + 128))).toBeLessThanOrEqual(1);
  });

  it("17.9 has a legend for detections and missed stars with their counts, a scale bar and a grey scale", () => {
    const detections = Object.values(catalog.bands).reduce((n, b) => n + b.detections, 0);
    const missed = catalog.expected - catalog.recovered;
    const legend = [`detection (${detections})`, `missed true star, mag ≤ ${catalog.magLimit} (${missed})`, "16 sky pixels", "flux / noise"];
    for (const text of legend) expect(findText(text, 1), text).toHaveLength(1);
    // The circles of the legend: green and red rings left of their words.
    const row = findText(legend[0]!, 1)[0]!;
    const ringColours = new Set<string>();
    for (let y = row.y - 6; y < row.y + 12; y++) for (let x = row.x - 22; x < row.x - 4; x++) ringColours.add(colourAt(figure, x, y).join(","));
    expect([...ringColours]).toContain("30,200,80");
    const missedRow = findText(legend[1]!, 1)[0]!;
    expect(missedRow.y).toBe(row.y);
    const red: string[] = [];
    for (let y = row.y - 6; y < row.y + 12; y++) for (let x = missedRow.x - 22; x < missedRow.x - 4; x++) red.push(colourAt(figure, x, y).join(","));
    expect(red).toContain("240,50,50");
  });
});
