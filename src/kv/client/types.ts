// The client's public option and result types.

import type { Transport } from '../../transport/transport.js';
import type { PeerInfo, ReadConsistency, RegionEpoch } from '../protocol.js';
import type { Key, Value } from './keys.js';

export type { Key, Value, ReadConsistency };

export interface KvClientOptions {
  /** "host:port" of any stores; the route table is fetched from them. May be empty with pdEndpoints. */
  endpoints: string[];
  /**
   * "host:port" of placement driver nodes (PD processes, or stores hosting PD). When given, every
   * route refresh (at start, after a split or a stale-epoch refusal) asks PD's leader first, then
   * the stores. Default none: routes come from the stores alone.
   */
  pdEndpoints?: string[];
  /** Total time of one call, retries included. Default 10,000 ms. */
  timeoutMs?: number;
  /** Time of one attempt. Default 3,000 ms. */
  attemptTimeoutMs?: number;
  /** Cluster name of the transport handshake. Default 'raftkv'. */
  cluster?: string;
  /** Default read consistency. Default 'linearizable'. */
  readConsistency?: ReadConsistency;
  /** Automatic batching of concurrent put() and get() calls. Default on (256 entries, 1 MiB). */
  batching?: false | { maxCount?: number; maxBytes?: number };
  /** Bound on the attempts of one call (of each part of a multi-region call). Default 64 (the deadline bounds a call too). */
  maxRetries?: number;
  /** The transport to use (tests: a MemoryTransport that listens). Default: a new TcpTransport, closed by close(). */
  transport?: Transport;
}

export interface GetOptions {
  consistency?: ReadConsistency;
  /** Serve on a follower (any replica) rather than the leader. */
  follower?: boolean;
}

export interface KvPair {
  key: Buffer;
  /** null when the scan was asked not to return values. */
  value: Buffer | null;
}

export interface ScanOptions {
  /** At most this many pairs (0 or absent: no limit). */
  limit?: number;
  /** Default true. */
  returnValue?: boolean;
  consistency?: ReadConsistency;
}

export interface IteratorOptions {
  /** Pairs fetched per scan. Default 100. */
  pageSize?: number;
  returnValue?: boolean;
  consistency?: ReadConsistency;
}

export interface CompareAndPutEntry {
  key: Key;
  /** The value the key must have (null: the key must be absent). */
  expect: Value | null;
  value: Value;
}

export interface SequenceRange {
  /** First value of the range handed out (inclusive). */
  start: number;
  /** End of the range (exclusive): the next caller starts here. */
  end: number;
}

export interface LockOptions {
  /** Who acquires (the same id re-enters). Default: the client's id. */
  acquirerId?: string;
  leaseMs: number;
  /** Renew the lease of a lock already held, without counting a re-entry. */
  keepLease?: boolean;
}

export interface LockResult {
  success: boolean;
  /** The holder (on failure: who holds it). */
  owner: string;
  /** Rises with every new holder; pass it to the resources the lock protects. */
  fencingToken: number;
  /** Re-entry count. */
  count: number;
  remainingMs: number;
}

export interface DistributedLockOptions {
  leaseMs: number;
  /** Renew the lease every leaseMs/3 until unlock(). Default false. */
  watchdog?: boolean;
  /** Default: an id of its own (client id + a counter), so two lock objects exclude each other. */
  acquirerId?: string;
}

export interface ExecuteOptions {
  /** Run on the region holding this key. Default: the first region. */
  key?: Key;
}

export interface SplitResult {
  left: string;
  right: string;
  splitKey: Buffer;
}

/** One region of the route table. Keys are Buffers; an empty one means unbounded. */
export interface RegionDescriptor {
  id: string;
  startKey: Buffer;
  endKey: Buffer;
  epoch: RegionEpoch;
  voters: PeerInfo[];
  learners: PeerInfo[];
  /** The cached leader's node id ('' when unknown). */
  leader: string;
}
