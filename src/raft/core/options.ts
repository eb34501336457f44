// Options of the Raft core, with their defaults and validation.

import { RaftError } from './errors.js';
import type { Rand } from './random.js';
import type { RaftStorage } from './storage.js';
import type { NodeId } from './types.js';

export interface RaftOptions {
  /** This node's stable id. */
  id: NodeId;
  /** Durable state (read-only for the core). */
  storage: RaftStorage;
  /** Randomness for election timeouts (seeded in the simulator). */
  random: Rand;
  /** Ticks without hearing from a leader before campaigning (randomised up to 2x). Default 10. */
  electionTicks?: number;
  /** Ticks between leader heartbeats. Must be < electionTicks. Default 1. */
  heartbeatTicks?: number;
  /** Index the state machine has already applied (default: the storage's snapshot index). */
  applied?: number;
  /** Pre-vote phase before a real election (a rejoining node cannot raise the term). Default true. */
  preVote?: boolean;
  /**
   * The leader steps down when it has not heard from a quorum for an election timeout, and
   * followers ignore votes while they hear from a leader. Required for lease reads. Default true.
   */
  checkQuorum?: boolean;
  /** Max bytes of entries in one AppendEntries (at least one entry is sent). Default 512 KiB. */
  maxSizePerMsgBytes?: number;
  /** Max AppendEntries in flight to one follower. Default 256. */
  maxInflightMsgs?: number;
  /** Max bytes of entries in flight to one follower; 0 = unlimited. Default 0. */
  maxInflightBytes?: number;
  /** Max bytes of uncommitted entries on the leader before proposals get BUSY; 0 = unlimited. Default 64 MiB. */
  maxUncommittedEntriesBytes?: number;
  /** Max bytes of committed entries handed out in one Ready. Default 4 MiB. */
  maxApplyBytesPerReady?: number;
  /** A learner may be promoted only when it is within this many entries of the commit index. Default 1000. */
  promoteMaxLagEntries?: number;
  /** Election priorities by node id (higher leads first; 0 never campaigns). Default: off. */
  priority?: Readonly<Record<NodeId, number>>;
  /**
   * DELIBERATELY UNSAFE, for the simulator's self-test only: commit entries of earlier terms
   * by counting replicas (breaks the Figure 8 rule). Default false.
   */
  unsafeCommitPreviousTerm?: boolean;
}

export const DEFAULTS = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxSizePerMsgBytes: 512 * 1024,
  maxInflightMsgs: 256,
  maxInflightBytes: 0,
  maxUncommittedEntriesBytes: 64 * 1024 * 1024,
  maxApplyBytesPerReady: 4 * 1024 * 1024,
  promoteMaxLagEntries: 1000,
  unsafeCommitPreviousTerm: false,
} as const;

export type ResolvedOptions = {
  -readonly [K in keyof typeof DEFAULTS]: (typeof DEFAULTS)[K] extends boolean ? boolean : number;
} & { priority: Readonly<Record<NodeId, number>> | undefined };

export function resolveOptions(o: RaftOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    electionTicks: o.electionTicks ?? DEFAULTS.electionTicks,
    heartbeatTicks: o.heartbeatTicks ?? DEFAULTS.heartbeatTicks,
    preVote: o.preVote ?? DEFAULTS.preVote,
    checkQuorum: o.checkQuorum ?? DEFAULTS.checkQuorum,
    maxSizePerMsgBytes: o.maxSizePerMsgBytes ?? DEFAULTS.maxSizePerMsgBytes,
    maxInflightMsgs: o.maxInflightMsgs ?? DEFAULTS.maxInflightMsgs,
    maxInflightBytes: o.maxInflightBytes ?? DEFAULTS.maxInflightBytes,
    maxUncommittedEntriesBytes: o.maxUncommittedEntriesBytes ?? DEFAULTS.maxUncommittedEntriesBytes,
    maxApplyBytesPerReady: o.maxApplyBytesPerReady ?? DEFAULTS.maxApplyBytesPerReady,
    promoteMaxLagEntries: o.promoteMaxLagEntries ?? DEFAULTS.promoteMaxLagEntries,
    unsafeCommitPreviousTerm: o.unsafeCommitPreviousTerm ?? DEFAULTS.unsafeCommitPreviousTerm,
    priority: o.priority,
  };
  const bad = (msg: string): never => {
    throw new RaftError('INVALID_CONFIG', msg);
  };
  if (!o.id) bad('id must be a non-empty string');
  const posInt = (name: keyof ResolvedOptions, min: number): void => {
    const v = r[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) bad(`${name} must be an integer >= ${min} (got ${String(v)})`);
  };
  posInt('electionTicks', 3);
  posInt('heartbeatTicks', 1);
  posInt('maxSizePerMsgBytes', 1);
  posInt('maxInflightMsgs', 1);
  posInt('maxInflightBytes', 0);
  posInt('maxUncommittedEntriesBytes', 0);
  posInt('maxApplyBytesPerReady', 1);
  posInt('promoteMaxLagEntries', 0);
  if (r.heartbeatTicks >= r.electionTicks) bad(`heartbeatTicks (${r.heartbeatTicks}) must be less than electionTicks (${r.electionTicks})`);
  if (r.priority) {
    for (const [id, p] of Object.entries(r.priority)) {
      if (!Number.isInteger(p) || p < 0) bad(`priority of ${id} must be an integer >= 0 (got ${p})`);
    }
  }
  return r;
}
