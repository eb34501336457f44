// The state machine a user plugs into a RaftNode, with the hooks of both seed systems:
// SOFAJRaft's batched onApply and role events, and Apache Ratis' transaction lifecycle
// (startTransaction, preAppend, applySerial, apply).
//
// Where each hook runs:
//   startTransaction  leader only, before anything is logged; may reject (throw) or rewrite data
//   preAppend         leader only, in log order, just before the entry is appended
//   applySerial       every node, strictly in commit order, one entry at a time, synchronous
//   apply             every node, in commit order, a whole batch at a time; may be async; its
//                     results answer the proposals (on the leader)
//   snapshot hooks    save: a consistent image up to lastApplied; load: replace the state

import type { ConfState, NodeId } from '../core/types.js';

export interface CommittedEntry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

export interface SnapshotImage {
  /** Last applied index the image includes. */
  readonly index: number;
  readonly data: Uint8Array;
}

export interface StateMachine<R = unknown> {
  /**
   * Leader, before logging. Throw to reject: the caller gets STATE_MACHINE_ERROR and nothing is
   * logged. May return replacement data (e.g. with a leader-stamped time).
   */
  startTransaction?(data: Uint8Array): Uint8Array | void;
  /** Leader, in log order, right before the entry is appended. Throwing makes the leader step down. */
  preAppend?(entry: CommittedEntry): void;
  /** Every node, strictly in commit order, before `apply` sees the entry. */
  applySerial?(entry: CommittedEntry): void;
  /**
   * Every node, committed entries in order, in batches. Returns one result per entry (the
   * result answers the proposal on the leader). Entries at or below the state machine's own
   * durable applied index may be redelivered after a restart and must be skipped by it.
   */
  apply(entries: readonly CommittedEntry[]): Promise<R[]> | R[];
  /**
   * After a restart: committed entries at or below lastAppliedIndex() that the state machine
   * already holds, so they are not applied again. Wrappers that keep derived state outside the
   * user's store (the retry cache) learn from them. Called in log order, before later entries.
   */
  replayed?(entries: readonly CommittedEntry[]): void;
  /** A consistent image of the state up to the last applied entry. */
  saveSnapshot(): Promise<SnapshotImage> | SnapshotImage;
  /** Replaces the whole state with a snapshot image. */
  loadSnapshot(image: SnapshotImage): Promise<void> | void;
  /** Answers a read against the current state (called after the read's consistency wait). */
  query?(request: Uint8Array): Promise<Uint8Array> | Uint8Array;
  /** Index the state machine has durably applied (0 if it keeps nothing on disk). */
  lastAppliedIndex?(): number;

  onLeaderStart?(term: number): void;
  onLeaderStop?(term: number): void;
  onStartFollowing?(leader: NodeId, term: number): void;
  onStopFollowing?(leader: NodeId, term: number): void;
  /**
   * The membership changed; `index` is the log index of the last membership change applied (the
   * same on every replica for the same configuration; 0 when it is not known, after a snapshot).
   */
  onConfigurationCommitted?(conf: ConfState, index: number): void;
  onError?(err: Error): void;
}
