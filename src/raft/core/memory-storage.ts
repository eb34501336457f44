// An in-memory RaftStorage. Used by tests and by the simulator, where it plays the part of the
// durable disk (the simulator decides when writes to it become "durable"). Never used in place
// of the real log in the runtime.

import { RaftError, invariant } from './errors.js';
import { type InitialState, type RaftStorage, limitSize } from './storage.js';
import {
  type ConfState,
  type Entry,
  EMPTY_HARD_STATE,
  EntryType,
  type HardState,
  type Snapshot,
} from './types.js';

export const EMPTY_CONF_STATE: ConfState = {
  voters: [],
  votersOutgoing: [],
  learners: [],
  learnersNext: [],
  autoLeave: false,
};

export class MemoryStorage implements RaftStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  // invariant: ents[0] is a dummy entry at snap.meta.index with snap.meta.term;
  // invariant: ents[k].index === ents[0].index + k
  private ents: Entry[];

  constructor(confState: ConfState = EMPTY_CONF_STATE) {
    this.snap = { meta: { index: 0, term: 0, confState }, data: new Uint8Array(0) };
    this.ents = [dummy(0, 0)];
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.meta.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  getHardState(): HardState {
    return this.hardState;
  }

  private offset(): number {
    return this.ents[0]!.index;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const off = this.offset();
    if (lo <= off) throw new RaftError('COMPACTED', `entries [${lo}, ${hi}) compacted at ${off}`);
    if (hi > this.lastIndex() + 1) {
      throw new RaftError('UNAVAILABLE', `entries [${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    }
    return limitSize(this.ents.slice(lo - off, hi - off), maxBytes);
  }

  term(i: number): number {
    const off = this.offset();
    if (i < off) throw new RaftError('COMPACTED', `term(${i}) compacted at ${off}`);
    if (i - off >= this.ents.length) {
      throw new RaftError('UNAVAILABLE', `term(${i}) beyond last index ${this.lastIndex()}`);
    }
    return this.ents[i - off]!.term;
  }

  firstIndex(): number {
    return this.offset() + 1;
  }

  lastIndex(): number {
    return this.offset() + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole log with a snapshot (a follower installing one). */
  applySnapshot(snap: Snapshot): void {
    if (snap.meta.index < this.snap.meta.index) {
      throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot ${snap.meta.index} older than ${this.snap.meta.index}`);
    }
    this.snap = snap;
    this.ents = [dummy(snap.meta.index, snap.meta.term)];
  }

  /** Records a snapshot of the state machine at `index` (which must be in the log). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.meta.index) {
      throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot ${index} not newer than ${this.snap.meta.index}`);
    }
    invariant(index <= this.lastIndex(), `snapshot index ${index} beyond last index ${this.lastIndex()}`);
    this.snap = { meta: { index, term: this.term(index), confState }, data };
    return this.snap;
  }

  /** Discards entries up to and including `compactIndex`. */
  compact(compactIndex: number): void {
    const off = this.offset();
    if (compactIndex <= off) return;
    invariant(compactIndex <= this.lastIndex(), `compact ${compactIndex} beyond last index ${this.lastIndex()}`);
    const k = compactIndex - off;
    const head = this.ents[k]!;
    this.ents = [dummy(head.index, head.term), ...this.ents.slice(k + 1)];
  }

  /** Appends entries; an entry at an existing index replaces it and everything after it. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    let ents = entries;
    // Entries already compacted away are dropped.
    if (ents[0]!.index < first) {
      const last = ents[ents.length - 1]!.index;
      if (last < first) return;
      ents = ents.slice(first - ents[0]!.index);
    }
    const off = this.offset();
    const at = ents[0]!.index - off;
    invariant(at <= this.ents.length, () => `append gap: log ends at ${this.lastIndex()}, got ${ents[0]!.index}`);
    this.ents = this.ents.slice(0, at).concat(ents);
  }
}

function dummy(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: new Uint8Array(0) };
}
