// DiskStorage: the durable NodeStorage of a Raft node, composed of the segmented log
// (`log/`), the hard state (`meta.json`) and snapshots (`snap/`) in one data directory.

import { mkdirSync } from 'node:fs';
import { RaftError } from '../raft/core/errors.js';
import type { InitialState } from '../raft/core/storage.js';
import type { Entry, HardState, Snapshot } from '../raft/core/types.js';
import type { NodeStorage } from '../raft/runtime/node-storage.js';
import { LogStore, type LogStoreOptions } from './log-store.js';
import { MetaStore } from './meta-store.js';
import { SnapshotStore } from './snapshot-store.js';

export interface DiskStorageOptions extends LogStoreOptions {
  /** Snapshots kept on disk. Default 2. */
  keepSnapshots?: number;
}

export class DiskStorage implements NodeStorage {
  private constructor(
    readonly dir: string,
    private readonly log: LogStore,
    private readonly meta: MetaStore,
    private readonly snaps: SnapshotStore,
  ) {}

  /** Opens the data directory, recovering the log (see LogStore) and reconciling the snapshot. */
  static open(dir: string, opts: DiskStorageOptions = {}): DiskStorage {
    mkdirSync(dir, { recursive: true });
    const snaps = SnapshotStore.open(`${dir}/snap`, opts.keepSnapshots ?? 2);
    const log = LogStore.open(`${dir}/log`, opts);
    const meta = MetaStore.load(dir);
    const s = snaps.snapshot.meta;
    if (s.index > 0) {
      const t = log.term(s.index);
      if (t === s.term || (t === undefined && s.index === log.firstIndex() - 1)) {
        // The log continues the snapshot (and may keep entries before it for lagging peers).
        log.knowBase(s.index, s.term);
      } else if (s.index >= log.firstIndex() - 1) {
        // The log does not continue the snapshot (a crash while installing one, or the log is
        // behind it): the snapshot wins and the log restarts after it.
        log.reset(s.index, s.term);
      }
    }
    return new DiskStorage(dir, log, meta, snaps);
  }

  initialState(): InitialState {
    return { hardState: this.meta.hardState, confState: this.snaps.snapshot.meta.confState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.log.entries(lo, hi, maxBytes);
  }

  term(i: number): number {
    const s = this.snaps.snapshot.meta;
    if (i === s.index) return s.term;
    const t = this.log.term(i);
    if (t !== undefined) return t;
    if (i < this.log.firstIndex()) throw new RaftError('COMPACTED', `term(${i}) is compacted (first index ${this.log.firstIndex()})`);
    throw new RaftError('UNAVAILABLE', `term(${i}) beyond last index ${this.log.lastIndex()}`);
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return Math.max(this.log.lastIndex(), this.snaps.snapshot.meta.index);
  }

  snapshot(): Snapshot {
    return this.snaps.snapshot;
  }

  setHardState(hs: HardState): void {
    this.meta.set(hs);
  }

  getHardState(): HardState {
    return this.meta.hardState;
  }

  append(entries: readonly Entry[]): void {
    this.log.append(entries);
  }

  async sync(): Promise<void> {
    // Entries and meta are independent files: sync both, in parallel.
    await Promise.all([this.log.sync(), this.meta.sync()]);
  }

  async installSnapshot(snap: Snapshot): Promise<void> {
    // Snapshot first: if we crash before the log is reset, open() sees a snapshot the log does
    // not continue and resets the log then.
    await this.snaps.save(snap);
    this.log.reset(snap.meta.index, snap.meta.term);
    await this.log.sync();
  }

  async saveSnapshot(snap: Snapshot, compactIndex: number): Promise<void> {
    await this.snaps.save(snap);
    this.log.compact(Math.min(compactIndex, snap.meta.index));
    await this.log.sync();
  }

  async close(): Promise<void> {
    await this.meta.sync(true);
    await this.log.close();
  }
}
