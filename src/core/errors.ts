/**
 * Errors a user sees. Expected failures travel as these (or as result values converted to these at the
 * boundary); the CLI prints `error: <message>` (plus `hint:` lines) and exits with `exitCode`, with no
 * stack trace unless `--debug`. A broken invariant throws a plain Error whose message starts with
 * `internal error:`.
 */
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

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The candidate nearest to `name`, if it is near enough to be a plausible typo. */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase());
    if (d < bestDistance || (d === bestDistance && best !== undefined && c < best)) {
      best = c;
      bestDistance = d;
    }
  }
  if (best === undefined) return undefined;
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

/** `did you mean "x"?` when a near name exists. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const near = nearestName(name, candidates);
  return near === undefined ? undefined : `did you mean "${near}"?`;
}
