// Admin requests and read consistency levels through real processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftClient } from '../../src/client/raft-client.js';
import { ProcCluster, json, parse } from './proc-cluster.js';

test('admin over the client port: add a learner, promote it, transfer leadership to it, snapshot, remove a voter', { timeout: 90_000 }, async () => {
  const cluster = await ProcCluster.create(['a1', 'a2', 'a3', 'a4'], ['--initial-voters', 'a1,a2,a3']);
  const c = cluster.client({ timeoutMs: 15_000 });
  try {
    await Promise.all(['a1', 'a2', 'a3'].map((id) => cluster.start(id)));
    await cluster.start('a4', ['--join']);
    await cluster.leader(c);
    for (let i = 0; i < 20; i++) await c.apply(json({ op: 'set', key: `k${i}`, value: `v${i}` }));
    const learner = (await c.admin({ action: 'addLearner', node: 'a4' })) as { confState: { learners: string[] } };
    assert.deepEqual(learner.confState.learners, ['a4']);
    // The learner catches up, then is promoted.
    const deadline = Date.now() + 10_000;
    let promoted: { confState: { voters: string[]; learners: string[] } };
    for (;;) {
      try {
        promoted = (await c.admin({ action: 'promote', node: 'a4' })) as typeof promoted;
        break;
      } catch (e) {
        if (Date.now() > deadline || (e as { code?: string }).code !== 'BUSY') throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    assert.deepEqual(promoted.confState.voters, ['a1', 'a2', 'a3', 'a4']);
    assert.deepEqual(promoted.confState.learners, []);
    // a4 applies its promotion shortly after the leader.
    for (;;) {
      const st = await c.status('a4');
      if ((st['confState'] as { voters: string[] }).voters.includes('a4')) break;
      if (Date.now() > deadline) assert.fail(`a4 never applied its promotion: ${JSON.stringify(st['confState'])}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.admin({ action: 'transferLeader', node: 'a4' });
    assert.equal(await cluster.leader(c), 'a4');
    const snap = (await c.admin({ action: 'snapshot' })) as { index: number };
    assert.ok(snap.index > 20);
    const removed = (await c.admin({ action: 'removeNode', node: 'a1' })) as { confState: { voters: string[] } };
    assert.deepEqual(removed.confState.voters, ['a2', 'a3', 'a4']);
    assert.equal(parse((await c.query(json({ op: 'get', key: 'k19' }))).result), 'v19');
  } finally {
    await c.close();
    await cluster.stop();
  }
});

test('reads at every consistency level, on the leader and on a follower', { timeout: 60_000 }, async () => {
  const cluster = await ProcCluster.create(['r1', 'r2', 'r3']);
  const c = cluster.client();
  try {
    await cluster.startAll();
    const leader = await cluster.leader(c);
    const follower = [...cluster.nodes.keys()].find((id) => id !== leader)!;
    const w = await c.apply(json({ op: 'set', key: 'x', value: 'fresh' }));
    const get = json({ op: 'get', key: 'x' });
    for (const server of [leader, follower]) {
      // Linearizable (ReadIndex) and lease reads see the acknowledged write on any node.
      assert.equal(parse((await c.query(get, { server, consistency: 'linearizable' })).result), 'fresh');
      assert.equal(parse((await c.query(get, { server, consistency: 'lease' })).result), 'fresh');
      // A stale read with a floor waits until the node has applied the write's index.
      const r = await c.query(get, { server, consistency: 'stale', minIndex: w.index });
      assert.equal(parse(r.result), 'fresh');
      assert.ok(r.appliedIndex >= w.index);
    }
    // A local read answers from whatever the node has applied, without waiting.
    const local = await c.query(get, { server: follower, consistency: 'local' });
    assert.ok(local.appliedIndex > 0);
    // A client given only addresses (follower first) is redirected to the leader by its hint.
    const addrs = [follower, leader].map((id) => `127.0.0.1:${cluster.nodes.get(id)!.port}`);
    const byAddress = new RaftClient({ servers: addrs });
    try {
      const w2 = await byAddress.apply(json({ op: 'set', key: 'y', value: 'via-address' }));
      assert.ok(w2.index > w.index);
      assert.equal(parse((await byAddress.query(json({ op: 'get', key: 'y' }))).result), 'via-address');
      assert.equal((await byAddress.status(addrs[1]))['role'], 'leader');
    } finally {
      await byAddress.close();
    }
  } finally {
    await c.close();
    await cluster.stop();
  }
});
