// Sees every request the store's KvService counts, as it is counted: op, error code (undefined
// when it succeeded) and elapsed time. OpMetrics keeps only cumulative percentiles, which can
// neither feed a Prometheus histogram nor a "last second" latency chart, so observers need
// the individual observations.

import type { OpMetrics } from '../kv/store/op-metrics.js';

export type OpObserver = (op: string, errorCode: string | undefined, elapsedMs: number) => void;

/** Calls `observer` for every request recorded from now on; returns the function that stops it. */
export function observeOps(metrics: OpMetrics, observer: OpObserver): () => void {
  return metrics.onRecord((op, errorCode, elapsedMs) => {
    try {
      observer(op, errorCode, elapsedMs);
    } catch {
      // an observer's failure must never fail a request
    }
  });
}
