/**
 * A counting semaphore for starting quanta: at most `size` hold a slot at once. A free slot is taken
 * without a promise; a slot given back goes to the longest waiter at once (its callback runs in the
 * same turn), so a quantum prepared in advance starts the moment another ends. Quanta of every kind
 * wait in the same line.
 */
export class LaunchSlots {
  private free: number;
  private readonly waiters: SlotWaiter[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Takes a free slot if there is one. */
  tryTake(): boolean {
    if (this.free === 0) return false;
    this.free--;
    return true;
  }

  /** Waits in line for a slot: `onSlot` is called when one is given to this waiter. */
  wait(onSlot: () => void): SlotWaiter {
    const waiter: SlotWaiter = { onSlot };
    this.waiters.push(waiter);
    return waiter;
  }

  /** True when every waiter in line passes `test` (so when nobody waits). */
  everyWaiter(test: (waiter: SlotWaiter) => boolean): boolean {
    return this.waiters.every(test);
  }

  /** Takes a waiter out of the line (it got its slot some other way, or gave up); false if it was not in it. */
  leave(waiter: SlotWaiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    return true;
  }

  /** Gives a slot back: to the first waiter, or to the free ones. */
  give(): void {
    const next = this.waiters.shift();
    if (next === undefined) this.free++;
    else next.onSlot();
  }
}

export interface SlotWaiter {
  readonly onSlot: () => void;
}

/** What an executor hands the code that starts a quantum: the slots, and whom to tell when it starts. */
export interface Launch {
  readonly slots: LaunchSlots;
  /** Called when the quantum takes its slot and starts. */
  readonly started: () => void;
}

/**
 * Runs `work` holding one of the launch's slots: waits in line for one, calls `started`, and gives the
 * slot back when the work has ended. A wait cancelled through `cancel.signal` (or one it was aborted
 * before) ends with `cancel.cancelled()`, and the work never runs.
 */
export function holdingSlot<T>(launch: Launch, work: () => Promise<T>, cancel?: { signal?: AbortSignal; cancelled: () => T }): Promise<T> {
  const go = () => {
    launch.started();
    return work().finally(() => launch.slots.give());
  };
  const signal = cancel?.signal;
  if (signal?.aborted) return Promise.resolve(cancel!.cancelled());
  if (launch.slots.tryTake()) return go();
  return new Promise((resolve) => {
    const onAbort = () => {
      if (launch.slots.leave(waiter)) resolve(cancel!.cancelled());
    };
    const waiter = launch.slots.wait(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(go());
    });
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
