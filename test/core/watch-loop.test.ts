/** 16.6: the watch loop's state machine, stepped with the times of its inputs (no sleeps, no timers). */
import { describe, expect, it } from "vitest";
import { firstPass, IDLE, stepWatch, type WatchAction, type WatchInput, type WatchState } from "../../src/core/watch-loop.js";

const DEBOUNCE = 200;

/** Feeds the inputs in order; returns the final state and every action, in order. */
function drive(state: WatchState, inputs: WatchInput[]): { state: WatchState; actions: WatchAction[] } {
  const actions: WatchAction[] = [];
  for (const input of inputs) {
    const step = stepWatch(state, input, DEBOUNCE);
    state = step.state;
    actions.push(...step.actions);
  }
  return { state, actions };
}

const changed = (at: number, ...paths: string[]): WatchInput => ({ kind: "changed", paths, at });

describe("16.6 the watch loop", () => {
  it("16.6 starts with a pass over everything stale, then waits", () => {
    const first = firstPass();
    expect(first.actions).toEqual([{ kind: "start-pass", paths: [] }]);
    expect(drive(first.state, [{ kind: "pass-finished", at: 5 }]).state).toEqual(IDLE);
  });

  it("16.6 twenty writes inside the debounce window make one pass, once the files have been quiet for the delay", () => {
    const inputs: WatchInput[] = [];
    for (let i = 0; i < 20; i++) inputs.push(changed(1000 + i * 10, `data/${i % 3}.txt`));
    const { state, actions } = drive(IDLE, [...inputs, { kind: "timer", at: 1190 + DEBOUNCE }]);
    const passes = actions.filter((a) => a.kind === "start-pass");
    expect(passes).toEqual([{ kind: "start-pass", paths: ["data/0.txt", "data/1.txt", "data/2.txt"] }]);
    expect(state.kind).toBe("running");
    // Each change moved the timer; the last one set it to 200 ms after the last write.
    expect(actions.filter((a) => a.kind === "set-timer").at(-1)).toEqual({ kind: "set-timer", at: 1390 });
  });

  it("16.6 a timer set for an earlier due time does not start the pass: it is set again", () => {
    const { state, actions } = drive(IDLE, [changed(0, "a"), changed(150, "b"), { kind: "timer", at: 200 }]);
    expect(state).toMatchObject({ kind: "debouncing", dueAt: 350 });
    expect(actions.at(-1)).toEqual({ kind: "set-timer", at: 350 });
  });

  it("16.6 a change during a pass cancels what it makes stale; the next pass follows at once with every change seen", () => {
    const running = drive(IDLE, [changed(0, "a"), { kind: "timer", at: 200 }]).state;
    const { state, actions } = drive(running, [changed(300, "b"), changed(310, "c", "b"), { kind: "pass-finished", at: 400 }]);
    expect(actions).toEqual([
      { kind: "cancel-stale", paths: ["b"] },
      { kind: "cancel-stale", paths: ["c", "b"] },
      { kind: "start-pass", paths: ["b", "c"] },
    ]);
    expect(state).toMatchObject({ kind: "running", pending: new Set() });
    expect(drive(state, [{ kind: "pass-finished", at: 500 }]).state).toEqual(IDLE);
  });

  it("16.6 quitting: at once when idle or debouncing; after the pass has stopped when one runs", () => {
    expect(drive(IDLE, [{ kind: "quit", at: 0 }]).actions).toEqual([{ kind: "exit" }]);
    expect(drive(IDLE, [changed(0, "a"), { kind: "quit", at: 10 }]).actions.at(-1)).toEqual({ kind: "exit" });
    const running = firstPass().state;
    const quitting = drive(running, [{ kind: "quit", at: 0 }, changed(5, "a"), { kind: "quit", at: 6 }]);
    expect(quitting.actions).toEqual([{ kind: "stop-pass" }]);
    const done = drive(quitting.state, [{ kind: "pass-finished", at: 20 }]);
    expect(done).toEqual({ state: { kind: "done" }, actions: [{ kind: "exit" }] });
  });
});
