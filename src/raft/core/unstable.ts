// The tail of the log not yet acknowledged as persisted: entries (and possibly a snapshot)
// that the runtime has been, or will be, asked to write. Once the runtime acknowledges a write,
// the entries move out of here and are read from storage.

import { invariant } from './errors.js';
import type { Entry, Snapshot } from './types.js';

export class Unstable {
  /** A snapshot received from the leader, not yet persisted. */
  snapshot: Snapshot | undefined;
  /** The snapshot has been handed out to be persisted. */
  snapshotInProgress = false;
  entries: Entry[] = [];
  // invariant: entries[k].index === offset + k
  offset: number;
  // invariant: offset <= offsetInProgress <= offset + entries.length
  /** Entries before this index have been handed out to be persisted. */
  offsetInProgress: number;

  constructor(offset: number) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.meta.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.meta.index : undefined;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.meta.index === i) return this.snapshot.meta.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** Entries not yet handed out for persistence. */
  nextEntries(): Entry[] {
    const k = this.offsetInProgress - this.offset;
    return k >= this.entries.length ? [] : this.entries.slice(k);
  }

  nextSnapshot(): Snapshot | undefined {
    return this.snapshot && !this.snapshotInProgress ? this.snapshot : undefined;
  }

  /** Marks everything currently here as handed out. */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.offset + this.entries.length;
    if (this.snapshot) this.snapshotInProgress = true;
  }

  /** The runtime persisted entries up to (i, t): drop them from here if they are still ours. */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    this.entries = this.entries.slice(i + 1 - this.offset);
    this.offset = i + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.meta.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  restore(s: Snapshot): void {
    this.offset = s.meta.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const from = ents[0]!.index;
    if (from === this.offset + this.entries.length) {
      for (const e of ents) this.entries.push(e);
    } else if (from <= this.offset) {
      // Replaces everything here (and, in storage, everything from `from` on).
      this.entries = ents.slice();
      this.offset = from;
      this.offsetInProgress = from;
    } else {
      this.entries = this.entries.slice(0, from - this.offset).concat(ents);
      this.offsetInProgress = Math.min(this.offsetInProgress, from);
    }
  }

  /** Entries in [lo, hi), which must lie within this tail. */
  slice(lo: number, hi: number): Entry[] {
    invariant(lo >= this.offset && hi <= this.offset + this.entries.length, () => `unstable.slice(${lo}, ${hi}) out of [${this.offset}, ${this.offset + this.entries.length})`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
