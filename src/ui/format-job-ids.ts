/**
 * Slurm job ids in a cell of `width` characters: `12,13` for a few, `12…19` (the first and the last)
 * for more, or the last alone, cut, when even that does not fit.
 */
import { truncateText } from "./truncate-text.js";

/** Ids listed one by one, at most. */
const LISTED = 3;

export function formatJobIds(ids: readonly string[], width = Infinity): string {
  if (ids.length === 0) return "";
  const listed = ids.join(",");
  if (ids.length <= LISTED && listed.length <= width) return listed;
  const range = ids.length === 1 ? ids[0]! : `${ids[0]}…${ids[ids.length - 1]}`;
  if (range.length <= width) return range;
  return truncateText(ids[ids.length - 1]!, width);
}
