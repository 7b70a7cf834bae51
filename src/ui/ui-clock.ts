/**
 * The clock and timer the reporters use: the live view's redraw timer and the plain reporter's
 * progress lines. Injected so that tests drive time by hand instead of sleeping.
 */
export interface UiClock {
  /** Milliseconds since the epoch (the same scale as the events' `time`). */
  now(): number;
  /** Calls `fn` every `ms` until the returned cancel function is called. Never keeps the process alive. */
  every(ms: number, fn: () => void): () => void;
}

/** The real clock: `Date.now` and an unref'd `setInterval`. */
export const systemClock: UiClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const handle = setInterval(fn, ms);
    handle.unref();
    return () => clearInterval(handle);
  },
};
