// The membership configuration and the leader's per-peer progress, with the quorum questions
// asked of them (commit index, election result, is a quorum recently active).

import { invariant } from './errors.js';
import { Progress } from './progress.js';
import { type JointConfig, type VoteResult, isJoint, jointCommitted, jointIds, jointVote } from './quorum.js';
import type { ConfState, NodeId } from './types.js';

export interface TrackerConfig {
  readonly voters: JointConfig;
  /** Non-voting members. invariant: disjoint from voters.incoming and voters.outgoing. */
  readonly learners: ReadonlySet<NodeId>;
  /**
   * Outgoing voters that become learners when the joint config is left.
   * invariant: subset of voters.outgoing, disjoint from learners.
   */
  readonly learnersNext: ReadonlySet<NodeId>;
  /** Leave the joint config automatically once it is committed. */
  readonly autoLeave: boolean;
}

export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  voters: { incoming: new Set(), outgoing: new Set() },
  learners: new Set(),
  learnersNext: new Set(),
  autoLeave: false,
};

export class ProgressTracker {
  config: TrackerConfig = EMPTY_TRACKER_CONFIG;
  /** invariant: keys = voters ∪ learners of `config`. */
  progress = new Map<NodeId, Progress>();
  readonly votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  confState(): ConfState {
    const c = this.config;
    return {
      voters: [...c.voters.incoming].sort(),
      votersOutgoing: [...c.voters.outgoing].sort(),
      learners: [...c.learners].sort(),
      learnersNext: [...c.learnersNext].sort(),
      autoLeave: c.autoLeave,
    };
  }

  isJoint(): boolean {
    return isJoint(this.config.voters);
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  isMember(id: NodeId): boolean {
    return this.progress.has(id);
  }

  /** A single voter and nothing else: it commits and elects alone. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  voterIds(): Set<NodeId> {
    return jointIds(this.config.voters);
  }

  /** The largest index acknowledged by a quorum of the (possibly joint) voters. */
  committed(): number {
    return jointCommitted(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** Whether a quorum has been heard from since the last reset of recentActive. */
  quorumActive(self: NodeId): boolean {
    const active = new Map<NodeId, boolean>();
    for (const [id, pr] of this.progress) {
      if (pr.isLearner) continue;
      active.set(id, id === self || pr.recentActive);
    }
    return jointVote(this.config.voters, active) === 'won';
  }

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records the first answer of `id` in this election; later duplicates are ignored. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterIds()) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return { granted, rejected, result: jointVote(this.config.voters, this.votes) };
  }

  /** Checks the structural invariants of a configuration; throws on violation. */
  static assertValid(cfg: TrackerConfig, progress: ReadonlyMap<NodeId, Progress>): void {
    const voters = jointIds(cfg.voters);
    for (const id of cfg.learners) {
      invariant(!voters.has(id), `${id} is both voter and learner`);
      invariant(!cfg.learnersNext.has(id), `${id} in learners and learnersNext`);
    }
    for (const id of cfg.learnersNext) {
      invariant(cfg.voters.outgoing.has(id), `${id} in learnersNext but not an outgoing voter`);
    }
    invariant(isJoint(cfg.voters) || cfg.learnersNext.size === 0, 'learnersNext outside a joint config');
    invariant(isJoint(cfg.voters) || !cfg.autoLeave, 'autoLeave outside a joint config');
    for (const id of voters) invariant(progress.has(id), `voter ${id} has no progress`);
    for (const id of cfg.learners) invariant(progress.get(id)?.isLearner === true, `learner ${id} progress not learner`);
    for (const [id, pr] of progress) {
      invariant(voters.has(id) || cfg.learners.has(id), `progress for non-member ${id}`);
      // A voter that will become a learner (learnersNext) is still a voter now.
      invariant(pr.isLearner === cfg.learners.has(id), `progress.isLearner wrong for ${id}`);
    }
  }
}
