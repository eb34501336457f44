// One region on this store as the metrics, /api/status and the dashboard show it: its range and
// epoch, its Raft state, and (on the leader) how far behind each replica is.

import type { RegionPeer } from '../kv/store/region-peer.js';

export interface PeerLag {
  readonly id: string;
  readonly match: number;
  readonly next: number;
  /** Entries the peer's log is behind the leader's: leader lastIndex - match. */
  readonly lag: number;
  readonly state: string;
  readonly learner: boolean;
  readonly recentActive: boolean;
}

export interface RegionView {
  readonly id: string;
  /** The range [startKey, endKey) as UTF-8 text ('' = unbounded). */
  readonly startKey: string;
  readonly endKey: string;
  readonly epoch: { readonly confVer: number; readonly version: number };
  readonly voters: readonly string[];
  readonly learners: readonly string[];
  readonly role: string;
  /** '' when no leader is known. */
  readonly leader: string;
  readonly term: number;
  readonly commit: number;
  /** What the state machine applied (not merely what Raft handed to it). */
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  /** Proposals waiting to commit and apply (the apply queue's depth). */
  readonly pendingProposals: number;
  readonly keys: number;
  /** Only on the leader: every other replica. */
  readonly peers: readonly PeerLag[];
}

const utf8 = (k: Uint8Array): string => Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('utf8');

/**
 * Key counts, remembered for a short while: counting walks the engine's keys (lmdb), and a
 * scrape, a status request and a dashboard tick may all ask within the same second.
 */
export class KeyCounts {
  private readonly cache = new Map<RegionPeer, { at: number; n: number }>();

  constructor(private readonly ttlMs = 2000) {}

  get(peer: RegionPeer): number {
    const now = Date.now();
    const c = this.cache.get(peer);
    if (c && now - c.at < this.ttlMs) return c.n;
    let n = 0;
    try {
      n = peer.kv.keyCount();
    } catch {
      // the engine is closing (region stopping): report none rather than fail the page
    }
    this.cache.set(peer, { at: now, n });
    if (this.cache.size > 1024) this.cache.clear(); // regions come and go; never grow without bound
    return n;
  }
}

export function regionView(peer: RegionPeer, keys: KeyCounts): RegionView {
  const s = peer.node.status();
  const m = peer.meta;
  return {
    id: peer.id,
    startKey: utf8(m.startKey),
    endKey: utf8(m.endKey),
    epoch: { confVer: m.epoch.confVer, version: m.epoch.version },
    voters: [...s.confState.voters],
    learners: [...s.confState.learners],
    role: String(s.role),
    leader: s.leader,
    term: s.term,
    commit: s.commit,
    applied: s.appliedIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    pendingProposals: s.pendingProposals,
    keys: keys.get(peer),
    peers: s.peers
      .filter((p) => p.id !== s.id)
      .map((p) => ({ id: p.id, match: p.match, next: p.next, lag: Math.max(0, s.lastIndex - p.match), state: String(p.state), learner: p.learner, recentActive: p.recentActive })),
  };
}
