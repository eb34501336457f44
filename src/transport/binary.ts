// Big-endian (network order) primitives shared by the codec, the framing and the handshake:
// a growable ByteWriter and a bounds-checked, zero-copy ByteReader.
//
// Integers: u8/u16/u32 are plain; "u64" holds a non-negative safe integer (<= 2^53 - 1) written
// as two u32 halves (high, low), i.e. a real big-endian u64 on the wire. Writing an unsafe or
// negative value throws INVALID_MESSAGE; reading a value above Number.MAX_SAFE_INTEGER throws
// BAD_FRAME. Strings are UTF-8 with a u16 or u32 byte-length prefix.

import { TransportError } from './errors.js';

const TWO_32 = 4294967296;
/** Highest allowed high half of a u64 that is still a safe integer: (2^53 - 1) >>> 32. */
const MAX_SAFE_HIGH = 0x1fffff;
/** Strings up to this many UTF-16 units get the hand-rolled ASCII fast path. */
const ASCII_FAST = 48;
/** Largest batch buffer a writer keeps for reuse. */
const MAX_SPARE = 16 * 1024 * 1024;

export class ByteWriter {
  buf: Buffer;
  pos = 0;

  private readonly initialCapacity: number;
  /** A big buffer handed out by take() and given back by recycle(), for the next batch. */
  private spare: Buffer | null = null;
  private readonly lent = new Set<ArrayBufferLike>();

  constructor(initialCapacity = 1024) {
    this.initialCapacity = Math.max(16, initialCapacity);
    this.buf = Buffer.allocUnsafe(this.initialCapacity);
  }

  /** Makes room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The bytes written so far (a view; valid until the next write that grows the buffer). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /**
   * Hands the written bytes over (e.g. to socket.write) so later writes never touch bytes still
   * queued in the socket. Small batches are copied out (into Node's pooled allocator) and the
   * buffer is kept. Big ones are handed over as they are and writing continues in the spare
   * buffer (see recycle()) or a fresh one of the initial capacity.
   */
  take(copyBelow = 8192): Buffer {
    const n = this.pos;
    this.pos = 0;
    if (n <= copyBelow) return Buffer.from(this.buf.subarray(0, n));
    const out = this.buf.subarray(0, n);
    this.lent.add(out.buffer);
    this.buf = this.spare ?? Buffer.allocUnsafe(this.initialCapacity);
    this.spare = null;
    return out;
  }

  /**
   * Gives back a buffer returned by take() once nothing references it any more (the socket
   * write completed), so a steady stream of big batches reuses two buffers instead of
   * allocating (and page-faulting) a fresh one per batch. Buffers over 16 MiB are not kept.
   */
  recycle(b: Uint8Array): void {
    const ab = b.buffer;
    if (!this.lent.delete(ab)) return;
    if (ab.byteLength > MAX_SPARE || ab.byteLength <= this.buf.length) return;
    if (this.spare && this.spare.length >= ab.byteLength) return;
    this.spare = Buffer.from(ab as ArrayBuffer, 0, ab.byteLength);
  }

  /** Forgets everything written (reuses the buffer). */
  reset(): void {
    this.pos = 0;
  }

  // The unchecked writers below assume ensure() was called with enough room.

  u8(v: number): void {
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }

  u32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v >>> 24;
    b[p + 1] = v >>> 16;
    b[p + 2] = v >>> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }

  /** Patches a u32 at an absolute position already written. */
  u32At(at: number, v: number): void {
    const b = this.buf;
    b[at] = v >>> 24;
    b[at + 1] = v >>> 16;
    b[at + 2] = v >>> 8;
    b[at + 3] = v;
  }

  /** A non-negative safe integer as a big-endian u64. */
  u64(v: number, what: string): void {
    let hi = 0;
    let lo = v >>> 0;
    if (lo !== v) {
      if (!(v > 0) || !Number.isSafeInteger(v)) {
        throw new TransportError('INVALID_MESSAGE', `${what} must be a non-negative safe integer, got ${v}`);
      }
      hi = Math.floor(v / TWO_32);
    }
    const b = this.buf;
    const p = this.pos;
    b[p] = hi >>> 24;
    b[p + 1] = hi >>> 16;
    b[p + 2] = hi >>> 8;
    b[p + 3] = hi;
    b[p + 4] = lo >>> 24;
    b[p + 5] = lo >>> 16;
    b[p + 6] = lo >>> 8;
    b[p + 7] = lo;
    this.pos = p + 8;
  }

  /** A u32 count or length, validated. */
  u32Checked(v: number, what: string): void {
    if ((v >>> 0) !== v) throw new TransportError('INVALID_MESSAGE', `${what} must be a u32, got ${v}`);
    this.u32(v);
  }

  /** UTF-8 string with a u16 byte-length prefix. Reserves its own room. */
  str16(s: string, what: string): void {
    const len = this.utf8(s, 2);
    if (len > 0xffff) {
      this.pos -= len + 2;
      throw new TransportError('INVALID_MESSAGE', `${what} is ${len} bytes of UTF-8; the limit is 65535`);
    }
    const at = this.pos - len - 2;
    this.buf[at] = len >>> 8;
    this.buf[at + 1] = len;
  }

  /** UTF-8 string with a u32 byte-length prefix. Reserves its own room. */
  str32(s: string): void {
    const len = this.utf8(s, 4);
    this.u32At(this.pos - len - 4, len);
  }

  /** Raw bytes (no prefix). Reserves its own room. */
  raw(data: Uint8Array): void {
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Bytes with a u32 length prefix. Reserves its own room. */
  bytes32(data: Uint8Array): void {
    this.ensure(4 + data.length);
    this.u32(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  /** Writes `s` as UTF-8 after a `prefix`-byte hole; returns the byte length (pos is past it). */
  private utf8(s: string, prefix: number): number {
    const n = s.length;
    this.ensure(prefix + 3 * n);
    const b = this.buf;
    const start = this.pos + prefix;
    let p = start;
    let i = 0;
    if (n <= ASCII_FAST) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
    }
    if (i < n) p = start + b.write(s, start, 'utf8');
    this.pos = p;
    return p - start;
  }
}

/** Total bytes a UTF-8 string may need (upper bound, cheap). */
export function utf8Bound(s: string): number {
  return 3 * s.length;
}

const STR_CACHE_SIZE = 1024; // power of two
const STR_CACHE_MAX_LEN = 32;
const cacheBytes: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(STR_CACHE_SIZE);
const cacheStrings: string[] = new Array<string>(STR_CACHE_SIZE);
const copyBytes = (b: Uint8Array, start: number, end: number): Uint8Array => Uint8Array.prototype.slice.call(b, start, end);

/**
 * UTF-8 bytes b[start, end) as a string. Short strings (node ids, group ids: the same few values
 * in every message) go through a small direct-mapped intern cache, so decoding them costs a hash
 * and a compare instead of a native call and an allocation. Invalid UTF-8 becomes U+FFFD.
 */
export function decodeUtf8(b: Uint8Array, start: number, end: number): string {
  const len = end - start;
  if (len === 0) return '';
  if (len > STR_CACHE_MAX_LEN) return slowDecode(b, start, end);
  let h = len;
  for (let i = start; i < end; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  const slot = (h ^ (h >>> 16)) & (STR_CACHE_SIZE - 1);
  const cached = cacheBytes[slot];
  if (cached !== undefined && cached.length === len) {
    let i = 0;
    while (i < len && cached[i] === b[start + i]) i++;
    if (i === len) return cacheStrings[slot]!;
  }
  const s = slowDecode(b, start, end);
  cacheBytes[slot] = copyBytes(b, start, end);
  cacheStrings[slot] = s;
  return s;
}

function slowDecode(b: Uint8Array, start: number, end: number): string {
  if (end - start <= ASCII_FAST) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = b[i]!;
      if (c >= 0x80) return utf8Slice(b, start, end);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8Slice(b, start, end);
}

function utf8Slice(b: Uint8Array, start: number, end: number): string {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  return buf.toString('utf8', start, end);
}

export class ByteReader {
  readonly b: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.b = bytes;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new TransportError('BAD_FRAME', `truncated payload: ${what} needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  u8(): number {
    this.need(1, 'u8');
    return this.b[this.pos++]!;
  }

  u16(): number {
    this.need(2, 'u16');
    const b = this.b;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }

  u32(): number {
    this.need(4, 'u32');
    const b = this.b;
    const p = this.pos;
    this.pos = p + 4;
    return b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  u64(what: string): number {
    this.need(8, what);
    const b = this.b;
    const p = this.pos;
    this.pos = p + 8;
    const hi = b[p]! * 0x1000000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    const lo = b[p + 4]! * 0x1000000 + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!);
    if (hi > MAX_SAFE_HIGH) {
      throw new TransportError('BAD_FRAME', `${what} exceeds Number.MAX_SAFE_INTEGER`);
    }
    return hi * TWO_32 + lo;
  }

  str16(): string {
    return this.str(this.u16());
  }

  str32(): string {
    return this.str(this.u32());
  }

  /** A zero-copy view of the next `len` bytes as a plain Uint8Array. */
  view(len: number): Uint8Array {
    this.need(len, 'bytes');
    const b = this.b;
    const out = new Uint8Array(b.buffer, b.byteOffset + this.pos, len);
    this.pos += len;
    return out;
  }

  bytes32(): Uint8Array {
    return this.view(this.u32());
  }

  private str(len: number): string {
    this.need(len, 'string');
    const start = this.pos;
    this.pos = start + len;
    return decodeUtf8(this.b, start, start + len);
  }
}
