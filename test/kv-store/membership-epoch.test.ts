// A membership change of a region shows in its epoch: confVer rises (it is the log index of the
// change, the same on every replica) and the region's peers follow, so clients and tools see the
// replicas as they are.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawCaller, localCluster } from './helpers.js';

test('removing and re-adding a replica raises confVer and updates the peers on every store', async () => {
  const c = await localCluster(3, { engine: 'memory' });
  const raw = new RawCaller(c.addresses);
  try {
    const leader = await c.leaderOf('1');
    const before = (await raw.regions(leader.nodeId)).regions[0]!;
    assert.deepEqual(before.voters.map((v) => v.id), ['s1', 's2', 's3']);
    const victim = ['s1', 's2', 's3'].find((id) => id !== leader.nodeId)!;
    await leader.regions.get('1')!.node.removeNode(victim);
    const waitFor = async (pred: () => Promise<boolean>): Promise<void> => {
      const deadline = Date.now() + 5000;
      while (!(await pred())) {
        if (Date.now() > deadline) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const survivors = ['s1', 's2', 's3'].filter((id) => id !== victim);
    await waitFor(async () => {
      for (const id of survivors) {
        const r = (await raw.regions(id)).regions[0]!;
        if (r.voters.length !== 2) return false;
      }
      return true;
    });
    const removed = await Promise.all(survivors.map(async (id) => (await raw.regions(id)).regions[0]!));
    for (const r of removed) {
      assert.deepEqual(r.voters.map((v) => v.id).sort(), survivors);
      assert.ok(r.epoch.confVer > before.epoch.confVer, `confVer rose: ${before.epoch.confVer} -> ${r.epoch.confVer}`);
      assert.equal(r.epoch.version, before.epoch.version, 'a membership change is not a split');
    }
    assert.equal(removed[0]!.epoch.confVer, removed[1]!.epoch.confVer, 'the same confVer on every replica');

    await leader.regions.get('1')!.node.addVoter(victim);
    await waitFor(async () => (await raw.regions(leader.nodeId)).regions[0]!.voters.length === 3);
    const back = (await raw.regions(leader.nodeId)).regions[0]!;
    assert.ok(back.epoch.confVer > removed[0]!.epoch.confVer);
  } finally {
    await raw.close();
    await c.close();
  }
});
