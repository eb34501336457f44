// Keys and values as the client takes and returns them. Keys and values are strings (UTF-8) or
// byte arrays; results come back as Buffers. Keys order as unsigned bytes. In region bounds an
// empty key means "unbounded": -inf as a start, +inf as an end.

import { KvClientError } from './errors.js';

export type Key = string | Uint8Array;
export type Value = string | Uint8Array;

const EMPTY = Buffer.alloc(0);

/** A Buffer view of `b` (no copy). */
export function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A non-empty key as bytes; INVALID_PARAMETER for anything else. */
export function keyBytes(k: unknown, what = 'key'): Buffer {
  let b: Buffer;
  if (typeof k === 'string') b = Buffer.from(k, 'utf8');
  else if (k instanceof Uint8Array) b = asBuffer(k);
  else throw new KvClientError('INVALID_PARAMETER', `${what} must be a string or a Uint8Array (got ${describe(k)})`);
  if (b.length === 0) throw new KvClientError('INVALID_PARAMETER', `${what} must not be empty`);
  return b;
}

/** A value as bytes (an empty value is allowed); INVALID_PARAMETER for anything else. */
export function valueBytes(v: unknown, what = 'value'): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (v instanceof Uint8Array) return asBuffer(v);
  throw new KvClientError('INVALID_PARAMETER', `${what} must be a string or a Uint8Array (got ${describe(v)})`);
}

/** A range bound: null/undefined/empty = unbounded (returned as an empty Buffer). */
export function boundBytes(k: unknown, what: string): Buffer {
  if (k === null || k === undefined) return EMPTY;
  if (typeof k === 'string' || k instanceof Uint8Array) return k.length === 0 ? EMPTY : keyBytes(k, what);
  throw new KvClientError('INVALID_PARAMETER', `${what} must be a string, a Uint8Array or null (got ${describe(k)})`);
}

export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** a < b where both are region ends ('' = +inf). */
export function compareEnds(a: Uint8Array, b: Uint8Array): number {
  if (a.length === 0) return b.length === 0 ? 0 : 1;
  if (b.length === 0) return -1;
  return Buffer.compare(a, b);
}

/** The larger of two starts ('' = -inf). */
export function maxStart(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) >= 0 ? a : b;
}

/** The smaller of two ends ('' = +inf). */
export function minEnd(a: Buffer, b: Buffer): Buffer {
  return compareEnds(a, b) <= 0 ? a : b;
}

/** Is [start, end) empty? (start '' = -inf, end '' = +inf) */
export function emptyRange(start: Uint8Array, end: Uint8Array): boolean {
  return end.length > 0 && Buffer.compare(start, end) >= 0;
}

/** The smallest key after `k`: k + 0x00. */
export function keyAfter(k: Uint8Array): Buffer {
  const out = Buffer.alloc(k.length + 1);
  out.set(k, 0);
  return out;
}

export function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function describe(x: unknown): string {
  return x === null ? 'null' : Array.isArray(x) ? 'array' : typeof x;
}
