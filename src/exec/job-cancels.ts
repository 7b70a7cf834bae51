/**
 * One abort signal per quantum a local executor holds, so that one quantum can be cancelled
 * (`QuantumExecutor.cancel`) or all of them (`stop`). A signal lives from the quantum's hand-over to
 * its outcome; a cancelled one kills its command's process group, or keeps it from taking a slot.
 */
import { deliver, type OutcomeSink, type QuantumJob, type QuantumOutcome } from "./quantum-job.js";

export class JobCancels {
  private readonly live = new Map<number, AbortController>();

  /** The signal of a quantum just handed over. */
  open(quantum: number): AbortSignal {
    const controller = new AbortController();
    this.live.set(quantum, controller);
    return controller.signal;
  }

  /** The quantum ended: its signal is let go. */
  close(quantum: number): void {
    this.live.delete(quantum);
  }

  cancel(quantum: number, reason: string): void {
    this.live.get(quantum)?.abort(reason);
  }

  /** Cancels every quantum held now (not those handed over later: a session's next run starts afresh). */
  cancelAll(reason: string): void {
    for (const controller of this.live.values()) controller.abort(reason);
  }

  /**
   * Runs each job with its own signal (`run`), and hands its outcome to `sink`, marked `cancelled` when
   * it failed after its signal was aborted; the signal is let go with the outcome.
   */
  deliverEach(jobs: readonly QuantumJob[], sink: OutcomeSink, run: (job: QuantumJob, signal: AbortSignal, started: () => void) => QuantumOutcome | Promise<QuantumOutcome>): void {
    for (const job of jobs) {
      const signal = this.open(job.quantum);
      const ended: OutcomeSink = {
        started: (quantum) => sink.started(quantum),
        finished: (quantum, outcome) => {
          this.close(quantum);
          if (!outcome.ok && signal.aborted) outcome.cancelled = true;
          sink.finished(quantum, outcome);
        },
      };
      deliver(job.quantum, () => run(job, signal, () => sink.started(job.quantum)), ended);
    }
  }
}
