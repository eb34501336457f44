// The placement driver at work on real stores (in this process, real TCP on 127.0.0.1, real
// disks): regions split on their own under load, a new store receives replicas and leaders, a
// decommissioned store is emptied, and the client sees no error and loses nothing throughout.

import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RegionPeer } from '../../src/kv/store/region-peer.js';
import { createClient } from '../../src/kv/client/index.js';
import type { ClusterReply } from '../../src/pd/pd-protocol.js';
import type { LocalCluster } from './helpers.js';
import { RawCaller, localCluster } from './helpers.js';
import { checkAll, writers } from './writers.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const PD = { heartbeatMs: 200, scheduleIntervalMs: 200, warmupMs: 600, operatorTimeoutMs: 20_000 };

function pdView(c: LocalCluster): ClusterReply {
  for (const s of c.stores.values()) if (s.pdServer?.node.isLeader) return s.pdServer.leader.cluster();
  throw new Error('no PD leader');
}

/** Waits until `pred` holds (a throwing predicate, e.g. no PD leader at the moment, is "not yet"). */
async function until(what: string, pred: () => boolean, timeoutMs: number, state?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const holds = (): boolean => {
    try {
      return pred();
    } catch {
      return false;
    }
  };
  while (!holds()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}${state ? `; PD sees ${state()}` : ''}`);
    await sleep(100);
  }
}

test('regions split on their own under load; the client sees no error and loses nothing', { timeout: 90_000 }, async () => {
  const c = await localCluster(3, { engine: 'memory', pd: { ...PD, scheduler: { splitMaxKeys: 150 } } });
  const kv = createClient({ endpoints: [...c.addresses.values()], timeoutMs: 20_000 });
  const w = writers(kv, 8);
  try {
    await until('regions split at least three times', () => pdView(c).regions.length >= 4, 40_000);
    // Keep writing through the splits PD is still making.
    const at = w.acked.size;
    await until('more writes after the splits', () => w.acked.size > at + 200, 20_000);
    await w.stop();
    assert.deepEqual(w.errors, []);
    assert.ok(w.acked.size > 3 * 150, `more keys than three regions can hold unsplit (${w.acked.size})`);
    await checkAll(kv, w.acked);
    const routes = await kv.regions();
    assert.ok(routes.length >= 4, `the client routes over ${routes.length} regions`);
    // Scans across every region boundary see every key once, in order.
    const all = await kv.scan('', '', { limit: 1_000_000 });
    assert.equal(all.length, w.acked.size);
  } finally {
    await w.stop();
    await kv.close();
    await c.close();
  }
});

test('a 4th store receives replicas and leaders; a decommissioned store is emptied; writes never fail', { timeout: 120_000 }, async () => {
  const c = await localCluster(3, { engine: 'memory', splitKeys: ['c', 'f', 'i', 'l', 'o', 'r'], pd: { ...PD, scheduler: { splitMaxKeys: 0 } } });
  const kv = createClient({ endpoints: [...c.addresses.values()], timeoutMs: 20_000 });
  let w: ReturnType<typeof writers> | undefined;
  const seen = (): string => {
    const v = pdView(c);
    const replicas = [...c.stores.values()].map((st) => `${st.nodeId}: ${[...st.regions.values()].map((r) => `${r.id}@${r.meta.epoch.version}.${r.meta.epoch.confVer}${r.node.isLeader ? '*' : ''}`).join(' ')}`);
    return JSON.stringify({ stores: v.stores.map((s) => [s.id, s.state, s.regionCount, s.leaderCount, s.drained]), regions: v.regions.map((r) => [r.region.id, r.region.leader, r.region.voters.map((p) => p.id).join(''), r.region.learners.map((p) => p.id).join('')]), operators: v.operators, replicas });
  };
  try {
    await until('PD sees 7 regions with leaders', () => pdView(c).regions.filter((r) => r.region.leader).length === 7, 20_000);
    w = writers(kv, 6);
    await c.join('s4');
    await until('s4 hosts replicas and leads regions', () => {
      const s4 = pdView(c).stores.find((s) => s.id === 's4');
      return !!s4 && s4.regionCount >= 4 && s4.leaderCount >= 1;
    }, 60_000, seen);
    // No region lost a replica on the way: every region has 3 voters.
    await until('every region back to 3 voters, no learner left', () => pdView(c).regions.every((r) => r.region.voters.length === 3 && r.region.learners.length === 0 && pdView(c).operators.length === 0), 30_000, seen);

    // PD's leader answers a Regions request with PD's whole route table too.
    const raw = new RawCaller(c.addresses);
    try {
      const pdLeader = [...c.stores.values()].find((st) => st.pdServer?.node.isLeader)!;
      const reply = await raw.regions(pdLeader.nodeId);
      assert.equal(reply.regions.length, pdLeader.regions.size, 'regions: only the ones it hosts');
      assert.deepEqual(reply.pdRoutes?.map((r) => r.id).sort(), ['1', '2', '3', '4', '5', '6', '7']);
      assert.ok(reply.pdRoutes!.every((r) => r.voters.length === 3 && r.voters.every((v) => /^127\.0\.0\.1:\d+$/.test(v.address))));
    } finally {
      await raw.close();
    }

    // Decommission s2: its replicas move away, then PD reports it drained.
    const leaderStore = [...c.stores.values()].find((s) => s.pdServer?.node.isLeader)!;
    await leaderStore.pdServer!.leader.admin({ action: 'decommission', store: 's2' });
    await until('s2 drained', () => pdView(c).stores.find((s) => s.id === 's2')?.drained === true, 60_000, seen);
    assert.ok(pdView(c).regions.every((r) => !r.region.voters.some((v) => v.id === 's2') && r.region.voters.length === 3));
    await until('s2 destroyed its replicas', () => c.stores.get('s2')!.regions.size === 0, 20_000, seen);

    await w.stop();
    assert.deepEqual(w.errors, []);
    assert.ok(w.acked.size > 200, `enough writes (${w.acked.size})`);
    await checkAll(kv, w.acked);
  } finally {
    await w?.stop();
    await kv.close();
    await c.close();
  }
});

test('a store down longer than storeDownAfterMs has its replicas rebuilt on another store; writes go on', { timeout: 120_000 }, async () => {
  const c = await localCluster(3, { engine: 'memory', splitKeys: ['h', 'p'], pd: { ...PD, scheduler: { splitMaxKeys: 0, storeDownAfterMs: 2000 } } });
  const kv = createClient({ endpoints: [...c.addresses.values()], timeoutMs: 20_000 });
  let w: ReturnType<typeof writers> | undefined;
  try {
    await until('PD sees 3 regions with leaders', () => pdView(c).regions.filter((r) => r.region.leader).length === 3, 20_000);
    await c.join('s4');
    // Hold the balancers so the only moves are the replacements.
    const pdStore = (): NonNullable<ReturnType<typeof c.stores.get>> => [...c.stores.values()].find((s) => s.pdServer?.node.isLeader)!;
    await pdStore().pdServer!.leader.admin({ action: 'scheduler', name: 'replicaBalance', enabled: false });
    await pdStore().pdServer!.leader.admin({ action: 'scheduler', name: 'leaderBalance', enabled: false });
    w = writers(kv, 4);
    // s3 goes away (not a PD leader, so PD keeps its quorum and its view).
    const victim = ['s3', 's2'].find((id) => !c.stores.get(id)!.pdServer?.node.isLeader)!;
    await c.stopOne(victim);
    await until(
      `every region has 3 voters, none on ${victim}, and s4 among them`,
      () => {
        const v = pdView(c);
        return v.stores.find((s) => s.id === victim)?.down === true && v.operators.length === 0 && v.regions.length === 3 && v.regions.every((r) => r.region.voters.length === 3 && !r.region.voters.some((p) => p.id === victim) && r.region.voters.some((p) => p.id === 's4'));
      },
      60_000,
    );
    await w.stop();
    assert.deepEqual(w.errors, []);
    assert.ok(w.acked.size > 100, `writes went on (${w.acked.size})`);
    await checkAll(kv, w.acked);
  } finally {
    await w?.stop();
    await kv.close();
    await c.close();
  }
});

test('a store restarted without one of its regions (its directory lost) gets it back through PD: the lost peer is replaced by a new one, filled by a snapshot', { timeout: 60_000 }, async () => {
  const c = await localCluster(3, { engine: 'memory', splitKeys: ['h', 'p'], pd: { ...PD, scheduler: { splitMaxKeys: 0 } } });
  const kv = createClient({ endpoints: [...c.addresses.values()], timeoutMs: 20_000 });
  let w: ReturnType<typeof writers> | undefined;
  try {
    for (let i = 0; i < 60; i++) await kv.put(`k${String(i).padStart(3, '0')}`, `v${i}`);
    await until('PD sees 3 regions with leaders', () => pdView(c).regions.filter((r) => r.region.leader).length === 3, 20_000);
    const victim = ['s3', 's2'].find((id) => !c.stores.get(id)!.pdServer?.node.isLeader)!;
    const confVerBefore = pdView(c).regions.find((r) => r.region.id === '2')!.region.epoch.confVer;
    await c.stopOne(victim);
    rmSync(RegionPeer.dirOf(join(c.root, victim), '2'), { recursive: true, force: true });
    const restarted = await c.start(victim);
    assert.equal(restarted.regions.has('2'), false, 'the store came back without region 2');
    // Writers keep going meanwhile (region 2 holds the k... keys: 'h' <= 'k' < 'p').
    w = writers(kv, 3);
    await until(
      `${victim} is a voter of region 2 again, through a removal and a re-add (confVer +3)`,
      () => {
        const r = pdView(c).regions.find((x) => x.region.id === '2')!;
        return r.region.voters.some((v) => v.id === victim) && r.region.voters.length === 3 && r.region.learners.length === 0 && r.region.epoch.confVer >= confVerBefore + 3 && pdView(c).operators.length === 0;
      },
      30_000,
      () => JSON.stringify(pdView(c).regions.map((r) => [r.region.id, r.region.voters.map((v) => v.id), r.region.learners.map((v) => v.id), r.region.epoch])) + JSON.stringify(pdView(c).operators),
    );
    await w.stop();
    assert.deepEqual(w.errors, []);
    const leader = await c.leaderOf('2');
    const keys = leader.regions.get('2')!.kv.keyCount();
    await until(`${victim}'s new replica holds all ${keys} keys`, () => restarted.regions.get('2')?.kv.keyCount() === keys, 20_000);
    assert.ok(restarted.recentEvents.some((e) => e.type === 'snapshot-installed' && e.regionId === '2'), 'filled by a snapshot from the leader');
    await checkAll(kv, w.acked);
  } finally {
    await w?.stop();
    await kv.close();
    await c.close();
  }
});
