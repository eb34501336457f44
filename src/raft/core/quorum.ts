// Pure quorum math: majority and joint configurations. No state, no side effects.

import type { NodeId } from './types.js';

export type VoteResult = 'pending' | 'lost' | 'won';

/** A set of voters deciding by simple majority. */
export type MajorityConfig = ReadonlySet<NodeId>;

/**
 * The highest index that a majority of `voters` has acknowledged, given each voter's
 * acknowledged index (missing voters count as 0). An empty config returns +Infinity so that a
 * joint config whose outgoing half is empty is decided by the incoming half alone.
 */
export function majorityCommitted(voters: MajorityConfig, acked: (id: NodeId) => number | undefined): number {
  const n = voters.size;
  if (n === 0) return Number.POSITIVE_INFINITY;
  const idx: number[] = [];
  for (const id of voters) idx.push(acked(id) ?? 0);
  idx.sort((a, b) => b - a);
  // The (n/2+1)-th highest value is held by a majority.
  return idx[Math.floor(n / 2)]!;
}

export function majorityVote(voters: MajorityConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.size === 0) return 'won';
  let yes = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) yes++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (yes >= q) return 'won';
  if (yes + missing >= q) return 'pending';
  return 'lost';
}

/** A joint configuration: [incoming, outgoing]. Outside a joint config, outgoing is empty. */
export interface JointConfig {
  readonly incoming: MajorityConfig;
  readonly outgoing: MajorityConfig;
}

export function jointCommitted(cfg: JointConfig, acked: (id: NodeId) => number | undefined): number {
  const a = majorityCommitted(cfg.incoming, acked);
  const b = majorityCommitted(cfg.outgoing, acked);
  const c = Math.min(a, b);
  // Both halves empty: nothing can commit.
  return c === Number.POSITIVE_INFINITY ? 0 : c;
}

/** A joint decision needs both halves: lost if either lost, won if both won. */
export function jointVote(cfg: JointConfig, votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  const a = majorityVote(cfg.incoming, votes);
  const b = majorityVote(cfg.outgoing, votes);
  if (a === b) return a;
  if (a === 'lost' || b === 'lost') return 'lost';
  return 'pending';
}

export function jointIds(cfg: JointConfig): Set<NodeId> {
  const s = new Set<NodeId>(cfg.incoming);
  for (const id of cfg.outgoing) s.add(id);
  return s;
}

export function isJoint(cfg: JointConfig): boolean {
  return cfg.outgoing.size > 0;
}
