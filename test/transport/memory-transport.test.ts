// The in-memory transport: asynchronous, per-link ordered delivery through the codec;
// partitions, drops, down peers, requests, bounded queues, unknown groups.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '../../src/raft/core/types.js';
import { TransportError } from '../../src/transport/errors.js';
import { MemoryHub } from '../../src/transport/memory-transport.js';
import type { MemoryTransport } from '../../src/transport/memory-transport.js';
import { CaptureLogger, appendMessage, heartbeat, sleep, waitFor } from './helpers.js';

const isCode = (c: string) => (e: unknown) => e instanceof TransportError && e.code === c;

async function endpoints(hub: MemoryHub, ids: string[], o: { maxQueueMessages?: number } = {}) {
  const got = new Map<string, { group: string; msg: Message; from: string }[]>();
  const ts = new Map<string, MemoryTransport>();
  const logs = new Map<string, CaptureLogger>();
  for (const id of ids) {
    const log = new CaptureLogger();
    const t = hub.endpoint({ nodeId: id, logger: log, ...o });
    const list: { group: string; msg: Message; from: string }[] = [];
    for (const g of ['g1', 'g2']) t.registerGroup(g, { onMessage: (msg, from) => list.push({ group: g, msg, from }) });
    await t.listen();
    got.set(id, list);
    ts.set(id, t);
    logs.set(id, log);
  }
  return { t: (id: string) => ts.get(id)!, got: (id: string) => got.get(id)!, log: (id: string) => logs.get(id)! };
}

test('delivery is asynchronous, per-link ordered, through the codec (receiver gets its own copy)', async () => {
  const hub = new MemoryHub();
  const { t, got } = await endpoints(hub, ['a', 'b', 'c']);
  const m = appendMessage('a', 'b', 3, 8);
  for (let i = 0; i < 100; i++) {
    assert.equal(t('a').trySend(i % 2 ? 'g1' : 'g2', heartbeat('a', 'b', i)), 'OK');
    t('c').send('g1', heartbeat('c', 'b', 1000 + i));
  }
  t('a').send('g1', m);
  assert.equal(got('b').length, 0, 'nothing delivered synchronously');
  await waitFor(() => got('b').length === 201);
  const fromA = got('b').filter((x) => x.from === 'a' && x.msg.commit !== undefined && x.msg.entries === undefined);
  assert.deepEqual(
    fromA.map((x) => x.msg.commit),
    Array.from({ length: 100 }, (_, i) => i),
  );
  const fromC = got('b').filter((x) => x.from === 'c');
  assert.deepEqual(
    fromC.map((x) => x.msg.commit),
    Array.from({ length: 100 }, (_, i) => 1000 + i),
  );
  const app = got('b').find((x) => x.msg.entries !== undefined)!.msg;
  assert.equal(fromA.length + 1, got('b').filter((x) => x.from === 'a').length);
  assert.equal(got('b').filter((x) => x.from === 'a').at(-1)!.msg, app, 'sent last on its link, delivered last');
  assert.deepStrictEqual(app, m);
  assert.notEqual(app.entries![0]!.data, m.entries![0]!.data);
});

test('partitions drop silently until healed; a seeded drop rate loses some messages reproducibly', async () => {
  const run = async (): Promise<number[]> => {
    const hub = new MemoryHub({ seed: 7 });
    const { t, got } = await endpoints(hub, ['a', 'b']);
    hub.partition(['a'], ['b']);
    assert.equal(t('a').trySend('g1', heartbeat('a', 'b')), 'OK');
    await sleep(5);
    assert.equal(got('b').length, 0);
    hub.heal();
    hub.setDropRate(0.5);
    for (let i = 0; i < 50; i++) t('a').send('g1', heartbeat('a', 'b', i));
    await sleep(5);
    return got('b').map((x) => x.msg.commit!);
  };
  const first = await run();
  assert.ok(first.length > 5 && first.length < 45, `some dropped: ${first.length}`);
  assert.deepEqual(await run(), first, 'same seed, same drops');
});

test('a closed endpoint is unreachable: trySend says so, listeners hear once, requests in flight fail', async () => {
  const hub = new MemoryHub();
  const { t } = await endpoints(hub, ['a', 'b']);
  const heard: string[] = [];
  t('a').onUnreachable((p) => heard.push(p));
  t('b').onRequest(() => new Promise(() => {}));
  const p = assert.rejects(t('a').request('b', 'g1', new Uint8Array([1])), isCode('UNREACHABLE'));
  await sleep(2);
  await t('b').close();
  await p;
  assert.equal(t('a').trySend('g1', heartbeat('a', 'b')), 'UNREACHABLE');
  assert.equal(t('a').trySend('g1', heartbeat('a', 'b')), 'UNREACHABLE');
  await sleep(2);
  assert.deepEqual(heard, ['b']);
  await assert.rejects(t('a').request('b', 'g1', new Uint8Array([1])), isCode('UNREACHABLE'));
  await t('a').close();
  assert.equal(t('a').trySend('g1', heartbeat('a', 'b')), 'CLOSED');
});

test('requests: out-of-order responses, timeouts, typed handler errors', async () => {
  const hub = new MemoryHub();
  const { t } = await endpoints(hub, ['a', 'b']);
  t('b').onRequest(async (g, p, peer) => {
    if (p[0] === 99) throw new TransportError('UNKNOWN_GROUP', `no ${g}`);
    if (p[0] === 98) return new Promise<Uint8Array>(() => {});
    await sleep(10 - p[0]!);
    return new TextEncoder().encode(`${peer}:${p[0]}`);
  });
  const res = await Promise.all([0, 1, 2, 3, 4, 5].map((n) => t('a').request('b', 'g1', new Uint8Array([n]))));
  assert.deepEqual(
    res.map((r) => new TextDecoder().decode(r)),
    ['a:0', 'a:1', 'a:2', 'a:3', 'a:4', 'a:5'],
  );
  await assert.rejects(t('a').request('b', 'gx', new Uint8Array([99])), (e: unknown) => isCode('UNKNOWN_GROUP')(e) && (e as TransportError).remote);
  await assert.rejects(t('a').request('b', 'g1', new Uint8Array([98]), { timeoutMs: 20 }), isCode('TIMEOUT'));
  hub.block('b', 'a');
  await assert.rejects(t('a').request('b', 'g1', new Uint8Array([1]), { timeoutMs: 30 }), isCode('TIMEOUT'));
});

test('bounded link queue: QUEUE_FULL; unknown group: logged on both sides', async () => {
  const hub = new MemoryHub();
  const { t, got, log } = await endpoints(hub, ['a', 'b'], { maxQueueMessages: 3 });
  const st = [1, 2, 3, 4].map((i) => t('a').trySend('g1', heartbeat('a', 'b', i)));
  assert.deepEqual(st, ['OK', 'OK', 'OK', 'QUEUE_FULL']);
  await assert.rejects(t('a').request('b', 'g1', new Uint8Array(1)), isCode('QUEUE_FULL'));
  await waitFor(() => got('b').length === 3);
  assert.equal(t('a').trySend('g1', heartbeat('a', 'b')), 'OK');
  t('a').send('nope', heartbeat('a', 'b'));
  await waitFor(() => log('a').has('warn', /UNKNOWN_GROUP/));
  assert.ok(log('b').has('warn', /unknown group/));
});

test('microtask scheduling and codec off also work; the RaftTransportPort adapter registers groups', async () => {
  const hub = new MemoryHub({ schedule: 'microtask', codec: false });
  const a = hub.endpoint({ nodeId: 'a' });
  const b = hub.endpoint({ nodeId: 'b' });
  await a.listen();
  await b.listen();
  const got: Message[] = [];
  const unreachable: string[] = [];
  b.register('g', (m) => got.push(m), (p) => unreachable.push(p));
  const m = heartbeat('a', 'b');
  a.send('g', m);
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(got[0], m, 'same object without the codec');
  b.unregister('g');
  assert.equal(b.trySend('g', heartbeat('b', 'zz')), 'UNREACHABLE');
  assert.equal(b.addressOf('a'), 'memory://a');
  b.setPeer('a', '10.0.0.1', 7000);
  assert.equal(b.addressOf('a'), '10.0.0.1:7000');
});
