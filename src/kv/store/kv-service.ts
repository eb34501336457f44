// The KV request handler of a store: RheaKV's per-request path (seed 000) in front of the Raft
// write and read paths of RaftServer. Order of checks, each with its own error code:
// region (NO_REGION_FOUND) -> epoch version (INVALID_REGION_EPOCH) -> keys inside the region
// (INVALID_REGION_EPOCH) -> parameters (INVALID_PARAMETER) -> leadership (NOT_LEADER) ->
// overload (SERVER_BUSY) -> the log or the read. Every request is counted per op.

import { crc32 } from 'node:zlib';
import { RaftNodeError } from '../../raft/runtime/errors.js';
import { decodeEnvelope, encodeEnvelope } from '../../raft/runtime/rpc-router.js';
import { type KvCommand, KvOp, READ_OPS, type RangeSplitCommand, decodeCommand, decodeResult, encodeCommand, encodeResult } from '../commands.js';
import { KvParameterError } from '../kv-state-machine.js';
import {
  type KvErrorHeader,
  KvErrorCode,
  type KvOkHeader,
  type KvRequestHeader,
  KvTag,
  type RegionInfo,
  type RegionsReply,
  type StatsReply,
} from '../protocol.js';
import { toRegionInfo } from '../region.js';
import type { KvStore } from './kv-store.js';
import { OpMetrics } from './op-metrics.js';
import type { RegionPeer } from './region-peer.js';

export class KvError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Partial<KvErrorHeader> = {},
  ) {
    super(message);
    this.name = 'KvError';
  }
}

export interface KvServiceOptions {
  /** Linearizable reads use the leader lease instead of a ReadIndex round. */
  readonly leaseReads: boolean;
  /** rangeSplit needs at least this many keys in the region. */
  readonly splitMinKeys: number;
}

/** How the Raft runtime's errors reach KV clients. */
const NODE_CODES: Record<string, string> = {
  NOT_LEADER: KvErrorCode.NOT_LEADER,
  BUSY: KvErrorCode.SERVER_BUSY,
  RESOURCE_UNAVAILABLE: KvErrorCode.SERVER_BUSY,
  TRANSFERRING_LEADERSHIP: KvErrorCode.NO_LEADER,
  NO_LEADER: KvErrorCode.NO_LEADER,
  LEADER_CHANGED: KvErrorCode.LEADER_CHANGED,
  TERM_MISMATCH: KvErrorCode.LEADER_CHANGED,
  TIMEOUT: KvErrorCode.TIMEOUT,
  SHUTTING_DOWN: KvErrorCode.SHUTTING_DOWN,
  ENTRY_TOO_LARGE: KvErrorCode.INVALID_PARAMETER,
  INVALID_ARGUMENT: KvErrorCode.INVALID_PARAMETER,
};

/** Writes whose result is only "done": a retry of one applied before a restart can say so. */
const OK_RESULT_OPS: ReadonlySet<KvOp> = new Set([KvOp.Put, KvOp.PutList, KvOp.Delete, KvOp.DeleteList, KvOp.DeleteRange, KvOp.Merge, KvOp.ResetSequence]);

export class KvService {
  readonly metrics = new OpMetrics();
  /** Requests being handled now. */
  inFlight = 0;
  /** Set when the store is shutting down: new requests are answered SHUTTING_DOWN. */
  draining = false;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: KvStore,
    private readonly o: KvServiceOptions,
  ) {}

  /** Resolves when no request is being handled. */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((r) => this.idleWaiters.push(r));
  }

  async handle(groupId: string, payload: Uint8Array): Promise<Uint8Array> {
    this.inFlight++;
    try {
      return await this.handleOne(groupId, payload);
    } finally {
      if (--this.inFlight === 0 && this.idleWaiters.length > 0) {
        const w = this.idleWaiters;
        this.idleWaiters = [];
        for (const r of w) r();
      }
    }
  }

  private async handleOne(groupId: string, payload: Uint8Array): Promise<Uint8Array> {
    const started = performance.now();
    let op = 'Unknown';
    try {
      const { tag, header, body } = decodeEnvelope<unknown>(payload);
      if (tag === KvTag.Regions) return encodeEnvelope(0, this.regionsReply());
      if (tag === KvTag.Stats) return encodeEnvelope(0, this.statsReply((header as { digest?: boolean } | undefined)?.digest === true));
      if (tag !== KvTag.Command) throw new KvError(KvErrorCode.INVALID_PARAMETER, `unknown request tag ${tag}`);
      if (this.draining) throw new KvError(KvErrorCode.SHUTTING_DOWN, `store ${this.store.nodeId} is shutting down`);
      const h = (header ?? {}) as KvRequestHeader;
      const peer = this.store.regions.get(groupId);
      let cmd: KvCommand;
      try {
        cmd = decodeCommand(body);
      } catch (e) {
        throw new KvError(KvErrorCode.INVALID_PARAMETER, `malformed command: ${(e as Error).message}`);
      }
      op = KvOp[cmd.op] ?? 'Unknown';
      if (!peer) throw new KvError(KvErrorCode.NO_REGION_FOUND, `store ${this.store.nodeId} hosts no region '${groupId}'`);
      const reading = READ_OPS.has(cmd.op);
      const res = reading ? await this.read(peer, h, cmd, body) : await this.write(peer, h, cmd, body);
      this.metrics.record(op, undefined, performance.now() - started);
      if (reading) {
        peer.traffic.reads++;
        peer.traffic.readBytes += res.byteLength;
      } else {
        peer.traffic.writes++;
        peer.traffic.writeBytes += body.byteLength;
      }
      return res;
    } catch (err) {
      const e = this.toError(err, groupId);
      this.metrics.record(op, e.code, performance.now() - started);
      return encodeEnvelope(1, e);
    }
  }

  /** The checks every command passes before touching Raft: epoch, range. */
  private checkRoute(peer: RegionPeer, h: KvRequestHeader, cmd: KvCommand): void {
    const meta = peer.meta;
    if (h.version !== meta.epoch.version) {
      throw new KvError(KvErrorCode.INVALID_REGION_EPOCH, `region ${meta.id} is at version ${meta.epoch.version}, the request was routed with ${String(h.version)}`, { region: this.info(peer) });
    }
    if (!peer.kv.inRegion(cmd)) {
      throw new KvError(KvErrorCode.INVALID_REGION_EPOCH, `a key of the request lies outside region ${meta.id}`, { region: this.info(peer) });
    }
  }

  private async write(peer: RegionPeer, h: KvRequestHeader, cmd: KvCommand, body: Uint8Array): Promise<Uint8Array> {
    this.checkRoute(peer, h, cmd);
    peer.kv.validateCommand(cmd);
    const node = peer.node;
    if (!node.isLeader) throw node.notLeaderError();
    let data = body;
    if (cmd.op === KvOp.RangeSplit) data = encodeCommand(this.stampSplit(peer, cmd));
    let raw: Uint8Array;
    try {
      raw = await this.store.server.writeTo(peer.id, { ...(h.clientId ? { clientId: h.clientId } : {}), ...(h.callId !== undefined ? { callId: h.callId } : {}), ...(h.firstUnreplied !== undefined ? { firstUnreplied: h.firstUnreplied } : {}) }, data);
    } catch (e) {
      // A retry of a call applied before this store restarted (its reply was not kept): for
      // operations whose only result is "done", that is the answer; others cannot be answered.
      if (e instanceof RaftNodeError && e.code === 'RESULT_UNAVAILABLE') {
        if (OK_RESULT_OPS.has(cmd.op)) return encodeEnvelope(0, {}, encodeResult({ kind: 'ok' }));
        throw new KvError(KvErrorCode.RESULT_UNAVAILABLE, e.message);
      }
      throw e;
    }
    return this.fromRaftReply(peer, raw, (rh) => ({ index: (rh as { index: number }).index }));
  }

  /**
   * A split decided by the placement driver (no client call id: a split that applied already
   * is refused at apply time by its version check). TOO_SMALL_TO_SPLIT and the rest as KvError.
   */
  async proposeSplit(peer: RegionPeer, splitKey: Uint8Array | null, newRegionId?: string): Promise<void> {
    if (!peer.node.isLeader) throw peer.node.notLeaderError();
    const stamped = this.stampSplit(peer, { op: KvOp.RangeSplit, splitKey, newRegionId: '', expectVersion: 0, voters: [], learners: [] });
    // PD allocates the new region's id; a split asked of the region directly derives one.
    const cmd = newRegionId ? { ...stamped, newRegionId } : stamped;
    const raw = await this.store.server.writeTo(peer.id, {}, encodeCommand(cmd));
    const res = decodeEnvelope<unknown>(raw);
    if (res.tag === 0) {
      const r = decodeResult(res.body);
      if (r.kind === 'error') throw new KvError(r.code, r.message);
    }
  }

  /** The leader decides the split: the key (or the middle), the new region's id and peers. */
  private stampSplit(peer: RegionPeer, c: RangeSplitCommand): RangeSplitCommand {
    const meta = peer.meta;
    const keys = peer.kv.keyCount();
    if (keys < this.o.splitMinKeys) {
      throw new KvError(KvErrorCode.TOO_SMALL_TO_SPLIT, `region ${meta.id} holds ${keys} key(s); a split needs at least ${this.o.splitMinKeys}`);
    }
    const splitKey = c.splitKey ?? peer.kv.middleKey(this.o.splitMinKeys);
    if (!splitKey) throw new KvError(KvErrorCode.TOO_SMALL_TO_SPLIT, `region ${meta.id} is too small to split`);
    if (meta.startKey.length > 0 && Buffer.compare(Buffer.from(splitKey), Buffer.from(meta.startKey)) <= 0) {
      throw new KvError(KvErrorCode.INVALID_PARAMETER, 'the split key must lie strictly inside the region');
    }
    const conf = peer.node.status().confState;
    return {
      op: KvOp.RangeSplit,
      splitKey,
      newRegionId: `${meta.id}.${meta.epoch.version + 1}`,
      expectVersion: meta.epoch.version,
      voters: [...conf.voters],
      learners: [...conf.learners],
    };
  }

  private async read(peer: RegionPeer, h: KvRequestHeader, cmd: KvCommand, body: Uint8Array): Promise<Uint8Array> {
    this.checkRoute(peer, h, cmd);
    const consistency = h.consistency ?? (this.o.leaseReads ? 'lease' : 'linearizable');
    if (consistency !== 'linearizable' && consistency !== 'lease' && consistency !== 'stale') {
      throw new KvError(KvErrorCode.INVALID_PARAMETER, `unknown consistency '${String(consistency)}'`);
    }
    // Lease reads need the lease holder; linearizable reads may run on a follower when asked
    // (a ReadIndex round through the leader); stale reads run anywhere.
    if (!peer.node.isLeader && (consistency === 'lease' || (consistency === 'linearizable' && !h.follower))) throw peer.node.notLeaderError();
    const raw = await this.store.server.queryTo(peer.id, { consistency, ...(h.minIndex !== undefined ? { minIndex: h.minIndex } : {}) }, body);
    return this.fromRaftReply(peer, raw, (rh) => ({ appliedIndex: (rh as { appliedIndex: number }).appliedIndex }));
  }

  /** A RaftServer reply: the state machine's result, or its error turned into a KV error. */
  private fromRaftReply(peer: RegionPeer, raw: Uint8Array, okHeader: (h: unknown) => KvOkHeader): Uint8Array {
    const { tag, header, body } = decodeEnvelope<unknown>(raw);
    const result = decodeResult(body);
    if (tag === 0 && result.kind === 'error') {
      throw new KvError(result.code, result.message, result.code === 'INVALID_REGION_EPOCH' ? { region: this.info(peer) } : {});
    }
    return encodeEnvelope(0, okHeader(header), body);
  }

  /** A region as this replica sees it, with peer addresses and its leader. */
  info(peer: RegionPeer): RegionInfo {
    return toRegionInfo(peer.meta, (id) => (id === this.store.nodeId ? this.selfAddress() : this.store.transport.addressOf(id)), peer.node.leaderId);
  }

  private selfAddress(): string | undefined {
    return this.store.transport.addressOf(this.store.nodeId) ?? this.store.listenAddress;
  }

  /**
   * The regions this store hosts, as it sees them; on the placement driver's leader also the
   * route table PD knows (clients merge by epoch, so PD's view never overrides a newer one).
   */
  private regionsReply(): RegionsReply {
    const regions = this.store.sortedRegions().map((r) => this.info(r));
    const pd = this.store.pdServer;
    return { storeId: this.store.nodeId, regions, ...(pd?.node.isLeader ? { pdRoutes: pd.leader.routes() } : {}) };
  }

  /** With `digest`: a CRC of each region's whole engine content (for replica comparison in tests). */
  private statsReply(digest: boolean): StatsReply {
    return {
      storeId: this.store.nodeId,
      ops: this.metrics.snapshot(),
      regions: this.store.sortedRegions().map((r) => {
        const s = r.node.status();
        return {
          id: r.id,
          role: String(s.role),
          term: s.term,
          leader: s.leader,
          commitIndex: s.commit,
          appliedIndex: s.appliedIndex,
          keys: r.kv.keyCount(),
          ...(digest ? { digest: engineDigest(r) } : {}),
        };
      }),
    };
  }

  private toError(err: unknown, groupId: string): KvErrorHeader {
    if (err instanceof KvError) return { code: err.code, message: err.message, ...err.extra };
    if (err instanceof KvParameterError) return { code: KvErrorCode.INVALID_PARAMETER, message: err.message };
    if (err instanceof RaftNodeError) {
      // The region went away while the request was on its way in (destroyed after a move, or the
      // store is stopping): nothing was done; the client refreshes its routes.
      if (err.code === 'INVALID_ARGUMENT' && (!this.store.regions.has(groupId) || !this.store.server.hosts(groupId))) {
        return { code: this.draining ? KvErrorCode.SHUTTING_DOWN : KvErrorCode.NO_REGION_FOUND, message: `store ${this.store.nodeId} no longer hosts region '${groupId}'` };
      }
      const code = NODE_CODES[err.code] ?? KvErrorCode.INTERNAL;
      const out: KvErrorHeader = { code, message: `${err.code === code ? '' : `${err.code}: `}${err.message}` };
      if (err.leaderId) out.leaderId = err.leaderId;
      if (err.leaderAddress) out.leaderAddress = err.leaderAddress;
      return out;
    }
    const e = err as Error;
    this.store.logger.error({ region: groupId, err: e?.stack ?? String(err) }, 'internal error serving a request');
    return { code: KvErrorCode.INTERNAL, message: e?.message ?? String(err) };
  }
}

function engineDigest(r: RegionPeer): number {
  let h = 0;
  for (const p of r.kv.engine.exportAll()) {
    h = crc32(p.key, h);
    h = crc32(p.value, h);
  }
  return h;
}
