// Retries and outcomes: a retry of a write keeps its call id, so a store's retry cache answers
// it instead of applying it again; transient refusals are retried; the deadline and the attempt
// bound end a call with DEADLINE_EXCEEDED, or UNKNOWN_OUTCOME when a write may have applied.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { FakeCluster, str } from './fake-store.js';

test('a dropped reply: the retry carries the same call id and the write applies once', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ attemptTimeoutMs: 60, batching: false });
    let dropped = 0;
    f.atApply = (req) => (req.cmd?.op === KvOp.Merge && dropped++ === 0 ? 'drop' : undefined);
    await c.merge('m', 'a');
    assert.equal(f.value('m'), 'a', 'applied once, not "a,a"');
    const merges = f.commands(KvOp.Merge);
    assert.equal(merges[0]!.outcome, 'dropped');
    const answered = merges.filter((r) => r.outcome === 'ok');
    assert.equal(answered.length, 1);
    assert.equal(answered[0]!.cached, true);
    assert.ok(merges.every((r) => r.header.callId === merges[0]!.header.callId && r.header.clientId === c.clientId));
    assert.equal(f.applied, 1);
  } finally {
    await f.close();
  }
});

test('unknown outcome, then a split that leaves the key in place: the retry keeps its call id', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ attemptTimeoutMs: 60, batching: false });
    await c.refreshRoutes();
    let first = true;
    f.atApply = (req) => {
      if (!first || req.cmd?.op !== KvOp.Merge) return undefined;
      first = false;
      f.split('r1', 'm'); // r1 -> v2; 'a' stays in r1
      return 'drop'; // applied and cached, never answered
    };
    await c.merge('a', 'x');
    assert.equal(f.value('a'), 'x', 'applied once: the retry was answered from the retry cache');
    const merges = f.commands(KvOp.Merge);
    assert.deepEqual(merges.map((r) => r.outcome).filter((o) => o !== 'NOT_LEADER'), ['dropped', 'INVALID_REGION_EPOCH', 'ok']);
    assert.equal(merges.at(-1)!.header.version, 2);
    assert.equal(merges.at(-1)!.cached, true);
    assert.ok(merges.every((r) => r.header.callId === merges[0]!.header.callId));
  } finally {
    await f.close();
  }
});

test('SERVER_BUSY and NO_LEADER are retried after a backoff under the same call id', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ batching: false });
    f.busy = 1;
    await c.getSequence('s', 5);
    const seq = f.commands(KvOp.GetSequence);
    assert.deepEqual(seq.map((r) => r.outcome), ['SERVER_BUSY', 'ok']);
    assert.equal(seq[0]!.header.callId, seq[1]!.header.callId);
    assert.deepEqual(await c.getSequence('s', 1), { start: 5, end: 6 });

    f.setLeader('r1', '');
    setTimeout(() => f.setLeader('r1', 'n2'), 40);
    await c.put('k', 'v');
    const puts = f.commands(KvOp.Put);
    assert.ok(puts.some((r) => r.outcome === 'NO_LEADER'));
    assert.deepEqual([puts.at(-1)!.store, puts.at(-1)!.outcome], ['n2', 'ok']);
    assert.equal(new Set(puts.map((r) => r.header.callId)).size, 1);
  } finally {
    await f.close();
  }
});

test('refused every time until the deadline: DEADLINE_EXCEEDED (the write certainly did not apply)', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ timeoutMs: 150, batching: false });
    await c.refreshRoutes();
    f.busy = 1e9;
    const t0 = Date.now();
    await assert.rejects(c.put('k', 'v'), (e: { code: string; regionId?: string }) => e.code === 'DEADLINE_EXCEEDED' && e.regionId === 'r1');
    assert.ok(Date.now() - t0 < 1000);
    assert.equal(f.value('k'), undefined);
  } finally {
    await f.close();
  }
});

test('no answer to a write until the deadline: UNKNOWN_OUTCOME; a read: DEADLINE_EXCEEDED', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ timeoutMs: 300, attemptTimeoutMs: 50, batching: false });
    await c.refreshRoutes();
    f.atApply = () => 'drop';
    await assert.rejects(c.put('k', 'v'), { code: 'UNKNOWN_OUTCOME' });
    // It did apply, once, whatever the number of retries.
    assert.equal(f.value('k'), 'v');
    assert.ok(f.commands(KvOp.Put).length > 1);
    assert.equal(f.applied, 1);
    await assert.rejects(c.get('k'), { code: 'DEADLINE_EXCEEDED' });

    // The store's own TIMEOUT (it gave up waiting for the commit) also leaves the outcome open.
    f.atApply = () => 'timeout';
    await assert.rejects(c.delete('k'), { code: 'UNKNOWN_OUTCOME' });
  } finally {
    await f.close();
  }
});

test('every store down: reads fail with DEADLINE_EXCEEDED and the client recovers when they return', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ timeoutMs: 200, attemptTimeoutMs: 50 });
    await c.put('k', 'v');
    for (const n of f.storeIds) await f.down(n);
    await assert.rejects(c.get('k'), { code: 'DEADLINE_EXCEEDED' });
    for (const n of f.storeIds) await f.up(n);
    assert.equal(str(await c.get('k')), 'v');
  } finally {
    await f.close();
  }
});

test('maxRetries bounds the attempts of a call', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ maxRetries: 3, timeoutMs: 5000, batching: false });
    await c.refreshRoutes();
    f.busy = 1e9;
    await assert.rejects(c.put('k', 'v'), { code: 'SERVER_BUSY' });
    assert.equal(f.commands(KvOp.Put).length, 3);
  } finally {
    await f.close();
  }
});

test('firstUnreplied is the lowest call id still waiting', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ attemptTimeoutMs: 300, batching: false });
    await c.refreshRoutes();
    let dropped = false;
    f.atApply = (req) => {
      if (dropped || req.cmd?.op !== KvOp.Put || Buffer.from((req.cmd as { key: Uint8Array }).key).toString() !== 'slow') return undefined;
      dropped = true;
      return 'drop';
    };
    const slow = c.put('slow', '1');
    await new Promise((r) => setTimeout(r, 10));
    await c.put('fast', '2');
    await slow;
    await c.put('after', '3');
    const byKey = (k: string) => f.commands(KvOp.Put).filter((r) => Buffer.from((r.cmd as { key: Uint8Array }).key).toString() === k);
    const slowId = byKey('slow')[0]!.header.callId!;
    const fast = byKey('fast')[0]!.header;
    assert.ok(fast.callId! > slowId);
    assert.equal(fast.firstUnreplied, slowId, 'the slow call was still waiting');
    const after = byKey('after')[0]!.header;
    assert.equal(after.firstUnreplied, after.callId, 'nothing older is waiting');
  } finally {
    await f.close();
  }
});

test('close() fails pending and later calls with CLOSED', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ timeoutMs: 5000, batching: false });
    await c.refreshRoutes();
    f.busy = 1e9;
    const pending = c.put('k', 'v');
    await new Promise((r) => setTimeout(r, 20));
    const t0 = Date.now();
    await c.close();
    await assert.rejects(pending, { code: 'CLOSED' });
    assert.ok(Date.now() - t0 < 500);
    await assert.rejects(c.get('k'), { code: 'CLOSED' });

    // A request in flight (its reply never comes) is abandoned at once, too.
    const d = await f.client({ timeoutMs: 5000, attemptTimeoutMs: 4000 });
    await d.refreshRoutes();
    f.busy = 0;
    f.atApply = () => 'drop';
    const inFlight = d.get('k');
    await new Promise((r) => setTimeout(r, 20));
    const t1 = Date.now();
    await d.close();
    await assert.rejects(inFlight, { code: 'CLOSED' });
    assert.ok(Date.now() - t1 < 500);
  } finally {
    await f.close();
  }
});
