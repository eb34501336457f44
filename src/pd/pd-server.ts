// The placement driver hosted in a store process: the PD Raft group's replica on this store
// (its log under <dataDir>/pd/raft), the replicated cluster map, and, while this replica leads,
// the scheduling PdLeader. Requests for PD reaching a replica that does not lead are answered
// NOT_LEADER with the leader's address.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { type Logger, silentLogger } from '../log/logger.js';
import { KvErrorCode, type KvErrorHeader, KvTag, type RegionsReply } from '../kv/protocol.js';
import { Role } from '../raft/core/types.js';
import { RaftNode } from '../raft/runtime/raft-node.js';
import { RaftNodeError } from '../raft/runtime/errors.js';
import { RpcRouter, decodeEnvelope, encodeEnvelope } from '../raft/runtime/rpc-router.js';
import type { Transport } from '../transport/transport.js';
import { DiskStorage } from '../storage/disk-storage.js';
import { PdError, PdLeader, type PdLeaderOptions } from './pd-leader.js';
import { PD_GROUP, type PdAdmin, PdTag, type StoreHeartbeat } from './pd-protocol.js';
import { PdStateMachine } from './pd-state-machine.js';

export interface PdServerOptions extends PdLeaderOptions {
  readonly nodeId: string;
  readonly dataDir: string;
  readonly transport: Transport;
  /** The PD group's voters (store ids), used when the group is created. */
  readonly voters: readonly string[];
  readonly tickMs?: number;
  readonly electionTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  /**
   * A PD node running on its own (pd-main.ts): it answers clients' KvTag.Regions with PD's route
   * table. Inside a store the store answers them (its own regions, plus PD's routes when it leads).
   */
  readonly serveRoutes?: boolean;
}

const PD_TAGS = [PdTag.Heartbeat, PdTag.Cluster, PdTag.Admin, PdTag.AllocId];

export class PdServer {
  readonly leader: PdLeader;
  private readonly log: Logger;
  private readonly handler = (_g: string, payload: Uint8Array): Promise<Uint8Array> => this.handle(payload);

  private constructor(
    readonly node: RaftNode<Uint8Array>,
    readonly sm: PdStateMachine,
    private readonly o: PdServerOptions,
  ) {
    this.log = (o.logger ?? silentLogger).child({ region: PD_GROUP });
    this.leader = new PdLeader(node, sm, { ...o, logger: this.log });
  }

  static async start(o: PdServerOptions): Promise<PdServer> {
    const dir = join(o.dataDir, 'pd', 'raft');
    mkdirSync(dir, { recursive: true });
    const storage = await DiskStorage.open(dir);
    const sm = new PdStateMachine();
    const node = await RaftNode.start<Uint8Array>({
      id: o.nodeId,
      groupId: PD_GROUP,
      storage,
      stateMachine: sm,
      transport: o.transport,
      initialVoters: o.voters,
      tickMs: o.tickMs ?? 100,
      electionTimeoutMs: o.electionTimeoutMs ?? 1000,
      heartbeatIntervalMs: o.heartbeatIntervalMs ?? 100,
      snapshotEveryEntries: 10_000,
      snapshotMarginEntries: 1000,
      raft: { preVote: true, checkQuorum: true },
    });
    const s = new PdServer(node, sm, o);
    node.on({
      onRoleChange: (role) => {
        if (role === Role.Leader) s.leader.start();
        else s.leader.stop();
      },
    });
    if (node.isLeader) s.leader.start();
    RpcRouter.of(o.transport).register(o.serveRoutes ? [...PD_TAGS, KvTag.Regions] : PD_TAGS, s.handler);
    return s;
  }

  /** A PD request from this process (its own store's heartbeat): the same path as over the wire. */
  request(payload: Uint8Array): Promise<Uint8Array> {
    return this.handle(payload);
  }

  private async handle(payload: Uint8Array): Promise<Uint8Array> {
    try {
      const req = decodeEnvelope<unknown>(payload);
      if (!this.node.isLeader) throw this.node.notLeaderError();
      switch (req.tag) {
        case PdTag.Heartbeat:
          return encodeEnvelope(0, await this.leader.heartbeat(req.header as StoreHeartbeat));
        case PdTag.Cluster:
          return encodeEnvelope(0, this.leader.cluster());
        case PdTag.Admin:
          return encodeEnvelope(0, await this.leader.admin(req.header as PdAdmin));
        case PdTag.AllocId: {
          const kind = (req.header as { kind?: unknown } | undefined)?.kind;
          if (kind !== 'store') throw new PdError('INVALID_PARAMETER', `AllocId hands out store ids only (kind 'store'), got ${JSON.stringify(kind)}`);
          return encodeEnvelope(0, { id: await this.leader.allocId('store') });
        }
        case KvTag.Regions:
          return encodeEnvelope(0, { storeId: this.o.nodeId, regions: this.leader.routes() } satisfies RegionsReply);
        default:
          throw new PdError('INVALID_PARAMETER', `unknown PD request tag ${req.tag}`);
      }
    } catch (e) {
      return encodeEnvelope(1, this.errorHeader(e));
    }
  }

  private errorHeader(e: unknown): KvErrorHeader {
    if (e instanceof PdError) return { code: e.code, message: e.message };
    if (e instanceof RaftNodeError && e.code === 'NOT_LEADER') {
      const leaderId = this.node.leaderId;
      const leaderAddress = leaderId ? this.o.transport.addressOf(leaderId) : undefined;
      return { code: KvErrorCode.NOT_LEADER, message: e.message, ...(leaderId ? { leaderId } : {}), ...(leaderAddress ? { leaderAddress } : {}) };
    }
    if (e instanceof RaftNodeError) return { code: e.code, message: e.message };
    this.log.error({ err: (e as Error).message }, 'PD request failed');
    return { code: KvErrorCode.INTERNAL, message: (e as Error).message };
  }

  async stop(): Promise<void> {
    RpcRouter.of(this.o.transport).unregister(this.o.serveRoutes ? [...PD_TAGS, KvTag.Regions] : PD_TAGS, this.handler);
    this.leader.stop();
    await this.node.stop();
  }
}
