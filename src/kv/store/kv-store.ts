// KvStore: one store process of the raftkv KV store. It hosts many regions (one Raft group
// each) over one shared transport, creates the right half of a region when a split applies,
// and serves the KV protocol (kv-service.ts) next to the Raft client protocol (RaftServer:
// status and admin per region).

import type { Rand } from '../../raft/core/random.js';
import { type Logger, silentLogger } from '../../log/logger.js';
import type { NodeStorage } from '../../raft/runtime/node-storage.js';
import { RpcRouter } from '../../raft/runtime/rpc-router.js';
import { RaftServer, type RaftServerOptions } from '../../server/raft-server.js';
import type { DiskStorage } from '../../storage/disk-storage.js';
import type { Transport } from '../../transport/transport.js';
import { DEFAULT_KV_LIMITS, type KvLimits, KvStateMachine, type NodeCallback } from '../kv-state-machine.js';
import { KvTag } from '../protocol.js';
import { type RegionMeta, describeRegion } from '../region.js';
import { KvService } from './kv-service.js';
import { PdServer } from '../../pd/pd-server.js';
import type { PdLeaderOptions } from '../../pd/pd-leader.js';
import { PD_GROUP, PdTag } from '../../pd/pd-protocol.js';
import { decodeEnvelope, encodeEnvelope } from '../../raft/runtime/rpc-router.js';
import { rmSync } from 'node:fs';
import { KvErrorCode } from '../protocol.js';
import { type PdEndpoint, PdWorker } from './pd-worker.js';
import { type EngineKind, RegionPeer, type RegionPeerContext, type RegionRaftOptions } from './region-peer.js';

export interface StaticRegion {
  readonly id: string;
  readonly startKey: Uint8Array;
  readonly endKey: Uint8Array;
}

export interface KvStoreOptions {
  readonly nodeId: string;
  /** The transport, not yet listening; the store sets its peers and starts it. */
  readonly transport: Transport;
  readonly dataDir: string;
  /** Default 'lmdb'. */
  readonly engine?: EngineKind;
  /** Every store of the cluster (this one included): the voters of the static regions. */
  readonly peers: ReadonlyArray<{ readonly id: string; readonly host: string; readonly port: number }>;
  /** Regions created at first start. Default: one region over the whole key space, id '1'. */
  readonly regions?: readonly StaticRegion[];
  readonly raft?: Partial<RegionRaftOptions>;
  /** Serve linearizable reads from the leader lease (needs checkQuorum). Default false. */
  readonly leaseReads?: boolean;
  readonly server?: Omit<RaftServerOptions, 'dropReply'> & { retryCacheExpiryMs?: number };
  readonly limits?: Partial<KvLimits>;
  /** rangeSplit refuses regions with fewer keys (TOO_SMALL_TO_SPLIT). Default 2. */
  readonly splitMinKeys?: number;
  /**
   * nodeExecute callbacks (RheaKV's execute): run on every replica of a region through its log,
   * so they must be deterministic and registered alike on every store.
   */
  readonly callbacks?: Readonly<Record<string, NodeCallback>>;
  readonly wrapStorage?: (s: DiskStorage) => NodeStorage;
  readonly random?: Rand;
  /** Structured logger (default: silent). Lines about a region carry `region`. */
  readonly logger?: Logger;
  /**
   * The placement driver. `voters`: the stores hosting the PD group (this store hosts a replica
   * when it is one of them). `endpoints`: the PD stores this store reports to, by id and address
   * (default: the voters, with their addresses from `peers`). Without `pd` the cluster is static: regions as
   * configured, split and moved only by hand.
   */
  readonly pd?: PdLeaderOptions & {
    readonly voters?: readonly string[];
    readonly endpoints?: readonly PdEndpoint[];
    /** Store heartbeat period (ms). Default 1000. */
    readonly heartbeatMs?: number;
  };
}

export const DEFAULT_REGION_RAFT: RegionRaftOptions = {
  tickMs: 100,
  electionTimeoutMs: 1000,
  heartbeatIntervalMs: 100,
  snapshotEveryEntries: 100_000,
  snapshotMarginEntries: 1000,
  maxPendingProposals: 10_000,
  maxEntryBytes: 4 * 1024 * 1024,
  preVote: true,
  checkQuorum: true,
};

/** What happens on a store, for logs, metrics and the dashboard. */
export type StoreEvent =
  | { readonly type: 'role'; readonly regionId: string; readonly role: string; readonly leader: string; readonly term: number; readonly atMs: number }
  | { readonly type: 'split'; readonly left: string; readonly right: string; readonly splitKey: string; readonly atMs: number }
  | { readonly type: 'region-opened'; readonly regionId: string; readonly atMs: number }
  | { readonly type: 'region-destroyed'; readonly regionId: string; readonly atMs: number }
  | { readonly type: 'snapshot'; readonly regionId: string; readonly index: number; readonly bytes: number; readonly durationMs: number; readonly atMs: number }
  | { readonly type: 'snapshot-installed'; readonly regionId: string; readonly index: number; readonly atMs: number };

export class KvStore {
  /** Listeners of StoreEvent (see on()). */
  private readonly listeners = new Set<(e: StoreEvent) => void>();
  /** The last events, newest last (bounded): for status pages. */
  readonly recentEvents: StoreEvent[] = [];
  readonly startedAtMs = Date.now();

  readonly nodeId: string;
  /** invariant: every region here has a running node registered with `server` */
  readonly regions = new Map<string, RegionPeer>();
  readonly server: RaftServer;
  readonly service: KvService;
  private readonly ctx: RegionPeerContext;
  /** Regions being created from splits (the same child may be asked for twice on replay). */
  private readonly creating = new Map<string, Promise<void>>();
  /** Regions being opened or open, by id: each is opened exactly once. */
  private readonly opening = new Map<string, Promise<RegionPeer>>();
  private stopped = false;
  /** "host:port" this store listens on (once started). */
  listenAddress: string | undefined;
  /** This store's replica of the placement driver, when it hosts one. */
  pdServer: PdServer | undefined;
  /** The heartbeat to the placement driver, when there is one. */
  pdWorker: PdWorker | undefined;

  private constructor(
    private readonly o: KvStoreOptions,
    readonly transport: Transport,
  ) {
    this.nodeId = o.nodeId;
    this.server = new RaftServer(transport, { ...(o.server ?? {}) });
    const limits: KvLimits = { ...DEFAULT_KV_LIMITS, ...(o.limits ?? {}) };
    this.ctx = {
      nodeId: o.nodeId,
      dataDir: o.dataDir,
      engine: o.engine ?? 'lmdb',
      transport,
      raft: { ...DEFAULT_REGION_RAFT, ...(o.raft ?? {}) },
      limits,
      retryCacheExpiryMs: o.server?.retryCacheExpiryMs ?? 60_000,
      ...(o.wrapStorage ? { wrapStorage: o.wrapStorage } : {}),
      ...(o.random ? { random: o.random } : {}),
      onRepair: (m) => this.logger.warn(`storage repaired: ${m}`),
      onSplit: (child, image, parentId) => this.createSplitRegion(child, image, parentId),
      onSplitsLearned: (ids) => this.ensureRegions(ids),
      callbacks: new Map(Object.entries(o.callbacks ?? {})),
    };
    this.service = new KvService(this, { leaseReads: o.leaseReads ?? false, splitMinKeys: o.splitMinKeys ?? 2 });
    RpcRouter.of(transport).register([KvTag.Command, KvTag.Regions, KvTag.Stats], (groupId, payload) => this.service.handle(groupId, payload));
    RpcRouter.of(transport).register([PdTag.CreatePeer], (groupId) => this.createPeerHere(groupId));
  }

  get dataDir(): string {
    return this.o.dataDir;
  }

  /** Opens every region this store had, creates the configured ones it lacks, then listens. */
  static async start(o: KvStoreOptions): Promise<KvStore> {
    const t = o.transport;
    for (const p of o.peers) if (p.id !== o.nodeId) t.setPeer(p.id, p.host, p.port);
    const store = new KvStore(o, t);
    const voters = o.peers.map((p) => p.id);
    const known = new Map(RegionPeer.discover(o.dataDir).map((m) => [m.id, m]));
    const configured = o.regions ?? [{ id: '1', startKey: new Uint8Array(0), endKey: new Uint8Array(0) }];
    // Static regions exist from the first start; later starts find them (maybe split since).
    // Each begins from an image holding its meta (like a split's new region), so a replica
    // added later and caught up from the log starts from the same state as the first ones.
    if (known.size === 0) {
      for (const r of configured) {
        const meta: RegionMeta = { id: r.id, startKey: r.startKey, endKey: r.endKey, epoch: { confVer: 1, version: 1 }, voters, learners: [] };
        await RegionPeer.createFromImage(store.ctx, meta, KvStateMachine.initialImage(meta));
        known.set(r.id, meta);
      }
    }
    for (const meta of known.values()) await store.openRegion(meta);
    const pd = o.pd;
    const pdVoters = pd?.voters ?? (pd ? voters : []);
    if (pd && pdVoters.includes(o.nodeId)) {
      store.pdServer = await PdServer.start({
        ...pd,
        nodeId: o.nodeId,
        dataDir: o.dataDir,
        transport: t,
        voters: pdVoters,
        ...(o.raft?.tickMs !== undefined ? { tickMs: o.raft.tickMs } : {}),
        ...(o.raft?.electionTimeoutMs !== undefined ? { electionTimeoutMs: o.raft.electionTimeoutMs } : {}),
        ...(o.raft?.heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs: o.raft.heartbeatIntervalMs } : {}),
        ...(o.logger ? { logger: o.logger } : {}),
      });
    }
    const addr = await t.listen();
    store.listenAddress = `${addr.host}:${addr.port}`;
    if (pd) {
      const endpoints = pd.endpoints ?? o.peers.filter((p) => pdVoters.includes(p.id)).map((p) => ({ id: p.id, address: `${p.host}:${p.port}` }));
      store.pdWorker = new PdWorker(store, { endpoints, ...(pd.heartbeatMs !== undefined ? { heartbeatMs: pd.heartbeatMs } : {}) });
      store.pdWorker.start();
    }
    store.logger.info({ address: store.listenAddress, regions: store.regions.size }, `serving ${[...store.regions.values()].map((r) => describeRegion(r.meta)).join(', ')}`);
    return store;
  }

  /** Subscribes to store events; returns the unsubscribe function. */
  on(listener: (e: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: StoreEvent): void {
    if (e.type === 'role') this.logger.info({ region: e.regionId, role: e.role, leader: e.leader, term: e.term }, `region ${e.regionId}: ${e.role}${e.leader ? `, leader ${e.leader}` : ''} in term ${e.term}`);
    else if (e.type === 'snapshot') this.logger.info({ region: e.regionId, index: e.index, bytes: e.bytes, durationMs: Math.round(e.durationMs) }, 'snapshot taken');
    else if (e.type === 'snapshot-installed') this.logger.info({ region: e.regionId, index: e.index }, 'snapshot installed from the leader');
    this.recentEvents.push(e);
    if (this.recentEvents.length > 200) this.recentEvents.splice(0, this.recentEvents.length - 200);
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // a listener's failure is its own
      }
    }
  }

  /** Opens a region once (a replayed split and start() may both ask for it). */
  private openRegion(meta: RegionMeta, bootstrapVoters?: readonly string[]): Promise<RegionPeer> {
    let p = this.opening.get(meta.id);
    if (!p) {
      p = RegionPeer.open(this.ctx, meta, bootstrapVoters).then((peer) => {
        this.regions.set(peer.id, peer);
        this.server.addGroup(peer.node, peer.sm);
        peer.node.on({
          onRoleChange: (role, leader, term) => this.emit({ type: 'role', regionId: peer.id, role: String(role), leader, term, atMs: Date.now() }),
          onSnapshotTaken: (index, bytes, durationMs) => this.emit({ type: 'snapshot', regionId: peer.id, index, bytes, durationMs, atMs: Date.now() }),
          onSnapshotInstalled: (index) => this.emit({ type: 'snapshot-installed', regionId: peer.id, index, atMs: Date.now() }),
        });
        this.emit({ type: 'region-opened', regionId: peer.id, atMs: Date.now() });
        return peer;
      });
      this.opening.set(meta.id, p);
    }
    return p;
  }

  /**
   * A split applied on a region of this store: create the right half durably (idempotent: a
   * replay after a crash asks again) and start its node.
   */
  private createSplitRegion(child: RegionMeta, image: Uint8Array, parentId: string): Promise<void> {
    if (this.regions.has(child.id)) return Promise.resolve();
    let p = this.creating.get(child.id);
    if (!p) {
      p = (async () => {
        const existed = RegionPeer.exists(this.o.dataDir, child.id);
        await RegionPeer.createFromImage(this.ctx, child, image);
        if (this.stopped) return;
        const peer = await this.openRegion(child);
        if (existed) return;
        this.logger.info({ region: parentId, newRegion: child.id }, `split: created ${describeRegion(child)}`);
        this.emit({ type: 'split', left: parentId, right: child.id, splitKey: Buffer.from(child.startKey).toString('utf8'), atMs: Date.now() });
        // The parent's leader campaigns for the new region at once: the other replicas apply the
        // same split about now, so the region gets a leader without waiting out a timeout.
        if (this.regions.get(parentId)?.node.isLeader) peer.node.campaign();
      })().finally(() => this.creating.delete(child.id));
      this.creating.set(child.id, p);
    }
    return p;
  }

  /** Regions split off a region whose snapshot this store installed: host any it lacks, empty. */
  private ensureRegions(ids: readonly string[]): void {
    for (const id of ids) {
      if (this.stopped || this.opening.has(id) || this.creating.has(id)) continue;
      const meta = RegionPeer.exists(this.o.dataDir, id) ? undefined : RegionPeer.createEmpty(this.o.dataDir, id);
      if (!meta) continue; // on disk already: opened by start() or by the split that made it
      this.openRegion(meta).then(
        () => this.logger.info({ region: id }, 'learned of this region from a snapshot: waiting for its leader to send one'),
        (e: Error) => this.logger.error({ region: id, err: e.message }, 'cannot open region'),
      );
    }
  }

  /** A split decided by the placement driver (on the region's leader). */
  async splitRegion(regionId: string, splitKey: Uint8Array | null, newRegionId?: string): Promise<void> {
    const peer = this.regions.get(regionId);
    if (!peer) throw new Error(`store ${this.nodeId} hosts no region '${regionId}'`);
    if (newRegionId !== undefined && (this.regions.has(newRegionId) || this.creating.has(newRegionId) || RegionPeer.exists(this.o.dataDir, newRegionId))) {
      throw new Error(`refused: region id '${newRegionId}' is in use on store ${this.nodeId}`);
    }
    await this.service.proposeSplit(peer, splitKey, newRegionId);
  }

  /** Asks another store to open an empty replica of a region (before adding it as a learner). */
  async createPeerOn(storeId: string, regionId: string): Promise<void> {
    if (storeId === this.nodeId) {
      await this.createPeerHere(regionId);
      return;
    }
    const raw = await this.transport.request(storeId, regionId, encodeEnvelope(PdTag.CreatePeer, {}), { timeoutMs: 5000 });
    const res = decodeEnvelope<{ code?: string; message?: string }>(raw);
    if (res.tag !== 0) throw new Error(`store ${storeId} cannot host region ${regionId}: ${res.header.code}: ${res.header.message}`);
  }

  /** Opens an empty replica of a region here (idempotent): it waits for its leader's snapshot. */
  private async createPeerHere(regionId: string): Promise<Uint8Array> {
    if (this.stopped) return encodeEnvelope(1, { code: KvErrorCode.SHUTTING_DOWN, message: `store ${this.nodeId} is stopping` });
    if (regionId === '' || regionId === PD_GROUP || regionId.includes('/')) return encodeEnvelope(1, { code: KvErrorCode.INVALID_PARAMETER, message: `bad region id '${regionId}'` });
    if (!this.opening.has(regionId) && !this.creating.has(regionId)) {
      const meta = RegionPeer.readMeta(this.o.dataDir, regionId) ?? RegionPeer.createEmpty(this.o.dataDir, regionId);
      await this.openRegion(meta);
      this.logger.info({ region: regionId }, 'replica created for the placement driver: waiting for the leader to send a snapshot');
    } else await this.opening.get(regionId);
    return encodeEnvelope(0, {});
  }

  /**
   * Destroys this store's replica of a region it is no longer a member of (the placement driver
   * says so): stops its node, removes its directory.
   */
  async destroyRegion(regionId: string): Promise<void> {
    const peer = this.regions.get(regionId);
    if (!peer || this.stopped || peer.node.isLeader) return;
    this.regions.delete(regionId);
    this.opening.delete(regionId);
    this.server.removeGroup(regionId);
    await peer.stop();
    rmSync(RegionPeer.dirOf(this.o.dataDir, regionId), { recursive: true, force: true });
    this.logger.info({ region: regionId }, 'replica destroyed: this store is no longer a member of the region');
    this.emit({ type: 'region-destroyed', regionId, atMs: Date.now() });
  }

  /** Regions sorted by start key. */
  sortedRegions(): RegionPeer[] {
    return [...this.regions.values()].sort((a, b) => Buffer.compare(Buffer.from(a.meta.startKey), Buffer.from(b.meta.startKey)));
  }

  /** The store's logger (lines about one region: `logger.child({ region })`). */
  get logger(): Logger {
    return this.o.logger ?? silentLogger;
  }

  /**
   * Graceful shutdown: hand every region this store leads to another voter (bounded wait), stop
   * accepting requests (SHUTTING_DOWN, clients retry elsewhere), let the requests in flight
   * finish, then stop the regions (their storage is flushed and closed) and the transport.
   */
  async shutdown(o: { timeoutMs?: number } = {}): Promise<void> {
    if (this.stopped) return;
    const deadline = Date.now() + (o.timeoutMs ?? 10_000);
    const led = [...this.regions.values()].filter((r) => r.node.isLeader);
    await Promise.all(
      led.map(async (r) => {
        const voters = r.node.status().confState.voters.filter((v) => v !== this.nodeId);
        for (const to of voters) {
          const left = deadline - Date.now();
          if (left <= 0) return;
          try {
            await r.node.transferLeadership(to, Math.min(left, 3000));
            this.logger.info({ region: r.id, to }, 'shutdown: leadership handed over');
            return;
          } catch (e) {
            this.logger.warn({ region: r.id, to, err: (e as Error).message }, 'shutdown: leadership transfer failed; trying another voter');
          }
        }
      }),
    );
    this.service.draining = true;
    await Promise.race([this.service.idle(), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    await this.stop();
    this.logger.info('shutdown complete');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Requests arriving while the regions close are told to go elsewhere.
    this.service.draining = true;
    this.pdWorker?.stop();
    await Promise.allSettled([...this.creating.values(), ...this.opening.values()]);
    await this.pdServer?.stop();
    for (const r of this.regions.values()) {
      this.server.removeGroup(r.id);
      await r.stop();
    }
    await this.transport.close();
  }
}
