// Routing: multi-key operations and ranges split per region (and clipped to it), the leader
// cache, NOT_LEADER redirects, failover to other peers, CROSS_REGION, and the route table's
// merge rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { RouteTable } from '../../src/kv/client/route-table.js';
import { KvTag, type RegionInfo, toWireKey } from '../../src/kv/protocol.js';
import { FakeCluster, str } from './fake-store.js';

const b = (s: string): Buffer => Buffer.from(s);
const keysOf = (cmd: unknown): string[] => {
  const c = cmd as { entries?: Array<[Uint8Array]>; keys?: Uint8Array[] };
  return (c.entries?.map((e) => e[0]) ?? c.keys ?? []).map((k) => Buffer.from(k).toString());
};

test('multi-key operations go to each region once, with only that region’s keys, in parallel', async () => {
  const f = await FakeCluster.start({ splitKeys: ['g', 'p'] });
  try {
    const c = await f.client({ batching: false });
    await c.putAll([['z', '1'], ['a', '2'], ['h', '3'], ['b', '4'], ['q', '5']]);
    const puts = f.commands(KvOp.PutList);
    assert.equal(puts.length, 3);
    const byRegion = Object.fromEntries(puts.map((r) => [r.regionId, keysOf(r.cmd).sort()]));
    assert.deepEqual(byRegion, { r1: ['a', 'b'], r2: ['h'], r3: ['q', 'z'] });
    // Every request carries the region's version and the retry-cache identity; call ids differ.
    for (const r of puts) {
      assert.equal(r.header.version, 1);
      assert.equal(r.header.clientId, c.clientId);
      assert.equal(typeof r.header.firstUnreplied, 'number');
    }
    assert.equal(new Set(puts.map((r) => r.header.callId)).size, 3);

    assert.deepEqual((await c.multiGet(['q', 'a', 'h', 'zz'])).map(str), ['5', '2', '3', null]);
    const gets = f.commands(KvOp.MultiGet);
    assert.deepEqual(gets.map((r) => [r.regionId, keysOf(r.cmd)]).sort(), [['r1', ['a']], ['r2', ['h']], ['r3', ['q', 'zz']]]);
    assert.ok(gets.every((r) => r.header.callId === undefined && r.header.consistency === 'linearizable'));

    await c.deleteAll(['a', 'z', 'q']);
    assert.deepEqual(f.commands(KvOp.DeleteList).map((r) => [r.regionId, keysOf(r.cmd)]).sort(), [['r1', ['a']], ['r3', ['z', 'q']]]);
  } finally {
    await f.close();
  }
});

test('deleteRange and scans are clipped to each region they overlap', async () => {
  const f = await FakeCluster.start({ splitKeys: ['g', 'p'] });
  try {
    const c = await f.client();
    await c.putAll('abcdefghijklmnopqrstuvwxyz'.split('').map((k) => [k, k] as [string, string]));
    await c.deleteRange('c', 'r');
    const parts = f.commands(KvOp.DeleteRange).map((r) => {
      const cmd = r.cmd as { start: Uint8Array; end: Uint8Array };
      return [r.regionId, Buffer.from(cmd.start).toString(), Buffer.from(cmd.end).toString()];
    });
    assert.deepEqual(parts.sort(), [['r1', 'c', 'g'], ['r2', 'g', 'p'], ['r3', 'p', 'r']]);
    assert.deepEqual((await c.scan(null, null)).map((p) => p.key.toString()).join(''), 'abrstuvwxyz');

    // A scan with a limit stops at the region where the limit is reached.
    const n = f.log.length;
    assert.deepEqual((await c.scan('a', null, { limit: 3 })).map((p) => p.key.toString()), ['a', 'b', 'r']);
    const scans = f.log.slice(n).map((r) => {
      const cmd = r.cmd as { start: Uint8Array | null; end: Uint8Array | null; limit: number };
      return [r.regionId, cmd.start && Buffer.from(cmd.start).toString(), cmd.end && Buffer.from(cmd.end).toString(), cmd.limit];
    });
    assert.deepEqual(scans, [['r1', 'a', 'g', 3], ['r2', 'g', 'p', 1], ['r3', 'p', null, 1]]);

    // Reverse scans walk from the last region; a limit reached early spares the rest.
    const m = f.log.length;
    assert.deepEqual((await c.reverseScan(null, null, { limit: 2 })).map((p) => p.key.toString()), ['z', 'y']);
    assert.deepEqual(f.log.slice(m).map((r) => r.regionId), ['r3']);
  } finally {
    await f.close();
  }
});

test('NOT_LEADER: the client follows the hint, then goes straight to the cached leader', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    f.setLeader('r2', 'n3');
    f.region('r2').reportedLeader = 'n1'; // the route table's leader info is stale
    const c = await f.client();
    await c.put('x', '1');
    assert.deepEqual(f.commands().map((r) => [r.store, r.outcome]), [['n1', 'NOT_LEADER'], ['n3', 'ok']]);
    const n = f.log.length;
    await c.put('y', '2');
    assert.equal(str(await c.get('y')), '2');
    assert.deepEqual(f.log.slice(n).map((r) => [r.store, r.outcome]), [['n3', 'ok'], ['n3', 'ok']]);

    // Leadership moves without hints: the client tries the region's voters in turn.
    f.hints = false;
    f.setLeader('r2', 'n2');
    const m = f.log.length;
    await c.put('z', '3');
    const tried = f.log.slice(m).map((r) => [r.store, r.outcome]);
    assert.deepEqual(tried.at(-1), ['n2', 'ok']);
    assert.ok(tried.slice(0, -1).every(([, o]) => o === 'NOT_LEADER'));
    assert.equal(f.value('z'), '3');
  } finally {
    await f.close();
  }
});

test('NOT_LEADER with only the leader’s address: the client reaches it by address', async () => {
  const f = await FakeCluster.start();
  try {
    f.setLeader('r1', 'n2');
    f.region('r1').reportedLeader = '';
    f.hintAddressOnly = true;
    const c = await f.client();
    await c.put('k', 'v');
    assert.equal(f.value('k'), 'v');
    assert.deepEqual(f.commands().map((r) => [r.store, r.outcome]), [['n1', 'NOT_LEADER'], ['n2', 'ok']]);
  } finally {
    await f.close();
  }
});

test('a replica behind the client’s routes (old epoch, region not created yet) is skipped, not refreshed from', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    f.split('r1', 'm'); // r1 [-inf, m) v2, r2 [m, +inf) v2
    for (const r of f.regions) {
      r.leader = 'n3';
      r.reportedLeader = '';
    }
    await c.refreshRoutes();
    f.lagging.add('n1');
    const refreshes = f.log.filter((r) => r.tag === KvTag.Regions).length;
    await c.put('a', '1');
    assert.deepEqual(f.commands().map((r) => [r.store, r.outcome]), [['n1', 'INVALID_REGION_EPOCH'], ['n2', 'NOT_LEADER'], ['n3', 'ok']]);
    f.lagging.clear();
    f.missing.add('n1|r2');
    const n = f.log.length;
    await c.put('x', '2');
    assert.deepEqual(f.log.slice(n).map((r) => [r.store, r.outcome]), [['n1', 'NO_REGION_FOUND'], ['n2', 'NOT_LEADER'], ['n3', 'ok']]);
    assert.equal(f.log.filter((r) => r.tag === KvTag.Regions).length, refreshes, 'no route refresh was needed');
    assert.equal(f.value('x'), '2');
  } finally {
    await f.close();
  }
});

test('a store going down: the client moves on to the other voters and the new leader', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    await c.put('a', '1');
    await f.down('n1');
    f.setLeader('r1', 'n2');
    await c.put('b', '2');
    assert.equal(str(await c.get('b')), '2');
    assert.equal(f.commands().at(-1)!.store, 'n2');
  } finally {
    await f.close();
  }
});

test('endpoints that are down are skipped when fetching routes', async () => {
  const f = await FakeCluster.start();
  try {
    await f.down('n1');
    f.setLeader('r1', 'n3');
    const c = await f.client();
    await c.put('k', 'v');
    assert.equal(f.value('k'), 'v');
  } finally {
    await f.close();
  }
});

test('follower and stale reads carry their read mode; follower reads go to any replica', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ readConsistency: 'lease' });
    await c.put('k', 'v');
    assert.equal(str(await c.get('k')), 'v');
    assert.equal(f.commands(KvOp.Get).at(-1)!.header.consistency, 'lease');
    for (let i = 0; i < 6; i++) assert.equal(str(await c.get('k', { follower: true, consistency: 'stale' })), 'v');
    const reads = f.commands(KvOp.Get).slice(-6);
    assert.ok(reads.every((r) => r.header.follower === true && r.header.consistency === 'stale' && (r.header.minIndex ?? 0) >= 1));
    assert.ok(reads.every((r) => r.outcome === 'ok'));
  } finally {
    await f.close();
  }
});

test('compareAndPutAll across regions fails with CROSS_REGION before anything is sent', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    const c = await f.client();
    await c.refreshRoutes();
    const n = f.commands().length;
    await assert.rejects(
      c.compareAndPutAll([
        { key: 'a', expect: null, value: '1' },
        { key: 'z', expect: null, value: '2' },
      ]),
      { code: 'CROSS_REGION' },
    );
    assert.equal(f.commands().length, n);
    assert.equal(f.value('a'), undefined);
  } finally {
    await f.close();
  }
});

// ---------------------------------------------------------------- route table

const info = (id: string, start: string, end: string, version: number, leader = ''): RegionInfo => ({
  id,
  startKey: toWireKey(b(start)),
  endKey: toWireKey(b(end)),
  epoch: { confVer: 1, version },
  voters: [{ id: 'n1', address: 'h:1' }],
  learners: [],
  leader,
});

test('route table: lookups, coverage, and merges that prefer the higher version', () => {
  const t = new RouteTable();
  assert.equal(t.merge([info('r1', '', 'm', 1, 'n1'), info('r2', 'm', '', 1)]), true);
  assert.equal(t.find(b('a'))!.id, 'r1');
  assert.equal(t.find(b('m'))!.id, 'r2');
  assert.equal(t.find(Buffer.alloc(0))!.id, 'r1');
  assert.equal(t.findBefore(Buffer.alloc(0))!.id, 'r2');
  assert.equal(t.findBefore(b('m'))!.id, 'r1');
  assert.ok(t.coversAll());
  assert.equal(t.leaderOf('r1'), 'n1');
  assert.equal(t.merge([info('r1', '', 'm', 1)]), false, 'the same region again is no change');

  // r2 splits: the store's view of r2 (v2) arrives first and leaves a gap...
  assert.equal(t.merge([info('r2', 'm', 't', 2)]), true);
  assert.equal(t.find(b('x')), undefined);
  assert.equal(t.coversAll(), false);
  assert.equal(t.overlapping(b('n'), b('z')).covered, false);
  // ...a lagging store's old view of r2 does not undo it...
  assert.equal(t.merge([info('r2', 'm', '', 1)]), false);
  assert.equal(t.find(b('x')), undefined);
  // ...and the new region fills the gap.
  assert.equal(t.merge([info('r3', 't', '', 2)]), true);
  assert.deepEqual(t.all().map((r) => r.id), ['r1', 'r2', 'r3']);
  assert.deepEqual(t.overlapping(b('n'), b('z')).regions.map((r) => r.id), ['r2', 'r3']);
  assert.ok(t.overlapping(b('n'), b('z')).covered);
  // A newer region replaces every older one it overlaps.
  assert.equal(t.merge([info('r9', 'a', '', 3)]), true);
  assert.deepEqual(t.all().map((r) => [r.id, r.startKey.toString(), r.endKey.toString()]), [
    ['r9', 'a', ''],
  ]);
});
