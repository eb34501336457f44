// Proposals waiting for their entry to commit and apply (JRaft's ballot box closures).
//
// A proposal is identified by the LogId the leader gave it. It succeeds when the entry applied
// at that index has the same term; an entry of another term at that index means a new leader
// overwrote it (LEADER_CHANGED: not applied). Proposals outlive leadership changes: a deposed
// leader still learns, as a follower, which of its entries committed.

import { RaftNodeError } from './errors.js';

interface Pending<R> {
  readonly term: number;
  readonly deadlineMs: number;
  readonly resolve: (v: { term: number; index: number; result: R }) => void;
  readonly reject: (e: Error) => void;
}

export class PendingProposals<R> {
  // invariant: keys inserted in increasing index order (the leader appends in order)
  private readonly byIndex = new Map<number, Pending<R>>();

  get size(): number {
    return this.byIndex.size;
  }

  add(index: number, term: number, deadlineMs: number): Promise<{ term: number; index: number; result: R }> {
    return new Promise((resolve, reject) => {
      this.byIndex.set(index, { term, deadlineMs, resolve, reject });
    });
  }

  /** The entry at `index` of `term` was applied with `result`. */
  applied(index: number, term: number, result: R): void {
    const p = this.byIndex.get(index);
    if (!p) return;
    this.byIndex.delete(index);
    if (p.term === term) p.resolve({ term, index, result });
    else p.reject(new RaftNodeError('LEADER_CHANGED', `entry ${index} of term ${p.term} was replaced by term ${term}; it was not applied`));
  }

  /** The entry at `index` of `term` failed in the state machine. */
  failed(index: number, term: number, err: Error): void {
    const p = this.byIndex.get(index);
    if (!p) return;
    this.byIndex.delete(index);
    if (p.term === term) p.reject(new RaftNodeError('STATE_MACHINE_ERROR', `state machine failed entry ${index}: ${err.message}`));
    else p.reject(new RaftNodeError('LEADER_CHANGED', `entry ${index} of term ${p.term} was replaced by term ${term}`));
  }

  /** Entries up to `index` were replaced by a snapshot: their outcome is unknown here. */
  skippedTo(index: number): void {
    for (const [i, p] of this.byIndex) {
      if (i > index) break;
      this.byIndex.delete(i);
      p.reject(new RaftNodeError('TIMEOUT', `entry ${i} was compacted into a snapshot before this node applied it; outcome unknown`));
    }
  }

  /** Fails proposals whose deadline passed (outcome unknown). */
  expire(nowMs: number): void {
    for (const [i, p] of this.byIndex) {
      if (p.deadlineMs > nowMs) continue;
      this.byIndex.delete(i);
      p.reject(new RaftNodeError('TIMEOUT', `entry ${i} did not commit in time; outcome unknown`));
    }
  }

  failAll(err: Error): void {
    for (const p of this.byIndex.values()) p.reject(err);
    this.byIndex.clear();
  }
}
