// Automatic batching: concurrent put()/get() calls of one event-loop turn travel as one
// PutList/MultiGet per region, bounded by maxCount/maxBytes; every caller gets its own outcome.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { FakeCluster, str } from './fake-store.js';

const entries = (cmd: unknown): number => (cmd as { entries?: unknown[] }).entries?.length ?? 1;
const letters = (n: number, prefix = ''): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 26)}`);

test('concurrent puts become one PutList per region; every caller resolves', async () => {
  const f = await FakeCluster.start({ splitKeys: ['g', 'p'] });
  try {
    const c = await f.client();
    const keys = letters(60);
    const results = await Promise.all(keys.map((k) => c.put(k, `v-${k}`)));
    assert.equal(results.length, 60);
    for (const k of keys) assert.equal(f.value(k), `v-${k}`);
    const writes = f.commands().filter((r) => r.cmd?.op === KvOp.PutList || r.cmd?.op === KvOp.Put);
    assert.deepEqual(writes.map((r) => KvOp[r.cmd!.op]), ['PutList', 'PutList', 'PutList']);
    assert.deepEqual(writes.map((r) => r.regionId).sort(), ['r1', 'r2', 'r3']);

    // A lone put is sent as a plain Put.
    await c.put('solo', 'x');
    assert.equal(KvOp[f.commands().at(-1)!.cmd!.op], 'Put');
  } finally {
    await f.close();
  }
});

test('batches are bounded by maxCount and maxBytes', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ batching: { maxCount: 10 } });
    await Promise.all(letters(45).map((k) => c.put(k, 'v')));
    const sizes = f.commands(KvOp.PutList).map((r) => entries(r.cmd));
    assert.deepEqual([...sizes].sort((a, b) => b - a), [10, 10, 10, 10, 5]);

    const d = await f.client({ batching: { maxBytes: 200 } });
    const n = f.log.length;
    const big = 'x'.repeat(60); // 74 bytes per entry counted: at most 2 per request (<= 200 bytes)
    await Promise.all(letters(9, 'big-').map((k) => d.put(k, big)));
    const later = f.log.slice(n).filter((r) => r.cmd?.op === KvOp.PutList || r.cmd?.op === KvOp.Put);
    assert.ok(later.length >= 5, `${later.length} requests`);
    for (const r of later) assert.ok(entries(r.cmd) <= 2);
    assert.ok(later.some((r) => entries(r.cmd) === 2));
    assert.equal(later.reduce((s, r) => s + entries(r.cmd), 0), 9);
  } finally {
    await f.close();
  }
});

test('a batch refused for one bad key: only that caller fails, the others are stored', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    const keys = ['k1', 'k2', 'bad-k3', 'k4', 'k5'];
    const outcomes = await Promise.allSettled(keys.map((k) => c.put(k, 'v')));
    assert.deepEqual(
      outcomes.map((o) => (o.status === 'fulfilled' ? 'ok' : (o.reason as { code: string }).code)),
      ['ok', 'ok', 'INVALID_PARAMETER', 'ok', 'ok'],
    );
    for (const k of ['k1', 'k2', 'k4', 'k5']) assert.equal(f.value(k), 'v');
    assert.equal(f.value('bad-k3'), undefined);
    const puts = f.commands().filter((r) => r.cmd?.op === KvOp.PutList || r.cmd?.op === KvOp.Put);
    assert.equal(puts[0]!.outcome, 'INVALID_PARAMETER');
    assert.equal(KvOp[puts[0]!.cmd!.op], 'PutList');
    assert.equal(puts.slice(1).filter((r) => r.cmd!.op === KvOp.Put).length, 5);
  } finally {
    await f.close();
  }
});

test('concurrent gets become one MultiGet per region and read mode', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    const c = await f.client();
    const keys = letters(30);
    await c.putAll(keys.map((k) => [k, k.toUpperCase()] as [string, string]));
    const n = f.log.length;
    const [lin, stale] = await Promise.all([
      Promise.all(keys.map((k) => c.get(k))),
      Promise.all(['a0', 'b0', 'z0', 'nope'].map((k) => c.get(k, { consistency: 'stale' }))),
    ]);
    assert.deepEqual(lin.map(str), keys.map((k) => k.toUpperCase()));
    assert.deepEqual(stale.map(str), ['A0', 'B0', 'Z0', null]);
    const reads = f.log.slice(n);
    assert.ok(reads.every((r) => r.cmd!.op === KvOp.MultiGet));
    assert.deepEqual(reads.map((r) => `${r.regionId}:${r.header.consistency}`).sort(), ['r1:linearizable', 'r1:stale', 'r2:linearizable', 'r2:stale']);
  } finally {
    await f.close();
  }
});

test('batched puts survive a split the client has not heard of', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    await c.refreshRoutes();
    f.split('r1', 'm');
    const keys = letters(26);
    await Promise.all(keys.map((k) => c.put(k, k)));
    for (const k of keys) assert.equal(f.value(k), k);
    const puts = f.commands(KvOp.PutList);
    assert.equal(puts[0]!.outcome, 'INVALID_REGION_EPOCH');
    assert.deepEqual(puts.slice(1).map((r) => [r.regionId, r.outcome]).sort(), [['r1', 'ok'], ['r2', 'ok']]);
  } finally {
    await f.close();
  }
});

test('with batching off every put is its own request', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ batching: false });
    await Promise.all(letters(8).map((k) => c.put(k, 'v')));
    const writes = f.commands();
    assert.equal(writes.length, 8);
    assert.ok(writes.every((r) => r.cmd!.op === KvOp.Put));
  } finally {
    await f.close();
  }
});
