import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLinearizable } from '../../src/verify/checker.js';
import type { History } from '../../src/verify/history.js';
import type { KvInput, KvOutput, RegisterInput, RegisterOutput } from '../../src/verify/models.js';
import type { Model } from '../../src/verify/models.js';
import { kvModel, registerModel } from '../../src/verify/models.js';
import { bruteForceLinearizable, int, kvExecutor, randomHistory, randomRegisterHistory, rng, withOutput } from './helpers.js';

const reg = registerModel();
const kv = kvModel();

function okReads<I extends { type: string }, O>(h: History<I, O>, type: string): number[] {
  return h.flatMap((op, i) => (op.outcome === 'ok' && op.input.type === type ? [i] : []));
}

test('random linearizable register histories are judged ok; a read of a never-written value is illegal', () => {
  for (let seed = 1; seed <= 30; seed++) {
    const h = randomRegisterHistory(seed, { ops: 80, values: 4, unknownRate: 0.1, maxSlack: 30, spacing: 10 });
    const r = checkLinearizable(h, reg);
    assert.equal(r.result, 'ok', `seed ${seed}`);

    const reads = okReads(h, 'read');
    const victim = reads[int(rng(seed * 7), reads.length)]!;
    const bad = withOutput(h, victim, { value: 999 });
    const rb = checkLinearizable(bad, reg);
    assert.equal(rb.result, 'illegal', `seed ${seed}: corrupted read #${victim}`);
    assert.ok(!rb.failure!.linearized.some((s) => s.op.id === h[victim]!.id), 'the impossible read is never linearized');
  }
});

test('random corruption to another written value is mostly illegal', () => {
  let illegal = 0;
  let total = 0;
  for (let seed = 100; seed < 130; seed++) {
    const h = randomRegisterHistory(seed, { ops: 60, values: 5, unknownRate: 0.05, maxSlack: 15, spacing: 10 });
    const reads = okReads(h, 'read');
    const r = rng(seed);
    const victim = reads[int(r, reads.length)]!;
    const old = (h[victim]!.output as RegisterOutput).value;
    const value = ((typeof old === 'number' ? old : 0) % 5) + 1; // a different written value
    const res = checkLinearizable(withOutput(h, victim, { value }), reg);
    assert.notEqual(res.result, 'unknown');
    total++;
    if (res.result === 'illegal') illegal++;
  }
  assert.ok(illegal > total / 2, `${illegal}/${total} corrupted histories judged illegal`);
});

test('agrees with a brute-force reference on small random histories (corrupted or not), in both search passes', () => {
  let illegal = 0;
  for (let seed = 1; seed <= 300; seed++) {
    const r = rng(seed + 1e6);
    const useKv = seed % 2 === 0;
    let h: History<RegisterInput | KvInput, RegisterOutput | KvOutput> = useKv
      ? randomHistory(seed, { ops: 7, values: 3, unknownRate: 0.3, maxSlack: 25, spacing: 5 }, kvExecutor(1 + (seed % 3 === 0 ? 1 : 0)))
      : randomRegisterHistory(seed, { ops: 7, values: 3, unknownRate: 0.3, maxSlack: 25, spacing: 5 });
    if (r() < 0.6) {
      const i = int(r, h.length);
      const op = h[i]!;
      const out = op.output as { ok?: boolean; value?: unknown } | undefined;
      if (op.outcome === 'ok' && out !== undefined) {
        const corrupted = out.ok !== undefined ? { ...out, ok: !out.ok } : out.value !== undefined ? { value: useKv ? `v${1 + int(r, 3)}` : 1 + int(r, 3) } : out;
        h = withOutput(h, i, corrupted as RegisterOutput | KvOutput);
      }
    }
    const model = (useKv ? kv : reg) as unknown as Model<unknown, RegisterInput | KvInput, RegisterOutput | KvOutput>;
    const expected = bruteForceLinearizable(h, model) ? 'ok' : 'illegal';
    assert.equal(checkLinearizable(h, model).result, expected, `seed ${seed}`);
    assert.equal(checkLinearizable(h, model, { firstPassBudget: 0 }).result, expected, `seed ${seed} (second pass only)`);
    if (expected === 'illegal') illegal++;
  }
  assert.ok(illegal > 30, `the corpus should contain illegal histories (got ${illegal})`);
});

test('random KV histories over several keys: ok, and a corrupted get fails in its key', () => {
  for (let seed = 1; seed <= 15; seed++) {
    const h: History<KvInput, KvOutput> = randomHistory(seed, { ops: 150, values: 4, unknownRate: 0.08, maxSlack: 30, spacing: 10 }, kvExecutor(3));
    assert.equal(checkLinearizable(h, kv).result, 'ok', `seed ${seed}`);
    const gets = okReads(h, 'get');
    const victim = gets[int(rng(seed), gets.length)]!;
    const r = checkLinearizable(withOutput(h, victim, { value: 'never-written' }), kv, { checkAll: true });
    assert.equal(r.result, 'illegal', `seed ${seed}`);
    const key = (h[victim]!.input as { key: string }).key;
    assert.deepEqual(
      r.failures.map((f) => f.key),
      [key],
    );
    assert.equal(r.partitionsChecked, r.partitionsTotal);
  }
});
