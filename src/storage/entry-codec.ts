// The binary form of one log entry on disk.
//
//   record = [u32 bodyLength][u32 crc32(body)][body]                       (frame, 8 bytes)
//   body   = [u64 term][u64 index][u8 type][data ...]                       (17 bytes + data)
//
// All integers little-endian. A u64 is written as two u32 halves (low first); decoding refuses
// values beyond Number.MAX_SAFE_INTEGER, so terms and indexes stay exact JS numbers. The CRC is
// zlib's CRC-32 of the body. Decoded `data` is a view into the caller's buffer (zero copy).

import { crc32 } from 'node:zlib';
import { invariant } from '../raft/core/errors.js';
import { type Entry, EntryType } from '../raft/core/types.js';

export const FRAME_HEADER_BYTES = 8;
export const BODY_HEADER_BYTES = 17;
/** Bytes a record takes beyond its entry's data. */
export const RECORD_OVERHEAD = FRAME_HEADER_BYTES + BODY_HEADER_BYTES;

const TWO_32 = 0x1_0000_0000;
const MAX_HI = Math.floor(Number.MAX_SAFE_INTEGER / TWO_32);

export function recordSize(e: Entry): number {
  return RECORD_OVERHEAD + e.data.byteLength;
}

function writeU64(buf: Buffer, off: number, n: number): void {
  buf.writeUInt32LE(n >>> 0, off);
  buf.writeUInt32LE(Math.floor(n / TWO_32), off + 4);
}

function readU64(buf: Buffer, off: number): number | undefined {
  const hi = buf.readUInt32LE(off + 4);
  if (hi > MAX_HI) return undefined;
  const n = hi * TWO_32 + buf.readUInt32LE(off);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Writes the record of `e` into `buf` at `off`; returns the offset just past it. */
export function encodeRecordInto(buf: Buffer, off: number, e: Entry): number {
  invariant(Number.isSafeInteger(e.term) && e.term >= 0, () => `entry term ${e.term} is not a non-negative safe integer`);
  invariant(Number.isSafeInteger(e.index) && e.index > 0, () => `entry index ${e.index} is not a positive safe integer`);
  invariant(e.type === EntryType.Normal || e.type === EntryType.ConfChange, () => `unknown entry type ${e.type}`);
  const bodyStart = off + FRAME_HEADER_BYTES;
  const bodyLen = BODY_HEADER_BYTES + e.data.byteLength;
  buf.writeUInt32LE(bodyLen, off);
  writeU64(buf, bodyStart, e.term);
  writeU64(buf, bodyStart + 8, e.index);
  buf[bodyStart + 16] = e.type;
  buf.set(e.data, bodyStart + BODY_HEADER_BYTES);
  const end = bodyStart + bodyLen;
  buf.writeUInt32LE(crc32(buf.subarray(bodyStart, end)), off + 4);
  return end;
}

/** The records of `entries`, back to back, in one buffer. */
export function encodeRecords(entries: readonly Entry[]): Buffer {
  let total = 0;
  for (const e of entries) total += recordSize(e);
  const buf = Buffer.allocUnsafe(total);
  let off = 0;
  for (const e of entries) off = encodeRecordInto(buf, off, e);
  return buf;
}

export type DecodeResult =
  | { readonly ok: true; readonly entry: Entry; /** Offset just past the record. */ readonly end: number }
  | {
      readonly ok: false;
      /** 'short': the buffer ends inside the record; 'bad': the record is malformed. */
      readonly kind: 'short' | 'bad';
      readonly reason: string;
      /** Where the record claims to end (may be past the buffer), when its length is readable. */
      readonly claimedEnd?: number;
    };

/** Decodes and verifies the record at `off`. */
export function decodeRecord(buf: Buffer, off: number): DecodeResult {
  if (buf.length - off < FRAME_HEADER_BYTES) {
    return { ok: false, kind: 'short', reason: `${buf.length - off} bytes left, a frame header needs ${FRAME_HEADER_BYTES}` };
  }
  const bodyLen = buf.readUInt32LE(off);
  const claimedEnd = off + FRAME_HEADER_BYTES + bodyLen;
  if (bodyLen < BODY_HEADER_BYTES) return { ok: false, kind: 'bad', reason: `record length ${bodyLen} is too small`, claimedEnd };
  if (claimedEnd > buf.length) {
    return { ok: false, kind: 'short', reason: `record of ${bodyLen} bytes runs past the end (${buf.length - off - FRAME_HEADER_BYTES} left)`, claimedEnd };
  }
  const bodyStart = off + FRAME_HEADER_BYTES;
  const stored = buf.readUInt32LE(off + 4);
  const actual = crc32(buf.subarray(bodyStart, claimedEnd));
  if (stored !== actual) {
    return { ok: false, kind: 'bad', reason: `checksum mismatch (stored ${hex(stored)}, computed ${hex(actual)})`, claimedEnd };
  }
  const term = readU64(buf, bodyStart);
  const index = readU64(buf, bodyStart + 8);
  const type = buf[bodyStart + 16]!;
  if (term === undefined || index === undefined) return { ok: false, kind: 'bad', reason: 'term or index beyond 2^53', claimedEnd };
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) return { ok: false, kind: 'bad', reason: `unknown entry type ${type}`, claimedEnd };
  const dataStart = bodyStart + BODY_HEADER_BYTES;
  const data = new Uint8Array(buf.buffer, buf.byteOffset + dataStart, claimedEnd - dataStart);
  return { ok: true, entry: { term, index, type: type as EntryType, data }, end: claimedEnd };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
