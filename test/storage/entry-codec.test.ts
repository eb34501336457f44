import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EntryType } from '../../src/raft/core/types.js';
import { RECORD_OVERHEAD, decodeRecord, encodeRecords } from '../../src/storage/entry-codec.js';

test('entry codec: round trip, u64-safe numbers, zero-copy data', () => {
  const ents = [
    { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
    { index: 2 ** 40 + 5, term: Number.MAX_SAFE_INTEGER, type: EntryType.ConfChange, data: new Uint8Array(0) },
  ];
  const buf = encodeRecords(ents);
  assert.equal(buf.length, 2 * RECORD_OVERHEAD + 3);
  const a = decodeRecord(buf, 0);
  assert.ok(a.ok);
  assert.deepEqual([a.entry.index, a.entry.term, a.entry.type, [...a.entry.data]], [1, 1, EntryType.Normal, [1, 2, 3]]);
  assert.equal(a.entry.data.buffer, buf.buffer, 'data is a view into the buffer');
  const b = decodeRecord(buf, a.end);
  assert.ok(b.ok);
  assert.deepEqual([b.entry.index, b.entry.term, b.entry.type], [2 ** 40 + 5, Number.MAX_SAFE_INTEGER, EntryType.ConfChange]);
  assert.equal(b.end, buf.length);
});

test('entry codec: short frames and checksum mismatches are told apart', () => {
  const buf = encodeRecords([{ index: 7, term: 2, type: EntryType.Normal, data: new Uint8Array(40).fill(9) }]);
  const short = decodeRecord(buf.subarray(0, buf.length - 1), 0);
  assert.equal(short.ok, false);
  assert.equal(!short.ok && short.kind, 'short');
  const flipped = Buffer.from(buf);
  flipped[30]! ^= 0x10;
  const bad = decodeRecord(flipped, 0);
  assert.equal(!bad.ok && bad.kind, 'bad');
  assert.match(!bad.ok ? bad.reason : '', /checksum mismatch/);
});
