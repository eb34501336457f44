// Delivers committed entries and installed snapshots to the state machine, strictly in order,
// one job at a time (an async apply of one batch finishes before the next starts). The Raft
// loop never waits for it: persisting and replicating go on while the state machine works.

import { invariant } from '../core/errors.js';
import { type ConfState, type Entry, EntryType, type Snapshot } from '../core/types.js';
import type { CommittedEntry, StateMachine } from './state-machine.js';

type Job =
  | { readonly kind: 'entries'; readonly entries: readonly Entry[]; readonly confState: ConfState | undefined }
  | { readonly kind: 'snapshot'; readonly snapshot: Snapshot };

export interface ApplierEvents<R> {
  /** Results for applied user entries (same order as `entries`). */
  applied(entries: readonly CommittedEntry[], results: readonly R[]): void;
  /** A user entry batch failed in the state machine. */
  failed(entries: readonly CommittedEntry[], err: Error): void;
  /** Everything up to `index` is applied (including no-ops and membership changes). */
  progressed(index: number, confState: ConfState): void;
  /** A snapshot replaced the state; proposals up to its index have an unknown outcome here. */
  snapshotLoaded(index: number): void;
  fatal(err: Error): void;
}

export class Applier<R> {
  private readonly queue: Job[] = [];
  private running = false;
  // invariant: appliedIndex only grows; every entry <= appliedIndex has been applied (or skipped
  // because the state machine already had it durably)
  appliedIndex: number;
  /** Membership as of appliedIndex (what a snapshot taken now must record). */
  confState: ConfState;
  /** Log index of the last membership change applied (0 when unknown, e.g. after a snapshot). */
  confIndex = 0;
  /** Set once a job failed fatally; nothing more is applied. */
  private broken = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly sm: StateMachine<R>,
    private readonly events: ApplierEvents<R>,
    startIndex: number,
    startConf: ConfState,
    /** Entries at or below this index are already in the state machine (durably). */
    private readonly smDurableIndex: number,
  ) {
    this.appliedIndex = startIndex;
    this.confState = startConf;
  }

  get pending(): number {
    return this.queue.length;
  }

  enqueueEntries(entries: readonly Entry[], confState: ConfState | undefined): void {
    if (entries.length === 0 && !confState) return;
    this.queue.push({ kind: 'entries', entries, confState });
    this.kick();
  }

  enqueueSnapshot(snapshot: Snapshot): void {
    this.queue.push({ kind: 'snapshot', snapshot });
    this.kick();
  }

  /** Resolves when every queued job has been applied. */
  drained(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private kick(): void {
    if (this.running || this.broken) return;
    this.running = true;
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.broken) {
        const job = this.queue.shift()!;
        if (job.kind === 'snapshot') await this.loadSnapshot(job.snapshot);
        else await this.applyEntries(job.entries, job.confState);
      }
    } catch (err) {
      this.broken = true;
      this.events.fatal(err as Error);
    } finally {
      this.running = false;
      const idle = this.idle;
      this.idle = [];
      for (const r of idle) r();
    }
  }

  private async loadSnapshot(s: Snapshot): Promise<void> {
    if (s.meta.index <= this.appliedIndex) return;
    await this.sm.loadSnapshot({ index: s.meta.index, data: s.data });
    this.appliedIndex = s.meta.index;
    this.confState = s.meta.confState;
    this.events.snapshotLoaded(s.meta.index);
    this.events.progressed(this.appliedIndex, this.confState);
  }

  private async applyEntries(entries: readonly Entry[], confState: ConfState | undefined): Promise<void> {
    const user: CommittedEntry[] = [];
    /** Entries the state machine holds durably already (a restart): not applied again. */
    const replayed: CommittedEntry[] = [];
    const first = entries[0];
    if (first) invariant(first.index <= this.appliedIndex + 1, () => `apply gap: applied ${this.appliedIndex}, next batch starts at ${first.index}`);
    for (const e of entries) {
      if (e.index <= this.appliedIndex) continue; // already covered by a snapshot
      if (e.type === EntryType.ConfChange) this.confIndex = e.index;
      if (e.type === EntryType.Normal && e.data.byteLength > 0) {
        const ce: CommittedEntry = { index: e.index, term: e.term, data: e.data };
        if (e.index <= this.smDurableIndex) {
          replayed.push(ce);
          continue;
        }
        // In log order: what the state machine already held is told before anything later.
        if (replayed.length > 0) this.sm.replayed?.(replayed.splice(0));
        this.sm.applySerial?.(ce);
        user.push(ce);
      }
    }
    if (replayed.length > 0) this.sm.replayed?.(replayed);
    if (user.length > 0) {
      let results: R[];
      try {
        results = await this.sm.apply(user);
      } catch (err) {
        // A deterministic state machine fails the same way on every replica; the entries are
        // still consumed so the log moves on, and their proposers get the error.
        this.events.failed(user, err as Error);
        results = [];
      }
      if (results.length > 0) {
        invariant(results.length === user.length, () => `state machine returned ${results.length} results for ${user.length} entries`);
        this.events.applied(user, results);
      }
    }
    const last = entries[entries.length - 1];
    if (last && last.index > this.appliedIndex) this.appliedIndex = last.index;
    if (confState) this.confState = confState;
    this.events.progressed(this.appliedIndex, this.confState);
  }
}
