// The placement driver in processes of its own (pd-main.ts, no regions), TiKV-style: three PD
// processes, three store processes reporting to them, and a client that knows only PD's
// addresses (it gets every route from PD). Regions split on their own and the new regions get
// ids from PD; a 4th store joins without an id and gets one from PD; a PD node and a store are
// killed with SIGKILL while replicas move, then restarted; scheduling resumes; the new store is
// decommissioned from the CLI and leaves once drained. The client keeps
// writing throughout: no error, and every acknowledged write reads back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pdRequest } from '../../src/cli/pd.js';
import { createClient } from '../../src/kv/client/index.js';
import { type ClusterReply, PdTag } from '../../src/pd/pd-protocol.js';
import { PdAdminClient, type PdCallError } from '../../src/index.js';
import { KV_STORE_MAIN, PD_MAIN, ProcCluster } from '../process/proc-cluster.js';
import { raftkv } from '../cli/helpers.js';
import { alphabetKeys, checkAll, writers } from '../kv-store/writers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('PD in its own processes: clients route through PD, ids come from PD, kill -9 of a PD node and a store while scheduling', { timeout: 180_000 }, async () => {
  const pdNodes = await ProcCluster.create(
    ['pd1', 'pd2', 'pd3'],
    ['--tick-ms', '50', '--election-timeout-ms', '500', '--schedule-interval-ms', '200', '--pd-warmup-ms', '600', '--split-max-keys', '150', '--operator-timeout-ms', '15000', '--log-level', 'warn'],
    { main: PD_MAIN },
  );
  const storeFlags = ['--engine', 'lmdb', '--tick-ms', '50', '--election-timeout-ms', '500', '--pd-heartbeat-ms', '200', '--log-level', 'warn'];
  const stores = await ProcCluster.create(['s1', 's2', 's3'], storeFlags, { main: KV_STORE_MAIN });
  const joiner = await ProcCluster.create(['joiner'], storeFlags, { main: KV_STORE_MAIN });
  const pdAddresses = [...pdNodes.nodes.values()].map((n) => `127.0.0.1:${n.port}`);
  const pdArg = [...pdNodes.nodes.values()].map((n) => `${n.id}=127.0.0.1:${n.port}`).join(',');
  const pd = async (): Promise<ClusterReply | undefined> => {
    try {
      return await pdRequest<ClusterReply>({ endpoints: pdAddresses.join(','), timeoutMs: 2000, cluster: 'raftkv', json: false }, PdTag.Cluster, {});
    } catch {
      return undefined;
    }
  };
  const until = async (what: string, pred: (c: ClusterReply) => boolean, timeoutMs: number): Promise<ClusterReply> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const c = await pd();
      if (c && pred(c)) return c;
      if (Date.now() > deadline) {
        const failed = [...stores.nodes.values(), ...joiner.nodes.values(), ...pdNodes.nodes.values()].flatMap((n) => n.stderr.split('\n').filter((l) => l.includes('PD step failed') || /"level":(50|60)/.test(l)).slice(-4));
        throw new Error(`timed out waiting until ${what}; PD sees ${JSON.stringify(c?.stores)} ${JSON.stringify(c?.operators)} ${JSON.stringify(c?.regions.map((r) => [r.region.id, r.region.leader, r.region.voters.map((v) => v.id).join(''), r.region.learners.map((v) => v.id).join('')]))}; failed steps: ${failed.join(' | ')}`);
      }
      await sleep(200);
    }
  };
  const startStore = (id: string): Promise<void> => stores.start(id, ['--pd-endpoints', pdArg]);

  await pdNodes.startAll();
  await Promise.all(['s1', 's2', 's3'].map(startStore));
  // The client is given PD's addresses only: every route it uses comes from PD.
  const kv = createClient({ endpoints: [], pdEndpoints: pdAddresses, timeoutMs: 30_000 });
  const w = writers(kv, 6, alphabetKeys);
  try {
    const split = await until('regions split on their own', (c) => c.regions.length >= 3, 60_000);
    // Regions made by PD-driven splits are named by PD's id allocator.
    assert.ok(split.regions.some((r) => /^r\d+$/.test(r.region.id)), `PD-allocated region ids: ${split.regions.map((r) => r.region.id).join(',')}`);
    // Traffic reaches PD through the heartbeats.
    const busy = await until('PD sees write rates', (c) => c.regions.some((r) => r.writesPerSec > 0) && c.stores.some((s) => s.writesPerSec > 0), 10_000);
    // Every write carries its key and value (over 10 bytes): bytes/s exceed writes/s where writes go.
    assert.ok(busy.regions.some((r) => r.writesPerSec > 0 && r.writeBytesPerSec > 10 * r.writesPerSec), JSON.stringify(busy.regions.map((r) => [r.writesPerSec, r.writeBytesPerSec])));
    await pdRequest({ endpoints: pdAddresses.join(','), timeoutMs: 10_000, cluster: 'raftkv', json: false }, PdTag.Admin, { action: 'scheduler', name: 'split', enabled: false });

    // A new store with no id: PD hands it one, and it keeps it across a restart.
    await joiner.start('joiner', ['--join', pdArg], { withoutId: true });
    const newId = String(joiner.nodes.get('joiner')!.ready!['id']);
    assert.match(newId, /^s\d+$/);
    assert.ok(!['s1', 's2', 's3'].includes(newId), `a fresh id, got ${newId}`);

    // While replicas move to it, kill -9 PD's leader and a store.
    const moving = await until(`replicas start moving to ${newId}`, (c) => c.operators.length > 0 || (c.stores.find((s) => s.id === newId)?.regionCount ?? 0) > 0, 30_000);
    await Promise.all([pdNodes.kill(moving.leader), stores.kill('s2')]);
    await sleep(1000);
    await Promise.all([pdNodes.start(moving.leader), startStore('s2')]);

    const done = await until(
      `${newId} holds replicas, every region has 3 voters and no learner, nothing in progress`,
      (c) => c.regions.filter((r) => r.region.voters.some((v) => v.id === newId)).length >= 2 && c.operators.length === 0 && c.regions.every((r) => r.region.voters.length === 3 && r.region.learners.length === 0),
      90_000,
    );
    assert.ok(done.stores.every((s) => s.state === 'up' && !s.down), JSON.stringify(done.stores));

    // The joiner restarts without --id and comes back as the same store.
    await joiner.terminate('joiner');
    await joiner.start('joiner', ['--join', pdArg], { withoutId: true });
    assert.equal(joiner.nodes.get('joiner')!.ready!['id'], newId);

    // Admin through PD from the CLI: move a region's leader to the new store. The balancers are
    // switched off first, so no operator of theirs holds the region (PD refuses a second one).
    const admin = new PdAdminClient({ endpoints: pdAddresses });
    await admin.setScheduler('leaderBalance', false);
    await admin.setScheduler('replicaBalance', false);
    const quiet = await until('no operator in progress', (c) => c.operators.length === 0 && !c.schedulers['leaderBalance'], 30_000);
    const eps = pdAddresses.join(',');
    const target = quiet.regions.find((r) => r.region.voters.some((v) => v.id === newId))!;
    const to = target.region.leader === newId ? target.region.voters.find((v) => v.id !== newId)!.id : newId;
    const moved = await raftkv(['admin', 'transfer-leader', target.region.id, to, '--pd', '--endpoints', eps]);
    assert.equal(moved.code, 0, moved.stderr);
    assert.match(moved.stdout, new RegExp(`operator on region ${target.region.id.replace('.', '\\.')}: transfer leader to ${to}`));
    await until(`${to} leads region ${target.region.id}`, (c) => c.regions.some((r) => r.region.id === target.region.id && r.region.leader === to), 30_000);
    // The admin API for programs: a split through PD (splitting is switched off for the
    // scheduler, not for operators asked for), named by PD's allocator; typed refusals.
    const now = await admin.cluster();
    const big = [...now.regions].sort((a, b) => b.keys - a.keys)[0]!;
    const accepted = await admin.split(big.region.id);
    assert.equal(accepted.regionId, big.region.id);
    assert.deepEqual(accepted.steps, ['split at the middle']);
    await until('the asked-for split created a region named by PD', (c) => c.regions.some((r) => !now.regions.some((x) => x.region.id === r.region.id) && /^r\d+$/.test(r.region.id)), 30_000);
    await assert.rejects(admin.transferLeader('no-such-region', 's1'), (e: PdCallError) => e.code === 'NO_REGION_FOUND');

    const view = await raftkv(['admin', 'pd', '--endpoints', eps]);
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /placement driver leader: pd\d; schedulers: split off/);
    assert.match(view.stdout, /WRITES\/S/);

    // Decommission the joined store from the CLI: its replicas move away while the writers go
    // on, PD reports it drained, and only then is it stopped.
    const dec = await raftkv(['admin', 'decommission', newId, '--endpoints', eps]);
    assert.equal(dec.code, 0, dec.stderr);
    const drained = await until(`${newId} is drained`, (c) => c.stores.some((s) => s.id === newId && s.state === 'offline' && s.drained), 60_000);
    assert.ok(drained.regions.every((r) => r.region.voters.length === 3 && !r.region.voters.some((v) => v.id === newId)), JSON.stringify(drained.regions.map((r) => r.region.voters)));
    assert.match((await raftkv(['admin', 'pd', '--endpoints', eps])).stdout, new RegExp(`^${newId} .*offline \\(drained: can be stopped\\)`, 'm'));
    await joiner.terminate('joiner');

    await w.stop();
    assert.deepEqual(w.errors, []);
    assert.ok(w.acked.size > 450, `writes went on (${w.acked.size})`);
    await checkAll(kv, w.acked);
  } finally {
    await w.stop();
    await kv.close();
    await Promise.all([joiner.stop(), stores.stop(), pdNodes.stop()]);
  }
});
