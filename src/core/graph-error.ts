/**
 * Why a quantum graph could not be built. These are expected failures (a pipeline or data problem the
 * user can fix), returned as values; the CLI prints `error: <message>` and `hint: <hint>` and exits 2.
 * The wording is part of the interface (golden tests pin it).
 */
export type GraphErrorKind =
  | "unknown-task"
  | "duplicate-producer"
  | "output-dimensions"
  | "producer-order"
  | "unknown-input-type"
  | "unselected-producer"
  | "unsupplied-dimension"
  | "ambiguous-input"
  | "missing-prerequisite"
  | "unknown-target"
  | "target-not-found"
  | "input-target";

export interface GraphError {
  readonly kind: GraphErrorKind;
  readonly message: string;
  readonly hint?: string;
}

export function makeGraphError(kind: GraphErrorKind, message: string, hint?: string): GraphError {
  return hint === undefined ? { kind, message } : { kind, message, hint };
}
