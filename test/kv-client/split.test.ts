// Splits while the client works: stale routes are refreshed and the remaining work re-split
// over the new regions, transparently, with new call ids for the re-split parts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { FakeCluster, str } from './fake-store.js';

const keysOf = (cmd: unknown): string[] => {
  const c = cmd as { entries?: Array<[Uint8Array]>; keys?: Uint8Array[]; key?: Uint8Array };
  return (c.entries?.map((e) => e[0]) ?? c.keys ?? (c.key ? [c.key] : [])).map((k) => Buffer.from(k).toString());
};

test('putAll after a split the client has not heard of: refused, re-split, nothing lost', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    const c = await f.client({ batching: false });
    await c.refreshRoutes();
    f.split('r1', 'f'); // r1 = [-inf, f) v2, r3 = [f, m) v2
    const keys = ['a', 'c', 'g', 'k', 'n', 'x'];
    await c.putAll(keys.map((k) => [k, k.toUpperCase()] as [string, string]));
    for (const k of keys) assert.equal(f.value(k), k.toUpperCase());

    const puts = f.commands(KvOp.PutList);
    const refused = puts.filter((r) => r.outcome === 'INVALID_REGION_EPOCH');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.regionId, 'r1');
    const ok = puts.filter((r) => r.outcome === 'ok');
    assert.deepEqual(ok.map((r) => [r.regionId, r.header.version, keysOf(r.cmd).join('')]).sort(), [
      ['r1', 2, 'ac'],
      ['r2', 1, 'nx'],
      ['r3', 2, 'gk'],
    ]);
    // The re-split parts are new requests: new call ids, different from the refused one's.
    const ids = ok.map((r) => r.header.callId);
    assert.equal(new Set([...ids, refused[0]!.header.callId]).size, 4);
    assert.equal(f.applied, 3);
  } finally {
    await f.close();
  }
});

for (const mode of ['error', 'result'] as const) {
  test(`a split committed first refuses the write at apply time (refusal as ${mode === 'error' ? 'an error reply' : 'a result'}): re-split under new call ids`, async () => {
    const f = await FakeCluster.start();
    try {
      f.resultErrorsAs = mode;
      const c = await f.client({ batching: false });
      await c.refreshRoutes();
      let fired = false;
      f.atApply = (req) => {
        if (fired || req.cmd?.op !== KvOp.PutList) return undefined;
        fired = true;
        f.split('r1', 'm');
        return 'refuse-at-apply';
      };
      await c.putAll([['a', '1'], ['z', '2']]);
      assert.equal(f.value('a'), '1');
      assert.equal(f.value('z'), '2');
      const puts = f.commands(KvOp.PutList);
      assert.equal(puts[0]!.outcome, mode === 'error' ? 'INVALID_REGION_EPOCH' : 'ok');
      const first = puts[0]!.header.callId;
      const later = puts.slice(1).filter((r) => r.outcome === 'ok');
      assert.deepEqual(later.map((r) => r.regionId).sort(), ['r1', 'r2']);
      assert.ok(later.every((r) => r.header.callId !== first && !r.cached));
    } finally {
      await f.close();
    }
  });
}

test('a refusal at apply replayed from the retry cache spends the call id (no retry loop)', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client({ attemptTimeoutMs: 60, batching: false });
    await c.refreshRoutes();
    let fired = false;
    f.atApply = (req) => {
      if (fired || req.cmd?.op !== KvOp.Merge) return undefined;
      fired = true;
      f.split('r1', 'm'); // 'a' stays in r1, now v2
      return 'refuse-at-apply-and-drop'; // the refusal is cached under the call id, the reply lost
    };
    await c.merge('a', 'x');
    assert.equal(f.value('a'), 'x');
    const merges = f.commands(KvOp.Merge).filter((r) => r.outcome !== 'NOT_LEADER');
    // dropped; retried at v1 (stale); retried at v2 under the same id (the cached refusal); a new id applies.
    assert.deepEqual(merges.map((r) => [r.outcome, r.header.version, r.cached === true]), [
      ['dropped', 1, false],
      ['INVALID_REGION_EPOCH', 1, false],
      ['INVALID_REGION_EPOCH', 2, true],
      ['ok', 2, false],
    ]);
    assert.equal(merges[2]!.header.callId, merges[0]!.header.callId);
    assert.notEqual(merges[3]!.header.callId, merges[0]!.header.callId);
  } finally {
    await f.close();
  }
});

test('a split between two pages of a scan, and under single-key ops, is invisible to the caller', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    const c = await f.client();
    const keys = 'abcdefghijklmnopqrstuvwxyz'.split('');
    await c.putAll(keys.map((k) => [k, k] as [string, string]));
    const seen: string[] = [];
    let i = 0;
    for await (const p of c.iterator(null, null, { pageSize: 5 })) {
      seen.push(p.key.toString());
      if (++i === 7) f.split('r2', 'q'); // a region the iterator has not reached yet
      if (i === 12) f.split('r1', 'd'); // one it already passed
    }
    assert.deepEqual(seen, keys);
    // Reverse scan over the new layout, single-key ops in the split regions.
    f.split('r3', 'u');
    assert.deepEqual((await c.reverseScan('k', 'w')).map((p) => p.key.toString()).join(''), 'vutsrqponmlk');
    f.split('r1', 'b');
    await c.put('c', 'C');
    assert.equal(str(await c.get('c')), 'C');
    assert.equal(str(await c.getAndPut('a', 'A')), 'a');
    assert.equal(f.value('a'), 'A');
  } finally {
    await f.close();
  }
});

test('a batch of gets and a deleteRange refused by a split are re-split and answered', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    await c.putAll([['a', '1'], ['k', '2'], ['t', '3']]);
    f.split('r1', 'h');
    const got = await Promise.all(['a', 'k', 't', 'zz'].map((k) => c.get(k)));
    assert.deepEqual(got.map(str), ['1', '2', '3', null]);
    const reads = f.commands().filter((r) => r.cmd?.op === KvOp.MultiGet || r.cmd?.op === KvOp.Get);
    assert.deepEqual([reads[0]!.cmd!.op, reads[0]!.outcome], [KvOp.MultiGet, 'INVALID_REGION_EPOCH']);
    // Re-split: one key left for r1 (a plain Get), the rest in one MultiGet to the new region.
    assert.deepEqual(reads.slice(1).map((r) => [r.regionId, KvOp[r.cmd!.op], keysOf(r.cmd).join('')]).sort(), [
      ['r1', 'Get', 'a'],
      ['r2', 'MultiGet', 'ktzz'],
    ]);

    f.split('r2', 'p');
    await c.deleteRange('b', 'z');
    assert.deepEqual([...f.data.keys()].map((k) => Buffer.from(k, 'hex').toString()), ['a']);
  } finally {
    await f.close();
  }
});

test('compareAndPutAll whose keys a split separates fails with CROSS_REGION', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    await c.refreshRoutes();
    f.split('r1', 'm');
    await assert.rejects(
      c.compareAndPutAll([
        { key: 'a', expect: null, value: '1' },
        { key: 'z', expect: null, value: '2' },
      ]),
      { code: 'CROSS_REGION' },
    );
    assert.equal(f.value('a'), undefined);
    assert.equal(f.value('z'), undefined);
  } finally {
    await f.close();
  }
});
