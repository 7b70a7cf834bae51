/**
 * A counting semaphore for starting quanta: at most `size` hold a slot at once. A free slot is taken
 * without a promise; a slot given back goes to the longest waiter at once (its promise resolves in the
 * same turn), so a quantum prepared in advance starts the moment another ends.
 */
export class LaunchSlots {
  private free: number;
  private readonly waiters: (() => void)[] = [];

  constructor(readonly size: number) {
    this.free = size;
  }

  /** Takes a slot: undefined when one was free, else a promise that resolves once one is handed over. */
  take(): Promise<void> | undefined {
    if (this.free > 0) {
      this.free--;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Gives a slot back: to the first waiter, or to the free ones. */
  give(): void {
    const next = this.waiters.shift();
    if (next !== undefined) next();
    else this.free++;
  }
}

/** What an executor hands the code that starts a quantum: the slots, and whom to tell when it starts. */
export interface Launch {
  readonly slots: LaunchSlots;
  /** Called when the quantum takes its slot and starts. */
  readonly started: () => void;
}
