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

  /**
   * Takes `count` slots for one quantum (a task with `resources.cpus`): true once it holds them all,
   * false if `signal` aborted the wait (the slots gathered so far are given back). One quantum gathers
   * at a time, each slot in its turn in the line: quanta of one slot never hold one while they wait, so
   * the gatherer always gets its slots as others end, and two gatherers can never hold part each.
   */
  takeMany(count: number, signal?: AbortSignal): Promise<boolean> {
    const turn = this.gathering.then(() => this.gather(count, signal));
    this.gathering = turn.then(() => undefined);
    return turn;
  }

  private gathering: Promise<void> = Promise.resolve();

  private async gather(count: number, signal?: AbortSignal): Promise<boolean> {
    let held = 0;
    while (held < count) {
      if (!signal?.aborted && (this.tryTake() || (await this.waitForOne(signal)))) {
        held++;
        continue;
      }
      for (; held > 0; held--) this.give();
      return false;
    }
    return true;
  }

  /** Waits in line for one slot: true when given one, false when `signal` aborted the wait. */
  private waitForOne(signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const onAbort = () => {
        if (this.leave(waiter)) resolve(false);
      };
      const waiter = this.wait(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve(true);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
    });
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
 * `holdingSlot` for a quantum that takes `count` slots (its task's `resources.cpus`, at most the
 * launch's size): it waits until it holds them all, and gives them all back when the work has ended.
 */
export function holdingSlots<T>(launch: Launch, count: number, work: () => Promise<T>, cancel?: { signal?: AbortSignal; cancelled: () => T }): Promise<T> {
  const n = Math.min(count, launch.slots.size);
  if (n <= 1) return holdingSlot(launch, work, cancel);
  return launch.slots.takeMany(n, cancel?.signal).then((held) => {
    if (!held) return cancel!.cancelled();
    launch.started();
    return work().finally(() => {
      for (let i = 0; i < n; i++) launch.slots.give();
    });
  });
}

/** The `-j` slots a quantum of `task` takes: its `resources.cpus` (checked by the loader), 1 by default. */
export function slotsOf(task: { readonly resources?: Readonly<Record<string, unknown>> }): number {
  const cpus = task.resources?.cpus;
  return typeof cpus === "number" && Number.isInteger(cpus) && cpus > 1 ? cpus : 1;
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
