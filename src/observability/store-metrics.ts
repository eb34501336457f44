// Prometheus metrics of one KV store, on a registry of its own (never prom-client's global one:
// tests run several stores in one process, and each must report only itself).
//
// Where each value comes from:
//   - requests and errors: read from the store's OpMetrics at scrape time (exact since start);
//   - request latency histogram: every request as it is counted (op-observer.ts), from attach();
//   - per-region Raft state and replication lag: RaftNode.status() at scrape time;
//   - leader changes, snapshots, splits: store events (the ones before attach() included);
//   - fsync latency: the storage wrapper (wrapStorage), which exists before the store does.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { KvErrorCode } from '../kv/protocol.js';
import type { KvStore, StoreEvent } from '../kv/store/kv-store.js';
import { observeOps } from './op-observer.js';
import { KeyCounts, type RegionView, regionView } from './region-status.js';
import { timedStorage } from './timed-storage.js';

export interface StoreMetricsOptions {
  /** Node process metrics (CPU, memory, event loop lag, GC) as raftkv_process_* / raftkv_nodejs_*. Default true. */
  readonly processMetrics?: boolean;
}

/** Seconds: from a fast local fsync (~50 µs) to a stalled disk or a slow snapshot. */
const FSYNC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const REQUEST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SNAPSHOT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export class StoreMetrics {
  readonly registry = new Registry();
  /** Durations of the Raft log's sync() (fsync), in seconds. */
  readonly fsyncSeconds: Histogram<string>;
  private readonly requestSeconds: Histogram<'op'>;
  private readonly leaderChanges: Counter<'region'>;
  private readonly snapshots: Counter<'region'>;
  private readonly snapshotSeconds: Histogram<'region'>;
  private readonly snapshotsInstalled: Counter<'region'>;
  private readonly splits: Counter<string>;
  private readonly keyCounts = new KeyCounts();
  private store: KvStore | undefined;
  private readonly detachers: Array<() => void> = [];
  /** The last leader and term seen per region: a leader change is a new (leader, term). */
  private readonly leaders = new Map<string, { leader: string; term: number }>();
  private views: { at: number; list: RegionView[] } | undefined;

  constructor(readonly nodeId: string, o: StoreMetricsOptions = {}) {
    const registers = [this.registry];
    // Every series names its store, so series of several stores can be told apart when merged.
    this.registry.setDefaultLabels({ store: nodeId });
    if (o.processMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'raftkv_' });
    const self = this;

    this.fsyncSeconds = new Histogram({ name: 'raftkv_fsync_duration_seconds', help: 'Duration of Raft log syncs (fsync), seconds', buckets: FSYNC_BUCKETS, registers });
    this.requestSeconds = new Histogram({ name: 'raftkv_request_duration_seconds', help: 'KV request latency at this store, seconds, by op', labelNames: ['op'], buckets: REQUEST_BUCKETS, registers });
    this.leaderChanges = new Counter({ name: 'raftkv_leader_changes_total', help: 'New (leader, term) pairs this store learned of, by region', labelNames: ['region'], registers });
    this.snapshots = new Counter({ name: 'raftkv_snapshots_total', help: 'Snapshots taken locally, by region', labelNames: ['region'], registers });
    this.snapshotSeconds = new Histogram({ name: 'raftkv_snapshot_duration_seconds', help: 'Time to take and save a local snapshot, seconds', labelNames: ['region'], buckets: SNAPSHOT_BUCKETS, registers });
    this.snapshotsInstalled = new Counter({ name: 'raftkv_snapshots_installed_total', help: 'Snapshots received from a leader and installed, by region', labelNames: ['region'], registers });
    this.splits = new Counter({ name: 'raftkv_splits_total', help: 'Region splits applied on this store (new regions created)', registers });

    // Request counters mirror OpMetrics at scrape time: reset and set to its totals, so they are
    // exact and never double count, whenever the scrape happens.
    new Counter({
      name: 'raftkv_requests_total',
      help: 'KV requests handled, by op and result code (OK or the error code)',
      labelNames: ['op', 'code'],
      registers,
      collect() {
        this.reset();
        for (const s of self.opStats()) {
          const errors = Object.values(s.errors).reduce((a, b) => a + b, 0);
          if (s.calls - errors > 0) this.inc({ op: s.op, code: 'OK' }, s.calls - errors);
          for (const [code, n] of Object.entries(s.errors)) this.inc({ op: s.op, code }, n);
        }
      },
    });
    new Counter({
      name: 'raftkv_request_errors_total',
      help: 'KV requests answered with an error, by op and error code',
      labelNames: ['op', 'code'],
      registers,
      collect() {
        this.reset();
        for (const s of self.opStats()) for (const [code, n] of Object.entries(s.errors)) this.inc({ op: s.op, code }, n);
      },
    });
    new Counter({
      name: 'raftkv_busy_rejections_total',
      help: 'Requests refused because the store was overloaded (SERVER_BUSY), by op',
      labelNames: ['op'],
      registers,
      collect() {
        this.reset();
        for (const s of self.opStats()) {
          const n = s.errors[KvErrorCode.SERVER_BUSY] ?? 0;
          if (n > 0) this.inc({ op: s.op }, n);
        }
      },
    });

    new Gauge({
      name: 'raftkv_regions',
      help: 'Regions hosted by this store',
      registers,
      collect() {
        this.set(self.store?.regions.size ?? 0);
      },
    });
    const regionGauge = (name: string, help: string, pick: (r: RegionView) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['region'],
        registers,
        collect() {
          this.reset(); // regions that left this store must disappear
          for (const r of self.regionViews()) this.set({ region: r.id }, pick(r));
        },
      });
    };
    regionGauge('raftkv_region_term', 'Current Raft term', (r) => r.term);
    regionGauge('raftkv_region_is_leader', '1 when this store leads the region, else 0', (r) => (r.role === 'leader' ? 1 : 0));
    regionGauge('raftkv_region_commit_index', 'Highest log index known committed', (r) => r.commit);
    regionGauge('raftkv_region_applied_index', 'Highest log index applied to the state machine', (r) => r.applied);
    regionGauge('raftkv_region_last_log_index', 'Last index in the local Raft log', (r) => r.lastIndex);
    regionGauge('raftkv_region_snapshot_index', 'Index of the latest local snapshot', (r) => r.snapshotIndex);
    regionGauge('raftkv_region_pending_proposals', 'Proposals waiting to commit and apply (apply queue depth)', (r) => r.pendingProposals);
    regionGauge('raftkv_region_keys', 'Keys stored in the region (refreshed at most every 2 s)', (r) => r.keys);
    regionGauge('raftkv_region_log_entries', 'Log entries after the latest snapshot (what a restart replays; the log also keeps snapshotMarginEntries before it)', (r) => Math.max(0, r.lastIndex - r.snapshotIndex));
    new Gauge({
      name: 'raftkv_replication_lag_entries',
      help: "Entries a replica's log is behind the leader's (leader lastIndex - match); only reported by the leader",
      labelNames: ['region', 'peer'],
      registers,
      collect() {
        this.reset();
        for (const r of self.regionViews()) for (const p of r.peers) this.set({ region: r.id, peer: p.id }, p.lag);
      },
    });
  }

  /**
   * KvStoreOptions.wrapStorage: times every fsync of every region's log. Compose with other
   * wrappers as `(s) => metrics.wrapStorage(other(s))`.
   */
  readonly wrapStorage = <S extends { sync(): Promise<void> }>(s: S): S => timedStorage(s, this.fsyncSeconds);

  /** Starts reporting `store` (once; the store's events so far are counted too). */
  attach(store: KvStore): this {
    if (this.store) throw new Error(`metrics of store ${this.nodeId} are attached already`);
    this.store = store;
    for (const e of store.recentEvents) this.onEvent(e);
    this.detachers.push(store.on((e) => this.onEvent(e)));
    this.detachers.push(observeOps(store.service.metrics, (op, _code, ms) => this.requestSeconds.observe({ op }, ms / 1000)));
    return this;
  }

  /** Stops observing the store (its event listener and request hook are removed). */
  detach(): void {
    for (const d of this.detachers.splice(0)) d();
    this.store = undefined;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private onEvent(e: StoreEvent): void {
    switch (e.type) {
      case 'role': {
        const last = this.leaders.get(e.regionId);
        if (e.leader !== '' && (last?.leader !== e.leader || last.term !== e.term)) {
          this.leaderChanges.inc({ region: e.regionId });
          this.leaders.set(e.regionId, { leader: e.leader, term: e.term });
        }
        break;
      }
      case 'snapshot':
        this.snapshots.inc({ region: e.regionId });
        this.snapshotSeconds.observe({ region: e.regionId }, e.durationMs / 1000);
        break;
      case 'snapshot-installed':
        this.snapshotsInstalled.inc({ region: e.regionId });
        break;
      case 'split':
        this.splits.inc();
        break;
      case 'region-opened':
        break;
    }
  }

  private opStats(): ReturnType<KvStore['service']['metrics']['snapshot']> {
    return this.store?.service.metrics.snapshot() ?? [];
  }

  /** Region views, shared by the gauges of one scrape (they are collected one after another). */
  private regionViews(): RegionView[] {
    const store = this.store;
    if (!store) return [];
    const now = Date.now();
    if (!this.views || now - this.views.at > 50) this.views = { at: now, list: store.sortedRegions().map((r) => regionView(r, this.keyCounts)) };
    return this.views.list;
  }
}
