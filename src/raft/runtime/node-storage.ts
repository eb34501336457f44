// What the runtime needs from durable storage: the core's read interface plus writes that
// become durable together at sync() (group commit: many appends, one fsync).

import { MemoryStorage } from '../core/memory-storage.js';
import type { RaftStorage } from '../core/storage.js';
import type { Entry, HardState, Snapshot } from '../core/types.js';

export interface NodeStorage extends RaftStorage {
  /** Buffers a hard state write; durable after the next sync(). */
  setHardState(hs: HardState): void;
  /** Buffers entries; an entry at an existing index replaces it and everything after it. */
  append(entries: readonly Entry[]): void;
  /** Makes every buffered write durable (one fsync for everything buffered so far). */
  sync(): Promise<void>;
  /** Replaces the log with a snapshot received from the leader; durable when it resolves. */
  installSnapshot(snap: Snapshot): Promise<void>;
  /** Records a snapshot taken locally and drops entries up to compactIndex (<= snapshot index). */
  saveSnapshot(snap: Snapshot, compactIndex: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * NodeStorage in memory: for deterministic tests and the simulator, never in place of the
 * durable log. Writes are visible at once; `syncDelayMs` can model a disk.
 */
export class MemoryNodeStorage extends MemoryStorage implements NodeStorage {
  constructor(private readonly syncDelayMs = 0) {
    super();
  }

  async sync(): Promise<void> {
    if (this.syncDelayMs > 0) await new Promise((r) => setTimeout(r, this.syncDelayMs));
  }

  async installSnapshot(snap: Snapshot): Promise<void> {
    this.applySnapshot(snap);
  }

  async saveSnapshot(snap: Snapshot, compactIndex: number): Promise<void> {
    this.createSnapshot(snap.meta.index, snap.meta.confState, snap.data);
    this.compact(compactIndex);
  }

  async close(): Promise<void> {}
}
