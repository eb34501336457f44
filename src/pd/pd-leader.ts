// The placement driver's leader at work: it takes store heartbeats, keeps the stats they carry
// (in memory: a new PD leader rebuilds them from the next heartbeats), records layout changes in
// the replicated map, runs the schedulers on a timer and hands each operator's current step to
// the region's leader in the reply to that store's next heartbeat. Every decision is logged with
// its reason.

import { type Logger, silentLogger } from '../log/logger.js';
import { type RegionInfo, fromWireKey, toWireKey } from '../kv/protocol.js';
import { type RegionMeta, toRegionInfo } from '../kv/region.js';
import type { RaftNode } from '../raft/runtime/raft-node.js';
import { type ClusterView, DEFAULT_SCHEDULER_CONFIG, type Operator, type OperatorStep, type RegionView, type SchedulerConfig, type StoreView } from './cluster-view.js';
import type { ClusterReply, HeartbeatReply, HostedRegion, Instruction, PdAdmin, StoreHeartbeat } from './pd-protocol.js';
import { type PdCommand, type PdStateMachine, encodePdCommand, newerEpoch, overlaps, regionCommand } from './pd-state-machine.js';
import { advanceOperator, currentStep, isStoreDown, runSchedulers } from './schedulers.js';

export interface PdLeaderOptions {
  /** Scheduler thresholds (switches live in the replicated map). */
  readonly scheduler?: Partial<Omit<SchedulerConfig, 'enabled'>>;
  /** How often the schedulers run (ms). Default 1000. */
  readonly scheduleIntervalMs?: number;
  /** After becoming leader, wait this long for every store's heartbeat before scheduling (ms). Default 3000. */
  readonly warmupMs?: number;
  /** An operator not finished in this time is dropped (ms). Default 60_000. */
  readonly operatorTimeoutMs?: number;
  readonly logger?: Logger;
  readonly now?: () => number;
}

interface StoreStats {
  lastHeartbeatMs: number;
  regionCount: number;
  leaderCount: number;
  capacityBytes: number;
  availableBytes: number;
  readsPerSec: number;
  writesPerSec: number;
}

interface RegionStats {
  leader: string;
  keys: number;
  bytes: number;
  caughtUpLearners: readonly string[];
  downPeers: readonly string[];
  pendingPeers: readonly string[];
  readsPerSec: number;
  writesPerSec: number;
  readBytesPerSec: number;
  writeBytesPerSec: number;
  lastHeartbeatMs: number;
}

export class PdError extends Error {
  constructor(
    readonly code: 'INVALID_PARAMETER' | 'SERVER_BUSY' | 'NO_REGION_FOUND',
    message: string,
  ) {
    super(message);
    this.name = 'PdError';
  }
}

export class PdLeader {
  private readonly storeStats = new Map<string, StoreStats>();
  private readonly regionStats = new Map<string, RegionStats>();
  /** invariant: at most one operator per region */
  readonly operators = new Map<string, Operator>();
  private timer: NodeJS.Timeout | undefined;
  /** "store/region" -> when PD first found that replica outside its region (ms). */
  private readonly notMemberSince = new Map<string, number>();
  /** "store/region" -> when PD first found an empty replica outside its region with no operator on it (ms). */
  private readonly emptyOrphanSince = new Map<string, number>();
  /** "store/region" -> when PD first found a member store not reporting its replica (ms). */
  private readonly missingSince = new Map<string, number>();
  /** The region id PD allocated for a split operator's new region (sent again with every resend). */
  private readonly splitIds = new WeakMap<Operator, string>();
  /** When this node last became PD leader (ms); 0 when it is not the leader. */
  private leaderSinceMs = 0;
  private readonly cfg: Omit<SchedulerConfig, 'enabled'>;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(
    private readonly node: RaftNode<Uint8Array>,
    private readonly sm: PdStateMachine,
    private readonly o: PdLeaderOptions = {},
  ) {
    this.cfg = { ...DEFAULT_SCHEDULER_CONFIG, ...(o.scheduler ?? {}) };
    this.log = o.logger ?? silentLogger;
    this.now = o.now ?? Date.now;
  }

  /** Called when this node becomes PD leader. */
  start(): void {
    this.leaderSinceMs = this.now();
    this.storeStats.clear();
    this.regionStats.clear();
    this.operators.clear();
    this.notMemberSince.clear();
    this.emptyOrphanSince.clear();
    this.missingSince.clear();
    this.timer ??= setInterval(() => this.scheduleRound(), this.o.scheduleIntervalMs ?? 1000);
    this.timer.unref();
    this.log.info('placement driver: this node leads; scheduling after the warm-up');
  }

  /** Called when this node stops leading PD. */
  stop(): void {
    this.leaderSinceMs = 0;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.operators.clear();
  }

  private async propose(c: PdCommand): Promise<{ ok: boolean; changed?: boolean; error?: string; id?: string }> {
    const r = await this.node.apply({ data: encodePdCommand(c) });
    return JSON.parse(new TextDecoder().decode(r.result)) as { ok: boolean; changed?: boolean; error?: string; id?: string };
  }

  /** A fresh store or region id from the replicated counter (never handed out twice). */
  async allocId(kind: 'store' | 'region'): Promise<string> {
    // Stores configured by hand register with their first heartbeat; before the warm-up is over
    // PD may not have heard of all of them, and must not hand out one of their ids.
    if (kind === 'store' && (this.leaderSinceMs === 0 || this.now() - this.leaderSinceMs < (this.o.warmupMs ?? 3000))) {
      throw new PdError('SERVER_BUSY', 'the placement driver leader is warming up (stores are still registering); retry shortly');
    }
    const r = await this.propose({ type: 'allocId', kind });
    if (!r.ok || !r.id) throw new PdError('SERVER_BUSY', `no id allocated: ${r.error ?? 'refused'}`);
    this.log.info({ kind, id: r.id }, `allocated ${kind} id ${r.id}`);
    return r.id;
  }

  async heartbeat(hb: StoreHeartbeat): Promise<HeartbeatReply> {
    const now = this.now();
    const known = this.sm.stores.get(hb.storeId);
    if (!known || known.address !== hb.address) {
      await this.propose({ type: 'putStore', id: hb.storeId, address: hb.address });
      this.log.info({ store: hb.storeId, address: hb.address }, known ? 'store moved to a new address' : 'store registered');
    }
    this.storeStats.set(hb.storeId, {
      lastHeartbeatMs: now,
      regionCount: hb.regions.length,
      leaderCount: hb.regions.filter((r) => r.leading).length,
      capacityBytes: hb.capacityBytes,
      availableBytes: hb.availableBytes,
      readsPerSec: sum(hb.regions, (r) => r.readsPerSec),
      writesPerSec: sum(hb.regions, (r) => r.writesPerSec),
    });
    const changes: Promise<unknown>[] = [];
    const instructions: Instruction[] = [];
    for (const h of hb.regions) {
      if (!h.leading) continue;
      const meta = metaOf(h);
      if (meta.voters.length === 0 || [...meta.voters, ...meta.learners].some((p) => typeof p !== 'string' || p === '')) {
        throw new PdError('INVALID_PARAMETER', `store ${hb.storeId} leads region ${h.region.id} but reports no voters or a malformed peer`);
      }
      const cur = this.sm.regions.get(meta.id);
      if (!cur || newerEpoch(meta, cur)) changes.push(this.propose(regionCommand(meta)));
      this.regionStats.set(meta.id, {
        leader: hb.storeId,
        keys: h.keys ?? 0,
        bytes: h.bytes ?? 0,
        caughtUpLearners: h.caughtUpLearners ?? [],
        downPeers: h.downPeers ?? [],
        pendingPeers: h.pendingPeers ?? [],
        readsPerSec: h.readsPerSec ?? 0,
        writesPerSec: h.writesPerSec ?? 0,
        readBytesPerSec: h.readBytesPerSec ?? 0,
        writeBytesPerSec: h.writeBytesPerSec ?? 0,
        lastHeartbeatMs: now,
      });
      const op = this.operators.get(meta.id);
      if (!op) continue;
      const state = advanceOperator(op, this.regionView(meta, this.regionStats.get(meta.id)!));
      if (state !== 'running') {
        this.operators.delete(meta.id);
        this.log.info({ region: meta.id, kind: op.kind, outcome: state }, `operator ${state}: ${op.reason}`);
        continue;
      }
      const step = currentStep(op);
      // A learner is promoted only once it has caught up (no window with a lagging voter).
      if (step?.kind === 'promote' && !(h.caughtUpLearners ?? []).includes(step.store)) continue;
      // A scheduler's removal never leaves fewer voters than wanted, even if the plan it was part
      // of is stale (the region leader checks against its own membership); an admin's may.
      if (step?.kind === 'removePeer' && op.kind !== 'admin' && op.kind !== 'replace-lost') instructions.push({ regionId: meta.id, step: { ...step, keepVoters: this.cfg.replicas } });
      else if (step?.kind === 'split') {
        // The new region's id comes from PD's counter, allocated once per operator.
        let newRegionId = this.splitIds.get(op);
        if (newRegionId === undefined) {
          try {
            newRegionId = await this.allocId('region');
          } catch (e) {
            // No id this time (PD lost its leadership or quorum): the step goes out with a later heartbeat.
            this.log.warn({ region: meta.id, err: (e as Error).message }, 'no region id allocated for a split; retrying with the next heartbeat');
            continue;
          }
          this.splitIds.set(op, newRegionId);
        }
        // The version the split was decided on: a resend reaching the leader after the split
        // applied (or a split decided by an earlier PD leader) is not carried out again.
        instructions.push({ regionId: meta.id, step: { kind: 'split', splitKey: step.splitKey ? toWireKey(step.splitKey) : null, newRegionId, regionVersion: op.regionVersion } });
      } else if (step) instructions.push({ regionId: meta.id, step: wireStep(step) });
    }
    await Promise.all(changes);
    this.replaceLost(hb);
    return { stores: [...this.sm.stores.values()], instructions, tombstones: this.tombstonesFor(hb) };
  }

  /**
   * A live store that does not host a region PD's map says it is a member of has lost that
   * replica (it restarted on a new disk, or the region's directory was lost). Opening an empty
   * replica under the old membership would be unsafe: an empty voter votes for any candidate,
   * even one missing entries this voter once acknowledged. So PD takes the lost peer out of the
   * region and adds the store back as a new learner, filled by a snapshot and promoted once
   * caught up. Only after a grace period in which the region's leader reported again, and never
   * while the store still hosts an older replica overlapping the region (a follower that has
   * not applied the split creating it yet).
   */
  private replaceLost(hb: StoreHeartbeat): void {
    // Part of the replaceDown scheduler (its switch turns it off); only for stores that are up
    // (an offline store is being emptied anyway).
    if (!this.sm.schedulers.replaceDown || this.sm.stores.get(hb.storeId)?.state !== 'up') return;
    const now = this.now();
    const hostedIds = new Set(hb.regions.map((h) => h.region.id));
    // Decoded only when some member region is missing (rare): the replicas' ranges.
    let hosted: RegionMeta[] | undefined;
    const splitPending = (r: RegionMeta): boolean => (hosted ??= hb.regions.map(metaOf)).some((h) => h.epoch.version < r.epoch.version && overlaps(h, r));
    for (const r of this.sm.regions.values()) {
      const key = `${hb.storeId}/${r.id}`;
      const member = r.voters.includes(hb.storeId) || r.learners.includes(hb.storeId);
      if (!member || hostedIds.has(r.id) || splitPending(r)) {
        this.missingSince.delete(key);
        continue;
      }
      if (!this.heldThroughLeaderReport(this.missingSince, key, r.id, now) || !this.node.isLeader) continue;
      // A scheduler's operator may be waiting on the lost replica (a leader transfer to it can
      // never finish), and a lost replica matters more than a split: the replacement goes first.
      // An admin's operator is left to finish (or time out).
      const running = this.operators.get(r.id);
      if (running && !['balance-leader', 'balance-replica', 'split'].includes(running.kind)) continue;
      // At most maxConcurrentMoves at once: a lost disk must not send every region a snapshot together.
      if ([...this.operators.values()].filter((o) => o.kind === 'replace-lost').length >= this.cfg.maxConcurrentMoves) return;
      if (running) this.log.info({ region: r.id, kind: running.kind }, `operator cancelled for a lost replica: ${running.reason}`);
      this.missingSince.delete(key);
      const steps: OperatorStep[] = [{ kind: 'removePeer', store: hb.storeId }, { kind: 'addLearner', store: hb.storeId }];
      if (r.voters.includes(hb.storeId)) steps.push({ kind: 'promote', store: hb.storeId });
      this.addOperator({
        regionId: r.id,
        kind: 'replace-lost',
        reason: `store ${hb.storeId} is up but no longer hosts its replica of region ${r.id} (restarted without it?): re-add it as a new replica`,
        steps,
        stepIndex: 0,
        regionVersion: r.epoch.version,
        createdMs: now,
      });
    }
  }

  /**
   * Replicas a store still hosts of regions it is no longer a member of, per PD's map. Never a
   * replica still empty, never one whose membership is newer than PD's, never one the store
   * leads, and only once the region's leader has reported again since PD first found the replica
   * outside the region and a grace period passed: a replica being added right now (its leader
   * just logged the change, PD has not heard of it yet) looks exactly like a removed one.
   *
   * A replica still empty is destroyed only when it has stayed outside its region, with no
   * operator on the region, for much longer (10 grace periods, at least 30 s): one opened for a
   * move that was then abandoned (the operator timed out or a split made it obsolete before the
   * learner was added) would otherwise stay forever.
   */
  private tombstonesFor(hb: StoreHeartbeat): string[] {
    const out: string[] = [];
    const now = this.now();
    for (const h of hb.regions) {
      const key = `${hb.storeId}/${h.region.id}`;
      const pd = this.sm.regions.get(h.region.id);
      const member = pd !== undefined && (pd.voters.includes(hb.storeId) || pd.learners.includes(hb.storeId));
      if (h.region.epoch.version === 0) {
        this.notMemberSince.delete(key);
        if (h.leading || !pd || member || this.operators.has(h.region.id)) {
          this.emptyOrphanSince.delete(key);
          continue;
        }
        const since = this.emptyOrphanSince.get(key);
        if (since === undefined) this.emptyOrphanSince.set(key, now);
        else if (now - since >= Math.max(30_000, 10 * this.graceMs)) {
          this.emptyOrphanSince.delete(key);
          out.push(h.region.id);
          this.log.info({ region: h.region.id, store: hb.storeId }, 'an empty replica left by an abandoned move: the store destroys it');
        }
        continue;
      }
      this.emptyOrphanSince.delete(key);
      if (h.leading) {
        this.notMemberSince.delete(key);
        continue;
      }
      if (!pd) continue;
      if (member || h.region.epoch.confVer > pd.epoch.confVer || h.region.epoch.version > pd.epoch.version) {
        this.notMemberSince.delete(key);
        continue;
      }
      if (!this.heldThroughLeaderReport(this.notMemberSince, key, h.region.id, now)) continue;
      this.notMemberSince.delete(key);
      out.push(h.region.id);
      this.log.info({ region: h.region.id, store: hb.storeId }, 'replica is no longer a member of its region: the store destroys it');
    }
    return out;
  }

  /** How long a replica must look removed or lost before PD acts on it (ms). */
  private get graceMs(): number {
    return 3 * Math.max(1000, this.o.scheduleIntervalMs ?? 1000);
  }

  /**
   * Whether what PD sees about `key` (a replica outside its region, a member's replica missing)
   * has held for a grace period in which the region's leader reported again; the first sighting
   * is recorded (the caller deletes the entry once the condition no longer holds).
   */
  private heldThroughLeaderReport(firstSeen: Map<string, number>, key: string, regionId: string, now: number): boolean {
    const since = firstSeen.get(key);
    if (since === undefined) {
      firstSeen.set(key, now);
      return false;
    }
    const leaderHeardAt = this.regionStats.get(regionId)?.lastHeartbeatMs ?? 0;
    return now - since >= this.graceMs && leaderHeardAt > since;
  }

  private regionView(meta: RegionMeta, s: RegionStats): RegionView {
    return { meta, leader: s.leader, keys: s.keys, bytes: s.bytes, caughtUpLearners: s.caughtUpLearners, downPeers: s.downPeers, pendingPeers: s.pendingPeers, lastHeartbeatMs: s.lastHeartbeatMs };
  }

  view(): ClusterView {
    const stores = new Map<string, StoreView>();
    for (const s of this.sm.stores.values()) {
      if (s.state === 'tombstone') continue;
      const st = this.storeStats.get(s.id);
      stores.set(s.id, {
        id: s.id,
        address: s.address,
        state: s.state,
        lastHeartbeatMs: st?.lastHeartbeatMs ?? 0,
        regionCount: st?.regionCount ?? 0,
        leaderCount: st?.leaderCount ?? 0,
        capacityBytes: st?.capacityBytes ?? 0,
        availableBytes: st?.availableBytes ?? 0,
      });
    }
    const regions = new Map<string, RegionView>();
    for (const m of this.sm.regions.values()) {
      const st = this.regionStats.get(m.id);
      regions.set(m.id, st ? this.regionView(m, st) : { meta: m, leader: '', keys: 0, bytes: 0, caughtUpLearners: [], downPeers: [], pendingPeers: [], lastHeartbeatMs: 0 });
    }
    return { nowMs: this.now(), stores, regions, operators: this.operators };
  }

  private config(): SchedulerConfig {
    return { ...this.cfg, enabled: { ...this.sm.schedulers } };
  }

  private scheduleRound(): void {
    if (!this.node.isLeader || this.leaderSinceMs === 0) return;
    const now = this.now();
    if (now - this.leaderSinceMs < (this.o.warmupMs ?? 3000)) return;
    const timeout = this.o.operatorTimeoutMs ?? 60_000;
    for (const [id, op] of this.operators) {
      if (now - op.createdMs > timeout) {
        this.operators.delete(id);
        this.log.warn({ region: id, kind: op.kind, step: op.stepIndex }, `operator timed out: ${op.reason}`);
      }
    }
    for (const op of runSchedulers(this.view(), this.config())) this.addOperator(op);
  }

  private addOperator(op: Operator): void {
    this.operators.set(op.regionId, op);
    this.log.info({ region: op.regionId, kind: op.kind, steps: op.steps.map(describeStep) }, `operator: ${op.reason}`);
  }

  async admin(a: PdAdmin): Promise<Record<string, unknown>> {
    const now = this.now();
    const regionOp = (regionId: string, steps: OperatorStep[], reason: string): Record<string, unknown> => {
      const r = this.sm.regions.get(regionId);
      if (!r) throw new PdError('NO_REGION_FOUND', `PD knows no region '${regionId}'`);
      if (this.operators.has(regionId)) throw new PdError('SERVER_BUSY', `region ${regionId} has an operator in progress; retry later`);
      this.addOperator({ regionId, kind: 'admin', reason, steps, stepIndex: 0, regionVersion: r.epoch.version, createdMs: now });
      return { ok: true, regionId, steps: steps.map(describeStep) };
    };
    const store = (id: string): void => {
      const s = this.sm.stores.get(id);
      if (!s || s.state === 'tombstone') throw new PdError('INVALID_PARAMETER', `no store '${id}' in the cluster`);
    };
    switch (a.action) {
      case 'split':
        return regionOp(a.regionId, [{ kind: 'split', splitKey: a.splitKey ? fromWireKey(a.splitKey) : null }], `admin: split region ${a.regionId}`);
      case 'transferLeader':
        store(a.to);
        return regionOp(a.regionId, [{ kind: 'transferLeader', to: a.to }], `admin: move the leader of region ${a.regionId} to ${a.to}`);
      case 'addPeer':
        store(a.store);
        return regionOp(a.regionId, [{ kind: 'addLearner', store: a.store }, { kind: 'promote', store: a.store }], `admin: add a replica of region ${a.regionId} on ${a.store}`);
      case 'removePeer': {
        store(a.store);
        const leader = this.regionStats.get(a.regionId)?.leader;
        const r = this.sm.regions.get(a.regionId);
        const other = r?.voters.find((v) => v !== a.store);
        const steps: OperatorStep[] = leader === a.store && other ? [{ kind: 'transferLeader', to: other }] : [];
        steps.push({ kind: 'removePeer', store: a.store });
        return regionOp(a.regionId, steps, `admin: remove the replica of region ${a.regionId} on ${a.store}`);
      }
      case 'decommission': {
        store(a.store);
        const r = await this.propose({ type: 'setStoreState', id: a.store, state: 'offline' });
        if (!r.ok) throw new PdError('INVALID_PARAMETER', r.error ?? 'refused');
        this.log.info({ store: a.store }, 'store decommissioning: its replicas move away');
        return { ok: true, store: a.store, state: 'offline' };
      }
      case 'scheduler':
        if (!['split', 'leaderBalance', 'replicaBalance', 'replaceDown'].includes(a.name)) throw new PdError('INVALID_PARAMETER', `no scheduler '${String(a.name)}'`);
        await this.propose({ type: 'setScheduler', name: a.name, enabled: a.enabled === true });
        this.log.info({ scheduler: a.name, enabled: a.enabled === true }, 'scheduler switched');
        return { ok: true, name: a.name, enabled: a.enabled === true };
      default:
        throw new PdError('INVALID_PARAMETER', `unknown admin action ${JSON.stringify(a)}`);
    }
  }

  /** The route table as PD knows it: every region, its peers' addresses and its leader. */
  routes(): RegionInfo[] {
    const addressOf = (id: string): string | undefined => this.sm.stores.get(id)?.address;
    return [...this.sm.regions.values()]
      .sort((a, b) => Buffer.compare(Buffer.from(a.startKey), Buffer.from(b.startKey)))
      .map((m) => toRegionInfo(m, addressOf, this.regionStats.get(m.id)?.leader ?? ''));
  }

  cluster(): ClusterReply {
    const v = this.view();
    const now = v.nowMs;
    const cfg = this.config();
    const hosting = new Map<string, number>();
    for (const r of v.regions.values()) for (const p of [...r.meta.voters, ...r.meta.learners]) hosting.set(p, (hosting.get(p) ?? 0) + 1);
    const addressOf = (id: string): string | undefined => this.sm.stores.get(id)?.address;
    return {
      leader: this.node.id,
      stores: [...this.sm.stores.values()].map((s) => {
        const sv = v.stores.get(s.id);
        return {
          ...s,
          lastHeartbeatAgoMs: sv && sv.lastHeartbeatMs > 0 ? now - sv.lastHeartbeatMs : null,
          down: sv ? isStoreDown(sv, now, cfg) : false,
          regionCount: sv?.regionCount ?? 0,
          leaderCount: sv?.leaderCount ?? 0,
          capacityBytes: sv?.capacityBytes ?? 0,
          availableBytes: sv?.availableBytes ?? 0,
          drained: s.state !== 'up' && (hosting.get(s.id) ?? 0) === 0 && (sv?.regionCount ?? 0) === 0,
          readsPerSec: this.storeStats.get(s.id)?.readsPerSec ?? 0,
          writesPerSec: this.storeStats.get(s.id)?.writesPerSec ?? 0,
        };
      }),
      regions: [...v.regions.values()].map((r) => {
        const st = this.regionStats.get(r.meta.id);
        return {
        region: toRegionInfo(r.meta, addressOf, r.leader),
        keys: r.keys,
        bytes: r.bytes,
        readsPerSec: st?.readsPerSec ?? 0,
        writesPerSec: st?.writesPerSec ?? 0,
        readBytesPerSec: st?.readBytesPerSec ?? 0,
        writeBytesPerSec: st?.writeBytesPerSec ?? 0,
        pendingPeers: r.pendingPeers,
        downPeers: r.downPeers,
        lastHeartbeatAgoMs: r.lastHeartbeatMs > 0 ? now - r.lastHeartbeatMs : null,
        };
      }),
      operators: [...this.operators.values()].map((op) => ({
        regionId: op.regionId,
        kind: op.kind,
        reason: op.reason,
        step: currentStep(op) ? describeStep(currentStep(op)!) : 'finishing',
        ageMs: now - op.createdMs,
      })),
      schedulers: { ...cfg.enabled },
    };
  }
}

function sum(regions: readonly HostedRegion[], f: (r: HostedRegion) => number | undefined): number {
  let n = 0;
  for (const r of regions) n += f(r) ?? 0;
  return Math.round(n * 10) / 10;
}

function metaOf(h: HostedRegion): RegionMeta {
  const r = h.region;
  const ids = (peers: HostedRegion['region']['voters']): string[] => (peers ?? []).map((p) => (typeof p === 'string' ? p : p.id));
  return { id: r.id, startKey: fromWireKey(r.startKey), endKey: fromWireKey(r.endKey), epoch: r.epoch, voters: ids(r.voters), learners: ids(r.learners) };
}

function wireStep(s: OperatorStep): Instruction['step'] {
  return s.kind === 'split' ? { kind: 'split', splitKey: s.splitKey ? toWireKey(s.splitKey) : null } : s;
}

export function describeStep(s: OperatorStep): string {
  switch (s.kind) {
    case 'split':
      return s.splitKey ? `split at ${JSON.stringify(Buffer.from(s.splitKey).toString('utf8'))}` : 'split at the middle';
    case 'transferLeader':
      return `transfer leader to ${s.to}`;
    case 'addLearner':
      return `add learner on ${s.store}`;
    case 'promote':
      return `promote ${s.store}`;
    case 'removePeer':
      return `remove peer on ${s.store}`;
  }
}
