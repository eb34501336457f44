// The KV store's client protocol: what a raftkv client sends to a store process and what comes
// back. It rides the transport's request/response frames in the shared envelope
// ([u8 tag][u32 headerLength][header JSON][body bytes], see rpc-router.ts), next to the Raft
// client protocol (tags 1..4, server/protocol.ts).
//
//   KvTag.Command  groupId = region id. header: KvRequestHeader. body: encodeCommand(cmd).
//                  ok:    status 0, header KvOkHeader, body encodeResult(result)
//                  error: status 1, header KvErrorHeader, empty body
//   KvTag.Regions  groupId ignored (''). header {}. ok: header RegionsReply.
//
// Request handling on the store, in this order (the RheaKV path of seed 000):
//   1. region lookup               -> NO_REGION_FOUND (this store hosts no such region)
//   2. epoch check: header.version must equal the region's version
//                                  -> INVALID_REGION_EPOCH (reply carries the region as it is now)
//   3. every key (and range) inside the region's [startKey, endKey)
//                                  -> INVALID_REGION_EPOCH (same: the client's routes are stale)
//   4. parameters (empty key, sizes, types)            -> INVALID_PARAMETER
//   5. leadership (writes; reads unless a follower read is asked for)
//                                  -> NOT_LEADER with leaderId and leaderAddress when known
//   6. overload (apply queue or pending-request permits full) -> SERVER_BUSY
//   7. the write through the Raft log / the read after its consistency wait
// A committed write can still be refused at apply time with INVALID_REGION_EPOCH when a split
// committed between the check above and the write (nothing was changed; retry after a refresh).

import type { Bytes } from './commands.js';

export enum KvTag {
  Command = 5,
  Regions = 6,
  /** groupId ignored. header {digest?: boolean}. ok: header StatsReply (per-op counters, regions). */
  Stats = 7,
}

/** Stable error codes of the KV protocol (KvErrorHeader.code). */
export const KvErrorCode = {
  /** This store hosts no region with that id. Refresh routes. */
  NO_REGION_FOUND: 'NO_REGION_FOUND',
  /** The client's region version is not the region's, or a key is outside the region. Refresh routes. */
  INVALID_REGION_EPOCH: 'INVALID_REGION_EPOCH',
  /** Bad input (null/empty key, value or key too large, malformed command). Not retryable. */
  INVALID_PARAMETER: 'INVALID_PARAMETER',
  /** This replica does not lead the region; leaderId/leaderAddress say who does when known. */
  NOT_LEADER: 'NOT_LEADER',
  /** No leader is known right now (election in progress). Retry after a short wait. */
  NO_LEADER: 'NO_LEADER',
  /** Overloaded (bounded queues full). Retry after a backoff. The write was not logged. */
  SERVER_BUSY: 'SERVER_BUSY',
  /** rangeSplit on a region with fewer keys than the store's minimum. */
  TOO_SMALL_TO_SPLIT: 'TOO_SMALL_TO_SPLIT',
  /** A multi-key operation that must be atomic spans more than one region. */
  CROSS_REGION: 'CROSS_REGION',
  /** nodeExecute named a callback that is not registered. */
  UNKNOWN_CALLBACK: 'UNKNOWN_CALLBACK',
  /** A nodeExecute callback threw (on every replica alike). */
  CALLBACK_FAILED: 'CALLBACK_FAILED',
  /** Leadership changed before the write committed: it was not applied. Retry. */
  LEADER_CHANGED: 'LEADER_CHANGED',
  /** The store gave up waiting for the commit: the write may still apply. Retry with the same call id. */
  TIMEOUT: 'TIMEOUT',
  /**
   * A retried write was applied before the store restarted and its result was not kept (writes
   * whose result is only "done" are answered OK instead). It was applied exactly once.
   */
  RESULT_UNAVAILABLE: 'RESULT_UNAVAILABLE',
  /** The store is stopping. Retry elsewhere. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
  /** Anything else (a bug or a storage failure). */
  INTERNAL: 'INTERNAL',
} as const;
export type KvErrorCode = (typeof KvErrorCode)[keyof typeof KvErrorCode];

export type ReadConsistency = 'linearizable' | 'lease' | 'stale';

export interface KvRequestHeader {
  /** The region version (epoch.version) the client routed this request with. */
  version: number;
  /** Writes: retry-cache identity. A retry of the same call carries the same pair. */
  clientId?: string;
  callId?: number;
  /** Writes: the lowest call id this client still waits for (older replies can be forgotten). */
  firstUnreplied?: number;
  /**
   * Reads: 'linearizable' (default; ReadIndex, on the leader or, with `follower`, on this
   * follower), 'lease' (leader lease, no round trip), 'stale' (this replica's state, after it
   * applied at least minIndex).
   */
  consistency?: ReadConsistency;
  minIndex?: number;
  /** Reads: serve on this replica even if it is a follower. */
  follower?: boolean;
}

export interface KvOkHeader {
  /** Writes: the log index of the entry. */
  index?: number;
  /** Reads: the replica's applied index when it answered. */
  appliedIndex?: number;
}

/** A key as carried in JSON: base64 of the bytes; '' for "unbounded" in start/end keys. */
export type WireKey = string;

export interface PeerInfo {
  readonly id: string;
  /** "host:port" */
  readonly address: string;
}

export interface RegionEpoch {
  /** Rises with every membership change of the region's group (the log index of the last one). */
  readonly confVer: number;
  /** Rises with every split of the region. */
  readonly version: number;
}

export interface RegionInfo {
  readonly id: string;
  /** Inclusive start ('' = from the first key). */
  readonly startKey: WireKey;
  /** Exclusive end ('' = to the last key). */
  readonly endKey: WireKey;
  readonly epoch: RegionEpoch;
  readonly voters: readonly PeerInfo[];
  readonly learners: readonly PeerInfo[];
  /** The leader's node id as this store knows it ('' when unknown). */
  readonly leader: string;
}

export interface KvErrorHeader {
  code: KvErrorCode | string;
  message: string;
  leaderId?: string;
  leaderAddress?: string;
  /** With INVALID_REGION_EPOCH: the region as this store has it now. */
  region?: RegionInfo;
}

export interface RegionsReply {
  storeId: string;
  /** On the placement driver's leader: every region PD knows, with its leader (may lag the stores). */
  pdRoutes?: RegionInfo[];
  /** Every region this store hosts, sorted by startKey. */
  regions: RegionInfo[];
}

export interface StatsReply {
  storeId: string;
  ops: Array<{ op: string; calls: number; errors: Record<string, number>; p50Ms: number; p99Ms: number; maxMs: number }>;
  regions: Array<{ id: string; role: string; term: number; leader: string; commitIndex: number; appliedIndex: number; keys: number; digest?: number }>;
}

export const toWireKey = (k: Bytes | null | undefined): WireKey => (k && k.length > 0 ? Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('base64') : '');
export const fromWireKey = (w: WireKey): Uint8Array => {
  const b = Buffer.from(w, 'base64');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
};
