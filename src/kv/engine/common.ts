// Helpers shared by the engines: key limits, scan-option normalisation, small byte utilities.
// Both engines apply the same rules so that they behave identically (the conformance suite runs
// the same tests, and a random differential test, against each of them).

import { compareBytes, type ScanOptions } from './engine.js';

/**
 * The largest key an engine accepts. LMDB's limit (lmdb-js with the default page size) is 1978
 * bytes, and the memory engine applies the same limit so that both engines accept the same keys.
 * Keys must also be non-empty (LMDB cannot store a zero-length key).
 */
export const MAX_KEY_BYTES = 1978;

/** Throws unless `key` can be stored (1..MAX_KEY_BYTES bytes). Used by every write. */
export function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new TypeError('key must be a Uint8Array');
  if (key.length === 0) throw new RangeError('empty keys are not supported');
  if (key.length > MAX_KEY_BYTES) {
    throw new RangeError(`key of ${key.length} bytes exceeds the ${MAX_KEY_BYTES}-byte limit`);
  }
}

export function checkValue(value: Uint8Array): void {
  if (!(value instanceof Uint8Array)) throw new TypeError('value must be a Uint8Array');
}

/** Whether `key` is a key that could be stored (so a lookup of anything else finds nothing). */
export function isStorableKey(key: Uint8Array): boolean {
  return key.length > 0 && key.length <= MAX_KEY_BYTES;
}

// Copies of small arrays are carved out of shared 8 KiB slabs, as Node's Buffer pool does: V8
// allocates every Uint8Array over 64 bytes with its own off-heap backing store, which costs
// about ten times more than a view onto an existing ArrayBuffer (it dominated get and scan
// times). The price is that a live copy keeps its whole slab alive (at most 8 KiB per copy in
// the worst case) and that its `.buffer` is shared with unrelated copies: use byteOffset and
// byteLength, never `.buffer` alone.
const SLAB_BYTES = 8192;
const SLAB_MAX_COPY = 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabOffset = 0;

/** A fresh copy (never a view onto the caller's buffer). */
export function copyBytes(b: Uint8Array): Uint8Array {
  const n = b.length;
  if (n > SLAB_MAX_COPY) {
    const big = new Uint8Array(n); // not b.slice(): on a Buffer that is a view, not a copy
    big.set(b);
    return big;
  }
  if (slabOffset + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabOffset = 0;
  }
  const c = new Uint8Array(slab, slabOffset, n);
  c.set(b);
  slabOffset = (slabOffset + n + 7) & ~7; // keep views 8-byte aligned
  return c;
}

/** Scan options after validation: the range is non-empty and the limit is at least 1. */
export interface NormalizedScan {
  /** Inclusive lower bound, or none. Never empty (an empty start means "no lower bound"). */
  readonly start: Uint8Array | undefined;
  /** Exclusive upper bound, or none. Never empty (an empty end means "nothing"). */
  readonly end: Uint8Array | undefined;
  readonly reverse: boolean;
  /** A positive integer or Infinity. */
  readonly limit: number;
}

/** Normalises `opts`; returns null when the scan is certain to return nothing. */
export function normalizeScan(opts: ScanOptions | undefined): NormalizedScan | null {
  const o = opts ?? {};
  const start = o.start !== undefined && o.start.length > 0 ? o.start : undefined;
  const end = o.end;
  if (end !== undefined && end.length === 0) return null;
  if (start !== undefined && end !== undefined && compareBytes(start, end) >= 0) return null;
  let limit = Infinity;
  if (o.limit !== undefined) {
    if (!(o.limit >= 1)) return null; // 0, negative and NaN all mean "nothing"
    limit = Math.floor(o.limit);
  }
  return { start, end, reverse: o.reverse === true, limit };
}

/** True when `key` lies in [start, end) (undefined bounds are open). */
export function inRange(
  key: Uint8Array,
  start: Uint8Array | undefined,
  end: Uint8Array | undefined,
): boolean {
  return (
    (start === undefined || compareBytes(key, start) >= 0) &&
    (end === undefined || compareBytes(key, end) < 0)
  );
}

export function isThenable(x: unknown): boolean {
  return (
    x !== null &&
    (typeof x === 'object' || typeof x === 'function') &&
    typeof (x as { then?: unknown }).then === 'function'
  );
}

export const ASYNC_TX_ERROR =
  'a KvEngine transaction function must be synchronous (it returned a promise); the transaction was rolled back';
export const NESTED_TX_ERROR = 'KvEngine transactions do not nest';
export const READ_IN_TX_ERROR =
  'engine-level reads and writes are not allowed while a transaction is running: use the EngineTx';
export const TX_FINISHED_ERROR = 'this EngineTx is finished (its transaction has returned or thrown)';
