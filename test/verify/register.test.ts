import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLinearizable } from '../../src/verify/checker.js';
import type { Model, RegisterInput, RegisterOutput } from '../../src/verify/models.js';
import { registerModel } from '../../src/verify/models.js';
import { Builder } from './helpers.js';

const reg = registerModel();
const W = (value: number): RegisterInput => ({ type: 'write', value });
const R: RegisterInput = { type: 'read' };
const CAS = (expected: number | null, value: number): RegisterInput => ({ type: 'cas', expected, value });
const b = (): Builder<RegisterInput, RegisterOutput> => new Builder<RegisterInput, RegisterOutput>();

test('empty history and a sequential history are linearizable', () => {
  assert.equal(checkLinearizable(b().history(), reg).result, 'ok');
  const h = b().ok('a', W(1), {}, 0, 1).ok('a', R, { value: 1 }, 2, 3).ok('a', CAS(1, 2), { ok: true }, 4, 5).ok('a', R, { value: 2 }, 6, 7).history();
  const r = checkLinearizable(h, reg);
  assert.equal(r.result, 'ok');
  assert.equal(r.partitionsTotal, 1);
  assert.equal(r.partitionsChecked, 1);
});

test('concurrent writes with readers that see them in either order', () => {
  // w1 and w2 overlap; one reader saw 1 then the other saw 2: order w1, r1, w2, r2.
  const h1 = b().ok('a', W(1), {}, 0, 10).ok('b', W(2), {}, 2, 12).ok('c', R, { value: 1 }, 5, 15).ok('d', R, { value: 2 }, 13, 20).history();
  assert.equal(checkLinearizable(h1, reg).result, 'ok');
  // Same writes; readers saw 2 then 1: order w2, r2, w1, r1.
  const h2 = b().ok('a', W(1), {}, 0, 10).ok('b', W(2), {}, 0, 10).ok('c', R, { value: 2 }, 1, 8).ok('d', R, { value: 1 }, 3, 9).history();
  assert.equal(checkLinearizable(h2, reg).result, 'ok');
  // A read overlapping both writes may see the initial value too.
  const h3 = b().ok('a', W(1), {}, 0, 10).ok('b', W(2), {}, 0, 10).ok('c', R, { value: null }, 0, 1).ok('d', R, { value: 2 }, 11, 12).history();
  assert.equal(checkLinearizable(h3, reg).result, 'ok');
});

test('an unknown write may take effect late, or never', () => {
  const late = b()
    .ok('a', W(1), {}, 0, 5)
    .unknown('b', W(2), 6, 10) // timed out at 10
    .ok('c', R, { value: 1 }, 11, 12)
    .ok('c', R, { value: 2 }, 50, 51) // it landed after 12
    .history();
  assert.equal(checkLinearizable(late, reg).result, 'ok');
  const never = b().ok('a', W(1), {}, 0, 5).unknown('b', W(2), 6, 10).ok('c', R, { value: 1 }, 11, 12).ok('c', R, { value: 1 }, 50, 51).history();
  assert.equal(checkLinearizable(never, reg).result, 'ok');
  // But not before it was called.
  const early = b().ok('a', W(1), {}, 0, 5).ok('c', R, { value: 2 }, 6, 7).unknown('b', W(2), 8, 10).history();
  assert.equal(checkLinearizable(early, reg).result, 'illegal');
});

test('a failed (definitely not applied) write is dropped', () => {
  const h = b().ok('a', W(1), {}, 0, 5).fail('b', W(3), 6, 7).ok('c', R, { value: 1 }, 8, 9).history();
  assert.equal(checkLinearizable(h, reg).result, 'ok');
  const seen = b().ok('a', W(1), {}, 0, 5).fail('b', W(3), 6, 7).ok('c', R, { value: 3 }, 8, 9).history();
  assert.equal(checkLinearizable(seen, reg).result, 'illegal');
});

test('stale read: an old value after a later write completed before the read began', () => {
  const h = b().ok('a', W(1), {}, 0, 5).ok('a', W(2), {}, 6, 10).ok('b', R, { value: 1 }, 11, 12).history();
  const r = checkLinearizable(h, reg);
  assert.equal(r.result, 'illegal');
  const f = r.failure!;
  assert.equal(f.key, '*');
  assert.deepEqual(
    f.linearized.map((s) => s.op.id),
    [0, 1],
  );
  assert.deepEqual(
    f.stuck.map((s) => s.op.id),
    [2],
  );
  assert.equal(f.stateAfterPrefix, '2');
  assert.match(f.text, /read\(\) -> 1/);
  assert.match(f.text, /not possible in state 2/);
});

test('a CAS that succeeded on a wrong value', () => {
  const h = b().ok('a', W(1), {}, 0, 5).ok('b', CAS(2, 3), { ok: true }, 6, 10).ok('c', R, { value: 3 }, 11, 12).history();
  const r = checkLinearizable(h, reg);
  assert.equal(r.result, 'illegal');
  assert.match(r.failure!.text, /cas\(2 -> 3\) -> ok/);
  // The same CAS concurrent with a write of 2 is fine.
  const ok = b().ok('a', W(1), {}, 0, 5).ok('d', W(2), {}, 6, 10).ok('b', CAS(2, 3), { ok: true }, 6, 10).ok('c', R, { value: 3 }, 11, 12).history();
  assert.equal(checkLinearizable(ok, reg).result, 'ok');
  // A CAS reported as failed while the value matched and nothing else ran.
  const bad = b().ok('a', W(2), {}, 0, 5).ok('b', CAS(2, 3), { ok: false }, 6, 10).history();
  assert.equal(checkLinearizable(bad, reg).result, 'illegal');
});

test('nondeterministic models: every successor state is explored', () => {
  // "pick" writes one of two values, unobserved; later reads decide which.
  type In = { type: 'pick'; of: [number, number] } | { type: 'read' };
  const pickModel: Model<number, In, { value?: number }> = {
    name: 'pick',
    init: () => 0,
    step: (s, input, out) =>
      input.type === 'pick'
        ? input.of.map((v) => ({ ok: true, state: v }))
        : { ok: out === undefined || out.value === s, state: s },
    equal: (a, c) => a === c,
    hash: (s) => s,
    describeOp: (input, out) => (input.type === 'pick' ? `pick(${input.of.join('|')})` : `read() -> ${out?.value ?? '?'}`),
    describeState: (s) => String(s),
  };
  const mk = (seen: number) =>
    new Builder<In, { value?: number }>().ok('a', { type: 'pick', of: [1, 2] }, {}, 0, 1).ok('b', { type: 'read' }, { value: seen }, 2, 3).ok('c', { type: 'read' }, { value: seen }, 4, 5).history();
  assert.equal(checkLinearizable(mk(2), pickModel).result, 'ok');
  assert.equal(checkLinearizable(mk(1), pickModel).result, 'ok');
  assert.equal(checkLinearizable(mk(3), pickModel).result, 'illegal');
});

test('timeout yields unknown', () => {
  const h = b().ok('a', W(1), {}, 0, 5).history();
  const r = checkLinearizable(h, reg, { timeoutMs: 0 });
  assert.equal(r.result, 'unknown');
  assert.equal(r.partitionsChecked, 0);
});
