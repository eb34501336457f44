// Lease locks: lock/unlock (re-entrant, fenced), and the distributed lock object with its
// lease-renewing watchdog.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KvOp } from '../../src/kv/commands.js';
import { FakeCluster, waitFor } from './fake-store.js';

const keepLeaseCalls = (f: FakeCluster): number => f.commands(KvOp.KeyLock).filter((r) => (r.cmd as { keepLease: boolean }).keepLease).length;

test('lock and unlock: re-entry, contention, fencing tokens', async () => {
  const f = await FakeCluster.start({ splitKeys: ['m'] });
  try {
    const c = await f.client();
    const a = await c.lock('L', { leaseMs: 5000 });
    assert.deepEqual([a.success, a.owner, a.count], [true, c.clientId, 1]);
    const again = await c.lock('L', { leaseMs: 5000 });
    assert.deepEqual([again.success, again.count, again.fencingToken], [true, 2, a.fencingToken]);
    const other = await c.lock('L', { leaseMs: 5000, acquirerId: 'someone-else' });
    assert.deepEqual([other.success, other.owner], [false, c.clientId]);
    assert.ok(other.remainingMs > 0);
    // The acquirer travels in the command; the leader stamps the time.
    const sent = f.commands(KvOp.KeyLock).at(-1)!.cmd as { acquirer: { id: string; leaseMs: number; stampMs: number } };
    assert.deepEqual(sent.acquirer, { id: 'someone-else', leaseMs: 5000, stampMs: 0 });

    assert.equal((await c.unlock('L', 'someone-else')).success, false);
    assert.deepEqual([(await c.unlock('L')).count, (await c.unlock('L')).count], [1, 0]);
    const b = await c.lock('L', { leaseMs: 5000, acquirerId: 'someone-else' });
    assert.equal(b.success, true);
    assert.ok(b.fencingToken > a.fencingToken);
  } finally {
    await f.close();
  }
});

test('distributedLock: tryLock excludes other lock objects; the watchdog renews until unlock()', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    const l1 = c.distributedLock('job', { leaseMs: 240, watchdog: true });
    const l2 = c.distributedLock('job', { leaseMs: 240 });
    assert.equal(l1.fencingToken, undefined);
    assert.equal(await l1.tryLock(), true);
    assert.equal(typeof l1.fencingToken, 'number');
    assert.equal(await l2.tryLock(), false);

    // Renewals every leaseMs/3 keep it held well past one lease.
    await waitFor(() => keepLeaseCalls(f) >= 4, 2000, 'four renewals');
    assert.ok(l1.renewals >= 3);
    assert.equal(await l2.tryLock(), false, 'still held after more than a lease');
    assert.equal(l1.isHeld, true);

    const r = await l1.unlock();
    assert.deepEqual([r.success, r.count], [true, 0]);
    assert.equal(l1.watchdogRunning, false);
    const renewalsAtUnlock = keepLeaseCalls(f);
    await new Promise((res) => setTimeout(res, 120));
    assert.equal(keepLeaseCalls(f), renewalsAtUnlock, 'no renewal after unlock()');
    assert.equal(await l2.tryLock(), true);
    assert.ok(l2.fencingToken! > l1.fencingToken!);
  } finally {
    await f.close();
  }
});

test('the watchdog stops when a renewal fails, and close() stops it too', async () => {
  const f = await FakeCluster.start();
  try {
    const c = await f.client();
    const l = c.distributedLock('w', { leaseMs: 240, watchdog: true });
    assert.equal(await l.tryLock(), true);
    await waitFor(() => l.renewals >= 1, 2000, 'a renewal');
    f.badKey = (k) => k.toString() === 'w'; // the next renewal is refused
    await waitFor(() => !l.watchdogRunning, 2000, 'the watchdog to stop');
    assert.equal(l.isHeld, false);
    assert.equal((l.lastRenewError as { code: string }).code, 'INVALID_PARAMETER');
    const calls = keepLeaseCalls(f);
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(keepLeaseCalls(f), calls);

    f.badKey = () => false;
    const m = c.distributedLock('w2', { leaseMs: 60, watchdog: true });
    assert.equal(await m.tryLock(), true);
    await c.close();
    assert.equal(m.watchdogRunning, false);
  } finally {
    await f.close();
  }
});
