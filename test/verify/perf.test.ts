import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLinearizable } from '../../src/verify/checker.js';
import { kvModel, registerModel } from '../../src/verify/models.js';
import { int, kvExecutor, randomHistory, randomRegisterHistory, rng, withOutput } from './helpers.js';

test('2000-op single-key register history is checked in < 5 s', () => {
  const h = randomRegisterHistory(42, { ops: 2000, values: 10, unknownRate: 0.02, maxSlack: 40, spacing: 10 });
  const t0 = performance.now();
  const r = checkLinearizable(h, registerModel(), { timeoutMs: 10_000 });
  const ms = performance.now() - t0;
  console.log(`register 2000 ops: ${r.result} in ${ms.toFixed(0)} ms, ${r.partitions[0]!.configurations} configurations, ${r.partitions[0]!.steps} steps`);
  assert.equal(r.result, 'ok');
  assert.ok(ms < 5000, `took ${ms} ms`);

  // The same history with one late read made impossible.
  const reads = h.flatMap((op, i) => (op.outcome === 'ok' && op.input.type === 'read' && i > 1500 ? [i] : []));
  const victim = reads[int(rng(1), reads.length)]!;
  const bad = withOutput(h, victim, { value: 12345 });
  const t1 = performance.now();
  const rb = checkLinearizable(bad, registerModel(), { timeoutMs: 10_000 });
  const ms2 = performance.now() - t1;
  console.log(`register 2000 ops, corrupted: ${rb.result} in ${ms2.toFixed(0)} ms, ${rb.partitions[0]!.configurations} configurations`);
  assert.equal(rb.result, 'illegal');
  assert.ok(ms2 < 5000, `took ${ms2} ms`);
  // Settled by the reachable-states pre-check once the search ran long; named in the report.
  assert.deepEqual(
    rb.failure!.impossible.map((op) => op.id),
    [h[victim]!.id],
  );
  assert.match(rb.failure!.text, /can never be linearized[^\n]*\n  x read\(\) -> 12345/);
});

test('2000-op register history with unknown outcomes and one stale read: illegal in < 5 s', () => {
  // Distinct written values, 2% unknown outcomes; a late read returns a value overwritten long ago.
  const h = randomRegisterHistory(42, { ops: 2000, values: 1_000_000, unknownRate: 0.02, maxSlack: 40, spacing: 10 });
  const w = h.findIndex((op, i) => i > 1000 && op.outcome === 'ok' && op.input.type === 'write');
  const ri = h.findIndex((op, i) => i > 1800 && op.outcome === 'ok' && op.input.type === 'read');
  const written = (h[w]!.input as { value: number }).value;
  const bad = withOutput(h, ri, { value: written });
  const t0 = performance.now();
  const r = checkLinearizable(bad, registerModel(), { timeoutMs: 10_000 });
  const ms = performance.now() - t0;
  console.log(`register 2000 ops, ${h.filter((o) => o.outcome === 'unknown').length} unknown, stale read: ${r.result} in ${ms.toFixed(0)} ms, ${r.partitions[0]!.configurations} configurations`);
  assert.equal(r.result, 'illegal');
  assert.deepEqual(
    r.failure!.stuck.map((s) => s.op.id),
    [h[ri]!.id],
  );
  assert.ok(ms < 5000, `took ${ms} ms`);
});

test('KV: 2 keys x ~1500 ops each', () => {
  const h = randomHistory(7, { ops: 3000, values: 6, unknownRate: 0.02, maxSlack: 40, spacing: 10 }, kvExecutor(2));
  const t0 = performance.now();
  const r = checkLinearizable(h, kvModel(), { timeoutMs: 10_000 });
  const ms = performance.now() - t0;
  console.log(`kv 3000 ops / 2 keys: ${r.result} in ${ms.toFixed(0)} ms (${r.partitions.map((p) => `${p.key}: ${p.ops} ops ${p.elapsedMs.toFixed(0)} ms`).join(', ')})`);
  assert.equal(r.result, 'ok');
  assert.ok(ms < 5000, `took ${ms} ms`);
});
