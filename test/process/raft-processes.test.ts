// Real processes on 127.0.0.1: TCP between them, fsync to real files, kill -9.
import assert from 'node:assert/strict';
import { openSync, readFileSync, readdirSync, writeFileSync, closeSync, writeSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RaftClient } from '../../src/client/raft-client.js';
import { ProcCluster, json, parse } from './proc-cluster.js';

interface Stats {
  entries: number;
  keys: number;
  digest: number;
  appliedIndex: number;
}

async function stats(c: RaftClient, server: string): Promise<Stats> {
  return parse<Stats>((await c.query(json({ op: 'stats' }), { consistency: 'local', server })).result);
}

/** Waits until every running node reports the same digest and entry count. */
async function converged(cluster: ProcCluster, c: RaftClient, timeoutMs = 15_000): Promise<Stats> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const all: Stats[] = [];
    for (const n of cluster.nodes.values()) if (n.proc) all.push(await stats(c, n.id).catch(() => ({ entries: -1, keys: -1, digest: -1, appliedIndex: -1 })));
    last = JSON.stringify(all);
    if (all.length > 0 && all.every((s) => s.entries >= 0 && s.digest === all[0]!.digest && s.entries === all[0]!.entries)) return all[0]!;
    if (Date.now() > deadline) throw new Error(`replicas did not converge: ${last}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Closed-loop writers of unique counter keys; records which writes were acknowledged. */
function writers(c: RaftClient, n: number, prefix: string) {
  const acked = new Set<string>();
  const unknown = new Set<string>();
  let stop = false;
  let seq = 0;
  const loops = Array.from({ length: n }, async () => {
    while (!stop) {
      const key = `${prefix}-${seq++}`;
      try {
        await c.apply(json({ op: 'add', key, delta: 1 }));
        acked.add(key);
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code === 'UNKNOWN_OUTCOME' || code === 'DEADLINE_EXCEEDED') unknown.add(key);
        else throw err;
      }
    }
  });
  return {
    acked,
    unknown,
    async stop(): Promise<void> {
      stop = true;
      await Promise.all(loops);
    },
  };
}

async function checkExactlyOnce(c: RaftClient, acked: Set<string>, unknown: Set<string>): Promise<void> {
  for (const key of acked) {
    const v = parse<number | null>((await c.query(json({ op: 'get', key }))).result);
    assert.equal(v, 1, `acknowledged write ${key} must be applied exactly once (got ${v})`);
  }
  for (const key of unknown) {
    const v = parse<number | null>((await c.query(json({ op: 'get', key }))).result);
    assert.ok(v === null || v === 1, `write ${key} of unknown outcome applied at most once (got ${v})`);
  }
}

test('three node processes elect a leader and replicate', { timeout: 60_000 }, async () => {
  const cluster = await ProcCluster.create(['n1', 'n2', 'n3']);
  const c = cluster.client();
  try {
    await cluster.startAll();
    await cluster.leader(c);
    for (let i = 0; i < 30; i++) await c.apply(json({ op: 'set', key: `k${i % 5}`, value: `v${i}` }));
    const s = await converged(cluster, c);
    assert.equal(s.entries, 30);
    assert.equal(parse((await c.query(json({ op: 'get', key: 'k4' }))).result), 'v29');
    // A follower serves a linearizable read through the leader's read index.
    const leader = await cluster.leader(c);
    const follower = [...cluster.nodes.keys()].find((id) => id !== leader)!;
    assert.equal(parse((await c.query(json({ op: 'get', key: 'k0' }), { server: follower })).result), 'v25');
  } finally {
    await c.close();
    await cluster.stop();
  }
});

test('kill -9 of the leader under load: a new leader takes over; no acknowledged write lost or doubled', { timeout: 90_000 }, async () => {
  const cluster = await ProcCluster.create(['n1', 'n2', 'n3']);
  const c = cluster.client({ timeoutMs: 15_000 });
  try {
    await cluster.startAll();
    const first = await cluster.leader(c);
    const w = writers(c, 8, 'w');
    await new Promise((r) => setTimeout(r, 800));
    const ackedBeforeKill = w.acked.size;
    await cluster.kill(first);
    await new Promise((r) => setTimeout(r, 1500));
    const second = await cluster.leader(c);
    assert.notEqual(second, first);
    await new Promise((r) => setTimeout(r, 500));
    await w.stop();
    assert.ok(ackedBeforeKill > 20, `writes flowed before the kill (${ackedBeforeKill})`);
    assert.ok(w.acked.size > ackedBeforeKill, 'writes flowed after the failover');
    await cluster.start(first);
    const s = await converged(cluster, c);
    assert.ok(s.entries >= w.acked.size);
    await checkExactlyOnce(c, w.acked, w.unknown);
    // And after restarting every node, everything acknowledged is still there.
    for (const id of cluster.nodes.keys()) await cluster.kill(id);
    await cluster.startAll();
    await cluster.leader(c);
    await converged(cluster, c);
    await checkExactlyOnce(c, w.acked, w.unknown);
  } finally {
    await c.close();
    await cluster.stop();
  }
});

test('kill all three at once and restart: every acknowledged write survives', { timeout: 90_000 }, async () => {
  const cluster = await ProcCluster.create(['n1', 'n2', 'n3']);
  const c = cluster.client({ timeoutMs: 15_000 });
  try {
    await cluster.startAll();
    await cluster.leader(c);
    const w = writers(c, 8, 'x');
    await new Promise((r) => setTimeout(r, 1000));
    await Promise.all([...cluster.nodes.keys()].map((id) => cluster.kill(id)));
    await w.stop();
    assert.ok(w.acked.size > 20);
    await cluster.startAll();
    await cluster.leader(c);
    await converged(cluster, c);
    await checkExactlyOnce(c, w.acked, w.unknown);
  } finally {
    await c.close();
    await cluster.stop();
  }
});

test('a follower stopped while the log is compacted catches up through a snapshot', { timeout: 90_000 }, async () => {
  const cluster = await ProcCluster.create(['n1', 'n2', 'n3'], ['--snapshot-every', '50', '--snapshot-margin', '5']);
  const c = cluster.client();
  try {
    await cluster.startAll();
    const leader = await cluster.leader(c);
    const lagger = [...cluster.nodes.keys()].find((id) => id !== leader)!;
    await cluster.kill(lagger);
    for (let i = 0; i < 300; i++) await c.apply(json({ op: 'set', key: `s${i}`, value: 'x'.repeat(50) }));
    const ls = await c.status(leader);
    assert.ok((ls['snapshotIndex'] as number) > 200, `leader compacted its log (snapshot at ${String(ls['snapshotIndex'])})`);
    await cluster.start(lagger);
    const s = await converged(cluster, c);
    assert.equal(s.entries, 300);
    const st = await c.status(lagger);
    assert.ok((st['snapshotIndex'] as number) > 0, 'the lagging follower installed a snapshot');
  } finally {
    await c.close();
    await cluster.stop();
  }
});

test('start-up refuses a log with a corrupted record, and repairs a torn tail', { timeout: 60_000 }, async () => {
  const cluster = await ProcCluster.create(['n1', 'n2', 'n3']);
  const c = cluster.client();
  try {
    await cluster.startAll();
    await cluster.leader(c);
    for (let i = 0; i < 20; i++) await c.apply(json({ op: 'set', key: `c${i}`, value: 'v' }));
    await converged(cluster, c);
    await cluster.kill('n3');
    const logDir = join(cluster.nodes.get('n3')!.dataDir, 'log');
    const segments = readdirSync(logDir).filter((f) => f.endsWith('.seg')).sort();
    const seg = join(logDir, segments[0]!);
    const lastSeg = join(logDir, segments.at(-1)!);
    const original = readFileSync(seg);
    // Torn tail: half a record at the end of the last segment is cut off and the node starts.
    const fd = openSync(lastSeg, 'r+');
    writeSync(fd, Buffer.from([200, 0, 0, 0, 7, 7]), 0, 6, statSync(lastSeg).size);
    closeSync(fd);
    await cluster.start('n3');
    assert.match(cluster.nodes.get('n3')!.stderr, /repaired: .*torn record at byte offset \d+/);
    await converged(cluster, c);
    await cluster.kill('n3');
    // A flipped byte inside an early record: refuse to start, naming file and offset.
    assert.ok(segments.length > 1 || original.length > 200, 'the corrupted record is not the tail');
    const bad = Buffer.from(original);
    bad[40] = bad[40]! ^ 0xff;
    writeFileSync(seg, bad);
    const r = await cluster.startExpectingFailure('n3');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /CORRUPT_LOG|corrupt record at byte offset \d+/);
    assert.ok(r.stderr.includes(seg), `the error names the file: ${r.stderr}`);
  } finally {
    await c.close();
    await cluster.stop();
  }
});
