import type { QuantumOutcome } from "./quantum-job.js";

/** The outcome of `run`, or a timed-out failure after `timeoutMs` (calling `onTimeout` to stop it). */
export function raceTimeout(run: Promise<QuantumOutcome>, timeoutMs: number, onTimeout: () => void): Promise<QuantumOutcome> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      onTimeout();
      const seconds = Math.round(timeoutMs / 100) / 10;
      resolve({ ok: false, error: `timed out after ${seconds}s`, log: "", startedAt, finishedAt: Date.now() });
    }, timeoutMs);
    run.then((outcome) => {
      clearTimeout(timer);
      resolve(outcome);
    });
  });
}
