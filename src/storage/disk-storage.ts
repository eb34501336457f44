// DiskStorage: the durable NodeStorage of one Raft node, composing three stores in one data
// directory:
//
//   <dir>/meta     hard state + ConfState, replaced atomically (meta-store.ts)
//   <dir>/log/     the segmented log (log-store.ts, segment.ts)
//   <dir>/snap/    snapshots, newest `keepSnapshots` kept (snapshot-store.ts)
//
// It answers the core's RaftStorage reads like MemoryStorage does (same entries, terms, first and
// last index, same COMPACTED / UNAVAILABLE errors) for the same sequence of writes. One
// difference is deliberate: compaction logically drops entries at once but deletes only whole
// segments, so after a reopen firstIndex() may be lower than before (the entries still on disk
// are served again; never fewer than before).
//
// Crash consistency between the stores:
// - installSnapshot() writes the snapshot durably before dropping the log. If the process dies
//   in between, open() finds a log that does not contain the snapshot's last entry (with its
//   term) and resets the log behind the snapshot.
// - saveSnapshot() writes the snapshot before compacting, so the log never starts after the
//   latest snapshot; open() refuses (CORRUPT_LOG) a log that does.
// - The commit index is written lazily and in parallel with the log; open() brings it within
//   [snapshot index, last index], as the core requires (commit is only an optimisation).

import { mkdir } from 'node:fs/promises';
import { RaftError, invariant } from '../raft/core/errors.js';
import { EMPTY_CONF_STATE } from '../raft/core/memory-storage.js';
import type { InitialState } from '../raft/core/storage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../raft/core/types.js';
import type { NodeStorage } from '../raft/runtime/node-storage.js';
import { StorageError, ioError } from './errors.js';
import { LogStore, type LogStoreOptions } from './log-store.js';
import { type StorageLogger, noopStorageLogger } from './logger.js';
import { MetaStore } from './meta-store.js';
import { type SnapshotData, SnapshotStore } from './snapshot-store.js';

export interface DiskStorageOptions extends LogStoreOptions {
  /** Snapshots kept on disk. Default 2. */
  keepSnapshots?: number;
  /**
   * Entries kept behind a snapshot when saveSnapshot() compacts the log, on top of whatever the
   * caller's compactIndex keeps (lagging followers can then catch up from the log instead of
   * needing the snapshot). Default 0.
   */
  compactMarginEntries?: number;
  logger?: StorageLogger;
  /** Also told about every repair made on open (the warn-level messages), as one line each. */
  onRepair?: (message: string) => void;
}

export class DiskStorage implements NodeStorage {
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly log: LogStore,
    private readonly meta: MetaStore,
    private readonly snaps: SnapshotStore,
    private readonly margin: number,
  ) {}

  /** Opens (creating if needed) a data directory, recovering and reconciling its stores. */
  static async open(dir: string, opts: DiskStorageOptions = {}): Promise<DiskStorage> {
    const logger = withRepairCallback(opts.logger ?? noopStorageLogger, opts.onRepair);
    const margin = opts.compactMarginEntries ?? 0;
    if (!Number.isSafeInteger(margin) || margin < 0) {
      throw new StorageError('INVALID_ARGUMENT', `compactMarginEntries must be a non-negative integer, got ${margin}`);
    }
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw ioError(`create data directory ${dir}`, err);
    }
    const snaps = await SnapshotStore.open(`${dir}/snap`, { keep: opts.keepSnapshots ?? 2, logger });
    const meta = await MetaStore.open(dir, logger);
    const log = await LogStore.open(`${dir}/log`, { ...opts, logger });
    try {
      await reconcile(dir, log, meta, snaps, logger);
    } catch (err) {
      await log.close().catch(() => {});
      throw err;
    }
    return new DiskStorage(dir, log, meta, snaps, margin);
  }

  // ------------------------------------------------------------------ RaftStorage (reads)

  initialState(): InitialState {
    this.checkOpen();
    const snap = this.snaps.latest().meta;
    const confState = snap.index > 0 ? snap.confState : (this.meta.confState ?? EMPTY_CONF_STATE);
    return { hardState: this.meta.hardState, confState };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    this.checkOpen();
    return this.log.entries(lo, hi, maxBytes);
  }

  term(i: number): number {
    this.checkOpen();
    const t = this.log.term(i);
    if (t !== undefined) return t;
    if (i < this.log.firstIndex() - 1) throw new RaftError('COMPACTED', `term(${i}) compacted at ${this.log.firstIndex() - 1}`);
    throw new RaftError('UNAVAILABLE', `term(${i}) beyond last index ${this.log.lastIndex()}`);
  }

  firstIndex(): number {
    this.checkOpen();
    return this.log.firstIndex();
  }

  lastIndex(): number {
    this.checkOpen();
    return this.log.lastIndex();
  }

  snapshot(): Snapshot {
    this.checkOpen();
    return this.snaps.latest();
  }

  // ------------------------------------------------------------------ NodeStorage (writes)

  setHardState(hs: HardState): void {
    this.checkOpen();
    this.meta.setHardState(hs);
  }

  getHardState(): HardState {
    return this.meta.hardState;
  }

  /**
   * Records the node's configuration outside any snapshot (e.g. the bootstrap configuration);
   * initialState() reports it until a snapshot carries one. Durable after sync().
   */
  setConfState(cs: ConfState): void {
    this.checkOpen();
    this.meta.setConfState(cs);
  }

  append(entries: readonly Entry[]): void {
    this.checkOpen();
    this.log.append(entries);
  }

  /** Makes every write so far durable (log entries and meta in parallel; shared by callers). */
  async sync(): Promise<void> {
    this.checkOpen();
    await Promise.all([this.log.sync(), this.meta.sync()]);
  }

  /** Replaces the log with a snapshot received from the leader; durable when it resolves. */
  async installSnapshot(snap: Snapshot): Promise<void> {
    this.checkOpen();
    const cur = this.snaps.latest().meta.index;
    if (snap.meta.index < cur) {
      throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot ${snap.meta.index} older than ${cur}`);
    }
    await this.snaps.save(snap.meta, snap.data);
    this.log.reset(snap.meta.index, snap.meta.term);
    await this.log.sync();
  }

  /**
   * Records a snapshot taken locally (its index must be in the log) and compacts the log up to
   * min(compactIndex, index - compactMarginEntries), whole segments at a time.
   */
  async saveSnapshot(snap: Snapshot, compactIndex: number): Promise<void> {
    await this.saveSnapshotData(snap.meta, snap.data, compactIndex);
  }

  /** saveSnapshot() with the data streamed from chunks (it is not held in memory). */
  async saveSnapshotData(meta: Snapshot['meta'], data: SnapshotData, compactIndex: number): Promise<void> {
    this.checkOpen();
    const cur = this.snaps.latest().meta.index;
    if (meta.index <= cur) throw new RaftError('SNAPSHOT_OUT_OF_DATE', `snapshot ${meta.index} not newer than ${cur}`);
    invariant(meta.index <= this.log.lastIndex(), () => `snapshot index ${meta.index} beyond last index ${this.log.lastIndex()}`);
    const term = this.log.term(meta.index);
    invariant(term === meta.term, () => `snapshot at ${meta.index} has term ${meta.term}, the log has ${term}`);
    await this.snaps.save(meta, data);
    const upto = Math.min(compactIndex, meta.index - this.margin);
    if (upto >= this.log.firstIndex()) this.log.compact(upto);
    await this.log.sync();
  }

  /** Drops entries up to `index` (at most the latest snapshot's index). */
  async compact(index: number): Promise<void> {
    this.checkOpen();
    const snapIndex = this.snaps.latest().meta.index;
    invariant(index <= snapIndex, () => `compact at ${index} beyond the snapshot at ${snapIndex}`);
    this.log.compact(index);
    await this.log.sync();
  }

  /** Makes everything durable (commit index included) and closes the files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const results = await Promise.allSettled([this.meta.close(), this.log.close()]);
    for (const r of results) if (r.status === 'rejected') throw r.reason;
  }

  /** For tests and metrics. */
  stats(): ReturnType<LogStore['stats']> & { snapshots: readonly number[] } {
    return { ...this.log.stats(), snapshots: this.snaps.indexes() };
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError('CLOSED', `storage ${this.dir} is closed`);
  }
}

/** Makes the log agree with the latest snapshot and the commit index with the log. */
async function reconcile(dir: string, log: LogStore, meta: MetaStore, snaps: SnapshotStore, logger: StorageLogger): Promise<void> {
  const snap = snaps.latest().meta;
  const base = log.firstIndex() - 1;
  const last = log.lastIndex();
  if (snap.index === 0 && base > 0) {
    throw new StorageError('CORRUPT_LOG', `${dir}/log starts at index ${base + 1} but there is no snapshot before it`);
  }
  if (snap.index > 0) {
    if (base > snap.index) {
      throw new StorageError('CORRUPT_LOG', `${dir}/log starts at index ${base + 1}, after the latest snapshot at ${snap.index}: entries are missing`);
    }
    if (base === 0 && last === 0) {
      // No entry since the snapshot was installed (a region created from an image, a follower
      // restarted right after an install): the log's base lives only in its segments, so an
      // empty log comes back at 0. Nothing to repair: the log starts behind the snapshot.
      log.reset(snap.index, snap.term);
    } else if (last < snap.index || log.term(snap.index) !== snap.term) {
      // A snapshot install was interrupted after the snapshot was written.
      logger.warn(`log does not contain the snapshot's last entry (${snap.index}, term ${snap.term}); resetting the log behind the snapshot`, {
        snapshotIndex: snap.index,
        logLastIndex: last,
      });
      log.reset(snap.index, snap.term);
      await log.sync();
    }
  }
  // The commit index is persisted lazily (meta-store.ts) and in parallel with the log, so it may
  // trail the snapshot (everything in a snapshot is committed: raise it) or, after a crash
  // between the two syncs, pass the log (lower it). The core requires snapshot <= commit <= last.
  const hs = meta.hardState;
  if (hs.commit > log.lastIndex()) {
    logger.warn(`commit index ${hs.commit} beyond the last log index ${log.lastIndex()} (a crash between syncs); clamped`);
    meta.setHardState({ ...hs, commit: log.lastIndex() });
  } else if (hs.commit < snap.index && (hs.term > 0 || hs.vote !== '' || hs.commit > 0)) {
    meta.setHardState({ ...hs, commit: snap.index });
  }
}

function withRepairCallback(logger: StorageLogger, onRepair: ((message: string) => void) | undefined): StorageLogger {
  if (!onRepair) return logger;
  return {
    info: (msg, fields) => logger.info(msg, fields),
    warn: (msg, fields) => {
      logger.warn(msg, fields);
      onRepair(msg);
    },
  };
}
