// The leader's view of replication to one peer, and the state machine of how it sends:
// Probe (one message at a time until the match point is known), Replicate (pipelined up to the
// inflight window) and Snapshot (waiting for an InstallSnapshot to finish).

import { invariant } from './errors.js';
import { Inflights } from './inflights.js';
import { ProgressState } from './types.js';

export class Progress {
  // invariant: match < next
  /** Highest index known to be replicated on the peer. */
  match = 0;
  /** Index of the next entry to send. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from the peer since the last check-quorum round. */
  recentActive = false;
  /** In Probe state: a probe was sent and sending pauses until it is answered (or a heartbeat). */
  probeSent = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, maxInflightBytes: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight, maxInflightBytes);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records entries just sent: `lastIndex` is the last one's index, `bytes` their size. */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === ProgressState.Probe) {
      if (count > 0) this.probeSent = true;
    } else {
      invariant(false, `sending entries to a peer in snapshot state`);
    }
  }

  /** An acknowledgement up to n. Returns false if it was stale (told nothing new). */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the append at `rejected`; `matchHint` is the follower's guess of where the
   * logs may agree. Returns false if the rejection is stale and must be ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // Pipelined: a rejection below match is a stale reply.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // Probe: only the answer to the current probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  isPaused(): boolean {
    switch (this.state) {
      case ProgressState.Probe:
        return this.probeSent;
      case ProgressState.Replicate:
        return this.inflights.full();
      case ProgressState.Snapshot:
        return true;
    }
  }
}
