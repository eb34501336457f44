// MemoryEngine: the KvEngine in memory, over a B+-tree (btree.ts). A transaction buffers its
// writes in an overlay (a second B-tree of puts and tombstones, plus the set of ranges it
// deleted); its reads merge the overlay with the committed tree, and the overlay is applied to
// the committed tree only when the transaction function returns, so a throw discards it whole.
//
// Keys and values are copied on the way in (callers may reuse their buffers) and on the way out
// (callers may modify what they get back), as with LmdbEngine.

import { BTree, type Cursor } from './btree.js';
import {
  ASYNC_TX_ERROR,
  NESTED_TX_ERROR,
  READ_IN_TX_ERROR,
  TX_FINISHED_ERROR,
  checkKey,
  checkValue,
  copyBytes,
  isStorableKey,
  isThenable,
  normalizeScan,
  type NormalizedScan,
} from './common.js';
import { compareBytes, type EngineTx, type KvEngine, type KvPair, type ScanOptions } from './engine.js';

export interface MemoryEngineOptions {
  /** B-tree order: entries per leaf and children per inner node (default 64, minimum 4). */
  readonly order?: number;
}

/** The overlay's marker for a key deleted in the transaction (compared by identity). */
const TOMBSTONE = new Uint8Array(0);

/** A set of disjoint, non-adjacent half-open ranges [start, end), kept sorted. */
class RangeSet {
  private starts: Uint8Array[] = [];
  private ends: Uint8Array[] = [];

  get empty(): boolean {
    return this.starts.length === 0;
  }

  add(start: Uint8Array, end: Uint8Array): void {
    // The first range whose end >= start (it overlaps or touches the new one) ...
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.ends[mid]!, start) < 0) lo = mid + 1;
      else hi = mid;
    }
    // ... through the last whose start <= end.
    let j = lo;
    let s = start;
    let e = end;
    while (j < this.starts.length && compareBytes(this.starts[j]!, end) <= 0) {
      if (compareBytes(this.starts[j]!, s) < 0) s = this.starts[j]!;
      if (compareBytes(this.ends[j]!, e) > 0) e = this.ends[j]!;
      j++;
    }
    this.starts.splice(lo, j - lo, s);
    this.ends.splice(lo, j - lo, e);
  }

  /** The index of the range containing `key`, or -1. */
  find(key: Uint8Array): number {
    // The last range whose start <= key.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareBytes(this.starts[mid]!, key) <= 0) lo = mid + 1;
      else hi = mid;
    }
    const i = lo - 1;
    return i >= 0 && compareBytes(key, this.ends[i]!) < 0 ? i : -1;
  }

  startOf(i: number): Uint8Array {
    return this.starts[i]!;
  }

  endOf(i: number): Uint8Array {
    return this.ends[i]!;
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i]!, this.ends[i]!];
  }
}

function pair(key: Uint8Array, value: Uint8Array): KvPair {
  return { key: copyBytes(key), value: copyBytes(value) };
}

/** Scans a single tree (the committed data). */
function scanTree(tree: BTree<Uint8Array>, n: NormalizedScan): KvPair[] {
  const out: KvPair[] = [];
  if (!n.reverse) {
    for (const c = tree.seekGE(n.start); c.valid && out.length < n.limit; c.advance()) {
      if (n.end !== undefined && compareBytes(c.key, n.end) >= 0) break;
      out.push(pair(c.key, c.value));
    }
  } else {
    for (const c = tree.seekLT(n.end); c.valid && out.length < n.limit; c.advance()) {
      if (n.start !== undefined && compareBytes(c.key, n.start) < 0) break;
      out.push(pair(c.key, c.value));
    }
  }
  return out;
}

class MemoryTx implements EngineTx {
  readonly overlay: BTree<Uint8Array>;
  readonly deleted = new RangeSet();
  finished = false;

  constructor(
    private readonly committed: BTree<Uint8Array>,
    order: number,
  ) {
    this.overlay = new BTree<Uint8Array>(order);
  }

  private live(): void {
    if (this.finished) throw new Error(TX_FINISHED_ERROR);
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.live();
    const v = this.overlay.get(key);
    if (v !== undefined) return v === TOMBSTONE ? undefined : copyBytes(v);
    if (!this.deleted.empty && this.deleted.find(key) >= 0) return undefined;
    const c = this.committed.get(key);
    return c === undefined ? undefined : copyBytes(c);
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.live();
    checkKey(key);
    checkValue(value);
    this.overlay.set(copyBytes(key), copyBytes(value));
  }

  delete(key: Uint8Array): void {
    this.live();
    if (!isStorableKey(key)) return; // cannot exist
    this.overlay.set(copyBytes(key), TOMBSTONE);
  }

  deleteRange(start: Uint8Array, end: Uint8Array): void {
    this.live();
    if (compareBytes(start, end) >= 0) return;
    this.overlay.deleteRange(start, end);
    this.deleted.add(copyBytes(start), copyBytes(end));
  }

  scan(opts: ScanOptions): KvPair[] {
    this.live();
    const n = normalizeScan(opts);
    if (n === null) return [];
    if (this.overlay.size === 0 && this.deleted.empty) return scanTree(this.committed, n);
    return this.scanMerged(n);
  }

  /** Moves a forward committed-data cursor past any range the transaction deleted. */
  private skipDeletedForward(c: Cursor<Uint8Array>): Cursor<Uint8Array> {
    while (c.valid) {
      const r = this.deleted.find(c.key);
      if (r < 0) return c;
      c = this.committed.seekGE(this.deleted.endOf(r));
    }
    return c;
  }

  private skipDeletedReverse(c: Cursor<Uint8Array>): Cursor<Uint8Array> {
    while (c.valid) {
      const r = this.deleted.find(c.key);
      if (r < 0) return c;
      c = this.committed.seekLT(this.deleted.startOf(r));
    }
    return c;
  }

  /**
   * Merges the committed tree (minus deleted ranges) with the overlay, in scan order: forward
   * from `start`, or reverse from just below `end`. On equal keys the overlay wins.
   */
  private scanMerged(n: NormalizedScan): KvPair[] {
    const rev = n.reverse;
    const skip = (c: Cursor<Uint8Array>): Cursor<Uint8Array> => (rev ? this.skipDeletedReverse(c) : this.skipDeletedForward(c));
    // Negative when `a` comes before `b` in scan order.
    const order = (a: Uint8Array, b: Uint8Array): number => (rev ? compareBytes(b, a) : compareBytes(a, b));
    // True once `key` is past the far bound of the scan.
    const past = (key: Uint8Array): boolean =>
      rev ? n.start !== undefined && compareBytes(key, n.start) < 0 : n.end !== undefined && compareBytes(key, n.end) >= 0;
    const out: KvPair[] = [];
    let base = skip(rev ? this.committed.seekLT(n.end) : this.committed.seekGE(n.start));
    const over = rev ? this.overlay.seekLT(n.end) : this.overlay.seekGE(n.start);
    while (out.length < n.limit) {
      if (!base.valid && !over.valid) break;
      const cmp = !base.valid ? 1 : !over.valid ? -1 : order(base.key, over.key);
      let key: Uint8Array;
      let value: Uint8Array;
      if (cmp < 0) {
        key = base.key;
        value = base.value;
        base.advance();
        base = skip(base);
      } else {
        key = over.key;
        value = over.value;
        over.advance();
        if (cmp === 0) {
          base.advance();
          base = skip(base);
        }
      }
      if (past(key)) break;
      if (value !== TOMBSTONE) out.push(pair(key, value));
    }
    return out;
  }

  /** Applies the overlay to the committed tree. Cannot fail part-way (all input was validated). */
  commit(): void {
    for (const [s, e] of this.deleted.entries()) this.committed.deleteRange(s, e);
    for (let c = this.overlay.seekGE(undefined); c.valid; c.advance()) {
      if (c.value === TOMBSTONE) this.committed.delete(c.key);
      else this.committed.set(c.key, c.value); // already private copies
    }
  }
}

export class MemoryEngine implements KvEngine {
  readonly name = 'memory';
  private tree: BTree<Uint8Array>;
  private readonly order: number;
  private inTx = false;
  private closed = false;

  constructor(opts: MemoryEngineOptions = {}) {
    this.order = opts.order ?? 64;
    this.tree = new BTree<Uint8Array>(this.order);
  }

  private check(): void {
    if (this.closed) throw new Error('the engine is closed');
    if (this.inTx) throw new Error(READ_IN_TX_ERROR);
  }

  transaction<T>(fn: (tx: EngineTx) => T): T {
    if (this.closed) throw new Error('the engine is closed');
    if (this.inTx) throw new Error(NESTED_TX_ERROR);
    this.inTx = true;
    const tx = new MemoryTx(this.tree, this.order);
    try {
      const result = fn(tx);
      if (isThenable(result)) throw new TypeError(ASYNC_TX_ERROR);
      tx.finished = true;
      tx.commit();
      return result;
    } finally {
      tx.finished = true;
      this.inTx = false;
    }
  }

  get(key: Uint8Array): Uint8Array | undefined {
    this.check();
    const v = this.tree.get(key);
    return v === undefined ? undefined : copyBytes(v);
  }

  scan(opts: ScanOptions): KvPair[] {
    this.check();
    const n = normalizeScan(opts);
    return n === null ? [] : scanTree(this.tree, n);
  }

  count(start?: Uint8Array, end?: Uint8Array): number {
    this.check();
    const n = normalizeScan({ start, end });
    return n === null ? 0 : this.tree.countRange(n.start, n.end);
  }

  /** Entries and the bytes of their keys and values (a walk: this engine is for tests and dev). */
  approximateSize(): { entries: number; bytes: number } {
    this.check();
    let bytes = 0;
    for (let c = this.tree.seekGE(undefined); c.valid; c.advance()) bytes += c.key.length + c.value.length;
    return { entries: this.tree.size, bytes };
  }

  exportAll(): KvPair[] {
    this.check();
    const out: KvPair[] = new Array(this.tree.size);
    let i = 0;
    for (let c = this.tree.seekGE(undefined); c.valid; c.advance()) out[i++] = pair(c.key, c.value);
    return out;
  }

  importAll(pairs: Iterable<KvPair>): void {
    this.check();
    const next = new BTree<Uint8Array>(this.order);
    for (const p of pairs) {
      checkKey(p.key);
      checkValue(p.value);
      next.set(copyBytes(p.key), copyBytes(p.value));
    }
    this.tree = next; // all or nothing: a bad pair above leaves the old content in place
  }

  /** Structural self-check of the committed tree (for tests). */
  checkInvariants(): void {
    this.tree.checkInvariants();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
