// The replicated log as one node sees it: stable entries in storage, an unstable tail in
// memory, and the commit/apply cursors.

import { RaftError, invariant } from './errors.js';
import { type RaftStorage, limitSize } from './storage.js';
import type { Entry, Snapshot } from './types.js';
import { Unstable } from './unstable.js';

export class RaftLog {
  readonly storage: RaftStorage;
  readonly unstable: Unstable;
  // invariant: applied <= applying <= committed <= lastIndex()
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index handed out to be applied (in a Ready). */
  applying: number;
  /** Highest index the runtime has applied. */
  applied: number;
  /** Upper bound on the bytes of committed entries handed out in one Ready. */
  readonly maxApplyingBytes: number;

  constructor(storage: RaftStorage, maxApplyingBytes: number) {
    this.storage = storage;
    this.maxApplyingBytes = maxApplyingBytes;
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything in the snapshot is committed and applied. The log may keep entries from
    // before the snapshot (a margin for lagging followers): they are not applied again.
    const start = Math.max(storage.firstIndex() - 1, storage.snapshot().meta.index);
    this.committed = start;
    this.applying = start;
    this.applied = start;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry i, or undefined if i is compacted or beyond the log. */
  term(i: number): number | undefined {
    const dummy = this.firstIndex() - 1;
    if (i < dummy || i > this.lastIndex()) return undefined;
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (e instanceof RaftError && (e.code === 'COMPACTED' || e.code === 'UNAVAILABLE')) return undefined;
      throw e;
    }
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    invariant(t !== undefined, 'term of the last index is unknown');
    return t;
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, term) at least as up to date as ours? */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries. Returns the index of the last new entry and, if entries of
   * ours were replaced, the first replaced index (else 0); undefined if the log does not contain
   * (prevIndex, prevTerm) (the consistency check fails).
   */
  maybeAppend(prevIndex: number, prevTerm: number, leaderCommit: number, ents: readonly Entry[]): { lastNew: number; truncatedFrom: number } | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    const ci = this.findConflict(ents);
    let truncatedFrom = 0;
    if (ci !== 0) {
      invariant(ci > this.committed, () => `entry ${ci} conflicts with committed entry (committed=${this.committed})`);
      if (ci <= this.lastIndex()) truncatedFrom = ci;
      this.append(ents.slice(ci - (prevIndex + 1)));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return { lastNew, truncatedFrom };
  }

  /** Appends entries at the end (or over a conflicting suffix). Returns the new last index. */
  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    invariant(after >= this.committed, () => `truncating below commit: append after ${after}, committed ${this.committed}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry in `ents` that is missing from our log or has a different
   * term there, or 0 if every entry is already present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * For fast back-off: the largest index <= `index` whose term is <= `term`, with that term.
   * Entries between it and `index` cannot match a log whose entry at `index` has `term`.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = Math.min(index, this.lastIndex()); ; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
  }

  commitTo(tocommit: number): void {
    if (this.committed < tocommit) {
      invariant(tocommit <= this.lastIndex(), () => `commit ${tocommit} beyond last index ${this.lastIndex()}`);
      this.committed = tocommit;
    }
  }

  /** Leader side: commit up to maxIndex if that entry is of `term` (Figure 8 rule). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  hasNextCommittedEnts(): boolean {
    if (this.unstable.snapshot) return false;
    return this.committed > this.applying;
  }

  /** Committed entries not yet handed out, bounded in bytes. */
  nextCommittedEnts(): Entry[] {
    if (!this.hasNextCommittedEnts()) return [];
    const lo = Math.max(this.applying + 1, this.firstIndex());
    return this.slice(lo, this.committed + 1, this.maxApplyingBytes);
  }

  acceptApplying(index: number): void {
    invariant(index <= this.committed, () => `applying ${index} beyond committed ${this.committed}`);
    this.applying = Math.max(this.applying, index);
  }

  appliedTo(index: number): void {
    if (index <= this.applied) return;
    invariant(index <= this.applying || index <= this.committed, () => `applied ${index} beyond committed ${this.committed}`);
    this.applied = index;
    this.applying = Math.max(this.applying, index);
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  restore(s: Snapshot): void {
    this.committed = s.meta.index;
    this.applying = Math.max(this.applying, s.meta.index);
    this.unstable.restore(s);
  }

  /** Entries in [lo, hi) bounded by maxBytes (at least one). Throws COMPACTED below first index. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    const first = this.firstIndex();
    if (lo < first) throw new RaftError('COMPACTED', `entries from ${lo} compacted (first index ${first})`);
    invariant(hi <= this.lastIndex() + 1, () => `slice(${lo}, ${hi}) beyond last index ${this.lastIndex()}`);
    const off = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < off) {
      ents = this.storage.entries(lo, Math.min(hi, off), maxBytes);
      if (ents.length < Math.min(hi, off) - lo) return ents; // size-limited
    }
    if (hi > off) {
      const u = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(u) : u;
    }
    return limitSize(ents, maxBytes);
  }
}
