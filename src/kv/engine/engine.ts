// The ordered key-value engine under the KV state machine. Keys and values are bytes, ordered by
// unsigned byte comparison. The Raft log is the write-ahead log, so an engine need not sync its
// own writes: after a crash the node reapplies the log from the engine's lastApplied index.

export interface ScanOptions {
  /** Inclusive lower bound (default: the first key). */
  readonly start?: Uint8Array;
  /** Exclusive upper bound (default: past the last key). */
  readonly end?: Uint8Array;
  /** Descending order (from just below `end` down to `start`). */
  readonly reverse?: boolean;
  /** At most this many entries. */
  readonly limit?: number;
}

export interface KvPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * A transaction: reads see the transaction's own writes (read-your-writes); everything commits
 * atomically when the function passed to `transaction` returns, or nothing if it throws.
 */
export interface EngineTx {
  get(key: Uint8Array): Uint8Array | undefined;
  put(key: Uint8Array, value: Uint8Array): void;
  delete(key: Uint8Array): void;
  /** Deletes every key in [start, end). */
  deleteRange(start: Uint8Array, end: Uint8Array): void;
  scan(opts: ScanOptions): KvPair[];
}

export interface KvEngine {
  readonly name: string;
  /** Runs `fn` in one atomic, synchronous transaction and returns its result. */
  transaction<T>(fn: (tx: EngineTx) => T): T;
  get(key: Uint8Array): Uint8Array | undefined;
  scan(opts: ScanOptions): KvPair[];
  /** Number of keys in [start, end) (exact or a close estimate). */
  count(start?: Uint8Array, end?: Uint8Array): number;
  /** Every pair, in order: a consistent image for a snapshot. */
  exportAll(): KvPair[];
  /**
   * How big the content is, cheaply: entries (every key, internal ones included) and bytes (on
   * disk for a disk engine). For split decisions and heartbeats, not for exact counts.
   */
  approximateSize(): { entries: number; bytes: number };
  /** Replaces the whole content (installing a snapshot). */
  importAll(pairs: Iterable<KvPair>): void;
  close(): Promise<void>;
}

/** Unsigned lexicographic byte order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}
