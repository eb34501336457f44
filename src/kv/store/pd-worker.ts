// A store's side of the placement driver: every heartbeatMs it reports itself and its region
// replicas (with stats for the regions it leads) to the PD leader, learns the stores it has not
// met, carries out the steps PD hands to its region leaders (split, leader transfer, add a
// learner, promote, remove a peer) and destroys replicas PD says are no longer members.
//
// Steps are sent again on every heartbeat until PD sees them done, so each is idempotent here:
// a step already in flight for a region is not started twice.

import { statfs } from 'node:fs/promises';
import { parseAddress } from '../../config/address.js';
import { type KvErrorHeader, fromWireKey, KvErrorCode, toWireKey } from '../protocol.js';
import { decodeEnvelope, encodeEnvelope } from '../../raft/runtime/rpc-router.js';
import type { HeartbeatReply, HostedRegion, Instruction, StoreHeartbeat } from '../../pd/pd-protocol.js';
import { PdTag } from '../../pd/pd-protocol.js';
import { ProgressState } from '../../raft/core/types.js';
import type { KvStore } from './kv-store.js';

export interface PdEndpoint {
  /** The store id of a store hosting PD (the transport checks it at the handshake). */
  readonly id: string;
  /** "host:port". */
  readonly address: string;
}

export interface PdWorkerOptions {
  /** Stores hosting PD. */
  readonly endpoints: readonly PdEndpoint[];
  /** Default 1000. */
  readonly heartbeatMs?: number;
}

/** A learner within this many entries of the commit index counts as caught up. */
const CAUGHT_UP_LAG = 16;
/** Regions with fewer engine entries than this report an exact user key count (a short walk). */
const EXACT_COUNT_BELOW = 1000;
/** A live peer this many entries behind (or waiting for a snapshot) is pending: not moved meanwhile. */
const PENDING_LAG = 1000;

export class PdWorker {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private target = 0;
  private readonly inFlight = new Set<string>();
  /** Why the last heartbeat round got no reply ('' after a reply). */
  lastError = '';
  /** When the last "PD unreachable" warning was logged (ms): one every 10 s at most. */
  private warnedAtMs = 0;
  /** Each region's traffic counters at the last report, and when (for rates). */
  private lastTraffic = new Map<string, { reads: number; writes: number; readBytes: number; writeBytes: number }>();
  private lastReportMs = 0;

  constructor(
    private readonly store: KvStore,
    private readonly o: PdWorkerOptions,
  ) {
    for (const e of o.endpoints) this.learn(e.id, e.address);
  }

  /** Makes a store reachable by id (PD's store list, NOT_LEADER hints, the endpoints). */
  private learn(id: string, address: string | undefined): void {
    if (id === this.store.nodeId || !address || this.store.transport.addressOf(id) === address) return;
    const a = parseAddress(address);
    if (a) this.store.transport.setPeer(id, a.host, a.port);
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.o.heartbeatMs ?? 1000);
    this.timer.unref();
    void this.beat();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async report(): Promise<StoreHeartbeat> {
    const regions: HostedRegion[] = [];
    const now = Date.now();
    const elapsedSec = this.lastReportMs > 0 ? Math.max(0.001, (now - this.lastReportMs) / 1000) : 0;
    this.lastReportMs = now;
    const traffic = new Map<string, { reads: number; writes: number; readBytes: number; writeBytes: number }>();
    for (const r of this.store.sortedRegions()) {
      const m = r.meta;
      const brief = { id: m.id, startKey: toWireKey(m.startKey), endKey: toWireKey(m.endKey), epoch: m.epoch };
      const t = { ...r.traffic };
      traffic.set(r.id, t);
      const before = this.lastTraffic.get(r.id);
      // (A replica re-created since the last report starts its counters again: no negative rate.)
      const rate = (cur: number, prev: number | undefined): number => (before && elapsedSec > 0 ? Math.max(0, Math.round(((cur - (prev ?? 0)) / elapsedSec) * 10) / 10) : 0);
      const rates = { readsPerSec: rate(t.reads, before?.reads), writesPerSec: rate(t.writes, before?.writes), readBytesPerSec: rate(t.readBytes, before?.readBytes), writeBytesPerSec: rate(t.writeBytes, before?.writeBytes) };
      if (!r.node.isLeader) {
        regions.push({ region: brief, leading: false, ...rates });
        continue;
      }
      const st = r.node.status();
      const caughtUp = st.peers.filter((p) => p.learner && p.match + CAUGHT_UP_LAG >= st.commit).map((p) => p.id);
      const down = st.peers.filter((p) => p.id !== this.store.nodeId && !p.recentActive).map((p) => p.id);
      const pending = st.peers
        .filter((p) => p.id !== this.store.nodeId && p.recentActive && (p.state === ProgressState.Snapshot || p.match + PENDING_LAG < st.commit))
        .map((p) => p.id);
      const size = r.kv.engine.approximateSize();
      // The engine's entry count includes the state machine's own records (applied index, region
      // meta, ...): for a small region count the user keys exactly (cheap while small), or PD
      // would ask for splits the region refuses as too small.
      const keys = size.entries < EXACT_COUNT_BELOW ? r.kv.keyCount() : size.entries;
      // The membership that goes with the epoch (both from the applied region meta), as RegionInfo.
      const full = this.store.service.info(r);
      const info = { ...brief, voters: full.voters, learners: full.learners };
      regions.push({ region: info, leading: true, keys, bytes: size.bytes, caughtUpLearners: caughtUp, downPeers: down, pendingPeers: pending, ...rates });
    }
    this.lastTraffic = traffic;
    let capacityBytes = 0;
    let availableBytes = 0;
    try {
      const s = await statfs(this.store.dataDir);
      capacityBytes = s.blocks * s.bsize;
      availableBytes = s.bavail * s.bsize;
    } catch {
      // stats are best effort
    }
    return { storeId: this.store.nodeId, address: this.store.listenAddress ?? '', capacityBytes, availableBytes, regions };
  }

  private async beat(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      const hb = await this.report();
      const reply = await this.send(hb);
      if (reply) this.absorb(reply);
      else if (Date.now() - this.warnedAtMs > 10_000) {
        this.warnedAtMs = Date.now();
        this.store.logger.warn({ err: this.lastError }, 'no placement driver leader answered the heartbeat (retrying)');
      }
    } catch (e) {
      this.lastError = (e as Error).message;
    } finally {
      this.running = false;
    }
  }

  /** Sends to the PD leader, following NOT_LEADER hints, trying each endpoint once. */
  private async send(hb: StoreHeartbeat): Promise<HeartbeatReply | undefined> {
    const eps = this.o.endpoints;
    let hint: string | undefined;
    for (let attempt = 0; attempt < eps.length + 1; attempt++) {
      const to = hint ?? eps[this.target % eps.length]!.id;
      hint = undefined;
      try {
        const req = encodeEnvelope(PdTag.Heartbeat, hb);
        const local = to === this.store.nodeId ? this.store.pdServer : undefined;
        const raw = local ? await local.request(req) : await this.store.transport.request(to, '', req, { timeoutMs: 3000 });
        const res = decodeEnvelope<HeartbeatReply | KvErrorHeader>(raw);
        if (res.tag === 0) {
          this.lastError = '';
          const at = eps.findIndex((e) => e.id === to);
          if (at >= 0) this.target = at;
          return res.header as HeartbeatReply;
        }
        const err = res.header as KvErrorHeader;
        this.lastError = `${to}: ${err.code}: ${err.message}`;
        if (err.code === KvErrorCode.NOT_LEADER && err.leaderId) {
          this.learn(err.leaderId, err.leaderAddress);
          hint = err.leaderId;
        } else this.target++;
      } catch (e) {
        this.lastError = `${to}: ${(e as Error).message}`;
        this.target++;
      }
    }
    return undefined;
  }

  private absorb(reply: HeartbeatReply): void {
    for (const s of reply.stores) this.learn(s.id, s.address);
    for (const ins of reply.instructions) this.carryOut(ins);
    for (const id of reply.tombstones) {
      this.store.destroyRegion(id).catch((e: Error) => this.store.logger.warn({ region: id, err: e.message }, 'could not destroy a replica'));
    }
  }

  private carryOut(ins: Instruction): void {
    if (this.inFlight.has(ins.regionId)) return;
    const peer = this.store.regions.get(ins.regionId);
    if (!peer?.node.isLeader) return;
    const s = ins.step;
    const log = this.store.logger.child({ region: ins.regionId });
    this.inFlight.add(ins.regionId);
    const work = async (): Promise<void> => {
      const node = peer.node;
      const conf = node.status().confState;
      switch (s.kind) {
        case 'split':
          if (s.regionVersion !== undefined && peer.meta.epoch.version !== s.regionVersion) {
            log.info({ step: s, version: peer.meta.epoch.version }, 'split skipped: the region changed since PD decided it (PD sees that soon)');
            return;
          }
          await this.store.splitRegion(ins.regionId, s.splitKey === null ? null : fromWireKey(s.splitKey), s.newRegionId);
          return;
        case 'transferLeader':
          await node.transferLeadership(s.to, 5000);
          return;
        case 'addLearner':
          if (conf.learners.includes(s.store) || conf.voters.includes(s.store)) return;
          await this.store.createPeerOn(s.store, ins.regionId);
          await node.addLearner(s.store);
          return;
        case 'promote':
          if (conf.voters.includes(s.store)) return;
          await node.promote(s.store);
          return;
        case 'removePeer':
          if (!conf.voters.includes(s.store) && !conf.learners.includes(s.store)) return;
          if (s.keepVoters !== undefined && conf.voters.includes(s.store) && conf.voters.length - 1 < s.keepVoters) {
            throw new Error(`refused: removing ${s.store} would leave ${conf.voters.length - 1} voter(s), fewer than ${s.keepVoters} (PD's plan is stale)`);
          }
          await node.removeNode(s.store);
          return;
      }
    };
    work().then(
      () => log.info({ step: s }, 'PD step carried out'),
      (e: Error & { code?: string }) => log.warn({ step: s, err: e.message, code: e.code }, 'PD step failed (PD sends it again)'),
    ).finally(() => this.inFlight.delete(ins.regionId));
  }
}
