/**
 * Formats a message about a place in a source file the way every user-facing error of quanta looks:
 *
 * ```
 * pipelines/sky.yaml:14:18: task "coadd" reads dataset type "warps", which no task produces
 *    14 |       inputs: { warp: { type: warps, dimensions: [visit, tract, patch] } }
 *       |                               ^~~~~
 * ```
 *
 * The CLI prefixes `error: ` and appends `hint: …`; this module formats only the located part, so any
 * parser (pipelines, queries, data IDs) can reuse it. Lines and columns are 1-based; a span never
 * extends past the end of its first line (a multi-line value is underlined to the end of the line).
 */

/** A 1-based position and the number of characters to underline (at least 1). */
export interface SourceSpan {
  readonly line: number;
  readonly column: number;
  readonly length: number;
}

export interface SourceErrorParts {
  /** The file name as the user should see it (usually relative to the current directory). */
  readonly file: string;
  /** The whole text of the file, to quote the line from. */
  readonly text: string;
  /** Where the problem is; without a span the message names only the file. */
  readonly span?: SourceSpan;
  readonly message: string;
}

/** `file:line:col: message`, then the quoted line and a `^~~~` under the span. */
export function formatSourceError(parts: SourceErrorParts): string {
  const { file, text, span, message } = parts;
  if (span === undefined) return `${file}: ${message}`;
  const lines = text.split(/\r?\n/);
  const lineText = lines[span.line - 1] ?? "";
  const gutter = String(span.line);
  const start = Math.max(0, span.column - 1);
  const length = Math.max(1, Math.min(span.length, lineText.length - start));
  // Tabs before the span are kept as tabs, so the caret lines up however the terminal expands them.
  const pad = lineText.slice(0, start).replace(/[^\t]/g, " ");
  const underline = "^" + "~".repeat(length - 1);
  return (
    `${file}:${span.line}:${span.column}: ${message}\n` +
    `   ${gutter} | ${lineText}\n` +
    `   ${" ".repeat(gutter.length)} | ${pad}${underline}`
  );
}
