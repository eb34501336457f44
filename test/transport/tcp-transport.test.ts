// The TCP transport over real loopback sockets (127.0.0.1, port 0). Every test closes what it
// opens (transports and raw sockets), and every wait is bounded.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { Message } from '../../src/raft/core/types.js';
import { MessageType } from '../../src/raft/core/types.js';
import { TransportError } from '../../src/transport/errors.js';
import { FRAME_VERSION, FrameKind, decodeErrorPayload, encodeFrame, writeRaftFrame } from '../../src/transport/frame.js';
import { ByteWriter } from '../../src/transport/binary.js';
import { encodeHello } from '../../src/transport/handshake.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import type { TcpTransportOptions } from '../../src/transport/tcp-transport.js';
import { CaptureLogger, RawClient, appendMessage, heartbeat, sleep, waitFor } from './helpers.js';

const open: TcpTransport[] = [];
const raws: RawClient[] = [];
after(async () => {
  for (const r of raws) r.destroy();
  await Promise.all(open.map((t) => t.close()));
});

interface Node {
  t: TcpTransport;
  log: CaptureLogger;
  port: number;
  got: { group: string; msg: Message; from: string }[];
}

async function node(id: string, groups: string[] = ['g1', 'g2'], o: Partial<TcpTransportOptions> = {}): Promise<Node> {
  const log = new CaptureLogger();
  const t = new TcpTransport({ nodeId: id, logger: log, backoffBaseMs: 20, backoffMaxMs: 200, handshakeTimeoutMs: 1000, ...o });
  open.push(t);
  const got: Node['got'] = [];
  for (const g of groups) t.registerGroup(g, { onMessage: (msg, from) => got.push({ group: g, msg, from }) });
  const { port } = await t.listen();
  return { t, log, port, got };
}

function link(a: Node, b: Node): void {
  a.t.setPeer(b.t.nodeId, '127.0.0.1', b.port);
  b.t.setPeer(a.t.nodeId, '127.0.0.1', a.port);
}

const isCode = (c: string) => (e: unknown) => e instanceof TransportError && e.code === c;

function rawHello(nodeId: string, peer: string, cluster = 'raftkv'): Buffer {
  return encodeFrame(FrameKind.Hello, '', 0, encodeHello({ nodeId, cluster, peer, incarnation: 'raw-1' }));
}

function raftFrame(group: string, msg: Message): Buffer {
  const w = new ByteWriter(256);
  writeRaftFrame(w, group, msg);
  return Buffer.from(w.view());
}

test('raft messages of two groups share ONE connection, both directions, even when both sides dial at once', async () => {
  const a = await node('a');
  const b = await node('b');
  link(a, b);
  // Both send at the same moment: both dial, the handshake keeps a single connection.
  for (const g of ['g1', 'g2']) {
    assert.equal(a.t.trySend(g, heartbeat('a', 'b')), 'OK');
    assert.equal(b.t.trySend(g, heartbeat('b', 'a')), 'OK');
  }
  await waitFor(() => a.got.length >= 2 && b.got.length >= 2, 3000, 'first messages');
  await waitFor(() => a.t.stats().sockets === 1 && b.t.stats().sockets === 1, 3000, 'a single socket each');
  for (let i = 0; i < 50; i++) {
    a.t.send(i % 2 ? 'g1' : 'g2', appendMessage('a', 'b', 2, 16, i));
    b.t.send(i % 2 ? 'g2' : 'g1', heartbeat('b', 'a', i));
  }
  await waitFor(() => a.got.length >= 52 && b.got.length >= 52, 3000, 'all messages');
  assert.equal(a.t.stats().openConnections, 1);
  assert.equal(b.t.stats().openConnections, 1);
  assert.ok(b.got.every((x) => x.from === 'a' && x.msg.from === 'a'));
  assert.deepEqual(new Set(b.got.map((x) => x.group)), new Set(['g1', 'g2']));
  // Per-group order preserved.
  const idx = b.got.filter((x) => x.group === 'g2' && x.msg.type === MessageType.App).map((x) => x.msg.index!);
  assert.deepEqual(idx, [...idx].sort((x, y) => x - y));
  assert.deepEqual(b.got.at(-1)!.msg.entries![0]!.data, new Uint8Array(16).fill(7));
  await Promise.all([a.t.close(), b.t.close()]);
});

test('a connection dialed by one side carries the other side\'s traffic: no second dial', async () => {
  const a = await node('a');
  const b = await node('b');
  link(a, b);
  a.t.send('g1', heartbeat('a', 'b'));
  await waitFor(() => b.got.length === 1);
  b.t.send('g1', heartbeat('b', 'a'));
  b.t.send('g2', heartbeat('b', 'a'));
  await waitFor(() => a.got.length === 2);
  assert.equal(a.t.stats().dialed, 1);
  assert.equal(b.t.stats().dialed, 0);
  assert.equal(b.t.stats().accepted, 1);
  await Promise.all([a.t.close(), b.t.close()]);
});

test('request/response: concurrent requests answered out of order are matched by request id', async () => {
  const a = await node('a');
  const b = await node('b');
  link(a, b);
  b.t.onRequest(async (groupId, payload, peer) => {
    const n = payload[0]!;
    await sleep((20 - n) * 3); // later requests answer first
    return new TextEncoder().encode(`${groupId}:${peer}:${n}`);
  });
  const order: number[] = [];
  const reqs = Array.from({ length: 20 }, (_, n) =>
    a.t.request('b', n % 2 ? 'g1' : 'g2', new Uint8Array([n])).then((r) => {
      order.push(n);
      return new TextDecoder().decode(r);
    }),
  );
  const res = await Promise.all(reqs);
  res.forEach((r, n) => assert.equal(r, `${n % 2 ? 'g1' : 'g2'}:a:${n}`));
  assert.notDeepEqual(order, [...order].sort((x, y) => x - y), 'responses arrived out of order');
  assert.equal(a.t.stats().pendingRequests, 0);
  await Promise.all([a.t.close(), b.t.close()]);
});

test('request errors: TIMEOUT, handler failures come back typed, late responses are ignored', async () => {
  const a = await node('a');
  const b = await node('b');
  link(a, b);
  b.t.onRequest(async (_g, payload) => {
    if (payload[0] === 1) await sleep(150);
    if (payload[0] === 2) throw new Error('boom');
    if (payload[0] === 3) throw new TransportError('UNKNOWN_GROUP', 'no such region');
    return payload;
  });
  const t0 = Date.now();
  await assert.rejects(a.t.request('b', 'g1', new Uint8Array([1]), { timeoutMs: 60 }), isCode('TIMEOUT'));
  assert.ok(Date.now() - t0 < 140);
  await assert.rejects(a.t.request('b', 'g1', new Uint8Array([2])), (e: unknown) => isCode('REMOTE_ERROR')(e) && /boom/.test(String(e)));
  await assert.rejects(a.t.request('b', 'g1', new Uint8Array([3])), (e: unknown) => isCode('UNKNOWN_GROUP')(e) && (e as TransportError).remote);
  await sleep(150); // the late answer to the timed-out request arrives and is dropped
  assert.deepEqual(await a.t.request('b', 'g1', new Uint8Array([4])), new Uint8Array([4]));
  assert.equal(a.t.stats().openConnections, 1);
  await Promise.all([a.t.close(), b.t.close()]);
});

test('peer restart: pending requests fail, the peer is reported unreachable, the transport reconnects', async () => {
  const a = await node('a');
  let b = await node('b');
  link(a, b);
  const port = b.port;
  const unreachable: string[] = [];
  a.t.onUnreachable((p) => unreachable.push(p));
  const groupUnreachable: string[] = [];
  a.t.registerGroup('g9', { onMessage() {}, onUnreachable: (p) => groupUnreachable.push(p) });
  b.t.onRequest(() => new Promise(() => {})); // never answers
  a.t.send('g1', heartbeat('a', 'b'));
  await waitFor(() => b.got.length === 1);
  const pending = assert.rejects(a.t.request('b', 'g1', new Uint8Array([1]), { timeoutMs: 3000 }), isCode('UNREACHABLE'));
  await sleep(20);
  await b.t.close();
  await pending;
  await waitFor(() => unreachable.includes('b') && groupUnreachable.includes('b'), 2000, 'unreachable report');
  // While b is down, sends are dropped and said so.
  await waitFor(() => a.t.trySend('g1', heartbeat('a', 'b')) === 'UNREACHABLE', 2000, 'UNREACHABLE status');
  await sleep(100); // a few failed dials with backoff
  b = await node('b', ['g1', 'g2'], { port });
  await waitFor(
    () => {
      a.t.send('g1', heartbeat('a', 'b', 99));
      return b.got.some((x) => x.msg.commit === 99);
    },
    3000,
    'delivery after restart',
  );
  b.t.onRequest((_g, p) => p);
  assert.deepEqual(await a.t.request('b', 'g1', new Uint8Array([5])), new Uint8Array([5]));
  assert.equal(a.t.stats().openConnections, 1);
  await Promise.all([a.t.close(), b.t.close()]);
});

test('bad input on one connection (garbage, oversized, bad version, bad kind, truncated, no handshake) closes only that connection', async () => {
  const s = await node('s');
  const c = await node('c');
  link(s, c);
  s.t.onRequest((_g, p) => p);
  c.t.onRequest((_g, p) => p);
  assert.deepEqual(await c.t.request('s', 'g1', new Uint8Array([1])), new Uint8Array([1]));

  const oversized = Buffer.alloc(6);
  oversized.writeUInt32BE(64 * 1024 + 1, 0); // over the pre-handshake limit
  oversized[4] = FRAME_VERSION;
  oversized[5] = FrameKind.Hello;
  const badVersion = Buffer.from(rawHello('x', 's'));
  badVersion[4] = 9;
  const badKind = Buffer.from(rawHello('x', 's'));
  badKind[5] = 99;
  const cases: [string, (r: RawClient) => void, string][] = [
    ['garbage', (r) => r.write(Buffer.from('\x00\x00\x00\x0b\x01\x01hello garbage bytes')), 'BAD_FRAME'],
    ['text', (r) => r.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), 'FRAME_TOO_LARGE'],
    ['oversized', (r) => r.write(oversized), 'FRAME_TOO_LARGE'],
    ['bad version', (r) => r.write(badVersion), 'BAD_VERSION'],
    ['bad kind', (r) => r.write(badKind), 'BAD_FRAME'],
    ['raft before hello', (r) => r.write(raftFrame('g1', heartbeat('x', 's'))), 'BAD_FRAME'],
    [
      'truncated',
      (r) => {
        r.write(rawHello('x', 's').subarray(0, 9));
        r.socket.end();
      },
      'BAD_FRAME',
    ],
    [
      'garbled message after handshake',
      (r) => {
        r.write(rawHello('x', 's'));
        r.write(encodeFrame(FrameKind.Raft, 'g1', 0, new Uint8Array([1, 2, 3])));
      },
      'BAD_FRAME',
    ],
  ];
  for (const [name, act, expected] of cases) {
    const r = new RawClient(s.port);
    raws.push(r);
    await r.connected;
    act(r);
    // The good client keeps working while the bad one is being thrown out.
    const echo = c.t.request('s', 'g2', new Uint8Array([7]));
    await waitFor(() => r.closed, 2000, `${name}: connection closed`);
    const err = r.frames.find((f) => f.kind === FrameKind.Error);
    assert.ok(err, `${name}: got an error frame`);
    assert.equal(decodeErrorPayload(err.payload).code, expected, name);
    assert.deepEqual(await echo, new Uint8Array([7]));
  }
  assert.ok(s.log.warnings().filter((l) => /bad input/.test(l.msg)).length >= cases.length);
  assert.equal(c.t.stats().dialed, 1, 'the good client never lost its connection');
  assert.equal(s.got.length, 0, 'nothing from the bad clients was delivered');
  await Promise.all([s.t.close(), c.t.close()]);
});

test('unknown group: an UNKNOWN_GROUP error frame comes back, it is logged, and the connection stays up', async () => {
  const s = await node('s', ['g1']);
  const r = new RawClient(s.port);
  raws.push(r);
  await r.connected;
  r.write(rawHello('x', 's'));
  await waitFor(() => r.frames.some((f) => f.kind === FrameKind.HelloAck));
  r.write(raftFrame('nope', heartbeat('x', 's')));
  await waitFor(() => r.frames.some((f) => f.kind === FrameKind.Error));
  const ef = r.frames.find((f) => f.kind === FrameKind.Error)!;
  assert.equal(ef.groupId, 'nope');
  assert.equal(decodeErrorPayload(ef.payload).code, 'UNKNOWN_GROUP');
  r.write(raftFrame('g1', heartbeat('x', 's', 5)));
  await waitFor(() => s.got.length === 1);
  assert.equal(s.got[0]!.msg.commit, 5);
  assert.equal(r.closed, false);
  assert.ok(s.log.has('warn', /unknown group/));

  // Between two transports: the sender hears of it (logged), traffic for known groups goes on.
  const a = await node('a', ['g1']);
  link(a, s);
  a.t.send('ghost', heartbeat('a', 's'));
  a.t.send('g1', heartbeat('a', 's', 6));
  await waitFor(() => s.got.length === 2 && a.log.has('warn', /UNKNOWN_GROUP/), 2000, 'error logged at the sender');
  a.t.send('g1', heartbeat('a', 's', 7));
  await waitFor(() => s.got.length === 3);
  assert.equal(a.t.stats().dialed, 1);
  r.destroy();
  await Promise.all([a.t.close(), s.t.close()]);
});

test('queue full: messages over the count or byte bound are dropped with QUEUE_FULL', async () => {
  const a = await node('a', [], { maxQueueMessages: 5 });
  const b = await node('b');
  link(a, b);
  // All in one turn: nothing can leave yet (the dial is in flight), so the queue fills.
  const st = Array.from({ length: 8 }, (_, i) => a.t.trySend('g1', heartbeat('a', 'b', i)));
  assert.deepEqual(st, ['OK', 'OK', 'OK', 'OK', 'OK', 'QUEUE_FULL', 'QUEUE_FULL', 'QUEUE_FULL']);
  await assert.rejects(a.t.request('b', 'g1', new Uint8Array(1)), isCode('QUEUE_FULL'));
  await waitFor(() => b.got.length === 5);
  assert.deepEqual(
    b.got.map((x) => x.msg.commit),
    [0, 1, 2, 3, 4],
  );
  // Once flushed there is room again.
  assert.equal(a.t.trySend('g1', heartbeat('a', 'b', 9)), 'OK');

  const c = await node('c', [], { maxQueueBytes: 40_000 });
  link(c, b);
  const big = appendMessage('c', 'b', 64, 256); // ~17 KB
  const res = Array.from({ length: 4 }, () => c.t.trySend('g1', big));
  assert.deepEqual(res, ['OK', 'OK', 'QUEUE_FULL', 'QUEUE_FULL']);
  // A single message larger than the byte bound still goes into an empty queue...
  const d = await node('d', [], { maxQueueBytes: 1000, maxFrameSize: 100_000 });
  link(d, b);
  // ...but never one over the frame limit...
  assert.equal(d.t.trySend('g1', appendMessage('d', 'b', 64, 2000)), 'FRAME_TOO_LARGE');
  assert.equal(d.t.trySend('g1', appendMessage('d', 'b', 64, 256)), 'OK');
  assert.equal(d.t.trySend('g1', heartbeat('d', 'b')), 'QUEUE_FULL');
  await waitFor(() => b.got.length === 9, 3000, 'all accepted messages');
  // A message whose `from` is not the connection's peer is dropped (and logged), not delivered.
  d.t.send('g1', heartbeat('mallory', 'b'));
  await waitFor(() => b.log.has('warn', /misaddressed/), 3000, 'misaddressed warning');
  assert.equal(b.got.length, 9);
  await Promise.all([a.t.close(), b.t.close(), c.t.close(), d.t.close()]);
});

test('handshake: cluster name mismatch and wrong node id at an address are refused with a clear error', async () => {
  const a = await node('a');
  const b = await node('b', ['g1'], { cluster: 'other' });
  const c = await node('c');
  a.t.setPeer('b', '127.0.0.1', b.port);
  a.t.setPeer('x', '127.0.0.1', c.port); // c listens where a believes x is
  await assert.rejects(a.t.request('b', 'g1', new Uint8Array(1)), (e: unknown) => isCode('UNREACHABLE')(e) && /cluster name mismatch/.test(String(e)));
  await assert.rejects(a.t.request('x', 'g1', new Uint8Array(1)), (e: unknown) => isCode('UNREACHABLE')(e) && /dialed node x but reached node c/.test(String(e)));
  assert.ok(a.log.has('warn', /cluster name mismatch/));
  assert.ok(b.log.has('warn', /cluster name mismatch/));
  assert.equal(b.got.length, 0);
  await Promise.all([a.t.close(), b.t.close(), c.t.close()]);
});

test('down peers: UNREACHABLE for requests and unknown peers; close() fails pending requests with CLOSED', async () => {
  const a = await node('a');
  const dead = await node('dead');
  const deadPort = dead.port;
  await dead.t.close();
  a.t.setPeer('dead', '127.0.0.1', deadPort);
  const reported: string[] = [];
  a.t.onUnreachable((p) => reported.push(p));
  assert.equal(a.t.trySend('g1', heartbeat('a', 'nobody')), 'UNREACHABLE');
  await assert.rejects(a.t.request('nobody', 'g1', new Uint8Array(1)), isCode('UNREACHABLE'));
  await assert.rejects(a.t.request('dead', 'g1', new Uint8Array(1)), isCode('UNREACHABLE'));
  await waitFor(() => reported.includes('dead'));
  assert.equal(a.t.addressOf('dead'), `127.0.0.1:${deadPort}`);

  const b = await node('b');
  link(a, b);
  b.t.onRequest(() => new Promise(() => {}));
  const p = assert.rejects(a.t.request('b', 'g1', new Uint8Array(1), { timeoutMs: 5000 }), isCode('CLOSED'));
  await sleep(30);
  await a.t.close();
  await p;
  assert.equal(a.t.trySend('g1', heartbeat('a', 'b')), 'CLOSED');
  await b.t.close();
});

test('liveness: idle connections are kept alive by PING frames; a silent peer is cut off and reported', async () => {
  const fast = { pingIntervalMs: 30, idleTimeoutMs: 150 };
  const a = await node('a', ['g1'], fast);
  const b = await node('b', ['g1'], fast);
  link(a, b);
  a.t.send('g1', heartbeat('a', 'b'));
  await waitFor(() => b.got.length === 1);
  await sleep(400); // idle, well past idleTimeoutMs
  assert.equal(a.t.stats().openConnections, 1);
  assert.equal(a.t.stats().dialed, 1, 'never reconnected');
  assert.equal(b.t.stats().accepted, 1);

  const reported: string[] = [];
  a.t.onUnreachable((p) => reported.push(p));
  const r = new RawClient(a.port);
  raws.push(r);
  await r.connected;
  r.write(rawHello('mute', 'a'));
  await waitFor(() => r.frames.some((f) => f.kind === FrameKind.HelloAck));
  await waitFor(() => r.closed, 1000, 'silent peer cut off');
  await waitFor(() => reported.includes('mute'), 1000, 'silent peer reported');
  assert.ok(r.frames.some((f) => f.kind === FrameKind.Ping), 'the raw peer was pinged');
  await Promise.all([a.t.close(), b.t.close()]);
});

test('setPeer with a new address moves the connection; removePeer closes it and fails its requests with CLOSED', async () => {
  const a = await node('a', ['g1']);
  const b1 = await node('b', ['g1']);
  const b2 = await node('b', ['g1']);
  a.t.setPeer('b', '127.0.0.1', b1.port);
  a.t.send('g1', heartbeat('a', 'b', 1));
  await waitFor(() => b1.got.length === 1);
  a.t.setPeer('b', '127.0.0.1', b2.port);
  assert.equal(a.t.addressOf('b'), `127.0.0.1:${b2.port}`);
  await waitFor(
    () => {
      a.t.send('g1', heartbeat('a', 'b', 2));
      return b2.got.length > 0;
    },
    2000,
    'delivery at the new address',
  );
  assert.equal(b1.got.length, 1);
  b2.t.onRequest(() => new Promise(() => {}));
  const p = assert.rejects(a.t.request('b', 'g1', new Uint8Array(1)), isCode('CLOSED'));
  await sleep(20);
  a.t.removePeer('b');
  await p;
  assert.equal(a.t.addressOf('b'), undefined);
  assert.equal(a.t.trySend('g1', heartbeat('a', 'b')), 'UNREACHABLE');
  await waitFor(() => a.t.stats().sockets === 0, 2000, 'connection closed');
  await Promise.all([a.t.close(), b1.t.close(), b2.t.close()]);
});
