// A NodeStorage with a faulty disk for runtime tests: writes are visible at once but become
// durable only at sync(); a crash loses everything not synced, and may leave a torn prefix of
// the unsynced entries behind (as a disk that wrote part of a batch before power was lost).

import type { RaftStorage } from '../../src/raft/core/storage.js';
import type { Entry, HardState, Snapshot } from '../../src/raft/core/types.js';
import { MemoryNodeStorage, type NodeStorage } from '../../src/raft/runtime/node-storage.js';

export class FaultyDisk {
  /** What survives a crash. */
  durable = new MemoryNodeStorage();
  private pendingHard: HardState | undefined;
  private pendingEntries: Entry[][] = [];

  /** A fresh live view for a (re)starting node. With `torn`, part of the unsynced tail survives. */
  open(torn: (n: number) => number = () => 0): FaultyStorage {
    // Torn write: a prefix of the first unsynced batch reached the disk.
    const first = this.pendingEntries[0];
    if (first && first.length > 0) {
      const k = torn(first.length);
      if (k > 0) this.durable.append(first.slice(0, k));
    }
    this.pendingEntries = [];
    this.pendingHard = undefined;
    return new FaultyStorage(this, clone(this.durable));
  }

  recordAppend(ents: readonly Entry[]): void {
    this.pendingEntries.push([...ents]);
  }

  recordHard(hs: HardState): void {
    this.pendingHard = hs;
  }

  commitPending(): void {
    if (this.pendingHard) this.durable.setHardState(this.pendingHard);
    for (const ents of this.pendingEntries) this.durable.append(ents);
    this.pendingHard = undefined;
    this.pendingEntries = [];
  }
}

export class FaultyStorage implements NodeStorage {
  private dead = false;
  constructor(
    private readonly disk: FaultyDisk,
    private readonly live: MemoryNodeStorage,
  ) {}

  /** Stops this incarnation's writes from reaching the disk (the process died). */
  kill(): void {
    this.dead = true;
  }

  initialState(): ReturnType<RaftStorage['initialState']> {
    return this.live.initialState();
  }
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.live.entries(lo, hi, maxBytes);
  }
  term(i: number): number {
    return this.live.term(i);
  }
  firstIndex(): number {
    return this.live.firstIndex();
  }
  lastIndex(): number {
    return this.live.lastIndex();
  }
  snapshot(): Snapshot {
    return this.live.snapshot();
  }
  setHardState(hs: HardState): void {
    this.live.setHardState(hs);
    if (!this.dead) this.disk.recordHard(hs);
  }
  append(entries: readonly Entry[]): void {
    this.live.append(entries);
    if (!this.dead) this.disk.recordAppend(entries);
  }
  async sync(): Promise<void> {
    await new Promise((r) => setTimeout(r, Math.random() < 0.05 ? 15 : 1));
    if (!this.dead) this.disk.commitPending();
  }
  async installSnapshot(snap: Snapshot): Promise<void> {
    this.live.applySnapshot(snap);
    if (!this.dead) {
      this.disk.commitPending();
      this.disk.durable.applySnapshot(snap);
    }
  }
  async saveSnapshot(snap: Snapshot, compactIndex: number): Promise<void> {
    await this.live.saveSnapshot(snap, compactIndex);
    if (!this.dead) {
      this.disk.commitPending();
      await this.disk.durable.saveSnapshot(snap, compactIndex);
    }
  }
  async close(): Promise<void> {}
}

function clone(src: MemoryNodeStorage): MemoryNodeStorage {
  const c = new MemoryNodeStorage();
  const snap = src.snapshot();
  if (snap.meta.index > 0) c.applySnapshot(snap);
  const lo = Math.max(src.firstIndex(), snap.meta.index + 1);
  if (lo <= src.lastIndex()) c.append(src.entries(lo, src.lastIndex() + 1, Infinity));
  c.setHardState(src.getHardState());
  return c;
}
