// The placement driver with real store processes (lmdb, fsync on, TCP on 127.0.0.1): regions
// split on their own under load, a 4th store process joins and receives replicas, the PD
// leader's process is killed with SIGKILL while it schedules and restarted, and scheduling
// resumes. The client keeps writing throughout: no error, and every acknowledged write reads back.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pdRequest } from '../../src/cli/pd.js';
import { createClient } from '../../src/kv/client/index.js';
import { type ClusterReply, PdTag } from '../../src/pd/pd-protocol.js';
import { KV_STORE_MAIN, ProcCluster } from '../process/proc-cluster.js';
import { raftkv } from '../cli/helpers.js';
import { alphabetKeys, checkAll, writers } from '../kv-store/writers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('auto split, a store joins, the PD leader is killed mid-scheduling: scheduling resumes, nothing lost', { timeout: 150_000 }, async () => {
  const cluster = await ProcCluster.create(
    ['s1', 's2', 's3'],
    ['--engine', 'lmdb', '--tick-ms', '50', '--election-timeout-ms', '500', '--pd', '--pd-heartbeat-ms', '200', '--schedule-interval-ms', '200', '--pd-warmup-ms', '600', '--split-max-keys', '150', '--operator-timeout-ms', '15000', '--log-level', 'warn'],
    { main: KV_STORE_MAIN },
  );
  const endpoints = () => [...cluster.nodes.values()].filter((n) => n.proc).map((n) => `127.0.0.1:${n.port}`);
  const pd = async (): Promise<ClusterReply | undefined> => {
    try {
      return await pdRequest<ClusterReply>({ endpoints: endpoints().join(','), timeoutMs: 2000, cluster: 'raftkv', json: false }, PdTag.Cluster, {});
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
        const regions = await raftkv(['admin', 'regions', '--json', '--endpoints', endpoints().join(',')]);
        process.stderr.write(`REGIONS ${regions.stdout}\n`);
        const failed = [...cluster.nodes.values()].flatMap((n) => n.stderr.split('\n').filter((l) => l.includes('PD step failed') || /"level":(50|60)/.test(l)).slice(-4));
        throw new Error(`timed out waiting until ${what}; PD sees ${JSON.stringify(c?.stores)} ${JSON.stringify(c?.operators)} ${JSON.stringify(c?.regions.map((r) => [r.region.id, r.region.leader, r.region.voters.map((v) => v.id).join(''), r.region.learners.map((v) => v.id).join('')]))}; failed steps: ${failed.join(' | ')}`);
      }
      await sleep(200);
    }
  };
  await cluster.startAll();
  const kv = createClient({ endpoints: endpoints(), timeoutMs: 30_000 });
  const w = writers(kv, 6, alphabetKeys);
  try {
    await until('regions split on their own', (c) => c.regions.length >= 3, 60_000);
    // Splitting stops here (the writers keep adding keys), so the moves below can settle.
    await pdRequest({ endpoints: endpoints().join(','), timeoutMs: 10_000, cluster: 'raftkv', json: false }, PdTag.Admin, { action: 'scheduler', name: 'split', enabled: false });

    await cluster.addNode('s4');
    const joinArg = ['s1', 's2', 's3'].map((id) => `${id}=127.0.0.1:${cluster.nodes.get(id)!.port}`).join(',');
    await cluster.start('s4', ['--join', joinArg]);
    // Kill the PD leader while replicas move to s4.
    const moving = await until('replicas start moving to s4', (c) => c.operators.length > 0 || (c.stores.find((s) => s.id === 's4')?.regionCount ?? 0) > 0, 30_000);
    await cluster.kill(moving.leader);
    await sleep(1000);
    await cluster.start(moving.leader);

    const done = await until(
      's4 holds replicas, every region has 3 voters and no learner, nothing in progress',
      (c) => c.regions.filter((r) => r.region.voters.some((v) => v.id === 's4')).length >= 2 && c.operators.length === 0 && c.regions.every((r) => r.region.voters.length === 3 && r.region.learners.length === 0),
      60_000,
    );
    assert.ok(done.regions.some((r) => r.region.voters.some((v) => v.id === 's4')));
    // The same view through the CLI, and its admin actions.
    const eps = endpoints().join(',');
    const view = await raftkv(['admin', 'pd', '--endpoints', eps]);
    assert.equal(view.code, 0, view.stderr);
    assert.match(view.stdout, /placement driver leader: s\d; schedulers: split off, leaderBalance on/);
    assert.match(view.stdout, /^s4 +127\.0\.0\.1:\d+ +up /m);
    const off = await raftkv(['admin', 'scheduler', 'leaderBalance', 'off', '--endpoints', eps, '--json']);
    assert.equal(off.code, 0, off.stderr);
    assert.equal((JSON.parse(off.stdout) as { enabled: boolean }).enabled, false);
    const json = JSON.parse((await raftkv(['admin', 'pd', '--endpoints', eps, '--json'])).stdout) as ClusterReply;
    assert.equal(json.schedulers['leaderBalance'], false);
    const bad = await raftkv(['admin', 'scheduler', 'bogus', 'on', '--endpoints', eps]);
    assert.equal(bad.code, 2);
    await w.stop();
    assert.deepEqual(w.errors, []);
    assert.ok(w.acked.size > 450, `writes went on (${w.acked.size})`);
    await checkAll(kv, w.acked);
  } finally {
    await w.stop();
    await kv.close();
    await cluster.stop();
  }
});
