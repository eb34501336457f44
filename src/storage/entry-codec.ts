// Log records on disk: [u32 bodyLength][u32 crc32(body)][body], body = [u8 type][f64 term]
// [f64 index][data...]. Little-endian. Terms and indexes are safe integers stored as f64.

import { crc32 } from 'node:zlib';
import type { Entry, EntryType } from '../raft/core/types.js';

export const RECORD_HEADER_BYTES = 8;
const BODY_HEADER_BYTES = 17;

export function encodeRecord(e: Entry): Buffer {
  const bodyLen = BODY_HEADER_BYTES + e.data.byteLength;
  const buf = Buffer.allocUnsafe(RECORD_HEADER_BYTES + bodyLen);
  buf.writeUInt32LE(bodyLen, 0);
  buf.writeUInt8(e.type, 8);
  buf.writeDoubleLE(e.term, 9);
  buf.writeDoubleLE(e.index, 17);
  buf.set(e.data, 25);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

export type DecodeResult =
  | { readonly kind: 'ok'; readonly entry: Entry; readonly size: number }
  /** Not enough bytes for a whole record (a torn write if at the end of the file). */
  | { readonly kind: 'short' }
  | { readonly kind: 'bad'; readonly reason: string };

/** Decodes the record at `off`. Entry data is a view into `buf` (no copy). */
export function decodeRecord(buf: Buffer, off: number): DecodeResult {
  if (buf.length - off < RECORD_HEADER_BYTES) return { kind: 'short' };
  const bodyLen = buf.readUInt32LE(off);
  if (bodyLen < BODY_HEADER_BYTES) return { kind: 'bad', reason: `record length ${bodyLen} too small` };
  if (buf.length - off - RECORD_HEADER_BYTES < bodyLen) return { kind: 'short' };
  const body = buf.subarray(off + RECORD_HEADER_BYTES, off + RECORD_HEADER_BYTES + bodyLen);
  const want = buf.readUInt32LE(off + 4);
  const got = crc32(body);
  if (want !== got) return { kind: 'bad', reason: `checksum mismatch (stored ${want.toString(16)}, computed ${got.toString(16)})` };
  const type = body.readUInt8(0) as EntryType;
  const term = body.readDoubleLE(1);
  const index = body.readDoubleLE(9);
  if (!Number.isSafeInteger(term) || !Number.isSafeInteger(index)) return { kind: 'bad', reason: 'term or index is not an integer' };
  return { kind: 'ok', entry: { type, term, index, data: body.subarray(BODY_HEADER_BYTES) }, size: RECORD_HEADER_BYTES + bodyLen };
}
