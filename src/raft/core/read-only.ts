// Linearizable reads on the leader: ReadIndex rounds and the leader lease.
//
// ReadIndex: a read request waits (batched with every other request that arrives before the
// next flush) until the leader has committed an entry of its term, then records the commit
// index as the read point and confirms leadership with one heartbeat round. When a quorum
// answers that round (or any later one), every request of the round may be served once the
// state machine has applied the read point.
//
// Lease: a heartbeat sent at tick t and answered by a follower proves that follower will not
// vote for anybody else before t + electionTicks on its own clock (it ignores votes while it has
// heard from its leader within an election timeout). When a quorum has such proofs younger than
// leaseTicks, no other leader can exist yet and the leader can answer reads at once.

import { jointVote, majorityCommitted, type JointConfig } from './quorum.js';
import type { NodeId } from './types.js';

export interface ReadRequest {
  readonly id: string;
  /** Who asked: the leader itself or a follower that forwarded the request. */
  readonly from: NodeId;
}

interface Round {
  /** The heartbeat sequence number that confirms this round. */
  readonly seq: number;
  /** Commit index when the round started: the read point. */
  readonly index: number;
  readonly requests: ReadRequest[];
  readonly acks: Map<NodeId, boolean>;
}

export class ReadOnly {
  /** Requests not yet in a round (waiting for the next flush, or for the first commit of the term). */
  private waiting: ReadRequest[] = [];
  // invariant: rounds are ordered by seq, ascending
  private rounds: Round[] = [];
  private nextSeq = 1;
  /** Heartbeat seq -> tick it was sent at, for recent heartbeats only. */
  private readonly sentAt = new Map<number, number>();
  /** Per peer: the send tick of the newest heartbeat it answered. */
  private readonly leaseAck = new Map<NodeId, number>();

  constructor(private readonly keepHeartbeats: number) {}

  add(req: ReadRequest): void {
    this.waiting.push(req);
  }

  hasWaiting(): boolean {
    return this.waiting.length > 0;
  }

  /** Removes and returns the requests not yet in a round. */
  takeWaiting(): ReadRequest[] {
    const w = this.waiting;
    this.waiting = [];
    return w;
  }

  /** Allocates the sequence number of a heartbeat broadcast sent at `tick`. */
  nextHeartbeat(tick: number): number {
    const seq = this.nextSeq++;
    this.sentAt.set(seq, tick);
    if (this.sentAt.size > this.keepHeartbeats) {
      const oldest = this.sentAt.keys().next().value as number;
      this.sentAt.delete(oldest);
    }
    return seq;
  }

  /** Moves every waiting request into a round confirmed by heartbeat `seq`, read point `index`. */
  startRound(seq: number, index: number, self: NodeId): void {
    if (this.waiting.length === 0) return;
    const acks = new Map<NodeId, boolean>([[self, true]]);
    this.rounds.push({ seq, index, requests: this.waiting, acks });
    this.waiting = [];
  }

  /** Records that `from` answered heartbeat `seq`. */
  recvAck(from: NodeId, seq: number): void {
    const t = this.sentAt.get(seq);
    if (t !== undefined && (this.leaseAck.get(from) ?? -1) < t) this.leaseAck.set(from, t);
    // An answer to heartbeat `seq` also confirms every earlier round.
    for (const r of this.rounds) {
      if (r.seq > seq) break;
      r.acks.set(from, true);
    }
  }

  /** Removes and returns the rounds confirmed by a quorum of `voters`, oldest first. */
  takeConfirmed(voters: JointConfig): Array<{ index: number; requests: ReadRequest[] }> {
    let k = -1;
    for (let i = this.rounds.length - 1; i >= 0; i--) {
      if (jointVote(voters, this.rounds[i]!.acks) === 'won') {
        k = i;
        break;
      }
    }
    if (k < 0) return [];
    return this.rounds.splice(0, k + 1).map((r) => ({ index: r.index, requests: r.requests }));
  }

  /** The send tick of the newest heartbeat a quorum has answered (self counts as `now`). */
  quorumAckTick(voters: JointConfig, self: NodeId, now: number): number {
    const ticks = (id: NodeId): number => (id === self ? now : (this.leaseAck.get(id) ?? -1));
    return Math.min(majorityCommitted(voters.incoming, ticks), majorityCommitted(voters.outgoing, ticks));
  }

  /** Every request still pending (waiting or in a round); clears all state. */
  drain(): ReadRequest[] {
    const out = [...this.waiting];
    for (const r of this.rounds) out.push(...r.requests);
    this.waiting = [];
    this.rounds = [];
    this.sentAt.clear();
    this.leaseAck.clear();
    return out;
  }
}
