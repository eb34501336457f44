// Per-operation request counters of a store, counted where requests are handled: calls, errors
// by code, and latency percentiles (HDR histogram, microsecond resolution).

import * as hdr from 'hdr-histogram-js';

export interface OpStats {
  readonly op: string;
  readonly calls: number;
  readonly errors: Record<string, number>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

interface OpCounter {
  calls: number;
  readonly errors: Map<string, number>;
  readonly latencyUs: hdr.Histogram;
}

export type OpListener = (op: string, errorCode: string | undefined, elapsedMs: number) => void;

export class OpMetrics {
  private readonly ops = new Map<string, OpCounter>();
  private readonly listeners = new Set<OpListener>();

  /** Called for every request recorded (Prometheus histograms); returns the unsubscribe function. */
  onRecord(l: OpListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  record(op: string, errorCode: string | undefined, elapsedMs: number): void {
    let c = this.ops.get(op);
    if (!c) {
      c = { calls: 0, errors: new Map(), latencyUs: hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 2 }) };
      this.ops.set(op, c);
    }
    c.calls++;
    if (errorCode) c.errors.set(errorCode, (c.errors.get(errorCode) ?? 0) + 1);
    c.latencyUs.recordValue(Math.max(1, Math.round(elapsedMs * 1000)));
    for (const l of this.listeners) l(op, errorCode, elapsedMs);
  }

  snapshot(): OpStats[] {
    return [...this.ops.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([op, c]) => ({
        op,
        calls: c.calls,
        errors: Object.fromEntries(c.errors),
        p50Ms: c.latencyUs.getValueAtPercentile(50) / 1000,
        p99Ms: c.latencyUs.getValueAtPercentile(99) / 1000,
        maxMs: c.latencyUs.maxValue / 1000,
      }));
  }
}
