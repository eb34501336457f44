// One segment file of the log: naming, the file header, the in-memory index of record offsets,
// recovery scanning and reads.
//
// A segment is named after the index of its first entry, `log_<20 digits>.seg`, so names sort in
// log order. It starts with a 32-byte header and continues with records (entry-codec.ts):
//
//   header = ["RKVLOG01"][u64 first index][u64 prev term][u32 crc32(bytes 0..24)][u32 0]
//
// `prev term` is the term of the entry just before the segment (0 for index 1), so the log knows
// the term at its base even after the segments before it were compacted away. All entries of a
// segment have the same term: the log rolls to a new segment on a term change (and by size).
// The last segment is the one being appended to; there is no separate "open" file name, as a
// rename on every roll would cost a directory fsync for nothing.

import { crc32 } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import { invariant } from '../raft/core/errors.js';
import type { Entry } from '../raft/core/types.js';
import { type DecodeResult, FRAME_HEADER_BYTES, RECORD_OVERHEAD, decodeRecord } from './entry-codec.js';
import { StorageError } from './errors.js';
import { pad20, readFullySync } from './fs-util.js';

export const SEGMENT_HEADER_BYTES = 32;
const MAGIC = Buffer.from('RKVLOG01', 'latin1');
const NAME_RE = /^log_(\d{20})\.seg$/;
/** Torn writes are recognised by whole zero-filled sectors ("holes") of this size. */
const SECTOR = 512;

export function segmentFileName(first: number): string {
  return `log_${pad20(first)}.seg`;
}

/** The first index encoded in a segment file name, or undefined if it is not a segment. */
export function parseSegmentFileName(name: string): number | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

export function encodeSegmentHeader(first: number, prevTerm: number): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_BYTES);
  MAGIC.copy(buf, 0);
  buf.writeUInt32LE(first >>> 0, 8);
  buf.writeUInt32LE(Math.floor(first / 0x1_0000_0000), 12);
  buf.writeUInt32LE(prevTerm >>> 0, 16);
  buf.writeUInt32LE(Math.floor(prevTerm / 0x1_0000_0000), 20);
  buf.writeUInt32LE(crc32(buf.subarray(0, 24)), 24);
  return buf;
}

function decodeSegmentHeader(buf: Buffer): { first: number; prevTerm: number } | string {
  if (buf.length < SEGMENT_HEADER_BYTES) return `file has ${buf.length} bytes, the header needs ${SEGMENT_HEADER_BYTES}`;
  if (!buf.subarray(0, 8).equals(MAGIC)) return 'bad magic (not a raftkv log segment)';
  if (buf.readUInt32LE(24) !== crc32(buf.subarray(0, 24))) return 'header checksum mismatch';
  const first = buf.readUInt32LE(12) * 0x1_0000_0000 + buf.readUInt32LE(8);
  const prevTerm = buf.readUInt32LE(20) * 0x1_0000_0000 + buf.readUInt32LE(16);
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(prevTerm)) return 'header values beyond 2^53';
  return { first, prevTerm };
}

export class Segment {
  readonly path: string;
  /** Term of every entry in the segment; undefined while it is empty. */
  term: number | undefined;
  /** offsets[k] = byte offset of the record of entry first + k. */
  offsets: number[] = [];
  /** Bytes of header and records (the logical file size; the file catches up at sync). */
  size = SEGMENT_HEADER_BYTES;
  /** Open once the file exists (created by the log's flush, or found on open). */
  fh: FileHandle | undefined;

  constructor(
    dir: string,
    readonly first: number,
    readonly prevTerm: number,
  ) {
    this.path = `${dir}/${segmentFileName(first)}`;
  }

  get count(): number {
    return this.offsets.length;
  }

  /** Index of the last entry (first - 1 when empty). */
  get lastIndex(): number {
    return this.first + this.offsets.length - 1;
  }

  /** Term of the last entry, or of the entry before the segment when it is empty. */
  get lastTerm(): number {
    return this.term ?? this.prevTerm;
  }

  private recordEnd(k: number): number {
    return k + 1 < this.offsets.length ? this.offsets[k + 1]! : this.size;
  }

  /** Bytes of data of entry i (which must be in the segment). */
  dataBytes(i: number): number {
    const k = i - this.first;
    return this.recordEnd(k) - this.offsets[k]! - RECORD_OVERHEAD;
  }

  /** Indexes a record of `bytes` bytes appended at the end. */
  push(term: number, bytes: number): void {
    this.term = term;
    this.offsets.push(this.size);
    this.size += bytes;
  }

  /** Forgets entries at and after index i; returns the new byte size. */
  truncateAt(i: number): number {
    const k = i - this.first;
    invariant(k >= 0 && k <= this.offsets.length, () => `truncate of ${this.path} at ${i} outside [${this.first}, ${this.lastIndex + 1}]`);
    if (k < this.offsets.length) this.size = this.offsets[k]!;
    this.offsets.length = k;
    if (k === 0) this.term = undefined;
    return this.size;
  }

  /** Reads entries [lo, hi) from the file with one read, verifying every record. */
  read(lo: number, hi: number): Entry[] {
    invariant(this.fh !== undefined, () => `read of ${this.path} before the file exists`);
    invariant(lo >= this.first && hi <= this.lastIndex + 1 && lo < hi, () => `read [${lo}, ${hi}) outside ${this.path}`);
    const start = this.offsets[lo - this.first]!;
    const end = this.recordEnd(hi - 1 - this.first);
    const buf = readFullySync(this.fh.fd, this.path, start, end - start);
    const out: Entry[] = [];
    let off = 0;
    for (let i = lo; i < hi; i++) {
      const r = decodeRecord(buf, off);
      if (!r.ok || r.entry.index !== i) {
        const why = r.ok ? `holds index ${r.entry.index}, expected ${i}` : r.reason;
        throw new StorageError('CORRUPT_LOG', `${this.path}: corrupt record at byte offset ${start + off} on read: ${why}`);
      }
      out.push(r.entry);
      off = r.end;
    }
    return out;
  }
}

/** What recovery found in one segment file. */
export interface SegmentScan {
  /** From the header; undefined if the header is unusable (see `problem`). */
  readonly prevTerm: number | undefined;
  readonly offsets: number[];
  readonly term: number | undefined;
  /** Bytes of valid header and records. */
  readonly validEnd: number;
  /**
   * The first unusable bytes, if any. `torn` says they look like an interrupted write: a zero
   * filled hole (a page the crash kept from reaching the disk), or nothing parseable anywhere
   * after them. Only a torn problem in the last segment may be repaired.
   */
  readonly problem?: { readonly offset: number; readonly reason: string; readonly torn: boolean };
}

/** Validates the header and every record of a segment file's contents. */
export function scanSegment(buf: Buffer, first: number): SegmentScan {
  const h = decodeSegmentHeader(buf);
  if (typeof h === 'string' || h.first !== first) {
    const reason = typeof h === 'string' ? h : `header says first index ${h.first}, the name says ${first}`;
    const torn = buf.length < SEGMENT_HEADER_BYTES || allZero(buf, 0, SEGMENT_HEADER_BYTES) || !validRecordFollows(buf, 1, first);
    return { prevTerm: undefined, offsets: [], term: undefined, validEnd: 0, problem: { offset: 0, reason, torn } };
  }
  const offsets: number[] = [];
  let term: number | undefined;
  let off = SEGMENT_HEADER_BYTES;
  while (off < buf.length) {
    const expected = first + offsets.length;
    const r: DecodeResult = decodeRecord(buf, off);
    if (!r.ok) {
      const torn = looksLikeHole(buf, off, r.claimedEnd) || !validRecordFollows(buf, off + 1, expected);
      return { prevTerm: h.prevTerm, offsets, term, validEnd: off, problem: { offset: off, reason: r.reason, torn } };
    }
    const e = r.entry;
    let reason: string | undefined;
    if (e.index !== expected) reason = `record holds index ${e.index}, expected ${expected}`;
    else if (term !== undefined && e.term !== term) reason = `record has term ${e.term} in a segment of term ${term}`;
    else if (e.term < h.prevTerm) reason = `record has term ${e.term} below the previous term ${h.prevTerm}`;
    if (reason) return { prevTerm: h.prevTerm, offsets, term, validEnd: off, problem: { offset: off, reason, torn: false } };
    term = e.term;
    offsets.push(off);
    off = r.end;
  }
  return { prevTerm: h.prevTerm, offsets, term, validEnd: off };
}

function allZero(buf: Buffer, from: number, to: number): boolean {
  const end = Math.min(to, buf.length);
  for (let i = from; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * True when the bad record at `off` sits over a hole: its frame header is all zeros (never
 * valid: the length is at least 17), or a whole aligned sector inside it reads as zeros.
 */
function looksLikeHole(buf: Buffer, off: number, claimedEnd: number | undefined): boolean {
  if (off + FRAME_HEADER_BYTES <= buf.length && allZero(buf, off, off + FRAME_HEADER_BYTES)) return true;
  const end = Math.min(buf.length, claimedEnd ?? buf.length);
  for (let b = Math.ceil(off / SECTOR) * SECTOR; b + SECTOR <= buf.length && b < end; b += SECTOR) {
    if (allZero(buf, b, b + SECTOR)) return true;
  }
  return false;
}

/**
 * Whether a valid record starts anywhere at or after `from` with an index that could follow:
 * at least minIndex, and no more than the remaining bytes could hold records for.
 */
function validRecordFollows(buf: Buffer, from: number, minIndex: number): boolean {
  const maxIndex = minIndex + Math.ceil((buf.length - from) / RECORD_OVERHEAD);
  for (let p = from; p + RECORD_OVERHEAD <= buf.length; p++) {
    const bodyLen = buf.readUInt32LE(p);
    if (bodyLen < RECORD_OVERHEAD - FRAME_HEADER_BYTES || p + FRAME_HEADER_BYTES + bodyLen > buf.length) continue;
    const r = decodeRecord(buf, p);
    if (r.ok && r.entry.index >= minIndex && r.entry.index <= maxIndex) return true;
  }
  return false;
}
