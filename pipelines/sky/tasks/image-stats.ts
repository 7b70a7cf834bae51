/**
 * Robust image statistics for the sky tasks: medians, noise from the median absolute deviation, and a
 * smooth background map from medians over a grid of cells. NaN pixels (no coverage) are ignored.
 */

/** A 2-D float image, row-major: pixel (x, y) is `data[y * width + x]`. */
export interface Image {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

/** Scale from the median absolute deviation to the standard deviation of a Gaussian. */
const MAD_TO_SIGMA = 1.4826;

/** The median of the finite values (NaN when there are none). Does not modify `values`. */
export function computeMedian(values: ArrayLike<number>): number {
  const finite = collectFinite(values);
  if (finite.length === 0) return NaN;
  finite.sort();
  const mid = finite.length >> 1;
  return finite.length % 2 === 1 ? finite[mid]! : 0.5 * (finite[mid - 1]! + finite[mid]!);
}

/** The standard deviation of the finite values, estimated robustly from their median absolute deviation. */
export function estimateNoise(values: ArrayLike<number>): number {
  const median = computeMedian(values);
  const deviations = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) deviations[i] = Math.abs(values[i]! - median);
  return MAD_TO_SIGMA * computeMedian(deviations);
}

/** The finite values, as a fresh Float64Array. */
export function collectFinite(values: ArrayLike<number>): Float64Array {
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) count++;
  const out = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) out[k++] = values[i]!;
  return out;
}

/**
 * A smooth background map: the median of each `cellSize`² cell, interpolated bilinearly between cell
 * centres (and held constant beyond the outermost centres). Stars are sparse, so cell medians follow the
 * sky, not the stars.
 */
export function estimateBackground(image: Image, cellSize: number): Float32Array {
  const cellsX = Math.max(1, Math.round(image.width / cellSize));
  const cellsY = Math.max(1, Math.round(image.height / cellSize));
  const cellMedians = computeCellMedians(image, cellsX, cellsY);
  const stepX = image.width / cellsX;
  const stepY = image.height / cellsY;
  const out = new Float32Array(image.width * image.height);
  for (let y = 0; y < image.height; y++) {
    const [y0, y1, fy] = locateBetweenCentres(y, stepY, cellsY);
    for (let x = 0; x < image.width; x++) {
      const [x0, x1, fx] = locateBetweenCentres(x, stepX, cellsX);
      const top = cellMedians[y0 * cellsX + x0]! * (1 - fx) + cellMedians[y0 * cellsX + x1]! * fx;
      const bottom = cellMedians[y1 * cellsX + x0]! * (1 - fx) + cellMedians[y1 * cellsX + x1]! * fx;
      out[y * image.width + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/**
 * A background map that stars do not bias: a first map, then every pixel more than `maskSigma` noise
 * above it, grown by `maskGrow` pixels, is left out of a second map. The mask depends only on the image,
 * never on a detection threshold.
 */
export function estimateMaskedBackground(image: Image, options: { cellSize: number; maskSigma: number; maskGrow: number }): Float32Array {
  const first = estimateBackground(image, options.cellSize);
  const residual = new Float32Array(image.data.length);
  for (let i = 0; i < residual.length; i++) residual[i] = image.data[i]! - first[i]!;
  const cut = options.maskSigma * estimateNoise(residual);
  const masked = Float32Array.from(image.data);
  const { width, height } = image;
  const g = options.maskGrow;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (!(residual[y * width + x]! > cut)) continue;
      for (let yy = Math.max(0, y - g); yy <= Math.min(height - 1, y + g); yy++) {
        for (let xx = Math.max(0, x - g); xx <= Math.min(width - 1, x + g); xx++) masked[yy * width + xx] = NaN;
      }
    }
  }
  return estimateBackground({ width, height, data: masked }, options.cellSize);
}

function computeCellMedians(image: Image, cellsX: number, cellsY: number): Float64Array {
  const medians = new Float64Array(cellsX * cellsY);
  for (let cy = 0; cy < cellsY; cy++) {
    const y0 = Math.floor((cy * image.height) / cellsY);
    const y1 = Math.floor(((cy + 1) * image.height) / cellsY);
    for (let cx = 0; cx < cellsX; cx++) {
      const x0 = Math.floor((cx * image.width) / cellsX);
      const x1 = Math.floor(((cx + 1) * image.width) / cellsX);
      const values: number[] = [];
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) values.push(image.data[y * image.width + x]!);
      medians[cy * cellsX + cx] = computeMedian(values);
    }
  }
  const fallback = computeMedian(medians);
  for (let i = 0; i < medians.length; i++) if (!Number.isFinite(medians[i])) medians[i] = fallback;
  return medians;
}

/** The two cell indices whose centres bracket pixel `p`, and the weight of the second. */
function locateBetweenCentres(p: number, step: number, cells: number): [number, number, number] {
  const t = (p + 0.5) / step - 0.5;
  if (t <= 0) return [0, 0, 0];
  if (t >= cells - 1) return [cells - 1, cells - 1, 0];
  const i = Math.floor(t);
  return [i, i + 1, t - i];
}
