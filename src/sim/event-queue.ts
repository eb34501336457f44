// The virtual clock and its event queue. Events run in order of (time, insertion sequence), so
// two events at the same virtual time always run in the order they were scheduled: the run is a
// pure function of the seed.

export type EventFn = () => void;

interface Item {
  readonly time: number;
  readonly seq: number;
  readonly fn: EventFn;
}

function before(a: Item, b: Item): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class EventQueue {
  private heap: Item[] = [];
  private seq = 0;
  private _now = 0;
  /** Number of events run so far. */
  processed = 0;

  get now(): number {
    return this._now;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Runs `fn` at absolute virtual time `time` (never earlier than now). */
  at(time: number, fn: EventFn): void {
    const item: Item = { time: Math.max(time, this._now), seq: this.seq++, fn };
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(item, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = item;
  }

  /** Runs `fn` after `delay` virtual ms. */
  after(delay: number, fn: EventFn): void {
    this.at(this._now + delay, fn);
  }

  /** Time of the next event, or Infinity. */
  peekTime(): number {
    return this.heap.length > 0 ? this.heap[0]!.time : Infinity;
  }

  private pop(): Item {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      const n = h.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }

  /** Runs one event; false if the queue is empty. */
  step(): boolean {
    if (this.heap.length === 0) return false;
    const item = this.pop();
    this._now = item.time;
    this.processed++;
    item.fn();
    return true;
  }

  /**
   * Runs events up to and including virtual time `until`, then sets the clock to `until`.
   * Stops early (returning true) as soon as `stop()` holds after an event.
   */
  runUntil(until: number, stop?: () => boolean): boolean {
    while (this.heap.length > 0 && this.heap[0]!.time <= until) {
      this.step();
      if (stop?.()) return true;
    }
    if (this._now < until) this._now = until;
    return false;
  }
}
