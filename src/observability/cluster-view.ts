// The whole cluster as one store sees it, for the dashboard: this store asks every other store
// for its Stats and Regions over the KV transport it already has (no HTTP addresses to
// configure), merges the answers into one table of regions x stores, and derives the cluster's
// history (leader elections, stores going down and coming back, regions appearing) by comparing
// successive views, since peers' own event logs are not on the wire.

import { KvTag, type RegionsReply, type StatsReply, fromWireKey } from '../kv/protocol.js';
import type { KvStore } from '../kv/store/kv-store.js';
import { decodeEnvelope, encodeEnvelope } from '../raft/runtime/rpc-router.js';
import type { KeyCounts } from './region-status.js';
import { regionView } from './region-status.js';

type StatsRegion = StatsReply['regions'][number];

export interface StoreSummary {
  readonly id: string;
  /** KV/Raft address ("host:port"). */
  readonly address: string;
  readonly self: boolean;
  /** Answered the last poll. */
  readonly up: boolean;
  readonly error?: string;
  /** When it last answered (epoch ms; 0 = never). */
  readonly lastSeenMs: number;
  /** Requests served since the store started (all ops), and how many failed. */
  readonly calls: number;
  readonly errors: number;
  readonly ops: StatsReply['ops'];
  readonly regions: readonly StatsRegion[];
}

export interface Replica {
  readonly role: string;
  readonly term: number;
  /** Who this replica believes leads ('' = none). */
  readonly leader: string;
  readonly commit: number;
  readonly applied: number;
  readonly keys: number;
  /** Entries this replica has yet to apply to reach the leader's commit index (0 on the leader; -1 when no leader is known). */
  readonly behind: number;
}

export interface ClusterRegion {
  readonly id: string;
  /** UTF-8 text; '' = unbounded. */
  readonly startKey: string;
  readonly endKey: string;
  readonly version: number;
  /** The up store claiming leadership in the highest term ('' = none right now). */
  readonly leader: string;
  readonly term: number;
  /** By store id: only stores that answered and host the region. */
  readonly replicas: Readonly<Record<string, Replica>>;
}

export type ClusterEvent =
  | { readonly type: 'leader'; readonly region: string; readonly leader: string; readonly previous: string; readonly term: number; readonly atMs: number }
  | { readonly type: 'no-leader'; readonly region: string; readonly previous: string; readonly atMs: number }
  | { readonly type: 'store-down' | 'store-up'; readonly store: string; readonly atMs: number }
  | { readonly type: 'region-new'; readonly region: string; readonly atMs: number };

export interface ClusterSnapshot {
  readonly atMs: number;
  /** The store that built this view. */
  readonly self: string;
  readonly stores: readonly StoreSummary[];
  readonly regions: readonly ClusterRegion[];
  /** Derived history, oldest first (bounded). */
  readonly events: readonly ClusterEvent[];
}

export interface ClusterViewOptions {
  /**
   * Per-peer request timeout. Default 1500 ms: a store that is merely slow (a loaded machine)
   * should not show as down; a dead one refuses the connection at once anyway. A tick that
   * waits for a slow peer skips the next one rather than piling up.
   */
  readonly timeoutMs?: number;
  /** Events kept. Default 100. */
  readonly maxEvents?: number;
}

interface PeerReply {
  readonly stats: StatsReply;
  readonly regions: RegionsReply;
}

const utf8 = (wire: string): string => Buffer.from(fromWireKey(wire)).toString('utf8');

export class ClusterView {
  private last: ClusterSnapshot | undefined;
  private inflight: Promise<ClusterSnapshot> | undefined;
  private readonly events: ClusterEvent[] = [];
  /** What each store looked like when it last answered (shown greyed when it is down). */
  private readonly lastSeen = new Map<string, { atMs: number; reply: PeerReply }>();

  constructor(
    private readonly store: KvStore,
    private readonly keys: KeyCounts,
    private readonly o: ClusterViewOptions = {},
  ) {}

  /** A view at most `maxAgeMs` old; concurrent callers share one poll. */
  get(maxAgeMs = 500): Promise<ClusterSnapshot> {
    if (this.last && Date.now() - this.last.atMs < maxAgeMs) return Promise.resolve(this.last);
    this.inflight ??= this.refresh().finally(() => (this.inflight = undefined));
    return this.inflight;
  }

  /** The stores of the cluster: every voter and learner of the regions this store hosts. */
  private members(): string[] {
    const ids = new Set<string>([this.store.nodeId]);
    for (const r of this.store.regions.values()) {
      const c = r.node.status().confState;
      for (const id of [...c.voters, ...c.learners]) ids.add(id);
    }
    return [...ids].sort();
  }

  private async refresh(): Promise<ClusterSnapshot> {
    const ids = this.members();
    const replies = await Promise.all(ids.map((id) => (id === this.store.nodeId ? Promise.resolve(this.local()) : this.ask(id))));
    const now = Date.now();
    const stores: StoreSummary[] = ids.map((id, i) => {
      const r = replies[i]!;
      const ok = !(r instanceof Error);
      if (ok) this.lastSeen.set(id, { atMs: now, reply: r });
      const seen = this.lastSeen.get(id);
      const ops = seen?.reply.stats.ops ?? [];
      return {
        id,
        address: id === this.store.nodeId ? (this.store.listenAddress ?? '') : (this.store.transport.addressOf(id) ?? ''),
        self: id === this.store.nodeId,
        up: ok,
        ...(ok ? {} : { error: r.message }),
        lastSeenMs: seen?.atMs ?? 0,
        calls: ops.reduce((a, o) => a + o.calls, 0),
        errors: ops.reduce((a, o) => a + Object.values(o.errors).reduce((x, y) => x + y, 0), 0),
        ops,
        regions: ok ? r.stats.regions : [],
      };
    });
    const snap: ClusterSnapshot = { atMs: now, self: this.store.nodeId, stores, regions: this.mergeRegions(stores), events: [] };
    this.derive(snap);
    this.last = { ...snap, events: [...this.events] };
    return this.last;
  }

  private mergeRegions(stores: readonly StoreSummary[]): ClusterRegion[] {
    // Range and version: from the answer with the highest version (a split narrows a range).
    const shape = new Map<string, { startKey: string; endKey: string; version: number }>();
    for (const { reply } of this.lastSeen.values()) {
      for (const ri of reply.regions.regions) {
        const cur = shape.get(ri.id);
        if (!cur || ri.epoch.version > cur.version) shape.set(ri.id, { startKey: utf8(ri.startKey), endKey: utf8(ri.endKey), version: ri.epoch.version });
      }
    }
    const ids = new Set<string>();
    for (const s of stores) for (const r of s.regions) ids.add(r.id);
    const out: ClusterRegion[] = [];
    for (const id of ids) {
      const hosted = stores.filter((s) => s.up).flatMap((s) => s.regions.filter((r) => r.id === id).map((r) => ({ store: s.id, r })));
      const claims = hosted.filter((h) => h.r.role === 'leader').sort((a, b) => b.r.term - a.r.term);
      const lead = claims[0];
      const term = Math.max(0, ...hosted.map((h) => h.r.term));
      const replicas: Record<string, Replica> = {};
      for (const h of hosted) {
        replicas[h.store] = {
          role: h.r.role,
          term: h.r.term,
          leader: h.r.leader,
          commit: h.r.commitIndex,
          applied: h.r.appliedIndex,
          keys: h.r.keys,
          behind: lead ? Math.max(0, lead.r.commitIndex - h.r.appliedIndex) : -1,
        };
      }
      const sh = shape.get(id) ?? { startKey: '', endKey: '', version: 0 };
      out.push({ id, ...sh, leader: lead?.store ?? '', term, replicas });
    }
    // Key order, as the client sees the key space; the unbounded start first.
    return out.sort((a, b) => (a.startKey === b.startKey ? a.id.localeCompare(b.id) : a.startKey < b.startKey ? -1 : 1));
  }

  private derive(next: ClusterSnapshot): void {
    const prev = this.last;
    const at = next.atMs;
    const push = (e: ClusterEvent): void => {
      this.events.push(e);
      const max = this.o.maxEvents ?? 100;
      if (this.events.length > max) this.events.splice(0, this.events.length - max);
    };
    for (const s of next.stores) {
      const was = prev?.stores.find((p) => p.id === s.id);
      if (was && was.up !== s.up) push({ type: s.up ? 'store-up' : 'store-down', store: s.id, atMs: at });
      else if (!was && !s.up) push({ type: 'store-down', store: s.id, atMs: at });
    }
    for (const r of next.regions) {
      const was = prev?.regions.find((p) => p.id === r.id);
      if (prev && !was) push({ type: 'region-new', region: r.id, atMs: at });
      const before = was?.leader ?? '';
      if (r.leader !== '' && (r.leader !== before || r.term !== was?.term)) push({ type: 'leader', region: r.id, leader: r.leader, previous: before, term: r.term, atMs: at });
      else if (r.leader === '' && before !== '') push({ type: 'no-leader', region: r.id, previous: before, atMs: at });
    }
  }

  /** This store's own Stats and Regions, built locally (same shape as a peer's answer). */
  private local(): PeerReply {
    const views = this.store.sortedRegions().map((r) => regionView(r, this.keys));
    return {
      stats: {
        storeId: this.store.nodeId,
        ops: this.store.service.metrics.snapshot().map((o) => ({ ...o, errors: { ...o.errors } })),
        regions: views.map((v) => ({ id: v.id, role: v.role, term: v.term, leader: v.leader, commitIndex: v.commit, appliedIndex: v.applied, keys: v.keys })),
      },
      regions: {
        storeId: this.store.nodeId,
        regions: views.map((v) => ({
          id: v.id,
          startKey: Buffer.from(v.startKey, 'utf8').toString('base64'),
          endKey: Buffer.from(v.endKey, 'utf8').toString('base64'),
          epoch: v.epoch,
          voters: [],
          learners: [],
          leader: v.leader,
        })),
      },
    };
  }

  private async ask(id: string): Promise<PeerReply | Error> {
    const timeoutMs = this.o.timeoutMs ?? 1500;
    const call = async <T>(tag: KvTag): Promise<T> => {
      const raw = await this.store.transport.request(id, '', encodeEnvelope(tag, {}), { timeoutMs });
      const { tag: status, header } = decodeEnvelope<T>(raw);
      if (status !== 0) throw new Error(`store ${id} refused: ${JSON.stringify(header)}`);
      return header;
    };
    try {
      const [stats, regions] = await Promise.all([call<StatsReply>(KvTag.Stats), call<RegionsReply>(KvTag.Regions)]);
      return { stats, regions };
    } catch (e) {
      return e instanceof Error ? e : new Error(String(e));
    }
  }
}
