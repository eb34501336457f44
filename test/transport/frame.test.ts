// Framing: encoding, and the streaming decoder fed every possible split of a byte stream;
// typed errors for oversized, bad-version, unknown-kind, short and truncated frames.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRand } from '../../src/raft/core/random.js';
import { MessageType } from '../../src/raft/core/types.js';
import { ByteWriter } from '../../src/transport/binary.js';
import { TransportError } from '../../src/transport/errors.js';
import {
  FRAME_VERSION,
  FrameDecoder,
  FrameKind,
  decodeErrorPayload,
  encodeErrorFrame,
  encodeFrame,
  writeRaftFrame,
} from '../../src/transport/frame.js';
import type { Frame } from '../../src/transport/frame.js';
import { decodeMessage } from '../../src/transport/raft-codec.js';
import { appendMessage, randBytes, randMessage } from './helpers.js';

const code = (c: string) => (e: unknown) => e instanceof TransportError && e.code === c;

interface Plain {
  kind: FrameKind;
  groupId: string;
  requestId: number;
  payload: number[];
}
const plain = (f: Frame): Plain => ({ kind: f.kind, groupId: f.groupId, requestId: f.requestId, payload: [...f.payload] });

function sampleStream(): { bytes: Uint8Array; frames: Plain[] } {
  const r = seededRand(3);
  const specs: [FrameKind, string, number, Uint8Array][] = [
    [FrameKind.Raft, 'g1', 0, randBytes(r, 40)],
    [FrameKind.Request, 'region-é', 7, new Uint8Array(0)],
    [FrameKind.Response, '', 0xffffffff, randBytes(r, 300)],
    [FrameKind.Error, 'g2', 3, randBytes(r, 10)],
    [FrameKind.Hello, '', 0, new Uint8Array([1])],
    [FrameKind.HelloAck, '中', 1, randBytes(r, 5)],
  ];
  const parts = specs.map(([k, g, id, p]) => encodeFrame(k, g, id, p));
  const bytes = Buffer.concat(parts);
  return { bytes, frames: specs.map(([kind, groupId, requestId, p]) => ({ kind, groupId, requestId, payload: [...p] })) };
}

function decodeAll(chunks: Uint8Array[]): Plain[] {
  const out: Plain[] = [];
  const d = new FrameDecoder((f) => out.push(plain(f)));
  for (const c of chunks) d.push(c);
  d.end();
  return out;
}

test('header layout: length, version, kind, u16 group length, group, u32 request id, payload', () => {
  const f = encodeFrame(FrameKind.Request, 'g', 0x01020304, new Uint8Array([0xee]));
  assert.deepStrictEqual([...f], [0, 0, 0, 10, FRAME_VERSION, FrameKind.Request, 0, 1, 0x67, 1, 2, 3, 4, 0xee]);
});

test('decoder: the whole stream split in two at every byte boundary', () => {
  const { bytes, frames } = sampleStream();
  assert.deepStrictEqual(decodeAll([bytes]), frames);
  for (let k = 0; k <= bytes.length; k++) {
    assert.deepStrictEqual(decodeAll([bytes.subarray(0, k), bytes.subarray(k)]), frames, `split at ${k}`);
  }
});

test('decoder: one byte at a time, and random chunkings', () => {
  const { bytes, frames } = sampleStream();
  assert.deepStrictEqual(decodeAll([...bytes].map((b) => new Uint8Array([b]))), frames);
  const r = seededRand(11);
  for (let round = 0; round < 200; round++) {
    const chunks: Uint8Array[] = [];
    let at = 0;
    while (at < bytes.length) {
      const n = 1 + r.int(Math.min(64, bytes.length - at));
      chunks.push(bytes.subarray(at, at + n));
      at += n;
    }
    assert.deepStrictEqual(decodeAll(chunks), frames, `round ${round}`);
  }
});

test('decoder: a frame contained in one chunk is delivered zero-copy; a split one is copied once', () => {
  const { bytes } = sampleStream();
  const seen: Frame[] = [];
  const d = new FrameDecoder((f) => seen.push(f));
  d.push(bytes);
  assert.ok(seen.every((f) => f.payload.buffer === bytes.buffer));
  const big = encodeFrame(FrameKind.Raft, 'g', 0, new Uint8Array(100_000).fill(3));
  const got: Frame[] = [];
  const d2 = new FrameDecoder((f) => got.push(f));
  for (let i = 0; i < big.length; i += 1000) d2.push(big.subarray(i, i + 1000));
  assert.equal(got.length, 1);
  assert.equal(got[0]!.payload.length, 100_000);
  assert.ok(got[0]!.payload.every((b) => b === 3));
});

test('raft frames: many messages through writeRaftFrame and the decoder, byte-split', () => {
  const r = seededRand(21);
  const msgs = Array.from({ length: 40 }, () => randMessage(r));
  const w = new ByteWriter(256);
  for (const m of msgs) writeRaftFrame(w, 'group-1', m);
  const bytes = w.view();
  for (const step of [1, 7, 333, bytes.length]) {
    const got: unknown[] = [];
    const d = new FrameDecoder((f) => {
      assert.equal(f.kind, FrameKind.Raft);
      assert.equal(f.groupId, 'group-1');
      got.push(decodeMessage(f.payload));
    });
    for (let i = 0; i < bytes.length; i += step) d.push(bytes.subarray(i, i + step));
    assert.deepStrictEqual(got, msgs);
  }
});

test('writeRaftFrame leaves nothing behind on an invalid or oversized message', () => {
  const w = new ByteWriter(64);
  writeRaftFrame(w, 'g', { type: MessageType.Heartbeat, from: 'a', to: 'b', term: 1 });
  const pos = w.pos;
  assert.throws(() => writeRaftFrame(w, 'g', { type: MessageType.Heartbeat, from: 'a', to: 'b', term: -1 }), code('INVALID_MESSAGE'));
  assert.equal(w.pos, pos);
  assert.throws(() => writeRaftFrame(w, 'g', appendMessage('a', 'b', 64, 256), 1000), code('FRAME_TOO_LARGE'));
  assert.equal(w.pos, pos);
  assert.throws(() => writeRaftFrame(w, 'g'.repeat(70_000), { type: MessageType.Heartbeat, from: 'a', to: 'b', term: 1 }), code('INVALID_MESSAGE'));
  assert.equal(w.pos, pos);
});

function header(len: number, version = FRAME_VERSION, kind: number = FrameKind.Raft): Uint8Array {
  const b = Buffer.alloc(6);
  b.writeUInt32BE(len, 0);
  b[4] = version;
  b[5] = kind;
  return b;
}

test('decoder errors: oversized length (as soon as 4 bytes arrive), bad version, unknown kind, short length', () => {
  const d = new FrameDecoder(() => assert.fail('no frame'), { maxFrameSize: 1024 });
  assert.throws(() => d.push(header(1025).subarray(0, 4)), code('FRAME_TOO_LARGE'));
  assert.throws(() => d.push(new Uint8Array([1])), code('FRAME_TOO_LARGE'), 'stays failed');
  assert.throws(() => new FrameDecoder(() => {}).push(header(64 * 1024 * 1024 + 1)), code('FRAME_TOO_LARGE'));
  assert.throws(() => new FrameDecoder(() => {}).push(header(100, 9)), code('BAD_VERSION'));
  assert.throws(() => new FrameDecoder(() => {}).push(header(100, FRAME_VERSION, 0)), code('BAD_FRAME'));
  assert.throws(() => new FrameDecoder(() => {}).push(header(100, FRAME_VERSION, 77)), code('BAD_FRAME'));
  assert.throws(() => new FrameDecoder(() => {}).push(header(3)), code('BAD_FRAME'));
  // Version checked even when the header arrives split.
  const split = new FrameDecoder(() => {});
  split.push(header(100, 2).subarray(0, 5));
  assert.throws(() => split.push(header(100, 2).subarray(5)), code('BAD_VERSION'));
  // Garbage text.
  assert.throws(() => new FrameDecoder(() => {}).push(Buffer.from('GET / HTTP/1.1\r\n\r\n')), code('FRAME_TOO_LARGE'));
  // Group id overflowing the frame.
  const bad = Buffer.from([0, 0, 0, 8, FRAME_VERSION, FrameKind.Raft, 0, 50, 0, 0, 0, 0]);
  assert.throws(() => new FrameDecoder(() => {}).push(bad), code('BAD_FRAME'));
});

test('decoder: end() inside a frame is a truncated frame (BAD_FRAME); at a boundary it is fine', () => {
  const f = encodeFrame(FrameKind.Raft, 'g', 0, new Uint8Array(10));
  for (let k = 1; k < f.length; k++) {
    const d = new FrameDecoder(() => {});
    d.push(f.subarray(0, k));
    assert.throws(() => d.end(), code('BAD_FRAME'), `cut at ${k}`);
  }
  const ok = new FrameDecoder(() => {});
  ok.push(f);
  ok.end();
});

test('error frames carry a code and a message', () => {
  const out: Frame[] = [];
  new FrameDecoder((x) => out.push(x)).push(encodeErrorFrame('UNKNOWN_GROUP', 'no group g7', 'g7', 5));
  assert.equal(out[0]!.kind, FrameKind.Error);
  assert.equal(out[0]!.groupId, 'g7');
  assert.equal(out[0]!.requestId, 5);
  const e = decodeErrorPayload(out[0]!.payload);
  assert.equal(e.code, 'UNKNOWN_GROUP');
  assert.equal(e.message, 'no group g7');
  assert.equal(e.remote, true);
});
