/**
 * Errors a user sees. Expected failures travel as these (or as result values converted to these at the
 * boundary); the CLI prints `error: <message>` (plus `hint:` lines) and exits with `exitCode`, with no
 * stack trace unless `--debug`. A broken invariant throws a plain Error whose message starts with
 * `internal error:`.
 */
import { findNearestName, suggestName } from "./suggest-name.js";

export class QuantaError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad flags, bad pipeline files, bad queries: exit code 2. */
export class UsageError extends QuantaError {
  constructor(message: string, hint?: string) {
    super(message, 2, hint);
  }
}

/** The repository is locked, corrupt or of another format: exit code 3. */
export class RepositoryError extends QuantaError {
  constructor(message: string, hint?: string) {
    super(message, 3, hint);
  }
}

/** The candidate nearest to `name`, if it is near enough to be a plausible typo (see suggest-name.ts). */
export const nearestName = findNearestName;

/** `did you mean "x"?` when a near name exists. */
export const didYouMean = suggestName;
