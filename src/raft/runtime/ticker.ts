// One timer per process drives the ticks of every Raft group in it (many groups must not
// each own a timer: thousands of intervals would crowd the event loop).

export interface Tickable {
  tick(): void;
}

export class Ticker {
  private readonly members = new Set<Tickable>();
  private timer: NodeJS.Timeout | undefined;

  constructor(readonly tickMs: number) {}

  add(t: Tickable): void {
    this.members.add(t);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const m of this.members) m.tick();
      }, this.tickMs);
      this.timer.unref();
    }
  }

  remove(t: Tickable): void {
    this.members.delete(t);
    if (this.members.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}

const shared = new Map<number, Ticker>();

/** The process-wide ticker for a tick length. */
export function sharedTicker(tickMs: number): Ticker {
  let t = shared.get(tickMs);
  if (!t) {
    t = new Ticker(tickMs);
    shared.set(tickMs, t);
  }
  return t;
}
