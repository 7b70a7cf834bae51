/**
 * A problem in a pipeline file (or in the flags that select and configure it): exit code 2.
 * `message` is the full formatted text (`file:line:col: …`, the quoted line and its underline, see
 * source-error.ts); `hint` is printed after it as `hint: …`. `summary`, `file` and `span` keep the parts,
 * for reporters that lay the error out themselves (watch mode, JSON events).
 */
import { UsageError } from "./errors.js";
import { formatSourceError, type SourceSpan } from "./source-error.js";

export interface PipelineErrorParts {
  /** The one-line message, without position. */
  readonly summary: string;
  /** The file as shown to the user; absent for errors in command-line flags. */
  readonly file?: string;
  /** The file's text, needed to quote the line when `span` is given. */
  readonly text?: string;
  readonly span?: SourceSpan;
  readonly hint?: string;
}

export class PipelineError extends UsageError {
  readonly summary: string;
  readonly file?: string;
  readonly span?: SourceSpan;

  constructor(parts: PipelineErrorParts) {
    const message =
      parts.file === undefined
        ? parts.summary
        : formatSourceError({ file: parts.file, text: parts.text ?? "", span: parts.span, message: parts.summary });
    super(message, parts.hint);
    this.summary = parts.summary;
    this.file = parts.file;
    this.span = parts.span;
  }
}
