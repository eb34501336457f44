// The read side of durable Raft state, as the core sees it.
//
// The runtime writes storage (following the Ready contract in types.ts); the core only reads it,
// synchronously. Everything in it has been acknowledged as persisted, except that the core reads
// nothing it has not been told is stable.

import type { ConfState, Entry, HardState, Snapshot } from './types.js';

export interface InitialState {
  readonly hardState: HardState;
  /** Membership as of the latest snapshot (or the bootstrap configuration). */
  readonly confState: ConfState;
}

export interface RaftStorage {
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), at least one if lo < hi, and no more than `maxBytes` beyond the first.
   * Throws RaftError COMPACTED if lo <= snapshot index, UNAVAILABLE if hi > lastIndex() + 1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /**
   * Term of the entry at i, for snapshotIndex <= i <= lastIndex (the snapshot's own index
   * answers with the snapshot's term). Throws COMPACTED below, UNAVAILABLE above.
   */
  term(i: number): number;
  /** Index of the first entry still in the log (snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry (snapshot index if the log is empty). */
  lastIndex(): number;
  /** The latest snapshot. Throws SNAPSHOT_TEMPORARILY_UNAVAILABLE if not ready yet. */
  snapshot(): Snapshot;
}

/** Bytes an entry counts for in size limits: payload plus a fixed header estimate. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 24;
}

export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += entrySize(e);
  return n;
}

/** Keeps a prefix of `ents` whose size is at most maxBytes, but always at least one entry. */
export function limitSize<T extends Entry>(ents: T[], maxBytes: number): T[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let k = 1;
  for (; k < ents.length; k++) {
    size += entrySize(ents[k]!);
    if (size > maxBytes) break;
  }
  return k === ents.length ? ents : ents.slice(0, k);
}
