// The store's request handling, seen on the wire (raw protocol, no client library): each check
// of RheaKV's path answers with its own error code, and a split creates a working region on
// every store. Three real stores in this process over TCP on 127.0.0.1, on real disks.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { fromWireKey } from '../../src/kv/protocol.js';
import { type LocalCluster, RawCaller, localCluster } from './helpers.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (v: Uint8Array | null | undefined): string | null => (v ? new TextDecoder().decode(v) : null);

describe('store request path (3 stores, regions [-inf,g) [g,p) [p,+inf))', () => {
  let c: LocalCluster;
  let raw: RawCaller;
  before(async () => {
    c = await localCluster(3, { engine: 'lmdb', splitKeys: ['g', 'p'] });
    raw = new RawCaller(c.addresses);
  });
  after(async () => {
    await raw.close();
    await c.close();
  });

  it('lists its regions sorted, with epochs and peers', async () => {
    await c.leaderOf('1');
    const r = await raw.regions('s1');
    assert.equal(r.storeId, 's1');
    assert.deepEqual(r.regions.map((x) => [x.id, s(fromWireKey(x.startKey)), s(fromWireKey(x.endKey)), x.epoch.version]), [
      ['1', '', 'g', 1],
      ['2', 'g', 'p', 1],
      ['3', 'p', '', 1],
    ]);
    assert.deepEqual(r.regions[0]!.voters.map((v) => v.id), ['s1', 's2', 's3']);
    assert.ok(r.regions[0]!.voters.every((v) => /^127\.0\.0\.1:\d+$/.test(v.address)));
  });

  it('answers each bad request with its own code, in RheaKV order', async () => {
    const leader = (await c.leaderOf('2')).nodeId;
    const follower = [...c.stores.keys()].find((id) => id !== leader)!;
    const put = { op: KvOp.Put, key: b('h'), value: b('1') } as const;

    const noRegion = await raw.send(leader, '99', {}, put);
    assert.equal(!noRegion.ok && noRegion.error.code, 'NO_REGION_FOUND');

    const stale = await raw.send(leader, '2', { version: 7 }, put);
    assert.ok(!stale.ok);
    assert.equal(stale.error.code, 'INVALID_REGION_EPOCH');
    assert.equal(stale.error.region?.id, '2', 'the reply carries the region as it is');
    assert.equal(stale.error.region?.epoch.version, 1);

    const outside = await raw.send(leader, '2', {}, { op: KvOp.Put, key: b('zebra'), value: b('1') });
    assert.equal(!outside.ok && outside.error.code, 'INVALID_REGION_EPOCH');
    const outsideRange = await raw.send(leader, '2', {}, { op: KvOp.DeleteRange, start: b('h'), end: b('q') });
    assert.equal(!outsideRange.ok && outsideRange.error.code, 'INVALID_REGION_EPOCH');

    const empty = await raw.send(leader, '1', {}, { op: KvOp.Put, key: new Uint8Array(0), value: b('1') });
    assert.equal(!empty.ok && empty.error.code, 'INVALID_PARAMETER');
    const big = await raw.send(leader, '2', {}, { op: KvOp.Put, key: b('h'), value: new Uint8Array(2 * 1024 * 1024) });
    assert.equal(!big.ok && big.error.code, 'INVALID_PARAMETER');
    const garbage = await raw.send(leader, '2', {}, Uint8Array.of(0xee, 1, 2));
    assert.equal(!garbage.ok && garbage.error.code, 'INVALID_PARAMETER');

    const notLeader = await raw.send(follower, '2', {}, put);
    assert.ok(!notLeader.ok);
    assert.equal(notLeader.error.code, 'NOT_LEADER');
    assert.equal(notLeader.error.leaderId, leader);
    assert.equal(notLeader.error.leaderAddress, c.addresses.get(leader));

    const ok = await raw.send(leader, '2', {}, put);
    assert.deepEqual(ok, { ok: true, result: { kind: 'ok' } });
    const got = await raw.send(leader, '2', {}, { op: KvOp.Get, key: b('h') });
    assert.ok(got.ok && got.result.kind === 'value');
    assert.equal(s(got.result.value), '1');
    // A follower read is linearizable (ReadIndex through the leader) and sees the write.
    const followerRead = await raw.send(follower, '2', { follower: true }, { op: KvOp.Get, key: b('h') });
    assert.ok(followerRead.ok && followerRead.result.kind === 'value');
    assert.equal(s(followerRead.result.value), '1');
    const followerNoFlag = await raw.send(follower, '2', {}, { op: KvOp.Get, key: b('h') });
    assert.equal(!followerNoFlag.ok && followerNoFlag.error.code, 'NOT_LEADER');

    const cb = await raw.send(leader, '2', {}, { op: KvOp.NodeExecute, name: 'nope', payload: b('') });
    assert.equal(!cb.ok && cb.error.code, 'INVALID_PARAMETER');
  });

  it('counts requests per op with their errors', async () => {
    const leader = (await c.leaderOf('2')).nodeId;
    const stats = c.stores.get(leader)!.service.metrics.snapshot();
    const put = stats.find((x) => x.op === 'Put');
    assert.ok(put && put.calls >= 3, 'puts were counted');
    assert.ok((put.errors['INVALID_REGION_EPOCH'] ?? 0) >= 1);
  });

  it('splits a region on every store: the new region serves its keys, the old one refuses them', async () => {
    const leader = (await c.leaderOf('3')).nodeId;
    const tooSmall = await raw.send(leader, '3', {}, { op: KvOp.RangeSplit, splitKey: null, newRegionId: '', expectVersion: 0, voters: [], learners: [] });
    assert.equal(!tooSmall.ok && tooSmall.error.code, 'TOO_SMALL_TO_SPLIT');
    for (const k of ['pa', 'pb', 'q', 'r', 'x', 'y']) {
      const r = await raw.send(leader, '3', {}, { op: KvOp.Put, key: b(k), value: b(k.toUpperCase()) });
      assert.ok(r.ok, JSON.stringify(r));
    }
    const seq = await raw.send(leader, '3', {}, { op: KvOp.GetSequence, key: b('x-seq'), step: 5 });
    assert.ok(seq.ok);
    const split = await raw.send(leader, '3', {}, { op: KvOp.RangeSplit, splitKey: null, newRegionId: '', expectVersion: 0, voters: [], learners: [] });
    assert.ok(split.ok && split.result.kind === 'split', JSON.stringify(split));
    const right = split.result.right;
    assert.equal(s(split.result.splitKey), 'r', 'the middle of pa pb q r x y (and the sequence key lives elsewhere)');

    // Every store gets the new region.
    const deadline = Date.now() + 10_000;
    while ([...c.stores.values()].some((st) => !st.regions.has(right)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const st of c.stores.values()) assert.ok(st.regions.has(right), `${st.nodeId} hosts ${right}`);
    const newLeader = (await c.leaderOf(right)).nodeId;
    const old = await raw.send(leader, '3', { version: 1 }, { op: KvOp.Get, key: b('q') });
    assert.equal(!old.ok && old.error.code, 'INVALID_REGION_EPOCH', 'version 1 is stale now');
    const moved = await raw.send(leader, '3', { version: 2 }, { op: KvOp.Get, key: b('x') });
    assert.equal(!moved.ok && moved.error.code, 'INVALID_REGION_EPOCH', 'x moved out');
    const stays = await raw.send(leader, '3', { version: 2 }, { op: KvOp.Get, key: b('q') });
    assert.ok(stays.ok && stays.result.kind === 'value' && s(stays.result.value) === 'Q');
    const inNew = await raw.send(newLeader, right, { version: 2 }, { op: KvOp.Scan, start: b('r'), end: null, limit: 0, returnValue: true });
    assert.ok(inNew.ok && inNew.result.kind === 'pairs');
    assert.deepEqual(inNew.result.pairs.map(([k, v]) => [s(k), s(v)]), [['r', 'R'], ['x', 'X'], ['y', 'Y']]);
    const seqNew = await raw.send(newLeader, right, { version: 2 }, { op: KvOp.GetSequence, key: b('x-seq'), step: 1 });
    assert.deepEqual(seqNew.ok && seqNew.result, { kind: 'sequence', start: 5, end: 6 }, 'the sequence moved with its key');
    const w = await raw.send(newLeader, right, { version: 2 }, { op: KvOp.Put, key: b('z'), value: b('Z') });
    assert.ok(w.ok);
  });

  it('keeps regions, splits and data across a restart of every store (lmdb)', async () => {
    const before = (await raw.regions('s1')).regions.map((r) => r.id);
    for (const id of ['s1', 's2', 's3']) await c.stopOne(id);
    for (const id of ['s1', 's2', 's3']) await c.start(id);
    const after = (await raw.regions('s1')).regions.map((r) => r.id);
    assert.deepEqual(after, before);
    const regions = (await raw.regions('s1')).regions;
    const right = regions.find((r) => s(fromWireKey(r.startKey)) === 'r')!;
    const leader = (await c.leaderOf(right.id)).nodeId;
    const z = await raw.send(leader, right.id, { version: right.epoch.version }, { op: KvOp.Get, key: b('z') });
    assert.ok(z.ok && z.result.kind === 'value' && s(z.result.value) === 'Z');
    const h = await raw.send((await c.leaderOf('2')).nodeId, '2', {}, { op: KvOp.Get, key: b('h') });
    assert.ok(h.ok && h.result.kind === 'value' && s(h.result.value) === '1');
  });
});
