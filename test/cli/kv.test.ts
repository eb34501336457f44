// `raftkv kv ...` against 3 store processes with regions [-inf,g) [g,p) [p,+inf): every
// operation in text and --json, and the exit codes scripts rely on (1 for "no" answers).

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProcCluster } from '../../src/verify/proc-cluster.js';
import { type CliResult, killAll, oneErrorLine, raftkv, startCluster, stopCluster } from './helpers.js';

describe('raftkv kv against 3 stores', () => {
  let cluster: ProcCluster | undefined;
  let endpoints = '';
  const kv = (...args: string[]): Promise<CliResult> => raftkv(['kv', ...args, '--endpoints', endpoints]);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await kv(...args);
    assert.equal(r.code, 0, `kv ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
    assert.equal(r.stderr, '', `kv ${args.join(' ')}`);
    return r.stdout;
  };

  before(async () => {
    ({ cluster, endpoints } = await startCluster());
  });
  after(async () => {
    killAll();
    await stopCluster(cluster);
  });

  it('put, get (text and json), delete; a missing key exits 1', async () => {
    assert.equal(await ok('put', 'apple', 'red'), 'OK\n');
    assert.equal(await ok('get', 'apple'), 'red\n');
    assert.deepEqual(JSON.parse(await ok('get', 'apple', '--json')), { key: 'apple', found: true, value: 'red' });
    assert.equal(await ok('get', 'apple', '--consistency', 'stale', '--follower'), 'red\n');
    assert.deepEqual(JSON.parse(await ok('put', 'kiwi', 'green', '--json')), { ok: true, key: 'kiwi' });

    const missing = await kv('get', 'nothing');
    assert.equal(missing.code, 1);
    assert.equal(missing.stdout, '', 'nothing on stdout, so $(raftkv kv get k) is empty');
    assert.match(oneErrorLine(missing.stderr), /key 'nothing' not found/);
    const missingJson = await kv('get', 'nothing', '--json');
    assert.equal(missingJson.code, 1);
    assert.deepEqual(JSON.parse(missingJson.stdout), { key: 'nothing', found: false, value: null });

    assert.equal(await ok('delete', 'kiwi'), 'OK\n');
    assert.equal((await kv('get', 'kiwi')).code, 1);
  });

  it('scan across regions: range, limit, keys-only, reverse, prefix, json', async () => {
    for (const [k, v] of [['a1', 'x'], ['h1', 'y'], ['h2', 'y2'], ['q1', 'z']]) await ok('put', k!, v!);
    assert.equal(await ok('scan', 'a1', 'r'), 'a1\tx\napple\tred\nh1\ty\nh2\ty2\nq1\tz\n');
    assert.equal(await ok('scan', 'b', '--limit', '2', '--keys-only'), 'h1\nh2\n');
    assert.equal(await ok('scan', '--reverse', '--limit', '2', '--keys-only'), 'q1\nh2\n');
    assert.equal(await ok('scan', 'h', '--prefix'), 'h1\ty\nh2\ty2\n');
    const doc = JSON.parse(await ok('scan', 'g', 'z', '--json')) as { count: number; pairs: Array<{ key: string; value: string }> };
    assert.equal(doc.count, 3);
    assert.deepEqual(doc.pairs[0], { key: 'h1', value: 'y' });
    assert.equal(await ok('scan', 'x', 'y'), '', 'an empty range prints nothing and exits 0');
  });

  it('cas: swapped exits 0, not swapped exits 1; --absent', async () => {
    await ok('put', 'mode', 'on');
    assert.equal(await ok('cas', 'mode', 'on', 'off'), 'OK\n');
    const failed = await kv('cas', 'mode', 'on', 'again');
    assert.equal(failed.code, 1);
    assert.match(oneErrorLine(failed.stderr), /condition failed/);
    const failedJson = await kv('cas', 'mode', 'on', 'again', '--json');
    assert.equal(failedJson.code, 1);
    assert.equal((JSON.parse(failedJson.stdout) as { swapped: boolean }).swapped, false);
    assert.equal(await ok('get', 'mode'), 'off\n');

    assert.equal(JSON.parse(await ok('cas', 'fresh', '--absent', 'v1', '--json')).swapped, true);
    assert.equal((await kv('cas', 'fresh', '--absent', 'v2')).code, 1, 'exists now');
    assert.equal(await ok('get', 'fresh'), 'v1\n');
  });

  it('lock and unlock: held by another exits 1; fencing tokens rise', async () => {
    const first = JSON.parse(await ok('lock', 'jobs/nightly', '--owner', 'w1', '--lease-ms', '30000', '--json')) as { acquired: boolean; fencingToken: number; owner: string };
    assert.equal(first.acquired, true);
    assert.equal(first.owner, 'w1');
    const busy = await kv('lock', 'jobs/nightly', '--owner', 'w2');
    assert.equal(busy.code, 1);
    assert.match(oneErrorLine(busy.stderr), /held by 'w1'/);
    const busyJson = await kv('lock', 'jobs/nightly', '--owner', 'w2', '--json');
    assert.equal(busyJson.code, 1);
    assert.equal((JSON.parse(busyJson.stdout) as { acquired: boolean }).acquired, false);
    assert.equal((await kv('unlock', 'jobs/nightly', '--owner', 'w2')).code, 1, 'w2 does not hold it');
    assert.match(await ok('unlock', 'jobs/nightly', '--owner', 'w1'), /unlocked 'jobs\/nightly'/);
    const second = await ok('lock', 'jobs/nightly', '--owner', 'w2');
    const token = Number(/fencing-token=(\d+)/.exec(second)?.[1]);
    assert.ok(token > first.fencingToken, second);
    assert.equal((await kv('unlock', 'jobs/nightly')).code, 2, '--owner is required');
  });

  it('seq: values nobody else gets, ranges with --step, --step 0 peeks', async () => {
    assert.equal(await ok('seq', 'order-id'), '0\n');
    assert.equal(await ok('seq', 'order-id'), '1\n');
    assert.equal(await ok('seq', 'order-id', '--step', '10'), '2..11\n');
    assert.deepEqual(JSON.parse(await ok('seq', 'order-id', '--step', '0', '--json')), { key: 'order-id', step: 0, start: 12, end: 12 });
  });

  it('a key the store refuses exits 4 with one line', async () => {
    const r = await kv('put', 'k'.repeat(5000), 'v');
    assert.equal(r.code, 4, r.stderr);
    assert.match(oneErrorLine(r.stderr), /INVALID_PARAMETER/);
  });
});
