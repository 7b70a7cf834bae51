/**
 * The loop of `quanta watch`, as a pure state machine: what to do when files change, when the debounce
 * delay is over, when a pass ends, and when the user quits. Its driver (src/watch/watch-pipeline.ts)
 * owns the file watcher, the timer and the run session, feeds it events with the time they came at,
 * and carries out the actions it returns. Time is only what the events say, so the tests step it without sleeping.
 *
 * ```
 *                 change                      quiet for `debounceMs`
 *   ┌──────┐  ──────────────▶  ┌────────────┐  ───────────────────────▶  ┌─────────┐
 *   │ idle │                   │ debouncing │                            │ running │
 *   └──────┘  ◀──────────────  └────────────┘  ◀─┐                        └─────────┘
 *       ▲      (never: a change    │  change:     │                          │    │ change: cancel the
 *       │       always leads to    └──────────────┘ due again `debounceMs`   │    │ quanta it makes stale
 *       │       a pass)                             later                    │    ▼
 *       │                                                                    │  ┌─────────────────┐
 *       └──────────────── pass finished, nothing pending ────────────────────┘  │ running, changes │
 *                                                                               │ pending          │
 *         pass finished with changes pending: the next pass starts at once ◀─── └─────────────────┘
 * ```
 *
 * A quit from any state stops the pass that runs (if any) and ends the loop once it has stopped.
 */

/** Where the loop is. */
export type WatchState =
  | { kind: "idle" }
  /** Changes seen; the pass starts once none came for `debounceMs` (at `dueAt`). */
  | { kind: "debouncing"; paths: ReadonlySet<string>; dueAt: number }
  /** A pass runs for `paths`; `pending` are the changes seen since it started (none: empty). */
  | { kind: "running"; paths: ReadonlySet<string>; pending: ReadonlySet<string> }
  /** Quitting: waiting for the running pass to stop. */
  | { kind: "quitting" }
  | { kind: "done" };

/** What happened, with the time it happened at (milliseconds, from the driver's clock). */
export type WatchInput =
  | { kind: "changed"; paths: readonly string[]; at: number }
  /** The timer the loop asked for went off. */
  | { kind: "timer"; at: number }
  | { kind: "pass-finished"; at: number }
  | { kind: "quit"; at: number };

/** What the driver must do, in order. */
export type WatchAction =
  /** Set the one timer to go off at `at` (replacing any set before). */
  | { kind: "set-timer"; at: number }
  /** Start a pass over these changed paths (the first pass: none, everything stale runs). */
  | { kind: "start-pass"; paths: string[] }
  /** These paths changed during the pass: cancel the quanta they make stale (the others finish). */
  | { kind: "cancel-stale"; paths: string[] }
  /** Stop the running pass (quit). */
  | { kind: "stop-pass" }
  | { kind: "exit" };

export interface WatchStep {
  state: WatchState;
  actions: WatchAction[];
}

export const IDLE: WatchState = { kind: "idle" };

/** The next state and what to do, for one input. */
export function stepWatch(state: WatchState, input: WatchInput, debounceMs: number): WatchStep {
  if (input.kind === "quit") return quit(state);
  switch (state.kind) {
    case "idle":
      if (input.kind !== "changed" || input.paths.length === 0) return { state, actions: [] };
      return debounce(new Set(input.paths), input.at + debounceMs);
    case "debouncing":
      if (input.kind === "changed") return debounce(union(state.paths, input.paths), input.at + debounceMs);
      // A timer set for an earlier due time (a change came since): set again for the current one.
      if (input.kind === "timer" && input.at < state.dueAt) return { state, actions: [{ kind: "set-timer", at: state.dueAt }] };
      if (input.kind === "timer") return startPass(state.paths);
      return { state, actions: [] };
    case "running":
      if (input.kind === "changed" && input.paths.length > 0) {
        return { state: { ...state, pending: union(state.pending, input.paths) }, actions: [{ kind: "cancel-stale", paths: [...input.paths] }] };
      }
      if (input.kind === "pass-finished") return state.pending.size > 0 ? startPass(state.pending) : { state: IDLE, actions: [] };
      return { state, actions: [] };
    case "quitting":
      if (input.kind === "pass-finished") return { state: { kind: "done" }, actions: [{ kind: "exit" }] };
      return { state, actions: [] };
    case "done":
      return { state, actions: [] };
  }
}

/** The loop's first step: a pass over everything that is stale. */
export function firstPass(): WatchStep {
  return startPass(new Set());
}

function quit(state: WatchState): WatchStep {
  if (state.kind === "running") return { state: { kind: "quitting" }, actions: [{ kind: "stop-pass" }] };
  if (state.kind === "quitting" || state.kind === "done") return { state, actions: [] };
  return { state: { kind: "done" }, actions: [{ kind: "exit" }] };
}

function debounce(paths: ReadonlySet<string>, dueAt: number): WatchStep {
  return { state: { kind: "debouncing", paths, dueAt }, actions: [{ kind: "set-timer", at: dueAt }] };
}

function startPass(paths: ReadonlySet<string>): WatchStep {
  return { state: { kind: "running", paths, pending: new Set() }, actions: [{ kind: "start-pass", paths: [...paths].sort() }] };
}

function union(a: ReadonlySet<string>, b: Iterable<string>): Set<string> {
  const out = new Set(a);
  for (const p of b) out.add(p);
  return out;
}
