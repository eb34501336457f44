// The KV store under load and faults, on 3 store processes (lmdb, fsync on): splits during a
// write/read load, kill -9 of region leaders during load, lock leases that expire, and
// sequences across leader changes. Callers must see no errors, only retry delays, and every
// acknowledged write must be there at the end.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type KvClient, createClient } from '../../src/kv/client/index.js';
import { KV_STORE_MAIN, ProcCluster } from '../process/proc-cluster.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Store ids leading each region, from a store's own view. */
async function leaders(kv: KvClient): Promise<Map<string, string>> {
  const rs = await kv.regions();
  return new Map(rs.map((r) => [r.id, r.leader]));
}

/** Closed-loop writers putting unique keys and reading some back; records what was acknowledged. */
function load(kv: KvClient, prefix: string, writers: number) {
  const acked = new Map<string, string>();
  const errors: string[] = [];
  let stop = false;
  let reads = 0;
  const loops = Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      // Keys spread over every region: a..z first letter.
      const key = `${String.fromCharCode(97 + ((i * 7 + w) % 26))}-${prefix}-${w}-${i}`;
      const value = `v${i}`;
      try {
        await kv.put(key, value);
        acked.set(key, value);
        if (i % 4 === 0) {
          const got = await kv.get(key);
          reads++;
          if (got?.toString() !== value) errors.push(`read ${key}: got ${got?.toString()} want ${value}`);
        }
      } catch (e) {
        errors.push(`${key}: ${(e as Error).message}`);
      }
    }
  });
  return {
    acked,
    errors,
    get reads() {
      return reads;
    },
    async stop() {
      stop = true;
      await Promise.all(loops);
    },
  };
}

async function checkAll(kv: KvClient, acked: Map<string, string>): Promise<void> {
  const keys = [...acked.keys()];
  for (let i = 0; i < keys.length; i += 200) {
    const part = keys.slice(i, i + 200);
    const got = await kv.multiGet(part);
    part.forEach((k, j) => assert.equal(got[j]?.toString(), acked.get(k), `acknowledged write of ${k} is there`));
  }
}

describe('KV store under faults (3 store processes)', () => {
  let cluster: ProcCluster;
  let kv: KvClient;
  let admin: KvClient;
  before(async () => {
    cluster = await ProcCluster.create(['s1', 's2', 's3'], ['--engine', 'lmdb', '--split-keys', 'g,p', '--tick-ms', '50', '--election-timeout-ms', '500'], { main: KV_STORE_MAIN });
    await cluster.startAll();
    const endpoints = [...cluster.nodes.values()].map((n) => `127.0.0.1:${n.port}`);
    kv = createClient({ endpoints, timeoutMs: 20_000 });
    admin = createClient({ endpoints, timeoutMs: 20_000 });
  });
  after(async () => {
    await kv?.close();
    await admin?.close();
    await Promise.all([...cluster.nodes.keys()].map((id) => cluster.terminate(id)));
    await cluster.stop();
  });

  it('splits during a write and read load: no error reaches a caller, nothing is lost', async () => {
    const l = load(kv, 'split', 16);
    await sleep(500);
    const splits: string[] = [];
    for (let round = 0; round < 3; round++) {
      const regions = await admin.regions();
      // Split every region that has keys (at its middle).
      for (const r of regions) {
        try {
          const s = await admin.rangeSplit(r.id);
          splits.push(`${s.left}|${s.right}`);
        } catch (e) {
          assert.equal((e as { code?: string }).code, 'TOO_SMALL_TO_SPLIT', (e as Error).message);
        }
      }
      await sleep(300);
    }
    await sleep(300);
    await l.stop();
    assert.deepEqual(l.errors.slice(0, 5), [], `${l.errors.length} errors reached callers`);
    assert.ok(splits.length >= 6, `regions were split under load (${splits.length} splits)`);
    assert.ok(l.acked.size > 50, `writes went on (${l.acked.size} acknowledged, ${l.reads} read back)`);
    await checkAll(kv, l.acked);
    assert.ok((await kv.regions()).length >= 9);
  });

  it('kill -9 of region leaders during load: callers only wait, acknowledged writes survive', async () => {
    const l = load(kv, 'kill', 16);
    await sleep(500);
    for (let round = 0; round < 2; round++) {
      const ls = await leaders(admin);
      // The store leading the most regions.
      const counts = new Map<string, number>();
      for (const id of ls.values()) if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
      const victim = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      await cluster.kill(victim);
      await sleep(1500);
      await cluster.start(victim);
      await sleep(700);
    }
    await l.stop();
    assert.deepEqual(l.errors.slice(0, 5), [], `${l.errors.length} errors reached callers`);
    assert.ok(l.acked.size > 100, `${l.acked.size} writes acknowledged`);
    await checkAll(kv, l.acked);
  });

  it('sequences never hand out a value twice across leader changes', async () => {
    const ranges: Array<[number, number]> = [];
    const errors: string[] = [];
    let stop = false;
    const loops = Array.from({ length: 8 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await kv.getSequence('seq-under-fault', 1 + ((w + i) % 3));
          ranges.push([r.start, r.end]);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
    });
    await sleep(300);
    for (let round = 0; round < 2; round++) {
      const region = (await admin.regions()).find((r) => 'seq-under-fault' >= Buffer.from(r.startKey).toString() && (r.endKey.length === 0 || 'seq-under-fault' < Buffer.from(r.endKey).toString()));
      const victim = region?.leader || 's1';
      await cluster.kill(victim);
      await sleep(1200);
      await cluster.start(victim);
      await sleep(500);
    }
    stop = true;
    await Promise.all(loops);
    assert.deepEqual(errors.slice(0, 5), []);
    ranges.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i]![0] >= ranges[i - 1]![1], `ranges ${ranges[i - 1]} and ${ranges[i]} overlap`);
    assert.ok(ranges.length > 50, `${ranges.length} ranges handed out`);
  });

  it('locks: a contender waits for a crashed holder\'s lease to expire, then gets a higher fencing token', async () => {
    const endpoints = [...cluster.nodes.values()].map((n) => `127.0.0.1:${n.port}`);
    const holder = createClient({ endpoints });
    const a = await holder.lock('job-lock', { acquirerId: 'holder', leaseMs: 1500 });
    assert.equal(a.success, true);
    await holder.close(); // crashes without unlocking
    const t0 = Date.now();
    let b = await kv.lock('job-lock', { acquirerId: 'contender', leaseMs: 5000 });
    assert.equal(b.success, false);
    assert.equal(b.owner, 'holder');
    while (!b.success && Date.now() - t0 < 10_000) {
      await sleep(100);
      b = await kv.lock('job-lock', { acquirerId: 'contender', leaseMs: 5000 });
    }
    assert.equal(b.success, true, 'the lease expired');
    assert.ok(Date.now() - t0 >= 1000, 'not before the lease ran out');
    assert.ok(b.fencingToken > a.fencingToken, `fencing token rose: ${a.fencingToken} -> ${b.fencingToken}`);
    // A watchdog-renewed lock outlives its lease while held.
    const lock = kv.distributedLock('watched-lock', { leaseMs: 600, watchdog: true });
    assert.equal(await lock.tryLock(), true);
    await sleep(1500);
    const other = await admin.lock('watched-lock', { acquirerId: 'other', leaseMs: 600 });
    assert.equal(other.success, false, 'the watchdog kept renewing the lease');
    await lock.unlock();
    const after = await admin.lock('watched-lock', { acquirerId: 'other', leaseMs: 600 });
    assert.equal(after.success, true);
  });
});
