// `raftkv admin ...` and `raftkv bench` against 3 store processes with regions
// [-inf,g) [g,p) [p,+inf): the tables show the leaders, a split shows one more region,
// leadership moves where asked, snapshots are taken, and bench --json prints numbers.

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProcCluster } from '../../src/verify/proc-cluster.js';
import { type CliResult, eventually, killAll, oneErrorLine, raftkv, startCluster, stopCluster } from './helpers.js';

interface Region {
  id: string;
  startKey: string;
  endKey: string;
  leader: string;
  epoch: { version: number };
  replicas: Array<{ store: string; role: string; lag: number | null }>;
}

describe('raftkv admin and bench against 3 stores', () => {
  let cluster: ProcCluster | undefined;
  let endpoints = '';
  const run = (...args: string[]): Promise<CliResult> => raftkv([...args, '--endpoints', endpoints]);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await run(...args);
    assert.equal(r.code, 0, `${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const regions = async (): Promise<Region[]> => JSON.parse(await ok('admin', 'regions', '--json')) as Region[];

  before(async () => {
    ({ cluster, endpoints } = await startCluster());
    // Every region has elected a leader before the tables are read.
    await eventually(async () => (await regions()).every((r) => r.leader !== ''), 15_000, 'a leader in every region');
  });
  after(async () => {
    killAll();
    await stopCluster(cluster);
  });

  it('admin regions and status: a table with every region, its leader and replicas', async () => {
    const rs = await regions();
    assert.deepEqual(
      rs.map((r) => [r.id, r.startKey, r.endKey]),
      [
        ['1', '', 'g'],
        ['2', 'g', 'p'],
        ['3', 'p', ''],
      ],
    );
    for (const r of rs) {
      assert.equal(r.replicas.length, 3);
      assert.equal(r.replicas.filter((p) => p.role === 'leader').length, 1, JSON.stringify(r));
    }
    for (const cmd of ['regions', 'status']) {
      const text = await ok('admin', cmd);
      assert.match(text, /REGION\s+RANGE\s+VERSION\s+CONF\s+LEADER\s+STORE\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG/);
      // Leaders may move between two calls; the table names one in every region row.
      for (const [id, range] of [['1', '\\[-inf, g\\)'], ['2', '\\[g, p\\)'], ['3', '\\[p, \\+inf\\)']]) {
        assert.match(text, new RegExp(`^${id}\\s+${range}\\s+1\\s+\\d+\\s+s[123]\\s+s1\\s+(leader|follower)`, 'm'), `${cmd}: region ${id}\n${text}`);
      }
      assert.equal((text.match(/\sleader\s+\d+\s+\d+\s+\d+/g) ?? []).length, 3, text);
    }
    const status = await ok('admin', 'status');
    assert.match(status, /^cluster: 3 of 3 stores up, 3 regions, 3 with a leader$/m);
    for (const s of ['s1', 's2', 's3']) assert.match(status, new RegExp(`^${s}\\s+127\\.0\\.0\\.1:\\d+\\s+up\\s+\\d\\s+3\\s`, 'm'));
  });

  it('admin stores: address, regions led and hosted', async () => {
    const stores = JSON.parse(await ok('admin', 'stores', '--json')) as Array<{ id: string; up: boolean; regionsLed: string[]; regionsHosted: string[] }>;
    assert.deepEqual(
      stores.map((s) => s.id),
      ['s1', 's2', 's3'],
    );
    assert.ok(stores.every((s) => s.up && s.regionsHosted.length === 3));
    assert.equal(stores.reduce((n, s) => n + s.regionsLed.length, 0), 3);
  });

  it('admin split: one more region; a bad region exits 4', async () => {
    for (const k of ['a1', 'a2', 'a3', 'b1', 'c1']) await ok('kv', 'put', k, 'v');
    const before = await regions();
    const out = JSON.parse(await ok('admin', 'split', '1', 'b', '--json')) as { left: string; right: string; splitKey: string };
    assert.equal(out.left, '1');
    assert.equal(out.splitKey, 'b');
    await eventually(async () => (await regions()).length === before.length + 1, 10_000, 'the new region listed');
    const after = await regions();
    const right = after.find((r) => r.id === out.right)!;
    assert.deepEqual([right.startKey, right.endKey], ['b', 'g']);
    assert.deepEqual(
      after.filter((r) => r.id === '1').map((r) => [r.startKey, r.endKey, r.epoch.version]),
      [['', 'b', 2]],
    );
    assert.match(await ok('admin', 'regions'), new RegExp(`^${out.right.replace('.', '\\.')}\\s+\\[b, g\\)`, 'm'));
    // The keys are still there, across the new boundary.
    assert.equal((await ok('kv', 'scan', 'a', 'c', '--keys-only')).trim().split('\n').length, 4);

    const bad = await run('admin', 'split', '99');
    assert.equal(bad.code, 4, bad.stderr);
    assert.match(oneErrorLine(bad.stderr), /NO_REGION_FOUND/);
  });

  it('admin transfer-leader moves the leadership; snapshot on every replica', async () => {
    const r3 = (await regions()).find((r) => r.id === '3')!;
    const target = ['s1', 's2', 's3'].find((s) => s !== r3.leader)!;
    assert.match(await ok('admin', 'transfer-leader', '3', target), new RegExp(`region 3: leader is now ${target}`));
    await eventually(async () => (await regions()).find((r) => r.id === '3')!.leader === target, 10_000, `leader of region 3 is ${target}`);

    const snap = JSON.parse(await ok('admin', 'snapshot', '3', '--json')) as { snapshots: Array<{ store: string; index: number }> };
    assert.deepEqual(snap.snapshots.map((s) => s.store).sort(), ['s1', 's2', 's3']);
    assert.ok(snap.snapshots.every((s) => Number.isSafeInteger(s.index)), JSON.stringify(snap));

    const unknown = await run('admin', 'transfer-leader', '3', 's9');
    assert.equal(unknown.code, 4);
    assert.match(oneErrorLine(unknown.stderr), /no store 's9'/);
  });

  it('bench --json with --seconds 1 prints numbers; text prints the table', async () => {
    const r = await run('bench', '--json', '--seconds', '1', '--warmup', '0', '--concurrency', '4', '--keys', '200', '--workload', 'mix');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar when not a terminal');
    const doc = JSON.parse(r.stdout) as { results: Array<{ workload: string; concurrency: number; ops: number; opsPerSec: number; errors: number; latencyMs: Record<string, number> }> };
    assert.equal(doc.results.length, 1);
    const res = doc.results[0]!;
    assert.deepEqual([res.workload, res.concurrency, res.errors], ['mix', 4, 0]);
    assert.ok(res.ops > 0 && res.opsPerSec > 0, JSON.stringify(res));
    for (const p of ['mean', 'p50', 'p90', 'p99', 'p999', 'max']) assert.ok(typeof res.latencyMs[p] === 'number' && res.latencyMs[p]! > 0, `${p}: ${JSON.stringify(res.latencyMs)}`);
    assert.ok(res.latencyMs['p50']! <= res.latencyMs['p99']! && res.latencyMs['p99']! <= res.latencyMs['max']!);

    const text = await ok('bench', '--seconds', '1', '--warmup', '0', '--concurrency', '1,8', '--workload', 'put', '--keys', '100');
    const lines = text.trim().split('\n');
    assert.match(lines[0]!, /^workload\s+callers\s+ops\/s\s+mean ms\s+p50 ms\s+p90 ms\s+p99 ms\s+p99\.9 ms\s+max ms\s+errors$/);
    assert.match(lines[1]!, /^put\s+1\s+\d+\s+[\d.]+/);
    assert.match(lines[2]!, /^put\s+8\s+\d+\s+[\d.]+/);
  });
});
