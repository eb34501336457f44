// A store that was down while a region split, and whose region log was compacted past the split
// meanwhile, catches up by snapshot: it never applies the split entry, yet ends up hosting the
// new region with its data (created empty, then filled by the new region's leader).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { RawCaller, localCluster } from './helpers.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const s = (v: Uint8Array | null | undefined): string | null => (v ? new TextDecoder().decode(v) : null);

test('a store that missed a split learns the new region from a snapshot and fills it', async () => {
  const c = await localCluster(3, { engine: 'memory', snapshotEvery: 20, snapshotMargin: 0 });
  const raw = new RawCaller(c.addresses);
  try {
    let leader = (await c.leaderOf('1')).nodeId;
    if (leader === 's3') {
      await c.stores.get('s3')!.regions.get('1')!.node.transferLeadership('s1');
      leader = (await c.leaderOf('1')).nodeId;
    }
    await c.stopOne('s3');
    for (let i = 0; i < 40; i++) {
      const r = await raw.send(leader, '1', {}, { op: KvOp.Put, key: b(`k${String(i).padStart(2, '0')}`), value: b(`v${i}`) });
      assert.ok(r.ok, JSON.stringify(r));
    }
    const split = await raw.send(leader, '1', {}, { op: KvOp.RangeSplit, splitKey: b('k20'), newRegionId: '', expectVersion: 0, voters: [], learners: [] });
    assert.ok(split.ok && split.result.kind === 'split', JSON.stringify(split));
    const right = split.result.right;
    // More writes on both halves, so both logs move past snapshots that cover the split.
    for (let i = 0; i < 40; i++) {
      const left = await raw.send(leader, '1', { version: 2 }, { op: KvOp.Put, key: b(`a${i}`), value: b('L') });
      assert.ok(left.ok, JSON.stringify(left));
    }
    const rightLeader = (await c.leaderOf(right)).nodeId;
    for (let i = 0; i < 30; i++) {
      const r = await raw.send(rightLeader, right, { version: 2 }, { op: KvOp.Put, key: b(`z${i}`), value: b('R') });
      assert.ok(r.ok, JSON.stringify(r));
    }
    const parentSnap = c.stores.get(leader)!.regions.get('1')!.node.status().snapshotIndex;
    assert.ok(parentSnap > 41, `the parent's log was compacted past the split (snapshot at ${parentSnap})`);

    const s3 = await c.start('s3');
    const deadline = Date.now() + 15_000;
    const caughtUp = (): boolean => {
      const peer = s3.regions.get(right);
      return !!peer && peer.meta.epoch.version === 2 && peer.kv.keyCount() === 20 + 30;
    };
    while (!caughtUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const peer = s3.regions.get(right);
    assert.ok(peer, 's3 hosts the region it never saw split');
    assert.equal(peer.meta.epoch.version, 2);
    assert.equal(s(peer.meta.startKey), 'k20');
    assert.equal(peer.kv.keyCount(), 50, 'k20..k39 and z0..z29');
    assert.equal(s3.regions.get('1')!.kv.keyCount(), 20 + 40, 'the left half holds k00..k19 and a0..a39');
  } finally {
    await raw.close();
    await c.close();
  }
});
