// Request latency over the last completed interval (default one second), for live charts:
// cumulative percentiles since start (OpMetrics) barely move after a few minutes, so a chart of
// them would hide a latency spike that is happening now.

export interface WindowStats {
  /** Requests completed in the window. */
  readonly count: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Start of the window (epoch ms) and its length. */
  readonly startMs: number;
  readonly windowMs: number;
}

interface Bucket {
  readonly slot: number;
  count: number;
  maxMs: number;
  /** A uniform sample of the window's latencies (reservoir), so memory stays bounded. */
  readonly samples: number[];
}

export class LatencyWindow {
  private current: Bucket | undefined;
  private previous: Bucket | undefined;

  constructor(
    private readonly windowMs = 1000,
    private readonly maxSamples = 4096,
    private readonly now: () => number = Date.now,
  ) {}

  add(elapsedMs: number): void {
    const b = this.bucket(this.now());
    b.count++;
    if (elapsedMs > b.maxMs) b.maxMs = elapsedMs;
    if (b.samples.length < this.maxSamples) b.samples.push(elapsedMs);
    else {
      const i = Math.floor(Math.random() * b.count);
      if (i < this.maxSamples) b.samples[i] = elapsedMs;
    }
  }

  /** The last completed window (zeros when nothing completed in it). */
  last(): WindowStats {
    const slot = Math.floor(this.now() / this.windowMs) - 1;
    this.bucket(this.now()); // rotates, so a stale "previous" is not reported
    const b = this.previous?.slot === slot ? this.previous : undefined;
    const sorted = b ? [...b.samples].sort((x, y) => x - y) : [];
    // nearest rank
    const at = (q: number): number => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!);
    return { count: b?.count ?? 0, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: b?.maxMs ?? 0, startMs: slot * this.windowMs, windowMs: this.windowMs };
  }

  private bucket(nowMs: number): Bucket {
    const slot = Math.floor(nowMs / this.windowMs);
    if (this.current?.slot !== slot) {
      this.previous = this.current?.slot === slot - 1 ? this.current : undefined;
      this.current = { slot, count: 0, maxMs: 0, samples: [] };
    }
    return this.current;
  }
}
