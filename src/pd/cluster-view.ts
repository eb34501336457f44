// What the placement driver (PD) knows about the cluster, as its schedulers see it: stores and
// regions with the stats of their last heartbeats, and the operators in progress. Plain data:
// the schedulers (schedulers.ts) are pure functions of it, so they are tested without a cluster.

import type { RegionMeta } from '../kv/region.js';

/** A store's life: serving, being emptied by an operator's request, or gone for good. */
export type StoreState = 'up' | 'offline' | 'tombstone';

export interface StoreView {
  readonly id: string;
  /** "host:port" the store listens on. */
  readonly address: string;
  readonly state: StoreState;
  /** When PD last heard from the store (PD leader's clock, ms); 0 = not since PD's leader started. */
  readonly lastHeartbeatMs: number;
  /** Regions with a replica here (voter or learner), as the store last reported. */
  readonly regionCount: number;
  /** Regions led here, as the store last reported. */
  readonly leaderCount: number;
  /** Disk capacity and free space of the store's data dir (bytes). */
  readonly capacityBytes: number;
  readonly availableBytes: number;
}

export interface RegionView {
  /** The region as its leader last reported it (the highest epoch PD has seen). */
  readonly meta: RegionMeta;
  /** Store id of the leader ('' = unknown). */
  readonly leader: string;
  /** Approximate keys and bytes of user data in the region. */
  readonly keys: number;
  readonly bytes: number;
  /** Learners whose log has caught up with the leader's commit index (safe to promote). */
  readonly caughtUpLearners: readonly string[];
  /** Peers the leader has not heard from for a while. */
  readonly downPeers: readonly string[];
  /** Peers far behind the leader's log (catching up, or waiting for a snapshot). */
  readonly pendingPeers: readonly string[];
  /** When PD last got a heartbeat for it (ms); 0 = never since PD's leader started. */
  readonly lastHeartbeatMs: number;
}

/** One step of an operator, carried out by the region's leader. */
export type OperatorStep =
  | { readonly kind: 'split'; readonly splitKey: Uint8Array | null }
  | { readonly kind: 'transferLeader'; readonly to: string }
  | { readonly kind: 'addLearner'; readonly store: string }
  | { readonly kind: 'promote'; readonly store: string }
  | { readonly kind: 'removePeer'; readonly store: string };

/** 'replace-lost': a live member store lost its replica (e.g. restarted on a new disk); see pd-leader.ts. */
export type OperatorKind = 'split' | 'balance-leader' | 'balance-replica' | 'replace-down' | 'replace-lost' | 'decommission' | 'admin';

export interface Operator {
  readonly regionId: string;
  readonly kind: OperatorKind;
  /** Why it was created, for the log ("store s1 leads 5 regions, s4 leads 0"). */
  readonly reason: string;
  readonly steps: readonly OperatorStep[];
  /** invariant: 0 <= stepIndex <= steps.length (steps.length = finished) */
  stepIndex: number;
  /** The region's version when the operator was created (a split of it ends the operator). */
  readonly regionVersion: number;
  readonly createdMs: number;
}

export interface SchedulerConfig {
  /** Split a region holding more keys than this (0 = off). Default 100_000. */
  readonly splitMaxKeys: number;
  /** Split a region holding more bytes than this (0 = off). Default 64 MiB. */
  readonly splitMaxBytes: number;
  /** Move leaders while the most and least loaded up stores differ by more than this. Default 1. */
  readonly leaderBalanceTolerance: number;
  /** Move replicas while region counts of up stores differ by more than this. Default 1. */
  readonly replicaBalanceTolerance: number;
  /** A store silent this long is down: its replicas are replaced. Default 30 min (TiKV's default). */
  readonly storeDownAfterMs: number;
  /** Wanted replicas per region. Default 3. */
  readonly replicas: number;
  /** Operators running at once, over the whole cluster, per kind of move. Default 4. */
  readonly maxConcurrentMoves: number;
  /** Each scheduler can be switched off. */
  readonly enabled: { readonly split: boolean; readonly leaderBalance: boolean; readonly replicaBalance: boolean; readonly replaceDown: boolean };
}

export const DEFAULT_SCHEDULER_CONFIG: SchedulerConfig = {
  splitMaxKeys: 100_000,
  splitMaxBytes: 64 * 1024 * 1024,
  leaderBalanceTolerance: 1,
  replicaBalanceTolerance: 1,
  storeDownAfterMs: 30 * 60_000,
  replicas: 3,
  maxConcurrentMoves: 4,
  enabled: { split: true, leaderBalance: true, replicaBalance: true, replaceDown: true },
};

export interface ClusterView {
  readonly nowMs: number;
  readonly stores: ReadonlyMap<string, StoreView>;
  readonly regions: ReadonlyMap<string, RegionView>;
  /** Operators in progress, by region id (at most one per region). */
  readonly operators: ReadonlyMap<string, Operator>;
}
