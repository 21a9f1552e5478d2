import type { ClientTimers } from './sdk';

/** Lets pending promise chains (and BroadcastChannel deliveries) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A clock and timers under the test's control, passed to the client as `now` and `timers`.
 * `advance` fires due timers in order (those due at the same instant together) and lets
 * promises settle after each.
 */
export class FakeClock {
  time: number;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; callback: () => void }>();

  constructor(start = Date.UTC(2025, 0, 15, 12, 0, 0)) {
    this.time = start;
  }

  readonly now = (): number => this.time;

  readonly timers: ClientTimers = {
    setTimeout: (callback, ms) => {
      const id = this.nextId;
      this.nextId += 1;
      this.pending.set(id, { at: this.time + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout: (handle) => {
      this.pending.delete(handle as number);
    },
  };

  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      const due = [...this.pending.entries()]
        .filter(([, timer]) => timer.at <= end)
        .sort(([idA, a], [idB, b]) => a.at - b.at || idA - idB);
      if (due.length === 0) break;
      // Timers due at the same instant fire together, as two tabs' timers would.
      const at = due[0][1].at;
      this.time = Math.max(this.time, at);
      for (const [id, timer] of due.filter(([, timer]) => timer.at === at)) {
        this.pending.delete(id);
        timer.callback();
      }
    }
    this.time = end;
    await settle();
  }
}
