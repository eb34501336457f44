// Issue 4: the client write path through real processes: every step and rejection, a reply
// lost after commit, the leader killed mid-request, and permits under a flood.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RaftClient, RaftClientError } from '../../src/client/raft-client.js';
import { ProcCluster, json, parse } from './proc-cluster.js';

const isCode = (code: string) => (e: unknown) => e instanceof RaftClientError && e.code === code;

test('write path rejections: startTransaction, entry size, expected term; nothing is logged', { timeout: 60_000 }, async () => {
  const cluster = await ProcCluster.create(['p1', 'p2', 'p3'], ['--max-entry-bytes', '1000']);
  const c = cluster.client();
  try {
    await cluster.startAll();
    const leader = await cluster.leader(c);
    const r = await c.apply(json({ op: 'add', key: 'n', delta: 5 }));
    assert.equal(parse(r.result), 5);
    const before = (await c.status(leader))['lastIndex'] as number;
    await assert.rejects(c.apply(json({ op: 'explode', key: 'n' })), (e: unknown) => isCode('STATE_MACHINE_ERROR')(e) && /unknown command op/.test((e as Error).message));
    await assert.rejects(c.apply(new Uint8Array(2000).fill(0x61)), (e: unknown) => isCode('ENTRY_TOO_LARGE')(e) && /\d+ bytes exceeds the limit of 1000 bytes/.test((e as Error).message));
    await assert.rejects(c.apply(json({ op: 'add', key: 'n', delta: 1 }), { expectedTerm: r.term + 100 }), isCode('TERM_MISMATCH'));
    assert.equal((await c.status(leader))['lastIndex'], before, 'no rejected request reached the log');
    // The expected term that matches is accepted.
    assert.equal(parse((await c.apply(json({ op: 'add', key: 'n', delta: 1 }), { expectedTerm: r.term })).result), 6);
  } finally {
    await c.close();
    await cluster.stop();
  }
});

test('a reply lost after commit: the retry gets the original reply and the write applies once', { timeout: 60_000 }, async () => {
  const cluster = await ProcCluster.create(['q1', 'q2', 'q3']);
  const probe = cluster.client();
  // Each node drops its first reply to call id 2 (the second write of the client below).
  process.env['RAFTKV_FAULT_DROP_REPLIES'] = '2';
  try {
    await cluster.startAll();
  } finally {
    delete process.env['RAFTKV_FAULT_DROP_REPLIES'];
  }
  const c = new RaftClient({ servers: [...cluster.nodes.values()].map((n) => ({ id: n.id, address: `127.0.0.1:${n.port}` })), attemptTimeoutMs: 400, timeoutMs: 15_000 });
  try {
    await cluster.leader(probe);
    assert.equal(parse((await c.apply(json({ op: 'add', key: 'once', delta: 1 }))).result), 1);
    const second = await c.apply(json({ op: 'add', key: 'once', delta: 10 })); // reply dropped, retried
    assert.equal(parse(second.result), 11, 'the original reply, not a second application');
    assert.equal(parse((await c.query(json({ op: 'get', key: 'once' }))).result), 11);
    const leader = await cluster.leader(probe);
    assert.ok(((await probe.status(leader))['retryCacheSize'] as number) >= 1);
  } finally {
    await c.close();
    await probe.close();
    await cluster.stop();
  }
});

test('leader killed mid-request: clients retry on the new leader; a shared counter counts each acknowledged add once', { timeout: 90_000 }, async () => {
  const cluster = await ProcCluster.create(['k1', 'k2', 'k3']);
  const c = cluster.client({ timeoutMs: 20_000 });
  try {
    await cluster.startAll();
    const first = await cluster.leader(c);
    let acked = 0;
    let unknown = 0;
    let stop = false;
    const loops = Array.from({ length: 8 }, async () => {
      while (!stop) {
        try {
          await c.apply(json({ op: 'add', key: 'counter', delta: 1 }));
          acked++;
        } catch (e) {
          if (isCode('UNKNOWN_OUTCOME')(e)) unknown++;
          else throw e;
        }
      }
    });
    await new Promise((r) => setTimeout(r, 700));
    await cluster.kill(first);
    await new Promise((r) => setTimeout(r, 2000));
    stop = true;
    await Promise.all(loops);
    const value = parse<number>((await c.query(json({ op: 'get', key: 'counter' }))).result);
    // Non-idempotent adds: a double application would push the counter past acked + unknown.
    assert.ok(value >= acked, `no acknowledged add lost (counter ${value}, acked ${acked})`);
    assert.ok(value <= acked + unknown, `no add applied twice (counter ${value}, acked ${acked}, unknown ${unknown})`);
    assert.ok(acked > 50, `writes went through before and after the failover (${acked})`);
  } finally {
    await c.close();
    await cluster.stop();
  }
});

test('permits exhausted under a flood: typed RESOURCE_UNAVAILABLE, the server stays healthy, accepted writes apply', { timeout: 60_000 }, async () => {
  const cluster = await ProcCluster.create(['f1', 'f2', 'f3'], ['--max-pending-requests', '8']);
  const c = cluster.client();
  try {
    await cluster.startAll();
    const leader = await cluster.leader(c);
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => c.apply(json({ op: 'add', key: `flood-${i}`, delta: 1 }))));
    const ok = outcomes.map((o, i) => (o.status === 'fulfilled' ? i : -1)).filter((i) => i >= 0);
    const refused = outcomes.map((o, i) => (o.status === 'rejected' && isCode('RESOURCE_UNAVAILABLE')(o.reason) ? i : -1)).filter((i) => i >= 0);
    assert.equal(ok.length + refused.length, 200, 'every call either succeeded or got the typed error');
    assert.ok(refused.length > 0, 'the flood ran into the permit limit');
    assert.ok(ok.length >= 8, `accepted writes (${ok.length})`);
    for (const i of ok) assert.equal(parse((await c.query(json({ op: 'get', key: `flood-${i}` }))).result), 1);
    for (const i of refused.slice(0, 20)) assert.equal(parse((await c.query(json({ op: 'get', key: `flood-${i}` }))).result), null, 'refused writes were not logged');
    // Healthy afterwards: permits were all returned, and new writes go through.
    const st = await c.status(leader);
    assert.deepEqual(st['permitsInUse'], { count: 0, bytes: 0 });
    await c.apply(json({ op: 'add', key: 'after', delta: 1 }));
  } finally {
    await c.close();
    await cluster.stop();
  }
});
