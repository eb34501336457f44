// The binary Raft codec: round trips (property-style, seeded), every message type, integer
// limits, zero-copy decoding, and rejection of malformed input with typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRand } from '../../src/raft/core/random.js';
import { EntryType, MessageType } from '../../src/raft/core/types.js';
import type { Message } from '../../src/raft/core/types.js';
import { ByteWriter } from '../../src/transport/binary.js';
import { TransportError } from '../../src/transport/errors.js';
import { CODEC_VERSION, decodeMessage, encodeMessage, messageSizeBound, writeMessage } from '../../src/transport/raft-codec.js';
import { ALL_TYPES, appendMessage, randMessage } from './helpers.js';

const code = (c: string) => (e: unknown) => e instanceof TransportError && e.code === c;

test('round trip: 3000 random messages (seeded) decode deep-equal to what was encoded', () => {
  for (let seed = 1; seed <= 3; seed++) {
    const r = seededRand(seed);
    for (let i = 0; i < 1000; i++) {
      const m = randMessage(r);
      const bytes = encodeMessage(m);
      assert.ok(bytes.length <= messageSizeBound(m), 'size bound holds');
      assert.deepStrictEqual(decodeMessage(bytes), m, `seed ${seed} message ${i}`);
    }
  }
});

test('round trip: every message type, minimal and with every field', () => {
  const r = seededRand(42);
  for (const type of ALL_TYPES) {
    const minimal: Message = { type, from: 'a', to: 'b', term: 0 };
    assert.deepStrictEqual(decodeMessage(encodeMessage(minimal)), minimal);
    for (let i = 0; i < 20; i++) {
      const m = randMessage(r, type);
      assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m, type);
    }
    const full: Message = {
      type,
      from: 'n1',
      to: 'n2',
      term: 2 ** 40,
      logTerm: 7,
      index: Number.MAX_SAFE_INTEGER,
      entries: [
        { term: 7, index: 8, type: EntryType.Normal, data: new Uint8Array([1, 2, 3]) },
        { term: 7, index: 9, type: EntryType.ConfChange, data: new Uint8Array(0) },
      ],
      commit: 2 ** 32,
      reject: false,
      rejectHint: 2 ** 32 - 1,
      rejectHintTerm: 1,
      snapshot: {
        meta: { index: 5, term: 2, confState: { voters: ['n1', 'n2'], votersOutgoing: ['n3'], learners: [], learnersNext: ['n3'], autoLeave: true } },
        data: new Uint8Array([9, 9]),
      },
      context: 'read-17 ✓',
      transfer: true,
      transferee: 'n3',
      lease: false,
    };
    assert.deepStrictEqual(decodeMessage(encodeMessage(full)), full, type);
  }
});

test('absent optional fields stay absent; false booleans stay false', () => {
  const m: Message = { type: MessageType.AppResp, from: 'a', to: 'b', term: 1, reject: false, index: 0 };
  const d = decodeMessage(encodeMessage(m));
  assert.equal(d.reject, false);
  assert.equal(d.index, 0);
  assert.ok(!('entries' in d) && !('commit' in d) && !('lease' in d) && !('context' in d));
});

test('decoded entry data are zero-copy views of the input bytes', () => {
  const m = appendMessage('a', 'b', 4, 256);
  const bytes = encodeMessage(m);
  const d = decodeMessage(bytes);
  assert.equal(d.entries!.length, 4);
  for (const e of d.entries!) {
    assert.equal(e.data.buffer, bytes.buffer, 'shares the input buffer');
    assert.equal(Object.getPrototypeOf(e.data), Uint8Array.prototype, 'a plain Uint8Array');
    assert.deepStrictEqual(e.data, m.entries![0]!.data);
  }
});

test('writeMessage appends after existing bytes and decodes from an offset', () => {
  const w = new ByteWriter(16);
  w.ensure(3);
  w.u8(0xaa);
  w.u8(0xbb);
  w.u8(0xcc);
  const r = seededRand(5);
  const msgs = Array.from({ length: 10 }, () => randMessage(r));
  const bounds: [number, number][] = [];
  for (const m of msgs) {
    const s = w.pos;
    writeMessage(w, m);
    bounds.push([s, w.pos]);
  }
  const buf = w.view();
  msgs.forEach((m, i) => assert.deepStrictEqual(decodeMessage(buf, bounds[i]![0], bounds[i]![1]), m));
});

test('integers: unsafe, negative, fractional or NaN values are refused with INVALID_MESSAGE and nothing is written', () => {
  const base: Message = { type: MessageType.App, from: 'a', to: 'b', term: 1 };
  const bad = [2 ** 53, -1, 1.5, Number.NaN, Infinity];
  for (const v of bad) {
    assert.throws(() => encodeMessage({ ...base, term: v }), code('INVALID_MESSAGE'), `term ${v}`);
    assert.throws(() => encodeMessage({ ...base, commit: v }), code('INVALID_MESSAGE'), `commit ${v}`);
    assert.throws(
      () => encodeMessage({ ...base, entries: [{ term: 1, index: v, type: EntryType.Normal, data: new Uint8Array(1) }] }),
      code('INVALID_MESSAGE'),
    );
    const w = new ByteWriter(8);
    w.ensure(1);
    w.u8(1);
    assert.throws(() => writeMessage(w, { ...base, index: v }), code('INVALID_MESSAGE'));
    assert.equal(w.pos, 1, 'rolled back');
  }
  assert.throws(() => encodeMessage({ ...base, type: 'Bogus' as MessageType }), code('INVALID_MESSAGE'));
  assert.throws(() => encodeMessage({ ...base, from: 'x'.repeat(70000) }), code('INVALID_MESSAGE'));
  assert.throws(
    () => encodeMessage({ ...base, entries: [{ term: 1, index: 1, type: 7 as EntryType, data: new Uint8Array(0) }] }),
    code('INVALID_MESSAGE'),
  );
});

test('integers above 2^53 - 1 on the wire are rejected with BAD_FRAME', () => {
  const bytes = Buffer.from(encodeMessage({ type: MessageType.Vote, from: 'a', to: 'b', term: Number.MAX_SAFE_INTEGER }));
  // term follows: version, type, flags(2), from(2+1), to(2+1)
  const at = 1 + 1 + 2 + 3 + 3;
  assert.equal(bytes.readUInt32BE(at), 0x1fffff);
  bytes.writeUInt32BE(0x200000, at);
  assert.throws(() => decodeMessage(bytes), code('BAD_FRAME'));
});

test('malformed input: truncation at every byte, trailing bytes, bad version, type, flags', () => {
  const r = seededRand(9);
  for (let i = 0; i < 12; i++) {
    const bytes = encodeMessage(randMessage(r));
    for (let cut = 0; cut < bytes.length; cut++) {
      assert.throws(() => decodeMessage(bytes.subarray(0, cut)), code('BAD_FRAME'), `cut at ${cut}`);
    }
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    assert.throws(() => decodeMessage(longer), code('BAD_FRAME'));
  }
  const ok = encodeMessage({ type: MessageType.Heartbeat, from: 'a', to: 'b', term: 1 });
  const v = ok.slice();
  v[0] = CODEC_VERSION + 1;
  assert.throws(() => decodeMessage(v), code('BAD_VERSION'));
  const t = ok.slice();
  t[1] = 200;
  assert.throws(() => decodeMessage(t), code('BAD_FRAME'));
  const f = ok.slice();
  f[2] = 0x80;
  assert.throws(() => decodeMessage(f), code('BAD_FRAME'));
  // A huge entry count must not allocate: it is checked against the bytes left.
  const w = new ByteWriter(64);
  w.ensure(64);
  w.u8(CODEC_VERSION);
  w.u8(3);
  w.u16(1 << 7);
  w.str16('a', 'x');
  w.str16('b', 'x');
  w.u64(1, 't');
  w.u32(0xffffffff);
  assert.throws(() => decodeMessage(w.view()), code('BAD_FRAME'));
});
