// Reconnect backoff: exponential growth, jitter, bounds, reset.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRand } from '../../src/raft/core/random.js';
import { Backoff } from '../../src/transport/backoff.js';

test('backoff grows exponentially with jitter, stays within [base, max], and resets', () => {
  const r = seededRand(1);
  const b = new Backoff({ baseMs: 50, maxMs: 2000, random: r.float });
  const delays = Array.from({ length: 12 }, () => b.next());
  for (const d of delays) assert.ok(d >= 50 && d <= 2000, `${d} in bounds`);
  assert.ok(delays[0]! <= 50 && delays[1]! <= 100 && delays[2]! <= 200, 'starts small');
  assert.ok(delays.slice(6).every((d) => d >= 1000), 'capped range reached');
  assert.ok(new Set(delays.slice(6)).size > 1, 'jittered');
  b.reset();
  assert.equal(b.next(), 50);
  const lo = new Backoff({ random: () => 0 });
  const hi = new Backoff({ random: () => 0.999999 });
  assert.deepEqual(
    Array.from({ length: 8 }, () => lo.next()),
    [50, 50, 100, 200, 400, 800, 1000, 1000],
  );
  assert.deepEqual(
    Array.from({ length: 8 }, () => hi.next()),
    [50, 100, 200, 400, 800, 1600, 2000, 2000],
  );
});
