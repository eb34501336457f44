// An in-memory B+-tree over byte keys in unsigned lexicographic order (compareBytes): O(log n)
// get/set/delete, and ordered iteration in either direction through a doubly linked list of
// leaves, starting from any bound in O(log n). Deletion rebalances (borrow from or merge with a
// sibling), so the tree stays balanced and every non-root node at least a quarter full.
//
// The tree stores the key and value objects it is given; copying is the caller's business.

import { compareBytes } from './engine.js';

interface Leaf<V> {
  readonly leaf: true;
  keys: Uint8Array[];
  vals: V[];
  prev: Leaf<V> | null;
  next: Leaf<V> | null;
}

interface Inner<V> {
  readonly leaf: false;
  /** Separators: child i holds the keys k with keys[i-1] <= k < keys[i]. */
  keys: Uint8Array[];
  kids: Node<V>[];
}

type Node<V> = Leaf<V> | Inner<V>;

/** First index i with keys[i] >= key. */
function lowerBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid]!, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with keys[i] > key: the child of an inner node that may hold `key`. */
function upperBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function newLeaf<V>(): Leaf<V> {
  return { leaf: true, keys: [], vals: [], prev: null, next: null };
}

/**
 * A position in the tree that moves in one direction. Becomes invalid (`valid` false) when it
 * runs off the end. A cursor must not be used after the tree is modified.
 */
export class Cursor<V> {
  constructor(
    private leaf: Leaf<V> | null,
    private i: number,
    private readonly reverse: boolean,
  ) {
    this.settle();
  }

  get valid(): boolean {
    return this.leaf !== null;
  }

  /** The current key (only while valid). */
  get key(): Uint8Array {
    return this.leaf!.keys[this.i]!;
  }

  /** The current value (only while valid). */
  get value(): V {
    return this.leaf!.vals[this.i]!;
  }

  advance(): void {
    if (this.leaf === null) return;
    this.i += this.reverse ? -1 : 1;
    this.settle();
  }

  /** Moves off exhausted leaves (normally at most one step; empty leaves are skipped too). */
  private settle(): void {
    while (this.leaf !== null) {
      if (this.i >= 0 && this.i < this.leaf.keys.length) return;
      if (this.reverse) {
        this.leaf = this.leaf.prev;
        this.i = this.leaf === null ? -1 : this.leaf.keys.length - 1;
      } else {
        this.leaf = this.leaf.next;
        this.i = 0;
      }
    }
  }
}

export class BTree<V> {
  private root: Node<V> = newLeaf<V>();
  private count = 0;
  private readonly maxSize: number;
  private readonly minLeaf: number;
  private readonly minInner: number;

  /** `order`: the most entries in a leaf and the most children of an inner node (>= 4). */
  constructor(order = 64) {
    if (!Number.isInteger(order) || order < 4) throw new RangeError('B-tree order must be an integer >= 4');
    this.maxSize = order;
    this.minLeaf = Math.max(1, Math.floor(order / 4));
    this.minInner = Math.max(2, Math.floor(order / 4));
  }

  get size(): number {
    return this.count;
  }

  get(key: Uint8Array): V | undefined {
    let n = this.root;
    while (!n.leaf) n = n.kids[upperBound(n.keys, key)]!;
    const i = lowerBound(n.keys, key);
    return i < n.keys.length && compareBytes(n.keys[i]!, key) === 0 ? n.vals[i] : undefined;
  }

  has(key: Uint8Array): boolean {
    return this.get(key) !== undefined;
  }

  /** Inserts or replaces. */
  set(key: Uint8Array, value: V): void {
    const split = this.insert(this.root, key, value);
    if (split !== null) {
      this.root = { leaf: false, keys: [split.sep], kids: [this.root, split.right] };
    }
  }

  /** Removes `key`; returns whether it was present. */
  delete(key: Uint8Array): boolean {
    const removed = this.remove(this.root, key);
    const r = this.root;
    if (!r.leaf && r.kids.length === 1) this.root = r.kids[0]!;
    return removed;
  }

  clear(): void {
    this.root = newLeaf<V>();
    this.count = 0;
  }

  /** A forward cursor at the first key >= `key` (or the first key when `key` is undefined). */
  seekGE(key: Uint8Array | undefined): Cursor<V> {
    let n = this.root;
    if (key === undefined) {
      while (!n.leaf) n = n.kids[0]!;
      return new Cursor(n, 0, false);
    }
    while (!n.leaf) n = n.kids[upperBound(n.keys, key)]!;
    return new Cursor(n, lowerBound(n.keys, key), false);
  }

  /** A reverse cursor at the last key < `key` (or the last key when `key` is undefined). */
  seekLT(key: Uint8Array | undefined): Cursor<V> {
    let n = this.root;
    if (key === undefined) {
      while (!n.leaf) n = n.kids[n.kids.length - 1]!;
      return new Cursor(n, n.keys.length - 1, true);
    }
    while (!n.leaf) n = n.kids[upperBound(n.keys, key)]!;
    return new Cursor(n, lowerBound(n.keys, key) - 1, true);
  }

  /** The number of keys in [start, end), walking whole leaves where it can. */
  countRange(start: Uint8Array | undefined, end: Uint8Array | undefined): number {
    let n = this.root;
    while (!n.leaf) n = n.kids[start === undefined ? 0 : upperBound(n.keys, start)]!;
    let leaf: Leaf<V> | null = n;
    let i = start === undefined ? 0 : lowerBound(n.keys, start);
    let total = 0;
    while (leaf !== null) {
      const keys = leaf.keys;
      if (end !== undefined && keys.length > 0 && compareBytes(keys[keys.length - 1]!, end) >= 0) {
        return total + Math.max(0, lowerBound(keys, end) - i);
      }
      total += keys.length - i;
      leaf = leaf.next;
      i = 0;
    }
    return total;
  }

  /** Keys in [start, end), in order (a snapshot, so the caller may then modify the tree). */
  keysInRange(start: Uint8Array | undefined, end: Uint8Array | undefined): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const c = this.seekGE(start); c.valid; c.advance()) {
      if (end !== undefined && compareBytes(c.key, end) >= 0) break;
      out.push(c.key);
    }
    return out;
  }

  /** Deletes every key in [start, end); returns how many. */
  deleteRange(start: Uint8Array | undefined, end: Uint8Array | undefined): number {
    const keys = this.keysInRange(start, end);
    if (keys.length === this.count) {
      this.clear();
      return keys.length;
    }
    for (const k of keys) this.delete(k);
    return keys.length;
  }

  private insert(n: Node<V>, key: Uint8Array, value: V): { sep: Uint8Array; right: Node<V> } | null {
    if (n.leaf) {
      const i = lowerBound(n.keys, key);
      if (i < n.keys.length && compareBytes(n.keys[i]!, key) === 0) {
        n.vals[i] = value;
        return null;
      }
      n.keys.splice(i, 0, key);
      n.vals.splice(i, 0, value);
      this.count++;
      if (n.keys.length <= this.maxSize) return null;
      const mid = n.keys.length >>> 1;
      const right: Leaf<V> = {
        leaf: true,
        keys: n.keys.splice(mid),
        vals: n.vals.splice(mid),
        prev: n,
        next: n.next,
      };
      if (n.next !== null) n.next.prev = right;
      n.next = right;
      return { sep: right.keys[0]!, right };
    }
    const ci = upperBound(n.keys, key);
    const split = this.insert(n.kids[ci]!, key, value);
    if (split === null) return null;
    n.keys.splice(ci, 0, split.sep);
    n.kids.splice(ci + 1, 0, split.right);
    if (n.kids.length <= this.maxSize) return null;
    // n.keys has kids.length - 1 entries; the middle separator moves up.
    const m = n.keys.length >>> 1;
    const sep = n.keys[m]!;
    const right: Inner<V> = { leaf: false, keys: n.keys.splice(m + 1), kids: n.kids.splice(m + 1) };
    n.keys.length = m;
    return { sep, right };
  }

  private remove(n: Node<V>, key: Uint8Array): boolean {
    if (n.leaf) {
      const i = lowerBound(n.keys, key);
      if (i >= n.keys.length || compareBytes(n.keys[i]!, key) !== 0) return false;
      n.keys.splice(i, 1);
      n.vals.splice(i, 1);
      this.count--;
      return true;
    }
    const ci = upperBound(n.keys, key);
    const child = n.kids[ci]!;
    if (!this.remove(child, key)) return false;
    if (child.leaf ? child.keys.length < this.minLeaf : child.kids.length < this.minInner) {
      this.rebalance(n, ci);
    }
    return true;
  }

  /** Fixes the underfull child `ci` of `parent` by borrowing from or merging with a sibling. */
  private rebalance(parent: Inner<V>, ci: number): void {
    const child = parent.kids[ci]!;
    const left = ci > 0 ? parent.kids[ci - 1]! : null;
    const right = ci + 1 < parent.kids.length ? parent.kids[ci + 1]! : null;
    if (child.leaf) {
      const l = left as Leaf<V> | null;
      const r = right as Leaf<V> | null;
      if (l !== null && l.keys.length > this.minLeaf) {
        child.keys.unshift(l.keys.pop()!);
        child.vals.unshift(l.vals.pop()!);
        parent.keys[ci - 1] = child.keys[0]!;
      } else if (r !== null && r.keys.length > this.minLeaf) {
        child.keys.push(r.keys.shift()!);
        child.vals.push(r.vals.shift()!);
        parent.keys[ci] = r.keys[0]!;
      } else if (l !== null) {
        this.mergeLeaves(l, child);
        parent.keys.splice(ci - 1, 1);
        parent.kids.splice(ci, 1);
      } else if (r !== null) {
        this.mergeLeaves(child, r);
        parent.keys.splice(ci, 1);
        parent.kids.splice(ci + 1, 1);
      }
      return;
    }
    const l = left as Inner<V> | null;
    const r = right as Inner<V> | null;
    if (l !== null && l.kids.length > this.minInner) {
      child.keys.unshift(parent.keys[ci - 1]!);
      child.kids.unshift(l.kids.pop()!);
      parent.keys[ci - 1] = l.keys.pop()!;
    } else if (r !== null && r.kids.length > this.minInner) {
      child.keys.push(parent.keys[ci]!);
      child.kids.push(r.kids.shift()!);
      parent.keys[ci] = r.keys.shift()!;
    } else if (l !== null) {
      l.keys.push(parent.keys[ci - 1]!, ...child.keys);
      l.kids.push(...child.kids);
      parent.keys.splice(ci - 1, 1);
      parent.kids.splice(ci, 1);
    } else if (r !== null) {
      child.keys.push(parent.keys[ci]!, ...r.keys);
      child.kids.push(...r.kids);
      parent.keys.splice(ci, 1);
      parent.kids.splice(ci + 1, 1);
    }
  }

  /** Appends `b` (the right neighbour of `a`) to `a` and unlinks `b`. */
  private mergeLeaves(a: Leaf<V>, b: Leaf<V>): void {
    for (let i = 0; i < b.keys.length; i++) {
      a.keys.push(b.keys[i]!);
      a.vals.push(b.vals[i]!);
    }
    a.next = b.next;
    if (b.next !== null) b.next.prev = a;
  }

  /** Verifies the structure (for tests): order, bounds, fill, depth, links and count. */
  checkInvariants(): void {
    const fail = (msg: string): never => {
      throw new Error(`B-tree invariant violated: ${msg}`);
    };
    const leaves: Leaf<V>[] = [];
    let depth = -1;
    const walk = (n: Node<V>, lo: Uint8Array | undefined, hi: Uint8Array | undefined, d: number, isRoot: boolean): void => {
      for (let i = 1; i < n.keys.length; i++) {
        if (compareBytes(n.keys[i - 1]!, n.keys[i]!) >= 0) fail('keys out of order');
      }
      for (const k of n.keys) {
        if (lo !== undefined && compareBytes(k, lo) < 0) fail('key below its lower bound');
        if (hi !== undefined && compareBytes(k, hi) >= 0) fail('key at or above its upper bound');
      }
      if (n.leaf) {
        if (n.vals.length !== n.keys.length) fail('leaf keys/values length mismatch');
        if (n.keys.length > this.maxSize) fail('leaf overfull');
        if (!isRoot && n.keys.length < this.minLeaf) fail('leaf underfull');
        if (depth === -1) depth = d;
        else if (depth !== d) fail('leaves at different depths');
        leaves.push(n);
        return;
      }
      if (n.kids.length !== n.keys.length + 1) fail('inner keys/children mismatch');
      if (n.kids.length > this.maxSize) fail('inner node overfull');
      if (n.kids.length < (isRoot ? 2 : this.minInner)) fail('inner node underfull');
      for (let i = 0; i < n.kids.length; i++) {
        walk(n.kids[i]!, i === 0 ? lo : n.keys[i - 1], i === n.keys.length ? hi : n.keys[i], d + 1, false);
      }
    };
    walk(this.root, undefined, undefined, 0, true);
    let total = 0;
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!;
      total += leaf.keys.length;
      if (leaf.prev !== (i > 0 ? leaves[i - 1]! : null)) fail('bad prev link');
      if (leaf.next !== (i + 1 < leaves.length ? leaves[i + 1]! : null)) fail('bad next link');
    }
    if (total !== this.count) fail(`count ${this.count} but ${total} keys`);
  }
}
