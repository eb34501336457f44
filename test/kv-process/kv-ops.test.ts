// Every KV operation, with its error cases, through the client against 3 store processes with
// three static regions [-inf,g) [g,p) [p,+inf) (lmdb engine, real TCP, fsync on).

import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { type KvClient, KvClientError, createClient } from '../../src/kv/client/index.js';
import { KV_STORE_MAIN, ProcCluster } from '../process/proc-cluster.js';

const CALLBACKS = fileURLToPath(new URL('./fixtures/callbacks.js', import.meta.url));
const str = (b: Buffer | null): string | null => (b === null ? null : b.toString());

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof KvClientError, `expected a KvClientError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

describe('KV operations on 3 store processes, 3 regions', () => {
  let cluster: ProcCluster;
  let kv: KvClient;
  before(async () => {
    cluster = await ProcCluster.create(['s1', 's2', 's3'], ['--engine', 'lmdb', '--split-keys', 'g,p', '--tick-ms', '50', '--election-timeout-ms', '500', '--callbacks', CALLBACKS, '--split-min-keys', '4'], { main: KV_STORE_MAIN });
    await cluster.startAll();
    kv = createClient({ endpoints: [...cluster.nodes.values()].map((n) => `127.0.0.1:${n.port}`), timeoutMs: 15_000 });
  });
  after(async () => {
    await kv?.close();
    await Promise.all([...cluster.nodes.keys()].map((id) => cluster.terminate(id)));
    await cluster.stop();
  });

  it('put, get, putIfAbsent, getAndPut, compareAndPut, merge, delete, containsKey', async () => {
    await kv.put('apple', 'red');
    assert.equal(str(await kv.get('apple')), 'red');
    assert.equal(await kv.get('nothing'), null);
    assert.equal(str(await kv.putIfAbsent('apple', 'green')), 'red');
    assert.equal(await kv.putIfAbsent('kiwi', 'brown'), null);
    assert.equal(str(await kv.getAndPut('kiwi', 'green')), 'brown');
    assert.equal(await kv.compareAndPut('kiwi', 'brown', 'x'), false);
    assert.equal(await kv.compareAndPut('kiwi', 'green', 'gold'), true);
    assert.equal(await kv.compareAndPut('new', null, 'n'), true, 'null expects absence');
    await kv.merge('list', 'a');
    await kv.merge('list', 'b');
    assert.equal(str(await kv.get('list')), 'a,b');
    assert.equal(await kv.containsKey('kiwi'), true);
    await kv.delete('kiwi');
    assert.equal(await kv.containsKey('kiwi'), false);
    const bytes = Uint8Array.of(0, 255, 7);
    await kv.put(Uint8Array.of(0x71, 0), bytes);
    assert.deepEqual([...(await kv.get(Uint8Array.of(0x71, 0)))!], [0, 255, 7]);
  });

  it('multi-key operations across regions: putAll, multiGet, deleteAll, compareAndPutAll', async () => {
    const keys = ['b1', 'h1', 'q1', 'b2', 'z9'];
    await kv.putAll(keys.map((k) => [k, `v-${k}`] as const));
    assert.deepEqual((await kv.multiGet([...keys, 'missing'])).map(str), [...keys.map((k) => `v-${k}`), null]);
    await kv.deleteAll(['b1', 'q1']);
    assert.deepEqual((await kv.multiGet(keys)).map(str), [null, 'v-h1', null, 'v-b2', 'v-z9']);
    assert.equal(await kv.compareAndPutAll([{ key: 'h1', expect: 'v-h1', value: 'H' }, { key: 'h2', expect: null, value: 'H2' }]), true);
    assert.equal(await kv.compareAndPutAll([{ key: 'h1', expect: 'wrong', value: 'X' }, { key: 'h2', expect: 'H2', value: 'X' }]), false);
    assert.deepEqual((await kv.multiGet(['h1', 'h2'])).map(str), ['H', 'H2'], 'all or nothing');
    await rejectsWith(kv.compareAndPutAll([{ key: 'b2', expect: 'v-b2', value: 'x' }, { key: 'z9', expect: 'v-z9', value: 'x' }]), 'CROSS_REGION');
  });

  it('scans, reverse scans, limits, iterator and deleteRange across region boundaries', async () => {
    const keys = ['s-a', 's-f', 's-g', 's-o', 's-p', 's-z'].map((k) => k.slice(2)); // a f g o p z: every region
    await kv.deleteRange('a', 'zz');
    await kv.putAll(keys.map((k) => [k, k.toUpperCase()] as const));
    const all = await kv.scan(null, null);
    assert.deepEqual(all.map((p) => [p.key.toString(), str(p.value)]), keys.map((k) => [k, k.toUpperCase()]));
    assert.deepEqual((await kv.scan('c', 'q')).map((p) => p.key.toString()), ['f', 'g', 'o', 'p']);
    assert.deepEqual((await kv.scan('c', null, { limit: 3 })).map((p) => p.key.toString()), ['f', 'g', 'o']);
    assert.deepEqual((await kv.scan('a', 'zz', { returnValue: false })).map((p) => p.value), keys.map(() => null));
    assert.deepEqual((await kv.reverseScan(null, null)).map((p) => p.key.toString()), [...keys].reverse());
    assert.deepEqual((await kv.reverseScan('b', 'p', { limit: 2 })).map((p) => p.key.toString()), ['o', 'g']);
    const seen: string[] = [];
    for await (const p of kv.iterator(null, null, { pageSize: 2 })) seen.push(p.key.toString());
    assert.deepEqual(seen, keys);
    await kv.deleteRange('b', 'pa'); // f g o p in three regions
    assert.deepEqual((await kv.scan(null, null)).map((p) => p.key.toString()), ['a', 'z']);
  });

  it('sequences: ranges never overlap; latest; reset', async () => {
    const a = await kv.getSequence('seq', 10);
    const b = await kv.getSequence('seq', 5);
    assert.deepEqual([a.start, a.end, b.start, b.end], [0, 10, 10, 15]);
    assert.equal(await kv.getLatestSequence('seq'), 15);
    await kv.resetSequence('seq');
    assert.equal(await kv.getLatestSequence('seq'), 0);
  });

  it('locks: re-entrant, contended, released, fencing tokens rise', async () => {
    const first = await kv.lock('lock-1', { acquirerId: 'A', leaseMs: 10_000 });
    assert.equal(first.success, true);
    const again = await kv.lock('lock-1', { acquirerId: 'A', leaseMs: 10_000 });
    assert.deepEqual([again.success, again.count, again.fencingToken], [true, 2, first.fencingToken]);
    const other = await kv.lock('lock-1', { acquirerId: 'B', leaseMs: 10_000 });
    assert.deepEqual([other.success, other.owner], [false, 'A']);
    assert.equal((await kv.unlock('lock-1', 'A')).count, 1);
    assert.equal((await kv.unlock('lock-1', 'A')).count, 0);
    const b = await kv.lock('lock-1', { acquirerId: 'B', leaseMs: 10_000 });
    assert.equal(b.success, true);
    assert.ok(b.fencingToken > first.fencingToken, 'a new owner gets a higher fencing token');
    assert.equal((await kv.unlock('lock-1', 'A')).success, false, 'only the owner unlocks');
  });

  it('nodeExecute runs a registered callback through the log; errors are typed', async () => {
    assert.equal(str(await kv.execute('upper', new TextEncoder().encode('hello'), { key: 'h' })), 'HELLO');
    await rejectsWith(kv.execute('explode', new Uint8Array(0)), 'CALLBACK_FAILED');
    await rejectsWith(kv.execute('missing', new Uint8Array(0)), 'INVALID_PARAMETER');
  });

  it('bad input is refused with INVALID_PARAMETER and nothing is written', async () => {
    await rejectsWith(kv.put('', 'x'), 'INVALID_PARAMETER');
    await rejectsWith(kv.put('k'.repeat(5000), 'x'), 'INVALID_PARAMETER');
    await rejectsWith(kv.put('big', new Uint8Array(2 * 1024 * 1024)), 'INVALID_PARAMETER');
    assert.equal(await kv.get('big'), null);
  });

  it('rangeSplit at a key and at the middle; TOO_SMALL_TO_SPLIT; data intact after', async () => {
    await kv.putAll(['q1', 'q2', 'r1', 'r2', 's1', 's2', 't1', 't2'].map((k) => [k, k] as const));
    const before = await kv.regions();
    const r3 = before.find((r) => r.id === '3')!;
    const atKey = await kv.rangeSplit(r3.id, 'r');
    assert.equal(atKey.left, '3');
    const middle = await kv.rangeSplit(atKey.right);
    assert.ok(middle.right);
    await rejectsWith(kv.rangeSplit('1'), 'TOO_SMALL_TO_SPLIT');
    const after = await kv.regions();
    assert.equal(after.length, before.length + 2);
    assert.deepEqual((await kv.scan('q', 'u')).map((p) => p.key.toString()), ['q1', 'q2', 'r1', 'r2', 's1', 's2', 't1', 't2']);
    await kv.put('t3', 'x');
    assert.equal(str(await kv.get('t3')), 'x');
  });
});
