// The verification pipeline against the KV store on real processes: a bounded run with every KV
// nemesis (region splits included) is linearizable per key with identical replicas in every
// region, and the same pipeline catches reads served by a deposed leader without ReadIndex.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ALL_KV_NEMESES, runVerifyKv } from '../../src/verify/kv-runner.js';

test('verify kv: every nemesis (splits included) against 3 store processes, linearizable, replicas identical', { timeout: 120_000 }, async () => {
  const r = await runVerifyKv({ seed: 21, timeSec: 10, nemesis: ALL_KV_NEMESES });
  assert.ok(r.ops > 500, `enough operations (${r.ops})`);
  assert.ok(r.faults.length >= 4, `faults injected: ${r.faults.join('; ')}`);
  assert.equal(r.linearizable, 'ok', r.report);
  assert.ok(r.replicasIdentical, 'every region has the same applied index and digest on every store');
});

test('verify kv with the placement driver: auto splits and replica moves to a joining 4th store under every nemesis, linearizable, replicas identical', { timeout: 180_000 }, async () => {
  const r = await runVerifyKv({ seed: 22, timeSec: 12, nemesis: ALL_KV_NEMESES, pd: true });
  assert.ok(r.ops > 500, `enough operations (${r.ops})`);
  assert.equal(r.linearizable, 'ok', r.report);
  assert.ok(r.replicasIdentical, 'every region has the same applied index and digest on each of its replicas');
  assert.ok(r.placement, 'PD answered at the end');
  // Regions PD split are named by its allocator (the split nemesis names its own <id>.<version>).
  assert.ok(r.placement.regions.some((id) => /^r\d+$/.test(id)), `PD split regions: ${r.placement.regions.join(',')}`);
  // s4 started with no region and is no static voter: any replica on it was moved there.
  assert.ok(r.placement.votersOnS4 > 0, 'replicas moved to the store that joined');
});

test('verify kv catches a real bug: leader-local reads without ReadIndex under partitions', { timeout: 240_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'raftkv-verify-kv-'));
  try {
    let found: Awaited<ReturnType<typeof runVerifyKv>> | undefined;
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = await runVerifyKv({ seed, timeSec: 12, nemesis: ['partition'], unsafeLeaderLocalReads: true, outDir: out });
      if (r.linearizable === 'illegal') {
        found = r;
        break;
      }
    }
    assert.ok(found, 'some partition run reports a linearizability violation');
    assert.match(found.report!, /NOT LINEARIZABLE/);
    assert.ok(found.htmlFile?.endsWith('.html'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
