// RaftServer: serves client requests for the Raft groups hosted in this process, over the
// shared transport (request/response frames; the group id routes each request).

import { RaftNodeError } from '../raft/runtime/errors.js';
import type { ApplyResult, RaftNode } from '../raft/runtime/raft-node.js';
import { RpcRouter } from '../raft/runtime/rpc-router.js';
import type { StateMachine } from '../raft/runtime/state-machine.js';
import type { Transport } from '../transport/transport.js';
import { encodeCall } from './call-envelope.js';
import { CallStateMachine } from './call-state-machine.js';
import { Permits } from './permits.js';
import {
  type AdminAction,
  type ApplyHeader,
  type ErrorHeader,
  Op,
  ProtocolError,
  type QueryHeader,
  decodeMessage,
  encodeMessage,
} from './protocol.js';

interface Group {
  readonly node: RaftNode<Uint8Array>;
  readonly sm: CallStateMachine;
  readonly permits: Permits;
  /** Calls proposed on this leader and not yet answered, by "clientId#callId". */
  readonly pending: Map<string, Promise<ApplyResult<Uint8Array>>>;
}

export interface RaftServerOptions {
  /** Requests in flight per group on the leader. Default 4096. */
  maxPendingRequests?: number;
  /** Bytes of request data in flight per group on the leader. Default 64 MiB. */
  maxPendingBytes?: number;
  /** For fault tests only: return true to drop the reply to this call after it is applied. */
  dropReply?: (clientId: string, callId: number) => boolean;
  /**
   * DELIBERATELY UNSAFE, for proving the verifier can fail: a node that believes it leads answers
   * linearizable reads from its own state without a ReadIndex round, so a deposed leader serves
   * stale data. Default false.
   */
  unsafeLeaderLocalReads?: boolean;
}

/**
 * The state machine to give RaftNode for a group served by RaftServer: the user's state machine
 * behind the retry cache. `expiryMs` bounds how long a retried call is recognised (default 60 s).
 */
export function serverStateMachine(user: StateMachine<Uint8Array>, expiryMs = 60_000): CallStateMachine {
  return new CallStateMachine(user, expiryMs);
}

export class RaftServer {
  private readonly groups = new Map<string, Group>();
  private readonly o: Required<Omit<RaftServerOptions, 'dropReply'>> & Pick<RaftServerOptions, 'dropReply'>;

  constructor(transport: Transport, o: RaftServerOptions = {}) {
    this.o = {
      maxPendingRequests: o.maxPendingRequests ?? 4096,
      maxPendingBytes: o.maxPendingBytes ?? 64 * 1024 * 1024,
      dropReply: o.dropReply,
      unsafeLeaderLocalReads: o.unsafeLeaderLocalReads ?? false,
    };
    RpcRouter.of(transport).register([Op.Apply, Op.Query, Op.Status, Op.Admin], (groupId, payload) => this.handle(groupId, payload));
  }

  /** Serves a group; its node must run the state machine from serverStateMachine(). */
  addGroup(node: RaftNode<Uint8Array>, sm: CallStateMachine): void {
    this.groups.set(node.groupId, { node, sm, permits: new Permits(this.o.maxPendingRequests, this.o.maxPendingBytes), pending: new Map() });
  }

  /** Does this server serve that group now? */
  hosts(groupId: string): boolean {
    return this.groups.has(groupId);
  }

  removeGroup(groupId: string): void {
    this.groups.delete(groupId);
  }

  private async handle(groupId: string, payload: Uint8Array): Promise<Uint8Array> {
    try {
      const g = this.groups.get(groupId);
      if (!g) throw new RaftNodeError('INVALID_ARGUMENT', `this server hosts no group '${groupId}'`);
      const { tag, header, body } = decodeMessage<unknown>(payload);
      switch (tag as Op) {
        case Op.Apply:
          return await this.write(g, header as ApplyHeader, body);
        case Op.Query:
          return await this.query(g, header as QueryHeader, body);
        case Op.Status:
          return encodeMessage(0, { ...g.node.status(), retryCacheSize: g.sm.cache.size, permitsInUse: g.permits.inUse });
        case Op.Admin:
          return encodeMessage(0, await this.admin(g, header as AdminAction));
        default:
          throw new ProtocolError(`unknown op ${tag}`);
      }
    } catch (err) {
      // Fault tests: the reply is lost on the way (the client sees a timeout).
      if (err instanceof DroppedReply) return new Promise<Uint8Array>(() => {});
      return encodeMessage(1, toErrorHeader(err));
    }
  }

  /**
   * The write path, in the order of Ratis' leader: retry-cache lookup, startTransaction, a
   * pending-request permit, then (in RaftNode) preAppend, the entry-size check, append and
   * replicate; once committed applySerial and apply on every replica; then the reply.
   */
  /** The write path for a group served here (the KV store calls it after its own checks). */
  async writeTo(groupId: string, h: ApplyHeader, body: Uint8Array): Promise<Uint8Array> {
    const g = this.groups.get(groupId);
    if (!g) throw new RaftNodeError('INVALID_ARGUMENT', `this server hosts no group '${groupId}'`);
    return this.write(g, h, body);
  }

  /** The read path for a group served here. */
  async queryTo(groupId: string, h: QueryHeader, body: Uint8Array): Promise<Uint8Array> {
    const g = this.groups.get(groupId);
    if (!g) throw new RaftNodeError('INVALID_ARGUMENT', `this server hosts no group '${groupId}'`);
    return this.query(g, h, body);
  }

  private async write(g: Group, h: ApplyHeader, body: Uint8Array): Promise<Uint8Array> {
    const clientId = typeof h.clientId === 'string' && h.clientId !== '' ? h.clientId : undefined;
    const callId = Number.isSafeInteger(h.callId) ? h.callId! : undefined;
    const key = clientId !== undefined && callId !== undefined ? `${clientId}#${callId}` : undefined;
    // 1. Retry cache: a call already applied gets its original reply; one in flight here, its outcome.
    if (key) {
      const done = g.sm.cache.get(clientId!, callId!);
      if (done?.failed) throw resultUnavailable(done.reply);
      if (done) return this.reply(clientId!, callId!, encodeMessage(0, { index: done.index, cached: true }, done.reply));
      const inFlight = g.pending.get(key);
      if (inFlight) {
        const r = await inFlight;
        this.throwIfNotKept(g, clientId!, callId!);
        return this.reply(clientId!, callId!, encodeMessage(0, { term: r.term, index: r.index }, r.result));
      }
    }
    if (!g.node.isLeader) throw g.node.notLeaderError();
    // 2. startTransaction: a rejection is answered at once and nothing is logged.
    const data = g.node.startTransaction(body);
    // 3. A permit, or RESOURCE_UNAVAILABLE at once.
    if (!g.permits.tryAcquire(data.byteLength)) {
      const { count, bytes } = g.permits.inUse;
      throw new RaftNodeError('RESOURCE_UNAVAILABLE', `resource unavailable: ${count} requests / ${bytes} bytes pending (limits ${g.permits.maxCount} / ${g.permits.maxBytes}); retry later`);
    }
    // 4. preAppend, size check, append, replicate, commit, apply (RaftNode).
    const wrapped = key ? encodeCall({ clientId: clientId!, callId: callId!, firstUnreplied: Number(h.firstUnreplied ?? 0), stampMs: Date.now(), data }) : data;
    const p = g.node.apply({ data: wrapped, transactionStarted: true, ...(h.expectedTerm !== undefined ? { expectedTerm: h.expectedTerm } : {}) });
    if (key) g.pending.set(key, p);
    try {
      const r = await p;
      // Logged again but found applied before a restart: the log entry was a no-op, and the
      // original reply is gone.
      if (key) this.throwIfNotKept(g, clientId!, callId!);
      return this.reply(clientId, callId, encodeMessage(0, { term: r.term, index: r.index }, r.result));
    } finally {
      g.permits.release(data.byteLength);
      if (key) g.pending.delete(key);
    }
  }

  private throwIfNotKept(g: Group, clientId: string, callId: number): void {
    const done = g.sm.cache.get(clientId, callId);
    if (done?.failed) throw resultUnavailable(done.reply);
  }

  private reply(clientId: string | undefined, callId: number | undefined, res: Uint8Array): Uint8Array {
    if (clientId !== undefined && callId !== undefined && this.o.dropReply?.(clientId, callId)) throw new DroppedReply();
    return res;
  }

  private async query(g: Group, h: QueryHeader, body: Uint8Array): Promise<Uint8Array> {
    const consistency = h.consistency ?? 'linearizable';
    if (consistency === 'linearizable' && this.o.unsafeLeaderLocalReads && g.node.isLeader) {
      // DELIBERATELY UNSAFE (see RaftServerOptions): no ReadIndex round.
    } else if (consistency === 'linearizable') await g.node.readIndex({ lease: false });
    else if (consistency === 'lease') await g.node.readIndex({ lease: true });
    else if (consistency === 'stale') await g.node.waitApplied(h.minIndex ?? 0);
    else if (consistency !== 'local') throw new ProtocolError(`unknown consistency '${String(consistency)}'`);
    if (!g.sm.query) throw new RaftNodeError('INVALID_ARGUMENT', 'the state machine does not answer queries');
    const appliedIndex = g.node.status().appliedIndex;
    const result = await g.sm.query(body);
    return encodeMessage(0, { appliedIndex }, result);
  }

  private async admin(g: Group, a: AdminAction): Promise<unknown> {
    const node = g.node;
    switch (a.action) {
      case 'addVoter':
        return node.addVoter(a.node);
      case 'addLearner':
        return node.addLearner(a.node);
      case 'promote':
        return node.promote(a.node);
      case 'removeNode':
        return node.removeNode(a.node);
      case 'changePeers':
        return node.changePeers(a.voters, a.learners ?? []);
      case 'transferLeader':
        await node.transferLeadership(a.node);
        return { leader: a.node };
      case 'snapshot':
        return node.snapshotNow();
      default:
        throw new ProtocolError(`unknown admin action ${JSON.stringify(a)}`);
    }
  }
}

function resultUnavailable(why: Uint8Array): RaftNodeError {
  return new RaftNodeError('RESULT_UNAVAILABLE', new TextDecoder().decode(why));
}

export function toErrorHeader(err: unknown): ErrorHeader {
  if (err instanceof RaftNodeError) {
    return {
      code: err.code,
      message: err.message,
      ...(err.leaderId ? { leaderId: err.leaderId } : {}),
      ...(err.leaderAddress ? { leaderAddress: err.leaderAddress } : {}),
    };
  }
  if (err instanceof ProtocolError) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: (err as Error)?.message ?? String(err) };
}

/** Thrown by the fault hook: the transport then sends no response (the request times out). */
class DroppedReply extends Error {}
