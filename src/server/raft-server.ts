// RaftServer: serves client requests for the Raft groups hosted in this process, over the
// shared transport (request/response frames; the group id routes each request).

import { RaftNodeError } from '../raft/runtime/errors.js';
import type { RaftNode } from '../raft/runtime/raft-node.js';
import { RpcRouter } from '../raft/runtime/rpc-router.js';
import type { StateMachine } from '../raft/runtime/state-machine.js';
import type { Transport } from '../transport/transport.js';
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
  readonly sm: StateMachine<Uint8Array>;
}

export class RaftServer {
  private readonly groups = new Map<string, Group>();

  constructor(transport: Transport) {
    RpcRouter.of(transport).register([Op.Apply, Op.Query, Op.Status, Op.Admin], (groupId, payload) => this.handle(groupId, payload));
  }

  addGroup(node: RaftNode<Uint8Array>, sm: StateMachine<Uint8Array>): void {
    this.groups.set(node.groupId, { node, sm });
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
        case Op.Apply: {
          const h = header as ApplyHeader;
          const r = await g.node.apply({ data: body, ...(h.expectedTerm !== undefined ? { expectedTerm: h.expectedTerm } : {}) });
          return encodeMessage(0, { term: r.term, index: r.index }, r.result instanceof Uint8Array ? r.result : new Uint8Array(0));
        }
        case Op.Query:
          return await this.query(g, header as QueryHeader, body);
        case Op.Status:
          return encodeMessage(0, g.node.status());
        case Op.Admin:
          return encodeMessage(0, await this.admin(g, header as AdminAction));
        default:
          throw new ProtocolError(`unknown op ${tag}`);
      }
    } catch (err) {
      return encodeMessage(1, toErrorHeader(err));
    }
  }

  private async query(g: Group, h: QueryHeader, body: Uint8Array): Promise<Uint8Array> {
    const consistency = h.consistency ?? 'linearizable';
    if (consistency === 'linearizable') await g.node.readIndex({ lease: false });
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
