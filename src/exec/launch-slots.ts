/**
 * A counting semaphore for starting quanta: at most `size` hold a slot at once. A free slot is taken
 * without a promise; a slot given back goes to the longest waiter at once (its callback runs in the
 * same turn), so a quantum prepared in advance starts the moment another ends.
 *
 * A waiter may also be `handedOver` a slot outside of `give`: the quanta-spawn helper starts a queued
 * command in the place of one that ended (helper-shell-spawner.ts), and the slot of the one that ended
 * passes to it without being given back. Such waiters are marked `handsOver`; the helper is sent a
 * command to queue only while every waiter is of that kind, so that it never starts a command ahead
 * of a quantum that waited longer.
 */
export class LaunchSlots {
  private free: number;
  private readonly waiters: SlotWaiter[] = [];
  /** How many of `waiters` are `handsOver` ones. */
  private handingOver = 0;

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
  wait(onSlot: () => void, handsOver = false): SlotWaiter {
    const waiter: SlotWaiter = { onSlot, handsOver };
    this.waiters.push(waiter);
    if (handsOver) this.handingOver++;
    return waiter;
  }

  /** True when nobody waits but `handsOver` waiters (whom the helper starts in the order they came). */
  get onlyHandOversWait(): boolean {
    return this.handingOver === this.waiters.length;
  }

  /** Takes a waiter out of the line (it got its slot some other way, or gave up); false if it was not in it. */
  leave(waiter: SlotWaiter): boolean {
    const i = this.waiters.indexOf(waiter);
    if (i < 0) return false;
    this.waiters.splice(i, 1);
    if (waiter.handsOver) this.handingOver--;
    return true;
  }

  /** Gives a slot back: to the first waiter, or to the free ones. */
  give(): void {
    const next = this.waiters.shift();
    if (next === undefined) {
      this.free++;
      return;
    }
    if (next.handsOver) this.handingOver--;
    next.onSlot();
  }
}

export interface SlotWaiter {
  readonly onSlot: () => void;
  readonly handsOver: boolean;
}

/** What an executor hands the code that starts a quantum: the slots, and whom to tell when it starts. */
export interface Launch {
  readonly slots: LaunchSlots;
  /** Called when the quantum takes its slot and starts. */
  readonly started: () => void;
}

/**
 * Runs `work` holding one of the launch's slots: waits in line for one, calls `started`, and gives the
 * slot back when the work has ended. A wait cancelled through `cancel.signal` ends with
 * `cancel.cancelled()`, and the work never runs.
 */
export function holdingSlot<T>(launch: Launch, work: () => Promise<T>, cancel?: { signal?: AbortSignal; cancelled: () => T }): Promise<T> {
  const go = () => {
    launch.started();
    return work().finally(() => launch.slots.give());
  };
  if (launch.slots.tryTake()) return go();
  return new Promise((resolve) => {
    const signal = cancel?.signal;
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
