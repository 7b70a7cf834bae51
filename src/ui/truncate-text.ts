/**
 * Cuts `text` to at most `width` characters, ending with `…` when cut. Counts UTF-16 code units, which
 * is exact for the ASCII that task labels and data IDs are made of.
 */
export function truncateText(text: string, width: number): string {
  if (width <= 0) return "";
  if (text.length <= width) return text;
  if (width === 1) return "…";
  return text.slice(0, width - 1) + "…";
}
