/**
 * "did you mean" hints for pipeline files and flags. Like `didYouMean` (errors.ts), but a swap of two
 * neighbouring letters counts as one typo (`gian` is nearest to `gain`, not to `bias`), and among
 * equally near names the one sharing the longest prefix wins, then the first in alphabetical order.
 */

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent transpositions. */
function measureTypoDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

function countCommonPrefix(a: string, b: string): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
}

/** The candidate nearest to `name`, when near enough to be a plausible typo. */
export function findNearestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: { name: string; distance: number; prefix: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === name) continue;
    const distance = measureTypoDistance(lower, candidate.toLowerCase());
    const prefix = countCommonPrefix(lower, candidate.toLowerCase());
    const better =
      best === undefined ||
      distance < best.distance ||
      (distance === best.distance && (prefix > best.prefix || (prefix === best.prefix && candidate < best.name)));
    if (better) best = { name: candidate, distance, prefix };
  }
  if (best === undefined) return undefined;
  return best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

/** `did you mean "x"?` when a near name exists. */
export function suggestName(name: string, candidates: Iterable<string>): string | undefined {
  const near = findNearestName(name, candidates);
  return near === undefined ? undefined : `did you mean "${near}"?`;
}
