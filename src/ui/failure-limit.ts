/**
 * How many of a run's failures a person reads in full. A pipeline whose task fails for every one of
 * 10,000 data IDs would otherwise print 10,000 errors and log tails (and the live view would lay out
 * every one of them): the first `FAILURES_SHOWN` of each run are printed in full, the rest only counted,
 * and one line at the end of the run says how many were left out and where to find them.
 *
 * The plain reporter and the live view each keep one `FailureLimit` and pass it every event; it counts
 * only what it has shown, and takes the number of failures from the engine's `run-finished` counts.
 */
import type { QuantaEvent, QuantumRef } from "../core/events.js";
import { formatQuantumName } from "./format-quantum-name.js";

/** Failures printed in full per run; the rest are counted. */
export const FAILURES_SHOWN = 20;

type RunFinished = Extract<QuantaEvent, { event: "run-finished" }>;

export class FailureLimit {
  private shown = 0;
  /** The first failure not shown, named in the closing line as an example for `quanta log`. */
  private firstHidden: QuantumRef | undefined;

  constructor(readonly limit: number = FAILURES_SHOWN) {}

  /**
   * Passes one event through: true when it is a failure to print in full (one of the first `limit`
   * since the run started). A `run-started` starts counting again (watch mode runs many times).
   */
  admit(event: QuantaEvent): boolean {
    if (event.event === "run-started") {
      this.shown = 0;
      this.firstHidden = undefined;
    }
    if (event.event !== "quantum-failed") return false;
    if (this.shown >= this.limit) {
      this.firstHidden ??= event;
      return false;
    }
    this.shown += 1;
    return true;
  }

  /** How many failures of the finished run were not shown. */
  countHidden(summary: RunFinished): number {
    return Math.max(0, summary.counts.failed - this.shown);
  }

  /** `… and 9980 more failures, not shown (`quanta log step@item=21` prints one; --json lists all)`, or nothing. */
  formatHidden(summary: RunFinished): string | undefined {
    const hidden = this.countHidden(summary);
    if (hidden === 0) return undefined;
    const example = this.firstHidden === undefined ? "QUANTUM" : formatQuantumName(this.firstHidden);
    const noun = hidden === 1 ? "failure" : "failures";
    return `… and ${hidden} more ${noun}, not shown (\`quanta log ${example}\` prints one; --json lists all)`;
  }
}
