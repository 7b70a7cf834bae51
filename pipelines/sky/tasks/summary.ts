/**
 * The survey's summary: every detection of every coadd, matched to the true star catalog, with the
 * completeness figure (recovered / true stars brighter than `magLimit` in the area the coadds cover,
 * per band and overall), and a PNG figure of the coadds with the detections and missed stars circled,
 * labelled (sky-picture.ts).
 */
import { defineTask, z, type GatheredValue } from "quanta";
import { CoaddMosaic } from "./coadd-mosaic.js";
import { encodePng } from "./png.js";
import { renderSkyPicture, type Marker } from "./sky-picture.js";

interface TrueStar {
  id: number;
  x: number;
  y: number;
  mag: Record<string, number>;
}

interface Truth {
  zeroPoint: number;
  stars: TrueStar[];
}

interface DetectedSource {
  x: number;
  y: number;
  flux: number;
}

interface BandResult {
  expected: number;
  recovered: number;
  completeness: number;
  detections: number;
  spurious: number;
  missed: TrueStar[];
}

export default defineTask({
  name: "summary",
  dimensions: [],
  config: z.object({
    magLimit: z.number().default(20.5),
    matchRadius: z.number().positive().default(2),
  }),
  inputs: {
    detections: { type: "detections", dimensions: ["tract", "patch", "band"], storage: "json", multiple: true },
    coadds: { type: "coadd", dimensions: ["tract", "patch", "band"], storage: "ndarray", multiple: true },
    truth: { type: "truth", dimensions: [], storage: "json" },
  },
  outputs: {
    catalog: { type: "summary", dimensions: [], storage: "json" },
    picture: { type: "summaryImage", dimensions: [], storage: "bytes" },
  },
  run({ detections, coadds, truth }, config, ctx) {
    const trueCatalog = truth as Truth;
    const mosaic = new CoaddMosaic(coadds);
    const sourcesByBand = groupSourcesByBand(detections);
    const bands: Record<string, Omit<BandResult, "missed">> = {};
    const markers: Marker[] = [];
    let expected = 0;
    let recovered = 0;
    for (const band of mosaic.bands) {
      const sources = sourcesByBand.get(band) ?? [];
      const result = matchBand({ band, sources, stars: trueCatalog.stars, mosaic, ...config });
      const { missed, ...counts } = result;
      bands[band] = counts;
      expected += result.expected;
      recovered += result.recovered;
      markers.push(...sources.map((s) => ({ band, x: s.x, y: s.y, kind: "detected" as const })));
      markers.push(...missed.map((s) => ({ band, x: s.x, y: s.y, kind: "missed" as const })));
    }
    const completeness = expected === 0 ? 0 : round(recovered / expected);
    ctx.log.info("recovered %d of %d true stars brighter than %s: completeness %s", recovered, expected, config.magLimit, completeness);
    const catalog = {
      magLimit: config.magLimit,
      matchRadius: config.matchRadius,
      expected,
      recovered,
      completeness,
      bands,
      sources: listSources(sourcesByBand, trueCatalog, config.matchRadius),
    };
    const caption = {
      title: "Coadds, detections and missed true stars",
      subtitle: `${recovered} of ${expected} true stars with mag ≤ ${config.magLimit} recovered (${(100 * completeness).toFixed(1)}%), ${coadds.length} coadds`,
      bandNotes: Object.fromEntries(Object.entries(bands).map(([band, b]) => [band, `${b.recovered} of ${b.expected} recovered, ${b.detections} detections`])),
      magLimit: config.magLimit,
    };
    return { catalog, picture: encodePng(renderSkyPicture(mosaic, markers, caption)) };
  },
});

function groupSourcesByBand(detections: readonly GatheredValue<unknown>[]): Map<string, DetectedSource[]> {
  const out = new Map<string, DetectedSource[]>();
  for (const { dataId, value } of detections) {
    const band = String(dataId.band);
    const sources = (value as { sources: DetectedSource[] }).sources;
    out.set(band, [...(out.get(band) ?? []), ...sources]);
  }
  return out;
}

interface MatchArgs {
  band: string;
  sources: DetectedSource[];
  stars: TrueStar[];
  mosaic: CoaddMosaic;
  magLimit: number;
  matchRadius: number;
}

/** Which true stars of a band, bright enough and covered by its coadds, have a detection nearby. */
function matchBand({ band, sources, stars, mosaic, magLimit, matchRadius }: MatchArgs): BandResult {
  const covered = stars.filter((s) => Number.isFinite(mosaic.sample(band, s.x, s.y)));
  const bright = covered.filter((s) => s.mag[band]! <= magLimit);
  const missed = bright.filter((s) => findNearest(sources, s, matchRadius) === undefined);
  const spurious = sources.filter((d) => findNearest(covered, d, matchRadius) === undefined).length;
  const recovered = bright.length - missed.length;
  return {
    expected: bright.length,
    recovered,
    completeness: bright.length === 0 ? 0 : round(recovered / bright.length),
    detections: sources.length,
    spurious,
    missed,
  };
}

function findNearest<T extends { x: number; y: number }>(items: readonly T[], at: { x: number; y: number }, radius: number): T | undefined {
  let best: T | undefined;
  let bestDistance = radius;
  for (const item of items) {
    const distance = Math.hypot(item.x - at.x, item.y - at.y);
    if (distance <= bestDistance) {
      best = item;
      bestDistance = distance;
    }
  }
  return best;
}

/** Every detection with its magnitude and, when it matches one, the true star's id and magnitude. */
function listSources(sourcesByBand: Map<string, DetectedSource[]>, truth: Truth, radius: number) {
  const rows = [];
  for (const band of [...sourcesByBand.keys()].sort()) {
    for (const s of sourcesByBand.get(band)!) {
      const star = findNearest(truth.stars, s, radius);
      const mag = s.flux > 0 ? round(truth.zeroPoint - 2.5 * Math.log10(s.flux)) : null;
      rows.push({ band, x: s.x, y: s.y, flux: s.flux, mag, truthId: star?.id ?? null, trueMag: star?.mag[band] ?? null });
    }
  }
  return rows;
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}
