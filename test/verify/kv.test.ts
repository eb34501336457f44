import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLinearizable } from '../../src/verify/checker.js';
import type { KvInput, KvOutput } from '../../src/verify/models.js';
import { kvModel } from '../../src/verify/models.js';
import { Builder } from './helpers.js';

const kv = kvModel();
const b = (): Builder<KvInput, KvOutput> => new Builder<KvInput, KvOutput>();
const put = (key: string, value: string): KvInput => ({ type: 'put', key, value });
const get = (key: string): KvInput => ({ type: 'get', key });
const append = (key: string, suffix: string): KvInput => ({ type: 'append', key, suffix });

test('single-key operations follow map semantics', () => {
  const h = b()
    .ok('a', { type: 'putIfAbsent', key: 'k', value: 'v1' }, { ok: true }, 0, 1)
    .ok('a', { type: 'putIfAbsent', key: 'k', value: 'v2' }, { ok: false, value: 'v1' }, 2, 3)
    .ok('a', { type: 'getAndPut', key: 'k', value: 'v3' }, { value: 'v1' }, 4, 5)
    .ok('a', { type: 'compareAndPut', key: 'k', expected: 'v3', value: 'v4' }, { ok: true }, 6, 7)
    .ok('a', { type: 'compareAndPut', key: 'k', expected: null, value: 'v5' }, { ok: false }, 8, 9)
    .ok('a', append('k', '+'), { value: 'v4+' }, 10, 11)
    .ok('a', { type: 'containsKey', key: 'k' }, { ok: true }, 12, 13)
    .ok('a', { type: 'delete', key: 'k' }, { ok: true }, 14, 15)
    .ok('a', { type: 'containsKey', key: 'k' }, { ok: false }, 16, 17)
    .ok('a', get('k'), { value: null }, 18, 19)
    .ok('a', { type: 'compareAndPut', key: 'k', expected: null, value: 'v6' }, { ok: true }, 20, 21)
    .ok('a', get('k'), { value: 'v6' }, 22, 23)
    .history();
  assert.equal(checkLinearizable(h, kv).result, 'ok');
  const wrong = b().ok('a', { type: 'putIfAbsent', key: 'k', value: 'v1' }, { ok: true }, 0, 1).ok('a', { type: 'putIfAbsent', key: 'k', value: 'v2' }, { ok: true }, 2, 3).history();
  assert.equal(checkLinearizable(wrong, kv).result, 'illegal');
});

test('histories are partitioned per key; multi-key ops merge the keys they touch', () => {
  const h = b()
    .ok('a', put('x', '1'), {}, 0, 1)
    .ok('b', put('y', '1'), {}, 0, 1)
    .ok('c', put('z', '1'), {}, 0, 1)
    .ok('a', { type: 'multiGet', keys: ['x', 'y'] }, { values: ['1', '1'] }, 2, 3)
    .ok('b', { type: 'multiGet', keys: ['z'] }, { values: ['1'] }, 2, 3) // one key: stays in z's partition
    .history();
  const parts = kv.partition!(h);
  assert.deepEqual(parts.map((p) => [p.key, p.ops.length]).sort(), [
    ['x+y', 3],
    ['z', 2],
  ]);
  const r = checkLinearizable(h, kv);
  assert.equal(r.result, 'ok');
  assert.equal(r.partitionsChecked, 2);
});

test('stale read on one key is reported with that key', () => {
  const h = b()
    .ok('a', put('other', '1'), {}, 0, 1)
    .ok('a', put('x', '1'), {}, 2, 5)
    .ok('b', put('x', '2'), {}, 6, 10)
    .ok('c', get('x'), { value: '1' }, 11, 12)
    .ok('c', get('other'), { value: '1' }, 13, 14)
    .history();
  const r = checkLinearizable(h, kv, { checkAll: true });
  assert.equal(r.result, 'illegal');
  assert.equal(r.failure!.key, 'x');
  assert.equal(r.failures.length, 1);
  assert.deepEqual(
    r.partitions.map((p) => [p.key, p.result]),
    [
      ['other', 'ok'],
      ['x', 'illegal'],
    ],
  );
});

test('lost write: an acknowledged put never becomes visible', () => {
  const h = b()
    .ok('a', put('x', 'old'), {}, 0, 5)
    .ok('b', put('x', 'new'), {}, 6, 10) // acknowledged
    .ok('c', get('x'), { value: 'old' }, 11, 12)
    .ok('d', get('x'), { value: 'old' }, 20, 21)
    .history();
  const r = checkLinearizable(h, kv);
  assert.equal(r.result, 'illegal');
  assert.match(r.failure!.text, /get\(x\) -> "old"/);
  assert.match(r.failure!.text, /not possible in state \{x: "new"\}/);
});

test('double-applied retry: an append applied twice when the client did it once', () => {
  const once = b().ok('a', append('log', 'A'), {}, 0, 5).ok('b', get('log'), { value: 'AA' }, 10, 11).history();
  assert.equal(checkLinearizable(once, kv).result, 'illegal');
  // Whereas a retry after an unknown outcome may legitimately apply twice (hence idempotency keys).
  const retried = b().unknown('a', append('log', 'A'), 0, 5).ok('a~1', append('log', 'A'), {}, 6, 8).ok('b', get('log'), { value: 'AA' }, 10, 11).history();
  assert.equal(checkLinearizable(retried, kv).result, 'ok');
  // ...or once.
  const single = b().unknown('a', append('log', 'A'), 0, 5).ok('a~1', append('log', 'A'), {}, 6, 8).ok('b', get('log'), { value: 'A' }, 10, 11).history();
  assert.equal(checkLinearizable(single, kv).result, 'ok');
});

test('a compareAndPut that succeeded on a wrong value', () => {
  const h = b()
    .ok('a', put('k', 'v1'), {}, 0, 5)
    .ok('b', { type: 'compareAndPut', key: 'k', expected: 'v0', value: 'v2' }, { ok: true }, 6, 10)
    .history();
  assert.equal(checkLinearizable(h, kv).result, 'illegal');
});

test('multi-key atomicity: a multiPut seen half-applied after it completed', () => {
  const h = b()
    .ok('a', { type: 'multiPut', entries: [['x', '1'], ['y', '1']] }, {}, 0, 5)
    .ok('b', { type: 'multiGet', keys: ['x', 'y'] }, { values: ['1', null] }, 6, 7)
    .history();
  const r = checkLinearizable(h, kv);
  assert.equal(r.result, 'illegal');
  assert.equal(r.failure!.key, 'x+y');
  const concurrent = b()
    .ok('a', { type: 'multiPut', entries: [['x', '1'], ['y', '1']] }, {}, 0, 5)
    .ok('b', { type: 'multiGet', keys: ['x', 'y'] }, { values: [null, null] }, 1, 2)
    .ok('c', { type: 'multiDelete', keys: ['x'] }, {}, 6, 7)
    .ok('c', { type: 'multiGet', keys: ['x', 'y'] }, { values: [null, '1'] }, 8, 9)
    .history();
  assert.equal(checkLinearizable(concurrent, kv).result, 'ok');
});
