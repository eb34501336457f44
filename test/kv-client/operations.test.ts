// Every client operation's happy path against the fake store, on one region and on three.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { KvClientError } from '../../src/kv/client/index.js';
import { TcpTransport } from '../../src/transport/tcp-transport.js';
import { createClient } from '../../src/kv/client/index.js';
import { FakeCluster, str } from './fake-store.js';

for (const splitKeys of [[], ['g', 'p']]) {
  const label = splitKeys.length ? '3 regions' : '1 region';

  test(`single-key writes and reads (${label})`, async () => {
    const f = await FakeCluster.start({ splitKeys });
    try {
      const c = await f.client();
      await c.put('a', 'one');
      await c.put(Uint8Array.from([0x7a, 0x7a]), Uint8Array.from([1, 2, 3])); // 'zz'
      assert.equal(str(await c.get('a')), 'one');
      assert.deepEqual([...(await c.get('zz'))!], [1, 2, 3]);
      assert.equal(await c.get('missing'), null);
      assert.ok(Buffer.isBuffer(await c.get('a')));

      assert.equal(await c.putIfAbsent('h', 'first'), null);
      assert.equal(str(await c.putIfAbsent('h', 'second')), 'first');
      assert.equal(f.value('h'), 'first');

      assert.equal(await c.getAndPut('q', 'v1'), null);
      assert.equal(str(await c.getAndPut('q', 'v2')), 'v1');
      assert.equal(f.value('q'), 'v2');

      assert.equal(await c.compareAndPut('q', 'wrong', 'v3'), false);
      assert.equal(f.value('q'), 'v2');
      assert.equal(await c.compareAndPut('q', 'v2', 'v3'), true);
      assert.equal(f.value('q'), 'v3');
      assert.equal(await c.compareAndPut('new', null, 'x'), true);
      assert.equal(await c.compareAndPut('new', null, 'y'), false);

      await c.merge('m', 'a');
      await c.merge('m', 'b');
      await c.merge('m', 'c');
      assert.equal(str(await c.get('m')), 'a,b,c');

      assert.equal(await c.containsKey('m'), true);
      await c.delete('m');
      assert.equal(await c.containsKey('m'), false);
      assert.equal(f.value('m'), undefined);
    } finally {
      await f.close();
    }
  });

  test(`multi-key operations (${label})`, async () => {
    const f = await FakeCluster.start({ splitKeys });
    try {
      const c = await f.client();
      const keys = ['a', 'b', 'h', 'i', 'q', 'z'];
      await c.putAll(keys.map((k) => [k, `v-${k}`] as [string, string]));
      for (const k of keys) assert.equal(f.value(k), `v-${k}`);
      // multiGet keeps the input order, duplicates and misses included.
      assert.deepEqual((await c.multiGet(['z', 'a', 'nope', 'h', 'a'])).map(str), ['v-z', 'v-a', null, 'v-h', 'v-a']);
      assert.deepEqual(await c.multiGet([]), []);

      await c.deleteAll(['a', 'q']);
      assert.equal(f.value('a'), undefined);
      assert.equal(f.value('q'), undefined);
      assert.equal(f.value('b'), 'v-b');

      await c.deleteRange('b', 'r'); // b, h, i go; z stays
      assert.deepEqual([...f.data.keys()].map((k) => Buffer.from(k, 'hex').toString()), ['z']);

      assert.equal(await c.compareAndPutAll([{ key: 'h1', expect: null, value: '1' }, { key: 'h2', expect: null, value: '2' }]), true);
      assert.equal(await c.compareAndPutAll([{ key: 'h1', expect: '1', value: 'x' }, { key: 'h2', expect: 'wrong', value: 'y' }]), false);
      assert.equal(f.value('h1'), '1');
      assert.equal(await c.compareAndPutAll([{ key: 'h1', expect: '1', value: 'x' }, { key: 'h2', expect: '2', value: 'y' }]), true);
      assert.equal(f.value('h2'), 'y');
    } finally {
      await f.close();
    }
  });

  test(`scans, reverse scans and the iterator (${label})`, async () => {
    const f = await FakeCluster.start({ splitKeys });
    try {
      const c = await f.client();
      const keys = 'abcdefghijklmnopqrstuvwxyz'.split('');
      await c.putAll(keys.map((k) => [k, k.toUpperCase()] as [string, string]));
      const all = await c.scan(null, null);
      assert.deepEqual(all.map((p) => p.key.toString()), keys);
      assert.deepEqual(all.map((p) => str(p.value)), keys.map((k) => k.toUpperCase()));
      assert.deepEqual((await c.scan('c', 'j')).map((p) => p.key.toString()), 'cdefghi'.split(''));
      assert.deepEqual((await c.scan('e', null, { limit: 5 })).map((p) => p.key.toString()), 'efghi'.split(''));
      const noValues = await c.scan('x', null, { returnValue: false });
      assert.deepEqual(noValues.map((p) => [p.key.toString(), p.value]), [['x', null], ['y', null], ['z', null]]);
      assert.deepEqual(await c.scan('k', 'k'), []);

      assert.deepEqual((await c.reverseScan(null, null)).map((p) => p.key.toString()), [...keys].reverse());
      assert.deepEqual((await c.reverseScan('f', 'r', { limit: 4 })).map((p) => p.key.toString()), ['q', 'p', 'o', 'n']);
      assert.deepEqual((await c.reverseScan('e', 'i')).map((p) => p.key.toString()), ['h', 'g', 'f', 'e']);

      const seen: string[] = [];
      for await (const p of c.iterator('b', 'y', { pageSize: 4 })) seen.push(`${p.key}=${p.value}`);
      assert.deepEqual(seen, 'bcdefghijklmnopqrstuvwx'.split('').map((k) => `${k}=${k.toUpperCase()}`));
    } finally {
      await f.close();
    }
  });
}

test('sequences', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    const c = await f.client();
    assert.deepEqual(await c.getSequence('seq', 10), { start: 0, end: 10 });
    assert.deepEqual(await c.getSequence('seq', 5), { start: 10, end: 15 });
    assert.equal(await c.getLatestSequence('seq'), 15);
    assert.equal(await c.getLatestSequence('seq'), 15);
    await c.resetSequence('seq');
    assert.equal(await c.getLatestSequence('seq'), 0);
    await assert.rejects(c.getSequence('seq', -1), { code: 'INVALID_PARAMETER' });
  } finally {
    await f.close();
  }
});

test('execute runs a store callback on the region holding the key (default the first region)', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    f.callbacks.set('echo', (p) => Buffer.concat([Buffer.from('echo:'), Buffer.from(p)]));
    f.callbacks.set('boom', () => {
      throw new Error('kaput');
    });
    const c = await f.client();
    assert.equal(str(await c.execute('echo', Buffer.from('hi'))), 'echo:hi');
    assert.equal(f.commands(KvOp.NodeExecute).at(-1)!.regionId, 'r1');
    assert.equal(str(await c.execute('echo', Buffer.from('yo'), { key: 'x' })), 'echo:yo');
    assert.equal(f.commands(KvOp.NodeExecute).at(-1)!.regionId, 'r2');
    await assert.rejects(c.execute('nope', Buffer.alloc(0)), (e: KvClientError) => e.code === 'UNKNOWN_CALLBACK' && e.regionId === 'r1');
    await assert.rejects(c.execute('boom', Buffer.alloc(0)), { code: 'CALLBACK_FAILED' });
  } finally {
    await f.close();
  }
});

test('regions() returns the route table; rangeSplit splits and the client follows', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    const c = await f.client();
    const before = await c.regions();
    assert.deepEqual(before.map((r) => [r.id, r.startKey.toString(), r.endKey.toString(), r.epoch.version]), [
      ['r1', '', 'm', 1],
      ['r2', 'm', '', 1],
    ]);
    assert.deepEqual(before[0]!.voters.map((p) => p.id), ['n1', 'n2', 'n3']);
    assert.equal(before[0]!.leader, 'n1');

    const s = await c.rangeSplit('r2', 't');
    assert.deepEqual([s.left, s.right, s.splitKey.toString()], ['r2', 'r3', 't']);
    const split = f.commands(KvOp.RangeSplit).at(-1)!.cmd as unknown as { newRegionId: string; expectVersion: number; voters: string[]; learners: string[] };
    assert.deepEqual([split.newRegionId, split.expectVersion, split.voters, split.learners], ['', 0, [], []]);
    const after = await c.regions();
    assert.deepEqual(after.map((r) => [r.id, r.startKey.toString(), r.endKey.toString(), r.epoch.version]), [
      ['r1', '', 'm', 1],
      ['r2', 'm', 't', 2],
      ['r3', 't', '', 2],
    ]);
    // Writes land in the new region without a stale round trip.
    const n = f.log.length;
    await c.put('u', '1');
    assert.deepEqual(f.log.slice(n).map((r) => [r.regionId, r.outcome]), [['r3', 'ok']]);

    // Split with no key (the store picks), too small region, bad split key.
    await c.putAll([['a', '1'], ['b', '2'], ['c', '3']]);
    const mid = await c.rangeSplit('r1');
    assert.equal(mid.left, 'r1');
    assert.equal(mid.splitKey.toString(), 'b');
    await assert.rejects(c.rangeSplit('r1'), { code: 'TOO_SMALL_TO_SPLIT' });
    await assert.rejects(c.rangeSplit('r3', 'a'), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.rangeSplit('r99'), { code: 'NO_REGION_FOUND' });
  } finally {
    await f.close();
  }
});

test('after rangeSplit the client learns the layout from the leader, and lagging stores do not undo it', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    await c.putAll([['a', '1'], ['k', '2'], ['t', '3']]);
    f.freezeRegions('n2');
    f.freezeRegions('n3');
    for (let i = 0; i < 3; i++) {
      // Whichever endpoint the refresh starts with, the new layout is there at once.
      const s = await c.rangeSplit(i === 0 ? 'r1' : `r${i + 1}`, ['d', 'm', 'w'][i]!);
      const ids = (await c.regions()).map((r) => r.id);
      assert.ok(ids.includes(s.right), `${s.right} in ${ids.join(',')}`);
      assert.equal(ids.length, i + 2);
    }
    assert.deepEqual((await c.scan(null, null)).map((p) => p.key.toString()), ['a', 'k', 't']);
  } finally {
    await f.close();
  }
});

test('bad input is refused client-side with INVALID_PARAMETER; bad options with INVALID_ARGUMENT', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    const before = f.log.length;
    await assert.rejects(c.put('', 'x'), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.put(42 as unknown as string, 'x'), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.put('k', null as unknown as string), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.get(new Uint8Array(0)), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.putAll([['a', 'b'], ['', 'c']]), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.scan('a', 'b', { limit: -1 }), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.deleteRange('a', ''), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.lock('k', { leaseMs: 0 }), { code: 'INVALID_PARAMETER' });
    await assert.rejects(c.get('k', { consistency: 'eventual' as 'stale' }), { code: 'INVALID_PARAMETER' });
    assert.equal(f.log.length, before, 'nothing reached a store');
    // The store's own refusal comes through with its code.
    await assert.rejects(c.putIfAbsent('bad-key', 'x'), (e: KvClientError) => e instanceof KvClientError && e.code === 'INVALID_PARAMETER' && e.regionId === 'r1');
    assert.throws(() => createClient({ endpoints: [] }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => createClient({ endpoints: ['nohost'] }), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => createClient({ endpoints: ['h:1'], timeoutMs: -5 }), { code: 'INVALID_ARGUMENT' });
  } finally {
    await f.close();
  }
});

test('over TCP with the default transport: address-only endpoints, then peers by node id', async () => {
  const f = new FakeCluster({ stores: 2, splitKeys: ['m'] });
  const servers = f.storeIds.map((id) => new TcpTransport({ nodeId: id, cluster: 'kvtest', logger: { debug() {}, info() {}, warn() {} } }));
  try {
    for (const [i, t] of servers.entries()) {
      const id = f.storeIds[i]!;
      t.onRequest((groupId, payload) => f.handle(id, groupId, payload));
      const a = await t.listen();
      f.addresses.set(id, `127.0.0.1:${a.port}`);
    }
    f.setLeader('r2', 'n2');
    const c = createClient({ endpoints: [f.address('n1')], cluster: 'kvtest', timeoutMs: 3000, attemptTimeoutMs: 1000 });
    try {
      await c.putAll([['a', '1'], ['z', '2']]);
      assert.deepEqual((await c.multiGet(['a', 'z'])).map(str), ['1', '2']);
      assert.deepEqual(f.commands(KvOp.PutList).map((r) => [r.regionId, r.store]).sort(), [['r1', 'n1'], ['r2', 'n2']]);
    } finally {
      await c.close();
    }
  } finally {
    for (const t of servers) await t.close();
  }
});
