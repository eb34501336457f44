// The placement driver's wire contract (requests over the same transport and envelope as the KV
// protocol, tags in the client range):
//
//   PdTag.Heartbeat  store -> PD leader. header StoreHeartbeat. ok: header HeartbeatReply.
//   PdTag.Cluster    anyone -> PD leader. header {}. ok: header ClusterReply (stores, regions,
//                    operators, scheduler settings).
//   PdTag.Admin      anyone -> PD leader. header PdAdmin. ok: header {ok: true, ...}.
//   PdTag.CreatePeer PD-driven leader -> store. groupId = region id. header {}. The store opens
//                    an empty replica of the region (it waits for the leader's snapshot).
//   PdTag.AllocId    a new store (before it starts) -> PD leader. header {kind: 'store'}.
//                    ok: header {id}. Refused SERVER_BUSY during the new leader's warm-up (the
//                    configured stores have not all registered yet).
//   KvTag.Regions    client -> a PD node running on its own (pd-main.ts). ok: header
//                    RegionsReply with `regions` = PD's route table (a store hosting PD answers
//                    with its own regions plus `pdRoutes` when it leads PD).
//
// A PD node that is not the leader answers NOT_LEADER with the leader's address when it knows it
// (the KvErrorHeader shape), so callers follow it.

import type { PeerInfo, RegionEpoch, RegionInfo } from '../kv/protocol.js';
import type { OperatorKind, StoreState } from './cluster-view.js';

export enum PdTag {
  Heartbeat = 8,
  Cluster = 9,
  Admin = 10,
  CreatePeer = 11,
  AllocId = 12,
}

/** The Raft group id of the placement driver (region ids never take it). */
export const PD_GROUP = 'pd';

/**
 * A region as a replica sees it, in a heartbeat. Members only on the regions the store leads (a
 * follower's membership is its leader's business), in RegionInfo's shape ({id, address}) so a
 * PD leader of the previous release reads them; PD reads plain ids too.
 */
export interface HeartbeatRegion {
  readonly id: string;
  /** Wire keys (protocol.ts toWireKey). */
  readonly startKey: string;
  readonly endKey: string;
  readonly epoch: RegionEpoch;
  readonly voters?: readonly (PeerInfo | string)[];
  readonly learners?: readonly (PeerInfo | string)[];
}

/** One region replica hosted by a store, as that replica sees it. */
export interface HostedRegion {
  readonly region: HeartbeatRegion;
  /** The replica leads its region. */
  readonly leading: boolean;
  /** Only when leading: approximate user keys and bytes. */
  readonly keys?: number;
  readonly bytes?: number;
  /** Only when leading: learners whose match index reached the commit index. */
  readonly caughtUpLearners?: readonly string[];
  /** Only when leading: peers not heard from recently. */
  readonly downPeers?: readonly string[];
  /** Only when leading: peers (voters or learners) far behind the commit index or waiting for a snapshot. */
  readonly pendingPeers?: readonly string[];
  /** Requests served by this replica per second since the last heartbeat (reads may be served by followers). */
  readonly readsPerSec?: number;
  readonly writesPerSec?: number;
  readonly readBytesPerSec?: number;
  readonly writeBytesPerSec?: number;
}

export interface StoreHeartbeat {
  readonly storeId: string;
  readonly address: string;
  readonly capacityBytes: number;
  readonly availableBytes: number;
  readonly regions: readonly HostedRegion[];
}

/** A step for a region's leader to carry out (it is sent again until PD sees it done). */
export interface Instruction {
  readonly regionId: string;
  readonly step:
    // splitKey: wire key (protocol.ts toWireKey); newRegionId: the id PD allocated; regionVersion:
    // the region's version the split was decided on (the leader skips it at any other version).
    | { readonly kind: 'split'; readonly splitKey: string | null; readonly newRegionId?: string; readonly regionVersion?: number }
    | { readonly kind: 'transferLeader'; readonly to: string }
    | { readonly kind: 'addLearner'; readonly store: string }
    | { readonly kind: 'promote'; readonly store: string }
    | { readonly kind: 'removePeer'; readonly store: string; readonly keepVoters?: number };
}

export interface StoreEntry {
  readonly id: string;
  readonly address: string;
  readonly state: StoreState;
}

export interface HeartbeatReply {
  /** Every store PD knows (addresses for peers a store has never met). */
  readonly stores: readonly StoreEntry[];
  readonly instructions: readonly Instruction[];
  /** Regions this store hosts a replica of but is no longer a member of: destroy them. */
  readonly tombstones: readonly string[];
}

export interface StoreSummary extends StoreEntry {
  readonly lastHeartbeatAgoMs: number | null;
  readonly down: boolean;
  readonly regionCount: number;
  readonly leaderCount: number;
  readonly capacityBytes: number;
  readonly availableBytes: number;
  /** Offline stores: true once no region has a replica on it (it can be stopped). */
  readonly drained: boolean;
  /** Sums over the store's replicas (per second). */
  readonly readsPerSec: number;
  readonly writesPerSec: number;
}

export interface RegionSummary {
  readonly region: RegionInfo;
  readonly keys: number;
  readonly bytes: number;
  readonly readsPerSec: number;
  readonly writesPerSec: number;
  readonly readBytesPerSec: number;
  readonly writeBytesPerSec: number;
  readonly pendingPeers: readonly string[];
  readonly downPeers: readonly string[];
  readonly lastHeartbeatAgoMs: number | null;
}

export interface OperatorSummary {
  readonly regionId: string;
  readonly kind: OperatorKind;
  readonly reason: string;
  readonly step: string;
  readonly ageMs: number;
}

export interface ClusterReply {
  readonly leader: string;
  readonly stores: readonly StoreSummary[];
  readonly regions: readonly RegionSummary[];
  readonly operators: readonly OperatorSummary[];
  readonly schedulers: Readonly<Record<string, boolean>>;
}

export type PdAdmin =
  | { readonly action: 'split'; readonly regionId: string; readonly splitKey?: string | null }
  | { readonly action: 'transferLeader'; readonly regionId: string; readonly to: string }
  | { readonly action: 'addPeer'; readonly regionId: string; readonly store: string }
  | { readonly action: 'removePeer'; readonly regionId: string; readonly store: string }
  | { readonly action: 'decommission'; readonly store: string }
  | { readonly action: 'scheduler'; readonly name: 'split' | 'leaderBalance' | 'replicaBalance' | 'replaceDown'; readonly enabled: boolean };
