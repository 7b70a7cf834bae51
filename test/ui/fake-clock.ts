import type { UiClock } from "../../src/ui/ui-clock.js";

/** A clock that moves only when told: `advance(ms)` fires the timers that fall due, in time order. */
export class FakeClock implements UiClock {
  private timers: { every: number; next: number; fn: () => void; active: boolean }[] = [];

  constructor(private time = 1_700_000_000_000) {}

  now(): number {
    return this.time;
  }

  every(ms: number, fn: () => void): () => void {
    const timer = { every: ms, next: this.time + ms, fn, active: true };
    this.timers.push(timer);
    return () => {
      timer.active = false;
    };
  }

  get activeTimers(): number {
    return this.timers.filter((t) => t.active).length;
  }

  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((t) => t.active && t.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.time = due.next;
      due.next += due.every;
      due.fn();
    }
    this.time = end;
  }
}
