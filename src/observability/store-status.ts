// What /api/status and /ready say about this store.

import type { OpStats } from '../kv/store/op-metrics.js';
import type { KvStore, StoreEvent } from '../kv/store/kv-store.js';
import type { WindowStats } from './latency-window.js';
import { type KeyCounts, type RegionView, regionView } from './region-status.js';

export interface StoreStatus {
  readonly storeId: string;
  /** The store's KV/Raft address ("host:port"). */
  readonly address: string;
  /** Where this HTTP server listens ("host:port"). */
  readonly httpAddress: string;
  readonly pid: number;
  readonly startedAtMs: number;
  readonly uptimeMs: number;
  readonly nowMs: number;
  readonly ready: Readiness;
  readonly regions: readonly RegionView[];
  /** Per op since start: calls, errors by code, cumulative latency percentiles. */
  readonly ops: readonly OpStats[];
  /** Latency of the requests this store served in the last second. */
  readonly latency: WindowStats;
  /** The store's latest events, oldest first (bounded). */
  readonly events: readonly StoreEvent[];
}

export interface Readiness {
  readonly ready: boolean;
  /** Why not, one line per problem (empty when ready). */
  readonly reasons: readonly string[];
}

export interface StatusContext {
  readonly httpAddress: string;
  readonly keys: KeyCounts;
  readonly latency: () => WindowStats;
  /** See readiness(). Default 100. */
  readonly maxApplyLag?: number;
  /** Events listed (newest kept). Default 50. */
  readonly events?: number;
}

export function storeStatus(store: KvStore, ctx: StatusContext): StoreStatus {
  const regions = store.sortedRegions().map((r) => regionView(r, ctx.keys));
  const now = Date.now();
  return {
    storeId: store.nodeId,
    address: store.listenAddress ?? '',
    httpAddress: ctx.httpAddress,
    pid: process.pid,
    startedAtMs: store.startedAtMs,
    uptimeMs: now - store.startedAtMs,
    nowMs: now,
    ready: readinessOf(store, regions, ctx.maxApplyLag ?? 100),
    regions,
    ops: store.service.metrics.snapshot(),
    latency: ctx.latency(),
    events: store.recentEvents.slice(-(ctx.events ?? 50)),
  };
}

/**
 * Ready = this store can serve its share of the cluster now:
 *   - it is not shutting down;
 *   - it hosts at least one region, and every region it hosts
 *       - has begun (a region learned of by a split it missed waits at version 0 for its
 *         leader's snapshot),
 *       - knows its leader (no election in progress),
 *       - has applied what it knows committed, within `maxApplyLag` entries (a replica
 *         replaying its log after a restart is not ready; the small allowance keeps a busy
 *         follower, always a few entries behind its commit index, from flapping).
 */
export function readiness(store: KvStore, keys: KeyCounts, maxApplyLag = 100): Readiness {
  return readinessOf(store, store.sortedRegions().map((r) => regionView(r, keys)), maxApplyLag);
}

function readinessOf(store: KvStore, regions: readonly RegionView[], maxApplyLag: number): Readiness {
  const reasons: string[] = [];
  if ((store.service as { draining?: boolean }).draining === true) reasons.push('the store is shutting down');
  if (regions.length === 0) reasons.push('the store hosts no region');
  for (const r of regions) {
    if (r.epoch.version === 0) reasons.push(`region ${r.id}: waiting for a snapshot from its leader`);
    else if (r.leader === '') reasons.push(`region ${r.id}: no leader known (term ${r.term})`);
    else if (r.commit - r.applied > maxApplyLag) reasons.push(`region ${r.id}: applied ${r.applied} of ${r.commit} committed entries`);
  }
  return { ready: reasons.length === 0, reasons };
}
