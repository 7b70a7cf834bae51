import { truncateText } from "./truncate-text.js";

export interface TableOptions {
  /** Column titles; their count sets the number of columns. */
  header: readonly string[];
  rows: readonly (readonly string[])[];
  /** Per column; the first column is left-aligned and the others right-aligned unless told. */
  align?: readonly ("left" | "right")[];
  /** The widest a line may be; the first column is truncated to fit (never below 4 characters). */
  maxWidth?: number;
}

/**
 * A plain-text table: columns separated by two spaces, no borders, no trailing spaces. The first column
 * (task labels, data IDs) is the one that gives way when the table is too wide.
 */
export function formatTable(options: TableOptions): string[] {
  const { header, rows } = options;
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((r) => (r[col] ?? "").length)));
  if (options.maxWidth !== undefined) {
    const rest = widths.slice(1).reduce((sum, w) => sum + w + 2, 0);
    widths[0] = Math.max(4, Math.min(widths[0], options.maxWidth - rest));
  }
  return all.map((row) =>
    header
      .map((_, col) => {
        const cell = truncateText(row[col] ?? "", widths[col]);
        const align = options.align?.[col] ?? (col === 0 ? "left" : "right");
        return align === "left" ? cell.padEnd(widths[col]) : cell.padStart(widths[col]);
      })
      .join("  ")
      .trimEnd(),
  );
}
